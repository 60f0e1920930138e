//! The Pulse runtime: config, the hot-path stages joined by rings, runner threads, strategies,
//! pre-trade risk, and the `pulse` command line.
//!
//! `unsafe` is denied here and allowed only in `secrets` (`geteuid`, wiping a variable inside
//! the environment block, `prctl(PR_SET_DUMPABLE)`), with a `// SAFETY:` on each block.
#![deny(unsafe_code)]

pub use pulse_core::intent;
pub use pulse_risk::decisions;
pub use pulse_stats as stats;
pub use pulse_stats::health;
pub use pulse_strategy::{agents, indicators, outside, policy};

/// The built-in strategies and the strategy stage ([`pulse_strategy`]).
pub mod strategy {
    pub use pulse_strategy::{builtin, ensemble, imbalance, market_maker, set, stage, taker};
    pub use pulse_strategy::{BuiltinStrategy, Strategy, StrategyStage};
}

pub mod backtest_cmd;
mod backtest_progress;
pub mod cli;
pub mod config;
pub mod control_cmd;
pub mod data_cmd;
pub mod events_cmd;
pub mod features_cmd;
mod funds_build;
mod funds_summary;
pub mod hot_stage;
pub mod journal_cmd;
mod journal_export;
pub mod journal_records;
mod journal_recover;
pub mod live_gateway;
pub mod live_source;
pub mod margin_build;
mod margin_summary;
pub mod ops;
pub mod pipeline;
mod pipeline_start;
mod portfolio_build;
mod portfolio_summary;
pub mod record_cmd;
pub mod replay_cmd;
pub mod risk;
pub mod run_dir;
pub mod runtime;
pub mod secrets;
pub mod source_feeds;
pub mod stats_cmd;
mod strategy_summary;
pub mod summary;
pub mod sweep_cmd;
pub mod user_strategy;
pub mod venue_cmd;
