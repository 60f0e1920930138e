//! Bybit's live session details (v5 WebSocket "Connect"): one public connection per market,
//! `/v5/public/spot` or `/v5/public/linear` on `stream.bybit.com`; a `subscribe` op naming
//! topics (`orderbook.{depth}.{symbol}`, `publicTrade.{symbol}`, `tickers.{symbol}`); the book
//! snapshot arrives in-band after subscribing (no REST); and `{"op":"ping"}` every 20 s, as
//! Bybit recommends to keep the connection (it closes one silent for 10 minutes).

use crate::instrument::{InstrumentRegistry, Venue};
use crate::num::Nanos;
use crate::venue::Keepalive;

/// Every 20 s, as the docs recommend.
pub const KEEPALIVE: Keepalive = Keepalive {
    every: Nanos::from_millis(20_000),
    frame: r#"{"op":"ping"}"#,
};

/// The book depth subscribed unless told otherwise: 50 levels a side, every 20 ms.
pub const DEFAULT_DEPTH: u16 = 50;

/// Which Bybit market an adapter speaks: the same frames, its own connection and symbols.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BybitMarket {
    Spot,
    Linear,
}

impl BybitMarket {
    pub fn venue(self) -> Venue {
        match self {
            BybitMarket::Spot => Venue::BybitSpot,
            BybitMarket::Linear => Venue::BybitLinear,
        }
    }

    pub fn stream_path(self) -> &'static str {
        match self {
            BybitMarket::Spot => "/v5/public/spot",
            BybitMarket::Linear => "/v5/public/linear",
        }
    }

    pub const ALL: [BybitMarket; 2] = [BybitMarket::Spot, BybitMarket::Linear];
}

fn book_topic(depth: u16, symbol: &str) -> String {
    format!("orderbook.{depth}.{symbol}")
}

/// One `subscribe` op per instrument of `market` in `registry`: its book at `depth`, trades
/// and tickers (three topics: within spot's limit of 10 a request). Cold.
pub fn subscriptions(
    registry: &InstrumentRegistry,
    market: BybitMarket,
    depth: u16,
) -> Vec<String> {
    registry
        .iter()
        .filter(|i| i.venue == market.venue())
        .map(|i| {
            let s = &i.symbol;
            let book = book_topic(depth, s);
            format!(r#"{{"op":"subscribe","args":["{book}","publicTrade.{s}","tickers.{s}"]}}"#)
        })
        .collect()
}

/// The ops that resubscribe one instrument's book (a gap): Bybit sends a new snapshot after a
/// `subscribe`, once the old subscription is gone. Cold.
pub fn resubscribe_frames(depth: u16, symbol: &str) -> [String; 2] {
    let topic = book_topic(depth, symbol);
    [
        format!(r#"{{"op":"unsubscribe","args":["{topic}"]}}"#),
        format!(r#"{{"op":"subscribe","args":["{topic}"]}}"#),
    ]
}
