//! Binance spot order protocol pieces (issue 7, in progress): request signing, request limits,
//! the venue's clock.

pub mod clock;
pub mod limits;
pub mod sign;
