//! OKX v5 public market data, a venue as a folder: the frame types ([`frame`]), the codec
//! (bytes -> exact integers and wire strings, [`codec`]), the top-25 checksum over the adapter's
//! own copy of each book ([`checksum`]), the book sync rules ([`sync`]), the live session
//! details ([`session`]) and the [`adapter`] behind the venue-neutral `MarketAdapter`.
//!
//! Followed: OKX API v5, WebSocket "Order book channel" (`books`, `books5`, `bbo-tbt`), its
//! checksum section, "Trades channel", "Tickers channel" and the connection notes on `ping`
//! (<https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-order-book-channel>),
//! and OKX's 2026 notice deprecating the book checksum (always 0 after it) in favour of
//! `seqId`/`prevSeqId`. Where the documents and real data disagree, real data wins: the `books`
//! push example in the docs carries a checksum its own levels do not give (see
//! `data/okx_checksum_vectors.json`); the bundled 2022 capture carries no `seqId` at all.

pub mod adapter;
pub mod checksum;
pub mod codec;
pub mod frame;
mod scan;
pub mod session;
pub mod sync;

pub use adapter::OkxAdapter;
