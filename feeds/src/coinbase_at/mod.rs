//! Coinbase Advanced Trade market data (venue `coinbase`, capture source `coinbase:ws`), a venue
//! as a folder: the codec (bytes -> exact integers, [`codec`], with a fixed-layout scanner for
//! book messages as its fast path), the connection's sequence
//! ([`sequence`]), each product's book sync rules ([`sync`]), the live session details
//! ([`session`]) and the [`adapter`] behind the venue-neutral `MarketAdapter`. Not the legacy
//! Coinbase Exchange feed ([`coinbase`](crate::coinbase), source `coinbase-exchange`): another
//! endpoint, other frames.
//!
//! Followed: "Advanced Trade WebSocket Channels"
//! (<https://docs.cdp.coinbase.com/advanced-trade/docs/ws-channels>: `level2` sends a snapshot
//! of the whole book then updates with absolute quantities, `"0"` deleting; `market_trades`,
//! `ticker`, `heartbeats`; every message numbered by `sequence_num`, one counter per connection
//! across channels) and "Advanced Trade WebSocket Overview"
//! (<https://docs.cdp.coinbase.com/advanced-trade/docs/ws-overview>: the endpoint, one channel
//! per `subscribe` message, heartbeats to keep a connection open).
//!
//! A gap in `sequence_num` invalidates every book of the connection: each goes stale and is
//! resubscribed (`unsubscribe`, then `subscribe`: a new snapshot follows). No real capture is
//! bundled; `data/coinbase_at_generated.cap.gz` is built from the documented examples and
//! generated streams (`scripts/coinbase_at_generate.py`), checked against an independent
//! rebuild (`scripts/coinbase_at_book_reference.py`).

pub mod adapter;
pub mod codec;
mod scan;
pub mod sequence;
pub mod session;
pub mod sync;

pub use adapter::CoinbaseAtAdapter;
