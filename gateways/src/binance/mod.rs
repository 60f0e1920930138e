//! Binance spot order protocol: request signing, request limits, the venue's clock, the
//! zero-allocation JSON reader for responses, and the order gateway stage.

pub mod account;
pub mod clock;
pub mod gateway;
pub mod json;
pub mod limits;
pub mod rest;
pub mod sign;
pub mod symbol;
