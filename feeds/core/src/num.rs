//! Exact numbers: prices and quantities are `i64` mantissas at a per-instrument decimal scale,
//! parsed straight from the venue's decimal strings without a float round trip.
//!
//! `"27123.45000000"` at scale 2 is exactly `Px(2712345)`; `"27123.451"` at scale 2 is an error,
//! never a rounded value. Exponent form (`"5.325e-05"`, which Kraken sends) is exact too.

use std::fmt;

/// The largest decimal scale a mantissa may carry: `10^18` still fits an `i64`.
pub const MAX_SCALE: u32 = 18;

/// A price: mantissa at the instrument's price scale.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Px(pub i64);

/// A quantity: mantissa at the instrument's quantity scale. Signed so that positions use it too.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Qty(pub i64);

/// Nanoseconds: a wall-clock UTC timestamp (ingress, recorded time) or a duration.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Nanos(pub u64);

/// Index of an instrument in the [`crate::instrument::InstrumentRegistry`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InstrumentId(pub u16);

/// Side of an order, and of a book: `Buy` is the bid side, `Sell` the ask side.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    Buy,
    Sell,
}

impl Side {
    pub fn opposite(self) -> Side {
        match self {
            Side::Buy => Side::Sell,
            Side::Sell => Side::Buy,
        }
    }

    /// +1 for buys, -1 for sells: the sign a fill of this side adds to a position.
    pub fn sign(self) -> i64 {
        match self {
            Side::Buy => 1,
            Side::Sell => -1,
        }
    }
}

impl Nanos {
    pub const ZERO: Nanos = Nanos(0);

    pub const fn from_millis(ms: u64) -> Nanos {
        Nanos(ms.saturating_mul(1_000_000))
    }

    pub fn saturating_add(self, other: Nanos) -> Nanos {
        Nanos(self.0.saturating_add(other.0))
    }

    pub fn saturating_sub(self, other: Nanos) -> Nanos {
        Nanos(self.0.saturating_sub(other.0))
    }
}

/// Why a decimal string was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecimalError {
    #[error("not a decimal number")]
    Syntax,
    #[error("more decimal places than the scale allows")]
    TooPrecise,
    #[error("out of range for a 64-bit mantissa")]
    Overflow,
    #[error("scale above {MAX_SCALE}")]
    BadScale,
}

const POW10: [i64; 19] = {
    let mut t = [1i64; 19];
    let mut i = 1;
    while i < 19 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

/// `10^exp` as an `i64`, for `exp <= 18`.
pub fn pow10(exp: u32) -> Option<i64> {
    POW10.get(exp as usize).copied()
}

/// Parses a decimal string into a mantissa at `scale` decimal places, exactly.
///
/// Accepts an optional sign, digits with an optional point, and an optional exponent
/// (`e`/`E`, optional sign, digits). Digits beyond the scale must be zeros; anything else that
/// does not fit is an error, never a rounded value.
///
/// Venues send plain decimals on the hot path, so those take a single pass: each byte is
/// classified, accumulated and checked once. Errors found on the way (too precise, overflow)
/// are held until the end, because a later byte can still turn the input into a syntax error
/// or into exponent form, which takes the general path.
///
/// ```
/// use pulse_core::num::{parse_decimal, DecimalError};
/// assert_eq!(parse_decimal(b"27123.45000000", 2), Ok(2_712_345));
/// assert_eq!(parse_decimal(b"5.325e-05", 8), Ok(5_325));
/// assert_eq!(parse_decimal(b"27123.451", 2), Err(DecimalError::TooPrecise));
/// ```
pub fn parse_decimal(input: &[u8], scale: u32) -> Result<i64, DecimalError> {
    if scale > MAX_SCALE {
        return Err(DecimalError::BadScale);
    }
    let (negative, rest) = match input.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, input),
    };
    let mut acc: i64 = 0;
    let mut overflow = false;
    let mut too_precise = false;
    let mut point = false;
    let mut any_digit = false;
    let mut frac_len = 0usize;
    for &b in rest {
        match b {
            b'0'..=b'9' => {
                any_digit = true;
                if point {
                    frac_len += 1;
                    // A place below the scale: only a zero keeps the value exact.
                    if frac_len > scale as usize {
                        too_precise |= b != b'0';
                        continue;
                    }
                }
                match acc
                    .checked_mul(10)
                    .and_then(|a| a.checked_add((b - b'0') as i64))
                {
                    Some(next) => acc = next,
                    None => overflow = true,
                }
            }
            b'.' if !point => point = true,
            b'e' | b'E' => return parse_general(negative, rest, scale),
            _ => return Err(DecimalError::Syntax),
        }
    }
    if !any_digit {
        return Err(DecimalError::Syntax);
    }
    // Overflow among the places kept comes before any dropped place, as digits are read.
    if overflow {
        return Err(DecimalError::Overflow);
    }
    if too_precise {
        return Err(DecimalError::TooPrecise);
    }
    // Fewer places written than the scale: scale up by the missing ones (at most 18).
    let missing = (scale as usize).saturating_sub(frac_len) as u32;
    if missing > 0 && acc != 0 {
        acc = acc
            .checked_mul(pow10(missing).ok_or(DecimalError::Overflow)?)
            .ok_or(DecimalError::Overflow)?;
    }
    Ok(if negative { -acc } else { acc })
}

