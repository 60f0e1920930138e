//! The account scale and the one division every amount goes through: the ground the account,
//! the conversions and the balances stand on.

/// Decimals of every portfolio amount (capital, equity, exposure, limits).
pub const ACCOUNT_SCALE: u32 = 12;

/// `a / b` (truncated, as `/`), through 64-bit division when both fit: a 128-bit division is
/// a library call several times slower, and the checks' amounts nearly always fit.
pub fn div(a: i128, b: i128) -> i128 {
    match (i64::try_from(a), i64::try_from(b)) {
        (Ok(a), Ok(b)) if b != 0 && !(a == i64::MIN && b == -1) => i128::from(a / b),
        _ => a / b,
    }
}
