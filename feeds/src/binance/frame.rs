//! What the Binance codec makes of a frame: shared by the tape decoder (`codec.rs`) and the
//! fixed-layout scanner (`scan.rs`), so that the scanner needs nothing of the codec's.

use crate::book::Level;
use crate::num::{InstrumentId, Px, Qty, Side};

/// The most price levels one message may carry (both sides together). Binance's largest
/// snapshot is 5,000 a side; anything above is refused as hostile.
pub const MAX_LEVELS_PER_MESSAGE: usize = 10_000;

pub use crate::event::LevelUpdate;

/// What a frame was. Depth levels are in [`BinanceCodec::levels`](crate::binance::codec::BinanceCodec::levels).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decoded {
    Depth {
        instrument: InstrumentId,
        first_id: u64,
        last_id: u64,
        /// Futures only: the previous event's final update id.
        prev_last_id: Option<u64>,
    },
    Snapshot {
        instrument: InstrumentId,
        last_update_id: u64,
    },
    Trade {
        instrument: InstrumentId,
        trade_id: u64,
        px: Px,
        qty: Qty,
        aggressor: Side,
    },
    Ticker {
        instrument: InstrumentId,
        update_id: u64,
        bid: Level,
        ask: Level,
    },
    /// A well-formed frame that carries no market data (a subscription reply).
    Control,
}
