//! Strategies: read market events, emit order intents. The strategy stage hosts one.

pub mod ensemble;
pub mod imbalance;
pub mod market_maker;
pub mod stage;
pub mod taker;
