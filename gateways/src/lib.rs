//! Orders out: the order model, the simulated venue, and (later) venue order protocols.
#![deny(unsafe_code)]

pub mod latency;
pub mod order;
pub mod sim;
pub mod sim_stage;
pub mod venue;
