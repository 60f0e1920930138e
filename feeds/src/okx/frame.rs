//! What the OKX codec makes of a frame: the decoded kinds and the levels with their wire
//! strings, shared by the codec (`codec.rs`), the checksum copy (`checksum.rs`) and the sync
//! rules (`sync.rs`), so that none of them needs another's internals.

use crate::event::Level;
use crate::num::{InstrumentId, Px, Qty, Side};

/// The most price levels one `books` frame may carry (both sides together). OKX's largest
/// snapshot is 400 a side (`books`, `books-l2-tbt`); anything above is refused as hostile.
pub const MAX_LEVELS_PER_MESSAGE: usize = 2_000;
/// The most trades one `trades` frame may carry (OKX pushes one or a few per frame).
pub const MAX_TRADES_PER_MESSAGE: usize = 256;
/// The longest price or size string kept as sent for the checksum. OKX sends at most 8
/// decimals on the instruments we know; a longer string is refused rather than cut.
pub const WIRE_MAX: usize = 31;

/// A price or size string exactly as the venue sent it, inline: the checksum hashes these
/// bytes, never a reformatted number (`"0.5000"` stays `"0.5000"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Wire {
    len: u8,
    bytes: [u8; WIRE_MAX],
}

impl Wire {
    pub const EMPTY: Wire = Wire {
        len: 0,
        bytes: [0; WIRE_MAX],
    };

    /// `text`, if it fits.
    pub fn new(text: &[u8]) -> Option<Wire> {
        let mut wire = Wire::EMPTY;
        wire.bytes.get_mut(..text.len())?.copy_from_slice(text);
        wire.len = text.len() as u8;
        Some(wire)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }
}

/// One decoded price level of a `books` frame, with its wire strings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OkxLevel {
    pub side: Side,
    pub px: Px,
    pub qty: Qty,
    pub px_text: Wire,
    pub qty_text: Wire,
}

/// One trade of a `trades` frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OkxTrade {
    pub trade_id: u64,
    pub px: Px,
    pub qty: Qty,
    /// The taker's side (`"side"`).
    pub aggressor: Side,
}

/// How a `books` frame relates to the book.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BookAction {
    /// `"action":"snapshot"`: the book starts again from these levels.
    Snapshot,
    /// `"action":"update"`: changes to apply (size 0 deletes).
    Update,
    /// No `action` (`books5`, `bbo-tbt`): every push is the whole book of its depth.
    Whole,
}

/// What a frame was. Book levels are in `OkxCodec::levels`, trades in `OkxCodec::trades`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decoded {
    Book {
        instrument: InstrumentId,
        action: BookAction,
        /// `seqId`, where sent (books of 2022 predate it).
        seq_id: Option<i64>,
        /// `prevSeqId`, where sent (`-1` on a snapshot).
        prev_seq_id: Option<i64>,
        /// The signed CRC32 of the top 25 levels; 0 when absent (OKX's own convention).
        checksum: i32,
        /// The book's time at the venue, in milliseconds.
        ts: u64,
    },
    Trades {
        instrument: InstrumentId,
    },
    Ticker {
        instrument: InstrumentId,
        bid: Level,
        ask: Level,
    },
    /// A well-formed frame that carries no market data: a subscription reply, a `pong`.
    Control,
    /// An `{"event":"error",..}` reply: counted apart from the other control frames.
    Error,
}
