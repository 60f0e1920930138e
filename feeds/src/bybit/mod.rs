//! Bybit v5 public market data, spot and linear, a venue as a folder: the codec (bytes -> exact
//! integers, [`codec`]), the book sync rules ([`sync`]), the live session details
//! ([`session`]) and the [`adapter`] behind the venue-neutral `MarketAdapter`, one per market
//! (spot and linear are two venues: two connections, two symbol sets, as Binance spot and USD-M).
//!
//! Followed: Bybit API v5, WebSocket "Orderbook"
//! (<https://bybit-exchange.github.io/docs/v5/websocket/public/orderbook>: snapshot then
//! deltas, `u` the update id, a snapshot with `u == 1` after a service restart, depth 1 pushing
//! only snapshots, repeated with the same `u` after 3 s without change), "Trade"
//! (<https://bybit-exchange.github.io/docs/v5/websocket/public/trade>), "Ticker"
//! (<https://bybit-exchange.github.io/docs/v5/websocket/public/ticker>: linear sends a
//! snapshot then deltas of the changed fields only, with `bid1Price`/`bid1Size`/`ask1Price`/
//! `ask1Size`; spot's tickers carry no best bid/ask, so they give no `Ticker` event) and
//! "Connect" (<https://bybit-exchange.github.io/docs/v5/ws/connect>: the endpoints, the
//! `subscribe`/`unsubscribe` ops and `{"op":"ping"}` every 20 s; spot answers it with
//! `{"op":"pong",..}`, linear with `{"success":true,"ret_msg":"pong","op":"ping",..}`).
//!
//! Bybit sends no book checksum: `u` continuity alone guards the book. No real Bybit capture is
//! bundled; `data/bybit_*_generated.cap` are built from the documented examples and generated
//! streams (`scripts/bybit_generate.py`), checked against an independent rebuild.

pub mod adapter;
pub mod codec;
mod scan;
pub mod session;
pub mod sync;

pub use adapter::BybitAdapter;
pub use session::BybitMarket;
