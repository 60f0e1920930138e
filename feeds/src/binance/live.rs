//! The live Binance feed: the generic [`LiveFeed`] over a [`BinanceAdapter`].

pub use crate::binance::session::{depth_path, stream_path};
pub use crate::live::{LiveCounters, LiveFeed, LiveParts, Tap, TapRecord};

use crate::binance::adapter::BinanceAdapter;

/// A live feed of one Binance market.
pub type BinanceLiveFeed = LiveFeed<BinanceAdapter>;
