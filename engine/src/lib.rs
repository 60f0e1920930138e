//! The Pulse runtime: config, the hot-path stages joined by rings, runner threads, strategies,
//! pre-trade risk, and the `pulse` command line.
#![deny(unsafe_code)]

pub use pulse_core::intent;
pub use pulse_risk::decisions;
pub use pulse_stats as stats;
pub use pulse_stats::health;

pub mod agents;
pub mod config;
pub mod control_cmd;
pub mod indicators;
pub mod journal_cmd;
mod journal_recover;
pub mod live_gateway;
pub mod live_source;
pub mod outside;
pub mod pipeline;
pub mod policy;
pub mod record_cmd;
pub mod replay_cmd;
pub mod risk;
pub mod run_dir;
pub mod runtime;
pub mod secrets;
pub mod stats_cmd;
pub mod strategy;
pub mod summary;
pub mod venue_cmd;
