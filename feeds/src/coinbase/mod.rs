//! Coinbase Exchange market data: the `level2` channel of the legacy WebSocket feed
//! (`wss://ws-feed.exchange.coinbase.com`), with `ticker` and `matches`, replayed from recorded
//! sessions (capture source `coinbase-exchange`).
//!
//! The procedure, from Coinbase's "Exchange WebSocket channels" document (the `level2` channel,
//! docs.cdp.coinbase.com/exchange/docs/websocket-channels): after subscribing, the first message
//! per product is a `snapshot` of the whole book (`bids` and `asks` as `[price, size]`); then
//! `l2update` messages carry `changes` as `[side, price, size]`, where `size` is the new total
//! quantity at that price and `"0"` removes the level. The channel has no sequence number (the
//! full channel's `sequence` is absent from `level2`), so no gap can be detected in the data
//! itself: the book is rebuilt from each snapshot, an update before the first snapshot is
//! dropped and counted, and the book stage's crossed-book check is the guard (a crossed book
//! goes stale until the next snapshot, which on a live session means resubscribing).
//!
//! `ticker` messages carry `best_bid` and `best_ask` (sizes only in later versions of the feed)
//! and the full channel's `sequence`, which no `level2` message shares: they are handed on as
//! [`Ticker`](crate::event::MdEvent::Ticker) events with update id 0, so the book stage counts
//! them but never holds the book to them (the venue gives no moment at which both agree).
//! `match` messages are trades; their `side` is the maker's, so the aggressor is the other side.
//! `last_match` (the most recent trade, resent on subscribing), `subscriptions` and
//! `heartbeat` are control frames.

mod adapter;
mod codec;
mod scan;

pub use adapter::CoinbaseAdapter;
pub use codec::{CoinbaseCodec, Decoded, MAX_LEVELS_PER_MESSAGE};
