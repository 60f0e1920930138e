//! Sets up the risk stage's funds from the config ([`crate::config::FundsConfig`]): the
//! conversions, the strategies' instruments, the balances and the allocator, which
//! continues from the allocation the journal holds last.

use pulse_feeds::instrument::InstrumentRegistry;

use crate::config::{Config, SourceConfig};
use crate::risk::allocation::{Allocation, Allocator};
use crate::risk::balance::Balances;
use crate::risk::restore;
use crate::risk::stage::{Funds, RiskStage};

/// The allocation this run starts from, as [`restore`] says of the risk state: a replay of a
/// journal directory's input starts from the one the recorded session started from; any
/// other run from the last one its own journal holds (read before this run's session
/// begins). None without an allocation or a journal.
pub fn restored(cfg: &Config) -> anyhow::Result<Option<Allocation>> {
    Ok(match (&cfg.funds.allocation, &cfg.source, &cfg.journal) {
        (None, _, _) => None,
        (_, SourceConfig::Capture { path, .. }, _) if path.is_dir() => {
            restore::session_start_allocation(path)?
        }
        (_, _, Some(j)) => restore::last_allocation(&j.dir)?,
        (_, _, None) => None,
    })
}

/// `risk` with its funds set up, before the venue's account is adopted.
pub fn attach(
    cfg: &Config,
    instruments: &InstrumentRegistry,
    risk: RiskStage,
    restored: Option<Allocation>,
) -> anyhow::Result<RiskStage> {
    let f = &cfg.funds;
    let balances = match &f.balances {
        Some(start) => Some(Balances::new(instruments, &f.spot, start)?),
        None => None,
    };
    let allocator = match &f.allocation {
        Some(a) => Some(Allocator::new(a.clone())?),
        None => None,
    };
    risk.with_funds(Funds {
        fx: f.fx.clone(),
        strategy_of: f.strategy_of.clone(),
        strategy_instruments: f.strategy_instruments.clone(),
        balances,
        allocator,
        restored,
    })
}
