//! What the Kraken codecs make of a frame, for either protocol: a list of [`Item`]s (one frame
//! can carry several book entries, trades or pairs) with the book levels they point into.

use crate::book::Level;
use crate::decode_error::DecodeError;
use crate::instrument::Instrument;
use crate::kraken::json::{Cursor, Span};
use crate::num::{parse_decimal, InstrumentId, Px, Qty, Side};

/// Kraken's deepest book subscription (v1 and v2 alike: 10, 25, 100, 500, 1000).
pub const MAX_DEPTH: usize = 1000;
/// The most price levels one frame may carry, every entry and both sides together: a
/// 1000-level snapshot of each side, and room. More is refused as hostile.
pub const MAX_LEVELS_PER_MESSAGE: usize = 2 * MAX_DEPTH + 48;
/// The most items one frame may carry (book entries, trades, pairs we keep).
pub const MAX_ITEMS: usize = 256;

pub use crate::event::LevelUpdate;

/// One thing a frame says about one instrument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Item {
    /// A book snapshot or update: its levels are `levels[start..end]` of the codec.
    Book {
        instrument: InstrumentId,
        snapshot: bool,
        checksum: Option<u32>,
        /// The depth the channel name says (v1 `book-1000`); v2 says it in the subscription
        /// reply ([`Item::Depth`]).
        depth: Option<u32>,
        start: usize,
        end: usize,
    },
    Trade {
        instrument: InstrumentId,
        trade_id: u64,
        px: Px,
        qty: Qty,
        aggressor: Side,
    },
    /// The venue's best bid and ask.
    Ticker {
        instrument: InstrumentId,
        bid: Level,
        ask: Level,
    },
    /// A book subscription was acknowledged at this depth.
    Depth {
        instrument: InstrumentId,
        depth: u32,
    },
    /// The `instrument` channel's decimals for a pair.
    Precision {
        instrument: InstrumentId,
        price: u32,
        qty: u32,
    },
}

/// A level whose instrument (and so whose scales) is not known yet: the symbol may come after
/// the levels (v1 names the pair last, v2 may too).
#[derive(Clone, Copy, Debug)]
pub struct RawLevel {
    pub side: Side,
    pub px: Span,
    pub qty: Span,
}

/// A frame's items and levels, reused from frame to frame (preallocated, never grown).
pub struct Decoded {
    pub items: Vec<Item>,
    pub levels: Vec<LevelUpdate>,
    pub raw: Vec<RawLevel>,
}

impl Default for Decoded {
    fn default() -> Self {
        Decoded {
            items: Vec::with_capacity(MAX_ITEMS),
            levels: Vec::with_capacity(MAX_LEVELS_PER_MESSAGE),
            raw: Vec::with_capacity(MAX_LEVELS_PER_MESSAGE),
        }
    }
}

impl Decoded {
    pub fn clear(&mut self) {
        self.items.clear();
        self.levels.clear();
        self.raw.clear();
    }

    pub fn push_item(&mut self, item: Item) -> Result<(), DecodeError> {
        if self.items.len() == MAX_ITEMS {
            return Err(DecodeError::TooManyLevels);
        }
        self.items.push(item);
        Ok(())
    }

    pub fn push_raw(&mut self, side: Side, px: Span, qty: Span) -> Result<(), DecodeError> {
        if self.raw.len() + self.levels.len() >= MAX_LEVELS_PER_MESSAGE {
            return Err(DecodeError::TooManyLevels);
        }
        self.raw.push(RawLevel { side, px, qty });
        Ok(())
    }

    /// Turns the raw levels gathered for one entry of `inst` into exact levels, and stages the
    /// entry's book item.
    pub fn book_entry(
        &mut self,
        c: &Cursor<'_>,
        inst: &Instrument,
        snapshot: bool,
        checksum: Option<u32>,
        depth: Option<u32>,
    ) -> Result<(), DecodeError> {
        let start = self.levels.len();
        for raw in &self.raw {
            self.levels.push(LevelUpdate {
                side: raw.side,
                px: price(c.text(raw.px), inst, "price")?,
                qty: qty(c.text(raw.qty), inst, "qty")?,
            });
        }
        self.raw.clear();
        let end = self.levels.len();
        self.push_item(Item::Book {
            instrument: inst.id,
            snapshot,
            checksum,
            depth,
            start,
            end,
        })
    }
}

/// A price: exact at the instrument's scale, and above zero.
pub fn price(text: &[u8], inst: &Instrument, field: &'static str) -> Result<Px, DecodeError> {
    match parse_decimal(text, inst.price_scale) {
        Ok(m) if m > 0 => Ok(Px(m)),
        Ok(_) => Err(DecodeError::WrongType(field)),
        Err(e) => Err(DecodeError::Decimal(field, e)),
    }
}

/// A quantity: exact at the instrument's scale, and not negative.
pub fn qty(text: &[u8], inst: &Instrument, field: &'static str) -> Result<Qty, DecodeError> {
    match parse_decimal(text, inst.qty_scale) {
        Ok(m) if m >= 0 => Ok(Qty(m)),
        Ok(_) => Err(DecodeError::WrongType(field)),
        Err(e) => Err(DecodeError::Decimal(field, e)),
    }
}

/// A non-negative integer's text (a checksum, a trade id, a depth, a precision).
pub fn integer(text: &[u8], field: &'static str) -> Result<u64, DecodeError> {
    if text.is_empty() || text.len() > 20 {
        return Err(DecodeError::WrongType(field));
    }
    text.iter().try_fold(0u64, |acc, &b| match b {
        b'0'..=b'9' => acc
            .checked_mul(10)
            .and_then(|a| a.checked_add(u64::from(b - b'0')))
            .ok_or(DecodeError::WrongType(field)),
        _ => Err(DecodeError::WrongType(field)),
    })
}

/// A CRC32 as the venue writes it (a decimal string in v1, a number in v2).
pub fn checksum(text: &[u8]) -> Result<u32, DecodeError> {
    u32::try_from(integer(text, "checksum")?).map_err(|_| DecodeError::WrongType("checksum"))
}
