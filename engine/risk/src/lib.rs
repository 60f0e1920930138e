//! Pre-trade risk and order keeping: every intent passes every check before it becomes an
//! order; fills come back here to positions and PnL. The risk stage owns the output journal
//! ([`decisions`]), the account, the order table and the risk state that survives a restart.
//! Its settings types ([`limits`], [`sizing`]) live here; the engine's config reads into them.
#![forbid(unsafe_code)]

pub mod account;
pub mod checks;
pub mod counters;
pub mod decisions;
pub mod halt;
pub mod kill;
pub mod limits;
pub mod margin;
pub mod orders;
pub mod position;
pub mod reconcile;
mod report;
pub mod restore;
pub mod sizing;
pub mod stage;
pub mod state;
pub mod throttle;

pub use halt::HaltReason;
pub use kill::{KillSwitch, Rearm, TradingMode};
pub use pulse_core::intent::RejectReason;
