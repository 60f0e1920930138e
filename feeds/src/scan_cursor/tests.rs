use super::*;
use crate::num::DecimalError;
use proptest::prelude::*;

/// The decimal conversion before the one-pass one: delimit, then `parse_decimal`.
fn delimited_decimal(text: &[u8], scale: u32) -> Option<(i64, &[u8])> {
    let end = text.iter().position(|&b| b == b'"')?;
    let (digits, rest) = text.split_at_checked(end)?;
    let value = parse_decimal(digits, scale).ok()?;
    Some((value, rest.get(1..)?))
}

fn one_pass(text: &[u8], scale: u32) -> Option<(i64, &[u8])> {
    let mut c = Cursor { rest: text };
    let value = c.decimal(scale)?;
    Some((value, c.rest))
}

#[test]
fn binance_decimals_take_the_one_pass_path() {
    let cases: [(&[u8], u32, i64); 7] = [
        (b"27123.45000000\",", 2, 2_712_345),
        (b"0.00150000\"]", 8, 150_000),
        (b"0.00150000\"]", 5, 150),
        (b"27123.40\"", 2, 2_712_340),
        (b"0.003\"", 3, 3),
        (b"5.00000000\"", 0, 5),
        (b"12.3456789012\"", 10, 123_456_789_012),
    ];
    for (text, scale, value) in cases {
        assert_eq!(plain_decimal(text, scale).map(|(v, _)| v), Some(value));
        assert_eq!(one_pass(text, scale), delimited_decimal(text, scale));
    }
    assert_eq!(plain_decimal(b"27123.45000001\"", 2), None);
    assert_eq!(
        one_pass(b"1.00000001e8\"", 0),
        Some((100_000_001, &b""[..]))
    );
    assert_eq!(
        parse_decimal(b"27123.45000001", 2),
        Err(DecimalError::TooPrecise)
    );
}

#[test]
fn unsigned_integers_of_every_length_up_to_the_overflow() {
    fn uint(text: &str) -> Option<(u64, &[u8])> {
        let mut c = Cursor {
            rest: text.as_bytes(),
        };
        c.uint().map(|v| (v, c.rest))
    }
    for digits in 1..=20 {
        let text: String = "9876543210".chars().cycle().skip(1).take(digits).collect();
        let expected = text.parse::<u64>().ok();
        assert_eq!(
            uint(&format!("{text},")).map(|(v, _)| v),
            expected,
            "{text}"
        );
    }
    assert_eq!(uint("18446744073709551615}"), Some((u64::MAX, &b"}"[..])));
    assert_eq!(uint("18446744073709551616}"), None, "one above u64::MAX");
    assert_eq!(uint("99999999999999999999"), None);
    assert_eq!(uint("1723161253937,"), Some((1_723_161_253_937, &b","[..])));
    assert_eq!(uint("0,"), Some((0, &b","[..])));
    assert_eq!(uint("012,"), None, "a leading zero");
    assert_eq!(uint(","), None);
}

#[test]
fn eight_digit_words() {
    for text in [b"00000000", b"12345678", b"99999999", b"01020304"] {
        let word = u64::from_le_bytes(*text);
        assert!(eight_digits(word));
        let expected = text.iter().fold(0, |a, &d| a * 10 + u64::from(d - b'0'));
        assert_eq!(eight_digit_value(word), expected);
    }
    for text in [b"1234567/", b"1234567:", b"\xff2345678", b"1234 678"] {
        assert!(!eight_digits(u64::from_le_bytes(*text)));
    }
}

proptest! {
    /// Digit strings of every length around eight places, at every scale, often with
    /// trailing zeros: the one-pass value is `parse_decimal`'s, and it is taken whenever
    /// the decimal is plain, fits and keeps at most 18 places.
    #[test]
    fn one_pass_is_parse_decimal_on_digit_strings(
        int in "[0-9]{0,20}", point in any::<bool>(), frac in "[0-9]{0,12}",
        zeros in 0usize..10, scale in 0u32..=18,
    ) {
        let body = if point {
            format!("{int}.{frac}{}", "0".repeat(zeros))
        } else {
            int.clone()
        };
        let text = format!("{body}\"tail");
        let expected = parse_decimal(body.as_bytes(), scale);
        let fast = plain_decimal(text.as_bytes(), scale);
        if let Some((value, rest)) = fast {
            prop_assert_eq!(Ok(value), expected);
            prop_assert_eq!(rest, b"tail");
        } else if body.bytes().filter(u8::is_ascii_digit).count() <= 18 {
            prop_assert!(expected.is_err(), "{} at {} fell back", body, scale);
        }
        prop_assert_eq!(one_pass(text.as_bytes(), scale), delimited_decimal(text.as_bytes(), scale));
    }

    /// Bytes from the decimal alphabet and the string's delimiters: the cursor reads
    /// exactly what delimiting and `parse_decimal` read.
    #[test]
    fn one_pass_is_delimited_parse_on_decimal_alphabet(
        bytes in proptest::collection::vec(
            prop::sample::select(&b"01234567890000000000.-+eE\"x"[..]), 0..40),
        scale in 0u32..=20,
    ) {
        prop_assert_eq!(one_pass(&bytes, scale), delimited_decimal(&bytes, scale));
    }
}
