//! Strategies: indicators over the book and trades, rule agents, the policy network, the
//! built-in strategies and the strategy stage that hosts one of them on the hot path.
#![forbid(unsafe_code)]

pub mod agents;
pub mod builtin;
pub mod counters;
pub mod ensemble;
pub mod imbalance;
pub mod indicators;
pub mod market_maker;
pub mod outside;
pub mod params;
pub mod policy;
pub mod set;
pub mod stage;
pub mod strategy;
pub mod taker;
pub mod user;

pub use builtin::BuiltinStrategy;
pub use set::StrategySet;
pub use stage::StrategyStage;
pub use strategy::Strategy;
pub use user::{StrategyContext, UserStrategy};