/// The general algorithm, exact for every accepted form, plain or exponent; the fast path above
/// hands it exponent input. `rest` is everything after the sign.
fn parse_general(negative: bool, rest: &[u8], scale: u32) -> Result<i64, DecimalError> {
    let (mantissa_part, exponent) = split_exponent(rest)?;
    let (int_digits, frac_digits) = match mantissa_part.iter().position(|&b| b == b'.') {
        Some(dot) => (&mantissa_part[..dot], &mantissa_part[dot + 1..]),
        None => (mantissa_part, &mantissa_part[..0]),
    };
    if int_digits.is_empty() && frac_digits.is_empty() {
        return Err(DecimalError::Syntax);
    }
    if !int_digits.iter().chain(frac_digits).all(u8::is_ascii_digit) {
        return Err(DecimalError::Syntax);
    }
    // The digit string d1..dn with `frac_digits.len()` places after the point, times 10^exponent,
    // times 10^scale: digit i (0-based over the concatenation) has weight
    // 10^(shift + n - 1 - i), where shift = scale + exponent - frac_len.
    let n = (int_digits.len() + frac_digits.len()) as i64;
    let shift = scale as i64 + exponent - frac_digits.len() as i64;
    let mut acc: i64 = 0;
    for (i, &b) in int_digits.iter().chain(frac_digits).enumerate() {
        let digit = (b - b'0') as i64;
        let weight = shift + n - 1 - i as i64;
        if weight < 0 {
            if digit != 0 {
                return Err(DecimalError::TooPrecise);
            }
            continue;
        }
        acc = acc.checked_mul(10).ok_or(DecimalError::Overflow)?;
        acc = acc.checked_add(digit).ok_or(DecimalError::Overflow)?;
    }
    // Trailing zeros implied by a positive shift past the last digit.
    if shift > 0 && acc != 0 {
        let factor = pow10(u32::try_from(shift).map_err(|_| DecimalError::Overflow)?)
            .ok_or(DecimalError::Overflow)?;
        acc = acc.checked_mul(factor).ok_or(DecimalError::Overflow)?;
    }
    Ok(if negative { -acc } else { acc })
}

fn split_exponent(s: &[u8]) -> Result<(&[u8], i64), DecimalError> {
    let Some(e) = s.iter().position(|&b| b == b'e' || b == b'E') else {
        return Ok((s, 0));
    };
    let (exp_negative, digits) = match &s[e + 1..] {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        rest => (false, rest),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(DecimalError::Syntax);
    }
    // Any exponent beyond a few hundred either overflows or leaves only zeros; clamp so the
    // arithmetic below cannot overflow on hostile input like "1e99999999999999999999".
    let mut exp: i64 = 0;
    for &b in digits {
        exp = (exp * 10 + (b - b'0') as i64).min(10_000);
    }
    Ok((&s[..e], if exp_negative { -exp } else { exp }))
}

/// A mantissa shown as a decimal string with exactly `scale` places: `Decimal::new(2712345, 2)`
/// displays as `27123.45`. Formatting never allocates beyond what the writer does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decimal {
    pub mantissa: i128,
    pub scale: u32,
}

impl Decimal {
    pub fn new(mantissa: impl Into<i128>, scale: u32) -> Decimal {
        Decimal {
            mantissa: mantissa.into(),
            scale,
        }
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.mantissa < 0 { "-" } else { "" };
        let abs = self.mantissa.unsigned_abs();
        if self.scale == 0 {
            return write!(f, "{sign}{abs}");
        }
        let unit = 10u128.pow(self.scale);
        write!(
            f,
            "{sign}{}.{:0width$}",
            abs / unit,
            abs % unit,
            width = self.scale as usize
        )
    }
}

