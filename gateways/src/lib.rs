//! Orders out: the order model, the simulated venue, secrets and Binance request signing,
//! and (later) venue order protocols.
#![forbid(unsafe_code)]

pub use pulse_core::order;

pub mod binance;
pub mod counters;
pub mod latency;
pub mod secret;
pub mod sim;
pub mod sim_stage;
mod tracker;
