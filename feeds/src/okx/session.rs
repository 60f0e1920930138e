//! OKX's live session details (v5 WebSocket API, "Connect" and "Subscribe"): one public
//! connection, `/ws/v5/public`; a `subscribe` op naming each channel and `instId`; the book
//! snapshot arrives in-band after subscribing (no REST); and the text `ping` the client sends
//! when it has received nothing for under 30 s (OKX closes a silent connection after 30 s),
//! answered by the text `pong`.

use crate::instrument::{InstrumentRegistry, Venue};
use crate::num::Nanos;
use crate::venue::Keepalive;

pub const STREAM_PATH: &str = "/ws/v5/public";

/// Sent every 25 s: inside OKX's 30 s idle limit with room for a slow round trip.
pub const KEEPALIVE: Keepalive = Keepalive {
    every: Nanos::from_millis(25_000),
    frame: "ping",
};

/// Which book channel the adapter subscribes to: each the same codec, at its depth.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BookChannel {
    /// 400 levels a side, snapshot then updates, every 100 ms.
    Books,
    /// 5 levels a side, each push whole, every 100 ms.
    Books5,
    /// The touch, each push whole, tick by tick.
    BboTbt,
}

impl BookChannel {
    pub fn name(self) -> &'static str {
        match self {
            BookChannel::Books => "books",
            BookChannel::Books5 => "books5",
            BookChannel::BboTbt => "bbo-tbt",
        }
    }

    pub fn from_name(name: &str) -> Option<BookChannel> {
        [BookChannel::Books, BookChannel::Books5, BookChannel::BboTbt]
            .into_iter()
            .find(|c| c.name() == name)
    }
}

/// The `subscribe` op for `channels` of one instrument. Cold.
pub fn subscribe_frame(channels: &[&str], inst_id: &str) -> String {
    let args: Vec<String> = channels
        .iter()
        .map(|c| format!(r#"{{"channel":"{c}","instId":"{inst_id}"}}"#))
        .collect();
    format!(r#"{{"op":"subscribe","args":[{}]}}"#, args.join(","))
}

/// One `subscribe` op per OKX instrument of `registry`: its book channel, trades and tickers.
pub fn subscriptions(registry: &InstrumentRegistry, book: BookChannel) -> Vec<String> {
    registry
        .iter()
        .filter(|i| i.venue == Venue::Okx)
        .map(|i| subscribe_frame(&[book.name(), "trades", "tickers"], &i.symbol))
        .collect()
}

/// The ops that resubscribe one instrument's book (a gap or a checksum mismatch): OKX sends
/// a new snapshot after a `subscribe`, once the old subscription is gone. Cold.
pub fn resubscribe_frames(book: BookChannel, inst_id: &str) -> [String; 2] {
    let arg = format!(r#"{{"channel":"{}","instId":"{inst_id}"}}"#, book.name());
    [
        format!(r#"{{"op":"unsubscribe","args":[{arg}]}}"#),
        format!(r#"{{"op":"subscribe","args":[{arg}]}}"#),
    ]
}