/// The number of decimal places written in a plain decimal string: `"0.01"` has 2, `"1"` 0.
/// Used to derive an instrument's scale from its tick or lot size.
pub fn decimal_places(input: &str) -> Option<u32> {
    let (_, frac) = input.split_once('.').unwrap_or((input, ""));
    let frac = frac.trim_end_matches('0');
    let places = frac.len() as u32;
    (places <= MAX_SCALE && parse_decimal(input.as_bytes(), places).is_ok()).then_some(places)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The oracle the single-pass fast path must match on every input: the general algorithm
    /// (the implementation before the fast path existed), which handles every form, plain or
    /// exponent, and which production uses for exponent input only.
    fn parse_decimal_reference(input: &[u8], scale: u32) -> Result<i64, DecimalError> {
        if scale > MAX_SCALE {
            return Err(DecimalError::BadScale);
        }
        let (negative, rest) = match input.split_first() {
            Some((b'-', rest)) => (true, rest),
            Some((b'+', rest)) => (false, rest),
            _ => (false, input),
        };
        parse_general(negative, rest, scale)
    }

    #[test]
    fn plain_values_parse_exactly() {
        assert_eq!(parse_decimal(b"27123.45000000", 2), Ok(2_712_345));
        assert_eq!(parse_decimal(b"0.00000000", 5), Ok(0));
        assert_eq!(parse_decimal(b"1.54698000", 5), Ok(154_698));
        assert_eq!(parse_decimal(b"100", 0), Ok(100));
        assert_eq!(parse_decimal(b"100", 3), Ok(100_000));
        assert_eq!(parse_decimal(b"-0.5", 1), Ok(-5));
        assert_eq!(parse_decimal(b"+7", 0), Ok(7));
        assert_eq!(parse_decimal(b".5", 1), Ok(5));
        assert_eq!(parse_decimal(b"5.", 0), Ok(5));
        assert_eq!(parse_decimal(b"000123.4500", 2), Ok(12_345));
    }

    #[test]
    fn exponent_form_is_exact() {
        assert_eq!(parse_decimal(b"5.325e-05", 8), Ok(5_325));
        assert_eq!(parse_decimal(b"5.325E-05", 8), Ok(5_325));
        assert_eq!(parse_decimal(b"1e3", 0), Ok(1_000));
        assert_eq!(parse_decimal(b"1.5e+2", 1), Ok(1_500));
        assert_eq!(parse_decimal(b"12345e-2", 2), Ok(12_345));
        assert_eq!(parse_decimal(b"0e999999", 2), Ok(0));
        assert_eq!(
            parse_decimal(b"5.325e-05", 7),
            Err(DecimalError::TooPrecise)
        );
    }

    #[test]
    fn values_finer_than_the_scale_are_refused_not_rounded() {
        assert_eq!(
            parse_decimal(b"27123.451", 2),
            Err(DecimalError::TooPrecise)
        );
        assert_eq!(
            parse_decimal(b"0.000000001", 8),
            Err(DecimalError::TooPrecise)
        );
        assert_eq!(parse_decimal(b"1e-1", 0), Err(DecimalError::TooPrecise));
    }

    #[test]
    fn overflow_is_an_error() {
        assert_eq!(parse_decimal(b"9223372036854775807", 0), Ok(i64::MAX));
        assert_eq!(
            parse_decimal(b"9223372036854775808", 0),
            Err(DecimalError::Overflow)
        );
        assert_eq!(
            parse_decimal(b"92233720368.54775808", 8),
            Err(DecimalError::Overflow)
        );
        assert_eq!(parse_decimal(b"1e19", 0), Err(DecimalError::Overflow));
        assert_eq!(
            parse_decimal(b"1e99999999999999999999999", 0),
            Err(DecimalError::Overflow)
        );
        assert_eq!(parse_decimal(b"1", 19), Err(DecimalError::BadScale));
    }

    #[test]
    fn malformed_input_is_a_syntax_error() {
        for bad in [
            &b""[..],
            b"-",
            b".",
            b"1.2.3",
            b"1e",
            b"1e+",
            b"e5",
            b"1,5",
            b" 1",
            b"1 ",
            b"0x10",
            b"NaN",
            b"inf",
            b"--1",
            b"1e5.5",
        ] {
            assert_eq!(parse_decimal(bad, 2), Err(DecimalError::Syntax), "{bad:?}");
        }
    }

    #[test]
    fn display_round_trips() {
        assert_eq!(Decimal::new(2_712_345i64, 2).to_string(), "27123.45");
        assert_eq!(Decimal::new(-5i64, 3).to_string(), "-0.005");
        assert_eq!(Decimal::new(42i64, 0).to_string(), "42");
        assert_eq!(Decimal::new(0i64, 2).to_string(), "0.00");
    }

    #[test]
    fn decimal_places_of_tick_sizes() {
        assert_eq!(decimal_places("0.01"), Some(2));
        assert_eq!(decimal_places("0.00001000"), Some(5));
        assert_eq!(decimal_places("1"), Some(0));
        assert_eq!(decimal_places("abc"), None);
    }

    proptest! {
        #[test]
        fn display_then_parse_is_identity(m in any::<i64>(), scale in 0u32..=18) {
            let text = Decimal::new(m, scale).to_string();
            prop_assert_eq!(parse_decimal(text.as_bytes(), scale), Ok(m));
        }

        #[test]
        fn extra_zeros_and_exponents_do_not_change_the_value(
            m in -1_000_000_000_000i64..1_000_000_000_000, scale in 0u32..=6, zeros in 0usize..6,
            shift in 0i64..6,
        ) {
            let text = format!("{}{}", Decimal::new(m, scale), if scale > 0 { "0".repeat(zeros) } else { String::new() });
            prop_assert_eq!(parse_decimal(text.as_bytes(), scale), Ok(m));
            // Moving the point left by `shift` and multiplying back by 10^shift is the same value.
            let moved = format!("{}e{}", Decimal::new(m, scale + shift as u32), shift);
            prop_assert_eq!(parse_decimal(moved.as_bytes(), scale), Ok(m));
        }

        #[test]
        fn single_pass_matches_the_reference_on_arbitrary_bytes(
            bytes in proptest::collection::vec(any::<u8>(), 0..40), scale in 0u32..=20,
        ) {
            prop_assert_eq!(parse_decimal(&bytes, scale), parse_decimal_reference(&bytes, scale));
        }

        /// Bytes drawn from the decimal alphabet, so that most inputs get deep into the parser.
        #[test]
        fn single_pass_matches_the_reference_on_decimal_alphabet(
            bytes in proptest::collection::vec(
                prop::sample::select(&b"0123456789000.-+eE"[..]), 0..30),
            scale in 0u32..=19,
        ) {
            prop_assert_eq!(parse_decimal(&bytes, scale), parse_decimal_reference(&bytes, scale));
        }

        #[test]
        fn single_pass_matches_the_reference_on_generated_decimals(
            text in "[+-]?[0-9]{0,21}(\\.[0-9]{0,21})?([eE][+-]?[0-9]{1,3})?", scale in 0u32..=18,
        ) {
            let text = text.as_bytes();
            prop_assert_eq!(parse_decimal(text, scale), parse_decimal_reference(text, scale));
        }

        /// Mantissas at the edge of `i64`, at every scale, written with too few, exactly enough
        /// and too many places (trailing zeros, or a stray digit past the scale).
        #[test]
        fn single_pass_matches_the_reference_at_the_overflow_edges(
            below in 0u64..2_000, above in 0u64..2_000, scale in 0u32..=18,
            zeros in 0usize..4, stray in 0u8..10, negative in any::<bool>(),
        ) {
            let magnitude = i64::MAX as i128 - below as i128 + above as i128;
            let mantissa = if negative { -magnitude } else { magnitude };
            let exact = Decimal::new(mantissa, scale).to_string();
            let point = if scale == 0 { "." } else { "" };
            let candidates = [
                exact.clone(),
                format!("{exact}{point}{}", "0".repeat(zeros)),
                format!("{exact}{point}{}{stray}", "0".repeat(zeros)),
                Decimal::new(mantissa / 10, scale.saturating_sub(1)).to_string(),
            ];
            for text in candidates {
                for s in [scale, scale.saturating_sub(1), (scale + 1).min(MAX_SCALE)] {
                    prop_assert_eq!(
                        parse_decimal(text.as_bytes(), s),
                        parse_decimal_reference(text.as_bytes(), s),
                        "{} at scale {}", text, s
                    );
                }
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..40), scale in 0u32..=20) {
            let _ = parse_decimal(&bytes, scale);
        }
    }
}
