//! Kraken's book checksum, per the guides "Spot WebSocket v1: book" and "Spot WebSocket v2:
//! book" (docs.kraken.com/api/docs/guides/spot-ws-book-v1, `.../spot-ws-book-v2`): the CRC32
//! (IEEE, as zlib's) of the top ten asks, ascending, then the top ten bids, descending, each
//! level's price then quantity written with the pair's decimals, the `.` removed and leading
//! zeros stripped.
//!
//! From an exact mantissa that string is simply the value at the pair's decimals as an integer:
//! `0.05005` at 5 decimals is `5005`, `0.00000500` at 8 is `500`. So each number is rescaled
//! from the instrument's scale to the venue's decimals and its digits written into a stack
//! buffer: no `format!`, no allocation. v1 sends decimal strings already at the pair's
//! decimals; v2 sends JSON numbers (`0.566`, `5.325e-05`) that must be brought to them first
//! (`0.566` at price precision 4 is `5660`), which the mantissa does by construction.

use crate::book::Level;
use crate::num::pow10;

/// Levels per side the checksum covers.
pub const CHECKSUM_LEVELS: usize = 10;

/// An instrument's scales (how its mantissas are held) and the venue's decimals for it (how
/// the checksum writes them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Precision {
    pub price_scale: u32,
    pub qty_scale: u32,
    pub price_decimals: u32,
    pub qty_decimals: u32,
}

/// Room for the checksum's input: 40 numbers of at most 20 digits.
const INPUT_BYTES: usize = 2 * 2 * CHECKSUM_LEVELS * 20;

/// The checksum of a book whose sides are `asks` (ascending) and `bids` (descending), best
/// first. The input is written into one stack buffer and hashed once: 40 small updates would
/// each take crc32fast's bytewise path, the whole (some 300 bytes) its carry-less multiply one.
pub fn checksum<'a>(
    asks: impl IntoIterator<Item = &'a Level>,
    bids: impl IntoIterator<Item = &'a Level>,
    p: Precision,
) -> u32 {
    let mut input = [0u8; INPUT_BYTES];
    let mut len = 0;
    write_input(asks, bids, p, |digits| {
        if let Some(dst) = input.get_mut(len..len + digits.len()) {
            dst.copy_from_slice(digits);
            len += digits.len();
        }
    });
    crc32fast::hash(input.get(..len).unwrap_or(&[]))
}

/// Hands the checksum's input to `sink`, piece by piece (for tests to see the string).
pub fn write_input<'a>(
    asks: impl IntoIterator<Item = &'a Level>,
    bids: impl IntoIterator<Item = &'a Level>,
    p: Precision,
    mut sink: impl FnMut(&[u8]),
) {
    let top = |side: &mut dyn Iterator<Item = &'a Level>| {
        side.take(CHECKSUM_LEVELS).copied().collect_array()
    };
    let (asks, bids) = (top(&mut asks.into_iter()), top(&mut bids.into_iter()));
    for l in asks.into_iter().chain(bids).flatten() {
        let mut buf = [0u8; 20];
        sink(digits(
            rescale(l.px.0, p.price_scale, p.price_decimals),
            &mut buf,
        ));
        sink(digits(
            rescale(l.qty.0, p.qty_scale, p.qty_decimals),
            &mut buf,
        ));
    }
}

/// Up to ten levels, without a heap.
trait CollectArray {
    fn collect_array(self) -> [Option<Level>; CHECKSUM_LEVELS];
}

impl<I: Iterator<Item = Level>> CollectArray for I {
    fn collect_array(self) -> [Option<Level>; CHECKSUM_LEVELS] {
        let mut out = [None; CHECKSUM_LEVELS];
        for (slot, l) in out.iter_mut().zip(self) {
            *slot = Some(l);
        }
        out
    }
}

/// `mantissa` (at `scale` decimals) at `decimals` decimals, as an unsigned integer: digits
/// below the venue's decimals are cut (a book level never has any: it was parsed from them),
/// and a value too large to widen saturates (its checksum then simply fails).
pub fn rescale(mantissa: i64, scale: u32, decimals: u32) -> u64 {
    let m = mantissa.unsigned_abs();
    if decimals >= scale {
        let f = pow10(decimals - scale).map_or(u64::MAX, |f| f as u64);
        m.saturating_mul(f)
    } else {
        m / pow10(scale - decimals).map_or(u64::MAX, |f| f as u64)
    }
}

/// The decimal digits of `n` without leading zeros (none at all for 0), in `buf`.
pub fn digits(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut at = buf.len();
    while n > 0 && at > 0 {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    buf.get(at..).unwrap_or(&[])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_at_the_venue_decimals_is_its_digits_without_leading_zeros() {
        let mut buf = [0u8; 20];
        assert_eq!(digits(rescale(566, 3, 4), &mut buf), b"5660");
        assert_eq!(digits(rescale(500, 8, 8), &mut buf), b"500");
        assert_eq!(digits(rescale(5_325_000, 11, 8), &mut buf), b"5325");
        assert_eq!(digits(0, &mut buf), b"");
        assert_eq!(digits(u64::MAX, &mut buf), b"18446744073709551615");
    }
}
