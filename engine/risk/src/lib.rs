//! Pre-trade risk and order keeping: every intent passes every check before it becomes an
//! order; fills come back here to positions and PnL. The risk stage owns the output journal
//! ([`decisions`]), the account, the order table and the risk state that survives a restart.
//! Its settings types ([`limits`], [`sizing`], [`exits`]) live here; the engine's config reads
//! into them. Besides the strategies' orders, the stage makes its own to close positions:
//! exits ([`exits`], priced by [`volatility`] where a rule says so) and flatten ([`flatten`],
//! asked for through a [`FlattenSwitch`] or by the kill switch in [`KillMode::Flatten`]).
#![forbid(unsafe_code)]

pub mod account;
pub mod allocation;
pub mod balance;
pub mod checks;
pub mod counters;
pub mod decisions;
pub mod exits;
pub mod figures_record;
pub mod flatten;
pub mod fx;
pub mod halt;
pub mod kill;
mod limit_report;
pub mod limits;
pub mod margin;
pub mod money;
pub mod orders;
pub mod portfolio;
pub mod portfolio_link;
pub mod portfolio_stage;
pub mod position;
pub mod published;
pub mod reconcile;
mod report;
pub mod restore;
pub mod sizing;
pub mod stage;
pub mod state;
pub mod throttle;
pub mod volatility;

pub use halt::HaltReason;
pub use kill::{FlattenSwitch, KillMode, KillSwitch, Rearm, TradingMode};
pub use pulse_core::intent::RejectReason;
