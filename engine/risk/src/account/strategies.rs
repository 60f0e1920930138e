//! The account by strategy: which instrument belongs to which strategy, each strategy's
//! totals, the capital allocated to it, and the allocation check.

use anyhow::bail;
use pulse_core::intent::RejectReason;
use pulse_core::num::{Px, Qty};

use super::{Account, StrategyTotals};
use crate::allocation::{Allocation, StrategyBook, MAX_STRATEGIES};

impl Account {
    /// Assigns each instrument (index) its strategy (value, 0 to [`MAX_STRATEGIES`] - 1); the
    /// strategy count is the largest index plus one. At start.
    pub fn set_strategies(&mut self, strategy_of: &[usize]) -> anyhow::Result<()> {
        if strategy_of.len() != self.instruments.len() {
            bail!(
                "{} strategy indexes for {} instruments",
                strategy_of.len(),
                self.instruments.len()
            );
        }
        let count = strategy_of.iter().max().map_or(1, |m| m + 1);
        if count > MAX_STRATEGIES {
            bail!("at most {MAX_STRATEGIES} strategies, not {count}");
        }
        self.strategies = vec![StrategyTotals::default(); count];
        self.allocated = false;
        for (a, &s) in self.instruments.iter_mut().zip(strategy_of) {
            a.strategy = s;
            let t = &mut self.strategies[s];
            t.exposure += a.exposure_term;
            t.working += a.working_term;
            t.pnl += a.pnl_term;
        }
        Ok(())
    }

    pub fn strategy_count(&self) -> usize {
        self.strategies.len()
    }

    /// The strategy instrument `i` belongs to.
    pub fn strategy_of(&self, i: usize) -> usize {
        self.instruments.get(i).map_or(0, |a| a.strategy)
    }

    pub fn strategy(&self, s: usize) -> Option<&StrategyTotals> {
        self.strategies.get(s)
    }

    /// Each strategy's allocated capital from now on (strategies past the allocation's
    /// count get none: nothing).
    pub fn set_allocation(&mut self, allocation: &Allocation) {
        for (s, t) in self.strategies.iter_mut().enumerate() {
            t.capital = Some(allocation.capital.get(s).copied().unwrap_or(0));
        }
        self.allocated = true;
    }

    /// What sizing takes as instrument `i`'s equity: the capital allocated to its strategy,
    /// or the account's equity when nothing is allocated.
    pub fn sizing_capital(&self, i: usize) -> i128 {
        self.strategies
            .get(self.strategy_of(i))
            .and_then(|t| t.capital)
            .unwrap_or_else(|| self.equity())
    }

    /// Whether instrument `i`'s strategy may commit `px * qty` more: its positions at their
    /// marks plus its working notional plus this order, within its allocated capital.
    pub fn check_allocation(&self, i: usize, px: Px, qty: Qty) -> Result<(), RejectReason> {
        if !self.allocated {
            return Ok(());
        }
        let Some(t) = self.strategies.get(self.strategy_of(i)) else {
            return Ok(());
        };
        match t.capital {
            Some(capital) if t.exposure + t.working + self.notional(i, px, qty) > capital => {
                Err(RejectReason::AllocationLimit)
            }
            _ => Ok(()),
        }
    }
}

impl StrategyBook for Account {
    fn equity(&self) -> i128 {
        Account::equity(self)
    }

    fn strategy_pnl(&self, strategy: usize) -> i128 {
        self.strategy(strategy).map_or(0, |t| t.pnl)
    }
}
