//! Strategies: read market events, emit order intents. The strategy stage hosts one.

pub mod imbalance;
pub mod stage;
