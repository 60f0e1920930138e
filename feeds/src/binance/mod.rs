//! Binance spot and USD-M market data, a venue as a folder: the frame types ([`frame`]), the
//! codec (bytes -> exact integers, [`codec`] with its fixed-layout fast path [`scan`]), the book
//! sync rules ([`sync`]), the live session details ([`session`]) and the [`adapter`] that joins
//! them behind the venue-neutral `MarketAdapter` (`venue.rs`).

pub mod adapter;
pub mod codec;
pub mod frame;
pub mod live;
pub mod market;
pub mod scan;
pub mod session;
pub mod sync;

pub use adapter::BinanceAdapter;
pub use market::BinanceMarket;
