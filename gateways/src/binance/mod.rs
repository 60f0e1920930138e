//! Binance spot order protocol pieces (issue 7, in progress): request signing.

pub mod sign;
