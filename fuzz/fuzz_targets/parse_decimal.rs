//! `parse_decimal` over any bytes at any scale: it never panics, refuses every scale above
//! `MAX_SCALE`, and whatever it accepts is exact (it prints back to itself, and one more or one
//! fewer decimal place scales the mantissa by exactly ten).
#![no_main]

use libfuzzer_sys::fuzz_target;
use pulse_feeds::num::{parse_decimal, Decimal, DecimalError, MAX_SCALE};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, input)) = data.split_first() else {
        return;
    };
    // Mostly the scales that matter (0..=19), sometimes absurd ones up to u32::MAX.
    let scale = match selector {
        0..=249 => u32::from(selector) % 20,
        _ => u32::MAX - u32::from(255 - selector),
    };
    let parsed = parse_decimal(input, scale);
    if scale > MAX_SCALE {
        assert_eq!(parsed, Err(DecimalError::BadScale));
        return;
    }
    let Ok(value) = parsed else {
        return;
    };
    assert_ne!(
        value,
        i64::MIN,
        "the mantissa is built positive, then negated"
    );
    let shown = Decimal::new(value, scale).to_string();
    assert_eq!(parse_decimal(shown.as_bytes(), scale), Ok(value), "{shown}");
    if scale < MAX_SCALE {
        let finer = value.checked_mul(10).ok_or(DecimalError::Overflow);
        assert_eq!(parse_decimal(input, scale + 1), finer);
    }
    if scale > 0 && value % 10 == 0 {
        assert_eq!(parse_decimal(input, scale - 1), Ok(value / 10));
    }
    if !matches!(input.first(), Some(b'-' | b'+')) {
        let mut negated = Vec::with_capacity(input.len() + 1);
        negated.push(b'-');
        negated.extend_from_slice(input);
        assert_eq!(parse_decimal(&negated, scale), Ok(-value));
    }
});
