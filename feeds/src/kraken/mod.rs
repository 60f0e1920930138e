//! Kraken spot market data, a venue as a folder: a small JSON reader that keeps numbers as
//! their text ([`json`]), the codecs of WebSocket v1 `book` (recorded data, [`v1`]) and v2
//! (`book`, `trade`, `ticker`, `instrument`, [`v2`]) into one [`frame`] shape, the adapter's own
//! bounded copy of each book ([`book`]) and its CRC32 ([`checksum`]), the book sync rules
//! ([`sync`]), the live session details ([`session`]) and the [`adapter`].

pub mod adapter;
pub mod book;
pub mod checksum;
pub mod frame;
pub mod json;
pub mod session;
pub mod sync;
pub mod v1;
pub mod v2;

pub use adapter::{KrakenAdapter, KrakenProtocol};
