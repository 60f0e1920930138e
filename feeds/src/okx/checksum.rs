//! OKX's book checksum: the signed CRC32 (IEEE) of the top 25 levels, interleaved
//! `bid1px:bid1sz:ask1px:ask1sz:bid2px:..`, over the price and size strings exactly as sent; a
//! side with fewer than 25 levels simply contributes fewer (OKX v5 docs, "Checksum" under
//! <https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-order-book-channel>).
//!
//! The book stage's book holds integers, which lose the wire form (`"0.5000"` against
//! `"0.5"`), so the adapter keeps its own bounded copy of each book with every level's strings
//! in fixed inline buffers ([`Wire`]), preallocated: [`TopBook`]. Each side is kept sorted
//! worst first, best last, so that the changes near the touch, which are most of them, move
//! few entries.

use crate::num::{Px, Side};
use crate::okx::frame::{OkxLevel, Wire};

/// Levels a side hashed by the checksum.
pub const CHECKSUM_DEPTH: usize = 25;
/// Levels a side the copy keeps: OKX's `books` holds 400 a side, and a level deeper than the
/// copy can never come back into the top 25 without being sent again.
pub const TOP_CAPACITY: usize = 512;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Entry {
    px: Px,
    px_text: Wire,
    qty_text: Wire,
}

/// One instrument's book as wire strings, bounded, preallocated.
pub struct TopBook {
    /// Ascending by price: the best bid last.
    bids: Vec<Entry>,
    /// Descending by price: the best ask last.
    asks: Vec<Entry>,
    /// Levels given up: deeper than [`TOP_CAPACITY`].
    pub truncated: u64,
}

impl Default for TopBook {
    fn default() -> Self {
        Self::new()
    }
}

impl TopBook {
    pub fn new() -> TopBook {
        TopBook {
            bids: Vec::with_capacity(TOP_CAPACITY),
            asks: Vec::with_capacity(TOP_CAPACITY),
            truncated: 0,
        }
    }

    pub fn clear(&mut self) {
        self.bids.clear();
        self.asks.clear();
    }

    /// Levels held on `side`.
    pub fn depth(&self, side: Side) -> usize {
        match side {
            Side::Buy => self.bids.len(),
            Side::Sell => self.asks.len(),
        }
    }

    /// The prices held on `side`, best first.
    pub fn prices(&self, side: Side) -> impl Iterator<Item = Px> + '_ {
        let entries = match side {
            Side::Buy => &self.bids,
            Side::Sell => &self.asks,
        };
        entries.iter().rev().map(|e| e.px)
    }

    /// Sets one level; a zero size removes it.
    pub fn apply(&mut self, level: &OkxLevel) {
        let (entries, worse) = match level.side {
            Side::Buy => (&mut self.bids, Px::lt as fn(&Px, &Px) -> bool),
            Side::Sell => (&mut self.asks, Px::gt as fn(&Px, &Px) -> bool),
        };
        // Entries before `at` are worse than `level.px`.
        let at = entries.partition_point(|e| worse(&e.px, &level.px));
        let present = entries.get(at).is_some_and(|e| e.px == level.px);
        if level.qty.0 == 0 {
            if present {
                entries.remove(at);
            }
            return;
        }
        let entry = Entry {
            px: level.px,
            px_text: level.px_text,
            qty_text: level.qty_text,
        };
        if present {
            entries[at] = entry;
        } else if entries.len() < TOP_CAPACITY {
            entries.insert(at, entry);
        } else if at == 0 {
            self.truncated += 1;
        } else {
            // Full: the worst level goes to make room for a better one.
            entries.remove(0);
            entries.insert(at - 1, entry);
            self.truncated += 1;
        }
    }

    /// Writes the check string, piece by piece, to `sink`.
    pub fn write_check_string(&self, mut sink: impl FnMut(&[u8])) {
        let mut first = true;
        let mut piece = |entry: &Entry| {
            if !first {
                sink(b":");
            }
            first = false;
            sink(entry.px_text.as_bytes());
            sink(b":");
            sink(entry.qty_text.as_bytes());
        };
        let (mut bids, mut asks) = (self.bids.iter().rev(), self.asks.iter().rev());
        for _ in 0..CHECKSUM_DEPTH {
            if let Some(bid) = bids.next() {
                piece(bid);
            }
            if let Some(ask) = asks.next() {
                piece(ask);
            }
        }
    }

    /// OKX's checksum of this book: the CRC32 of the check string, as a signed 32-bit integer.
    pub fn checksum(&self) -> i32 {
        let mut hasher = crc32fast::Hasher::new();
        self.write_check_string(|bytes| hasher.update(bytes));
        hasher.finalize() as i32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::num::Qty;

    fn level(side: Side, px: i64, text: &str, qty: &str) -> OkxLevel {
        OkxLevel {
            side,
            px: Px(px),
            qty: Qty(i64::from(qty != "0")),
            px_text: Wire::new(text.as_bytes()).unwrap(),
            qty_text: Wire::new(qty.as_bytes()).unwrap(),
        }
    }

    fn check_string(book: &TopBook) -> String {
        let mut s = Vec::new();
        book.write_check_string(|b| s.extend_from_slice(b));
        String::from_utf8(s).unwrap()
    }

    #[test]
    fn sides_interleave_best_first_and_zero_removes() {
        let mut book = TopBook::new();
        for l in [
            level(Side::Buy, 10, "1.0", "3"),
            level(Side::Buy, 12, "1.2", "1"),
            level(Side::Sell, 15, "1.5", "2"),
            level(Side::Sell, 13, "1.3", "0.50"),
            level(Side::Buy, 11, "1.1", "4"),
        ] {
            book.apply(&l);
        }
        assert_eq!(check_string(&book), "1.2:1:1.3:0.50:1.1:4:1.5:2:1.0:3");
        book.apply(&level(Side::Buy, 12, "1.2", "0"));
        book.apply(&level(Side::Sell, 13, "1.3", "7"));
        assert_eq!(check_string(&book), "1.1:4:1.3:7:1.0:3:1.5:2");
        book.apply(&level(Side::Sell, 99, "9.9", "0"));
        assert_eq!((book.depth(Side::Buy), book.depth(Side::Sell)), (2, 2));
    }

    #[test]
    fn a_full_side_keeps_the_best_levels() {
        let mut book = TopBook::new();
        for i in 0..TOP_CAPACITY as i64 + 2 {
            let text = format!("{}", 1000 + i);
            book.apply(&level(Side::Buy, 1000 + i, &text, "1"));
        }
        assert_eq!(book.depth(Side::Buy), TOP_CAPACITY);
        assert_eq!(book.truncated, 2);
        book.apply(&level(Side::Buy, 1, "1", "1"));
        assert_eq!(book.truncated, 3, "worse than every level held: given up");
        let best = format!("{}", 1000 + TOP_CAPACITY as i64 + 1);
        assert!(check_string(&book).starts_with(&format!("{best}:1:")));
    }
}
