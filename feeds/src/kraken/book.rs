//! The adapter's own copy of a Kraken book, kept to verify the venue's checksum: per side, the
//! levels in the subscribed depth, sorted best first in a preallocated ring (`VecDeque`) of
//! exact mantissas. Inserting or deleting a level shifts the levels on its shorter side, so a
//! change near the touch (where nearly all of them are) moves a few levels, not the depth
//! behind it (a `Vec` moved up to 16 KB per change at depth 1000), and truncating to the depth
//! pops from the back. Nothing allocates after construction.
//!
//! Each level keeps its part of the checksum's input (price then quantity at the venue's
//! decimals, digits only), written when the level is stored or its quantity changes. So a
//! message formats the one or two numbers it changed, not the forty of the top ten levels, and
//! the checksum is a copy of ten texts a side and one CRC32 over them.

use std::collections::VecDeque;

use crate::book::Level;
use crate::kraken::checksum::{digits, rescale, Precision};
use crate::kraken::frame::{MAX_DEPTH, MAX_LEVELS_PER_MESSAGE};
use crate::num::{Px, Qty, Side};

/// Room for a level's text: two numbers of at most 20 digits.
pub const TEXT_BYTES: usize = 40;

/// A level and its checksum text.
#[derive(Clone, Copy, Debug)]
struct Entry {
    level: Level,
    text: [u8; TEXT_BYTES],
    /// Bytes of `text` the price takes; the quantity follows, up to `len`.
    px_len: u8,
    len: u8,
}

impl Entry {
    fn new(px: Px, qty: Qty, p: Precision) -> Entry {
        let mut e = Entry {
            level: Level { px, qty },
            text: [0; TEXT_BYTES],
            px_len: 0,
            len: 0,
        };
        let mut buf = [0u8; 20];
        let px_digits = digits(rescale(px.0, p.price_scale, p.price_decimals), &mut buf);
        e.px_len = put(&mut e.text, 0, px_digits);
        e.set_qty(qty, p);
        e
    }

    fn set_qty(&mut self, qty: Qty, p: Precision) {
        let mut buf = [0u8; 20];
        let qty_digits = digits(rescale(qty.0, p.qty_scale, p.qty_decimals), &mut buf);
        self.level.qty = qty;
        self.len = put(&mut self.text, self.px_len, qty_digits);
    }

    fn text(&self) -> &[u8] {
        self.text.get(..usize::from(self.len)).unwrap_or(&[])
    }
}

/// Writes `digits` into `text` at `at`; returns where they end (at most [`TEXT_BYTES`]: a
/// number is at most 20 digits).
fn put(text: &mut [u8; TEXT_BYTES], at: u8, digits: &[u8]) -> u8 {
    let at = usize::from(at);
    let end = (at + digits.len()).min(TEXT_BYTES);
    if let (Some(dst), Some(src)) = (text.get_mut(at..end), digits.get(..end - at)) {
        dst.copy_from_slice(src);
    }
    end as u8
}

/// One side, best first: asks ascending, bids descending.
pub struct BookSide {
    side: Side,
    levels: VecDeque<Entry>,
    precision: Precision,
}

/// Room per side: the deepest subscription plus every level one message may add before it is
/// truncated back to the depth.
const SIDE_CAPACITY: usize = MAX_DEPTH + MAX_LEVELS_PER_MESSAGE;

impl BookSide {
    pub fn new(side: Side, precision: Precision) -> BookSide {
        BookSide {
            side,
            levels: VecDeque::with_capacity(SIDE_CAPACITY),
            precision,
        }
    }

    /// The levels, best first.
    pub fn levels(&self) -> impl DoubleEndedIterator<Item = &Level> + ExactSizeIterator + Clone {
        self.levels.iter().map(|e| &e.level)
    }

    /// The checksum texts of the best `n` levels, best first.
    pub fn texts(&self, n: usize) -> impl Iterator<Item = &[u8]> {
        self.levels.iter().take(n).map(Entry::text)
    }

    /// Rewrites every level's text at the venue's decimals `precision` now gives (cold: the
    /// `instrument` channel told them).
    pub fn set_precision(&mut self, precision: Precision) {
        self.precision = precision;
        for e in &mut self.levels {
            *e = Entry::new(e.level.px, e.level.qty, precision);
        }
    }

    pub fn len(&self) -> usize {
        self.levels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.levels.is_empty()
    }

    pub fn clear(&mut self) {
        self.levels.clear();
    }

    /// Sets `px` to `qty` (0 deletes). `false` when the level could not be stored: the side
    /// is full (never with messages the codec accepts).
    pub fn apply(&mut self, px: Px, qty: Qty) -> bool {
        let found = match self.side {
            Side::Sell => self.levels.binary_search_by(|e| e.level.px.cmp(&px)),
            Side::Buy => self.levels.binary_search_by(|e| px.cmp(&e.level.px)),
        };
        match (found, qty.0) {
            (Ok(i), 0) => {
                self.levels.remove(i);
            }
            (Ok(i), _) => {
                if let Some(e) = self.levels.get_mut(i) {
                    e.set_qty(qty, self.precision);
                }
            }
            (Err(_), 0) => {}
            (Err(i), _) => {
                if self.levels.len() == self.levels.capacity() {
                    return false;
                }
                self.levels.insert(i, Entry::new(px, qty, self.precision));
            }
        }
        true
    }

    /// Drops the levels beyond `depth`, showing each to `dropped`: Kraken sends no delete for
    /// a level pushed out of the subscribed depth.
    pub fn truncate(&mut self, depth: usize, mut dropped: impl FnMut(Side, Level)) {
        for e in self.levels.range(depth.min(self.levels.len())..) {
            dropped(self.side, e.level);
        }
        self.levels.truncate(depth);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kraken::checksum::{checksum, hash_texts, CHECKSUM_LEVELS};

    /// The kept texts hash to what formatting the levels afresh hashes to, through inserts,
    /// updates, deletes, truncation and a change of decimals.
    #[test]
    fn kept_texts_equal_a_fresh_formatting() {
        let p = Precision {
            price_scale: 8,
            qty_scale: 8,
            price_decimals: 5,
            qty_decimals: 8,
        };
        let mut asks = BookSide::new(Side::Sell, p);
        let mut bids = BookSide::new(Side::Buy, p);
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for round in 0..3000 {
            let r = next();
            let px = Px(((r % 400) as i64 + 1) * 1000);
            let qty = Qty(if r % 5 == 0 {
                0
            } else {
                (r >> 20) as i64 % 10_000_000
            });
            let side = if px.0 > 200_000 { &mut asks } else { &mut bids };
            assert!(side.apply(px, qty));
            asks.truncate(25, |_, _| {});
            bids.truncate(25, |_, _| {});
            if round == 1500 {
                let q = Precision {
                    price_decimals: 6,
                    ..p
                };
                asks.set_precision(q);
                bids.set_precision(q);
            }
            let kept = hash_texts(
                asks.texts(CHECKSUM_LEVELS)
                    .chain(bids.texts(CHECKSUM_LEVELS)),
            );
            assert_eq!(kept, checksum(asks.levels(), bids.levels(), asks.precision));
        }
        assert!(asks.len() > 10 && bids.len() > 10);
    }
}
