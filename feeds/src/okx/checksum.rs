//! OKX's book checksum: the signed CRC32 (IEEE) of the top 25 levels, interleaved
//! `bid1px:bid1sz:ask1px:ask1sz:bid2px:..`, over the price and size strings exactly as sent; a
//! side with fewer than 25 levels simply contributes fewer (OKX v5 docs, "Checksum" under
//! <https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-order-book-channel>).
//!
//! The book stage's book holds integers, which lose the wire form (`"0.5000"` against
//! `"0.5"`), so the adapter keeps its own bounded copy of each book with every level's strings
//! in fixed inline buffers ([`Wire`]), preallocated: [`TopBook`]. Each side is kept sorted
//! worst first, best last, so that the changes near the touch, which are most of them, move
//! few entries; an entry is a price and the slot of its strings (16 bytes), so a change deep
//! in the book moves little memory.

use crate::num::{Px, Side};
use crate::okx::frame::{OkxLevel, Wire, WIRE_MAX};

/// Levels a side hashed by the checksum.
pub const CHECKSUM_DEPTH: usize = 25;
/// Levels a side the copy keeps: OKX's `books` holds 400 a side, and a level deeper than the
/// copy can never come back into the top 25 without being sent again.
pub const TOP_CAPACITY: usize = 512;

/// A level as the sorted sides hold it: its price and where its strings are. Kept small (16
/// bytes) because an insert or delete deep in a side moves every entry above it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Entry {
    px: Px,
    slot: u32,
}

/// One side: entries sorted worst first (the best last), and its levels' strings in slots
/// that do not move, with the free ones listed.
struct SideBook {
    entries: Vec<Entry>,
    texts: Vec<(Wire, Wire)>,
    free: Vec<u32>,
}

impl SideBook {
    fn new() -> SideBook {
        SideBook {
            entries: Vec::with_capacity(TOP_CAPACITY),
            texts: vec![(Wire::EMPTY, Wire::EMPTY); TOP_CAPACITY],
            free: (0..TOP_CAPACITY as u32).rev().collect(),
        }
    }

    fn clear(&mut self) {
        for e in self.entries.drain(..) {
            self.free.push(e.slot);
        }
    }

    /// Sets one level (`worse(a, b)`: a is worse than b on this side); a zero size removes it.
    /// Returns whether a level was given up for room.
    #[inline]
    fn apply(&mut self, level: &OkxLevel, worse: impl Fn(Px, Px) -> bool) -> bool {
        // Entries before `at` are worse than `level.px`.
        let at = self.entries.partition_point(|e| worse(e.px, level.px));
        let present = self.entries.get(at).filter(|e| e.px == level.px).copied();
        if level.qty.0 == 0 {
            if let Some(e) = present {
                self.entries.remove(at);
                self.free.push(e.slot);
            }
            return false;
        }
        let texts = (level.px_text, level.qty_text);
        if let Some(e) = present {
            if let Some(t) = self.texts.get_mut(e.slot as usize) {
                *t = texts;
            }
            return false;
        }
        if self.entries.len() >= TOP_CAPACITY {
            if at == 0 {
                return true; // worse than every level held: given up
            }
            // Full: the worst level goes to make room for a better one.
            let worst = self.entries.remove(0);
            self.free.push(worst.slot);
            self.insert(at - 1, level.px, texts);
            return true;
        }
        self.insert(at, level.px, texts);
        false
    }

    #[inline]
    fn insert(&mut self, at: usize, px: Px, texts: (Wire, Wire)) {
        // Never empty here: a slot is freed for every entry removed, and there are as many
        // slots as entries can be held.
        let Some(slot) = self.free.pop() else {
            return;
        };
        if let Some(t) = self.texts.get_mut(slot as usize) {
            *t = texts;
        }
        self.entries.insert(at, Entry { px, slot });
    }

    /// The strings of the best levels, best first.
    fn best(&self) -> impl Iterator<Item = &(Wire, Wire)> + '_ {
        self.entries
            .iter()
            .rev()
            .filter_map(|e| self.texts.get(e.slot as usize))
    }
}

/// One instrument's book as wire strings, bounded, preallocated.
pub struct TopBook {
    /// Ascending by price: the best bid last.
    bids: SideBook,
    /// Descending by price: the best ask last.
    asks: SideBook,
    /// Levels given up: deeper than [`TOP_CAPACITY`].
    pub truncated: u64,
}

impl Default for TopBook {
    fn default() -> Self {
        Self::new()
    }
}

/// The longest check string: 25 levels a side, each two strings and two colons.
const CHECK_STRING_MAX: usize = 2 * CHECKSUM_DEPTH * (2 * WIRE_MAX + 2);

impl TopBook {
    pub fn new() -> TopBook {
        TopBook {
            bids: SideBook::new(),
            asks: SideBook::new(),
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
            Side::Buy => self.bids.entries.len(),
            Side::Sell => self.asks.entries.len(),
        }
    }

    /// The prices held on `side`, best first.
    pub fn prices(&self, side: Side) -> impl Iterator<Item = Px> + '_ {
        let entries = match side {
            Side::Buy => &self.bids.entries,
            Side::Sell => &self.asks.entries,
        };
        entries.iter().rev().map(|e| e.px)
    }

    /// Sets one level; a zero size removes it.
    #[inline]
    pub fn apply(&mut self, level: &OkxLevel) {
        let gave_up = match level.side {
            Side::Buy => self.bids.apply(level, |a, b| a < b),
            Side::Sell => self.asks.apply(level, |a, b| a > b),
        };
        self.truncated += u64::from(gave_up);
    }

    /// Writes the check string, piece by piece, to `sink`.
    pub fn write_check_string(&self, mut sink: impl FnMut(&[u8])) {
        let mut first = true;
        let mut piece = |(px, qty): &(Wire, Wire)| {
            if !first {
                sink(b":");
            }
            first = false;
            sink(px.as_bytes());
            sink(b":");
            sink(qty.as_bytes());
        };
        let (mut bids, mut asks) = (self.bids.best(), self.asks.best());
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
    /// The string is gathered on the stack and hashed once: CRC32 over a few hundred bytes at
    /// once takes the carry-less multiply path, a piece at a time the byte-table one.
    pub fn checksum(&self) -> i32 {
        let mut text = [0u8; CHECK_STRING_MAX];
        let mut len = 0;
        self.write_check_string(|bytes| {
            if let Some(dst) = text.get_mut(len..len + bytes.len()) {
                dst.copy_from_slice(bytes);
                len += bytes.len();
            }
        });
        crc32fast::hash(text.get(..len).unwrap_or_default()) as i32
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
