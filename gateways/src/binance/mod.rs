//! Binance spot order protocol: request signing, request limits, the venue's clock, the
//! zero-allocation JSON reader for responses, and the order gateway stage (over the
//! venue-neutral [`crate::tracker`]).

pub mod account;
mod answers;
mod balance;
pub mod clock;
mod connection;
mod errors;
pub mod gateway;
mod intake;
pub mod json;
pub mod limits;
mod requests;
pub mod rest;
pub mod sign;
mod stage;
mod stream;
#[cfg(test)]
mod tests;
mod wire;
