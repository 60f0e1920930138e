//! Funds on the risk stage: valuation in the account currency ([`crate::fx`]), capital
//! allocation across strategies ([`crate::allocation`]) and balances ([`crate::balance`]),
//! set up once at start ([`RiskStage::with_funds`]) and kept with every mark and order.
//!
//! Every mark samples the allocator, which rebalances on its schedule in market time; a new
//! allocation goes to the account (the checks bound each strategy by it from the next
//! decision on) and to the journal (ALLOCATION), from which the next session starts.

use pulse_core::metrics::{MetricLabel, MetricSink, Report};
use pulse_core::num::{InstrumentId, Nanos};

use super::RiskStage;
use crate::account::ACCOUNT_SCALE;
use crate::allocation::{Allocation, Allocator, MAX_STRATEGIES};
use crate::balance::Balances;
use crate::counters::RiskCounter;
use crate::fx::FxTable;
use crate::report::micros;

/// The strategies' labels in the metrics without an instrument (`strategy="0"`), in
/// `[[strategies]]` order.
const STRATEGY_LABELS: [&str; MAX_STRATEGIES] = ["0", "1", "2", "3", "4", "5", "6", "7"];

/// What [`RiskStage::with_funds`] sets up.
pub struct Funds {
    /// How each instrument's quote currency becomes the account currency.
    pub fx: FxTable,
    /// Per instrument, the strategy (index) it belongs to.
    pub strategy_of: Vec<usize>,
    /// Each strategy's instrument, which names it in the metrics
    /// (`allocation_weight_bps{instrument="okx:BTC-USDT"}`, as the strategy stage's own
    /// metrics name it); a strategy past the list is named by its index (`strategy="3"`).
    pub strategy_instruments: Vec<InstrumentId>,
    /// The venue's balances at start; `None` checks no balance.
    pub balances: Option<Balances>,
    /// Capital allocation across the strategies, when configured.
    pub allocator: Option<Allocator>,
    /// The allocation an earlier session journaled last ([`crate::restore::last_allocation`]):
    /// its capital stands from the start, and its weights until the volatilities are measured
    /// again. Ignored when it allocated across another number of strategies.
    pub restored: Option<Allocation>,
}

impl RiskStage {
    /// Values every instrument as `funds.fx` says, assigns the instruments to their
    /// strategies, keeps the balances and allocates capital. At start, before
    /// [`RiskStage::adopt`] and any intent.
    pub fn with_funds(mut self, funds: Funds) -> anyhow::Result<RiskStage> {
        self.checks.set_fx(&funds.fx);
        self.account.set_fx(&funds.fx)?;
        self.account.set_strategies(&funds.strategy_of)?;
        if let Some(balances) = funds.balances {
            self.account.set_balances(balances);
        }
        self.strategy_instruments = funds.strategy_instruments;
        if let Some(mut allocator) = funds.allocator {
            if let Some(a) = funds.restored.filter(|a| a.count == allocator.strategies()) {
                allocator.restore(a);
                self.account.set_allocation(&a);
            }
            self.allocator = Some(allocator);
        }
        // Orders already tracked reserve their balances too.
        for i in 0..self.scales.len() {
            self.set_working(InstrumentId(i as u16));
        }
        Ok(self)
    }

    /// The allocation in force, if capital is allocated.
    pub fn allocation(&self) -> Option<&Allocation> {
        self.allocator.as_ref().and_then(Allocator::current)
    }

    /// After a mark at `at`: samples the strategies and, when a rebalance is due, gives the
    /// account its new allocation and journals it. O(strategies) but on a rebalance.
    pub(super) fn allocate(&mut self, at: Nanos) {
        let Some(allocator) = self.allocator.as_mut() else {
            return;
        };
        if let Some(allocation) = allocator.on_market(at, &self.account) {
            self.account.set_allocation(&allocation);
            if let Some(journal) = &mut self.journal {
                journal.allocation(allocation.at, &allocation.encode());
            }
        }
    }

    /// Each strategy's weight and capital in the allocation in force (zero before the first).
    pub(super) fn report_funds(&self, out: MetricSink<'_>) {
        let Some(allocator) = &self.allocator else {
            return;
        };
        let current = allocator.current();
        for (s, label) in STRATEGY_LABELS
            .iter()
            .enumerate()
            .take(allocator.strategies())
        {
            let label = match self.strategy_instruments.get(s) {
                Some(&i) => MetricLabel::Instrument(i),
                None => MetricLabel::Tag("strategy", label),
            };
            let (bps, capital) = current.map_or((0, 0), |a| (a.weights_bps[s], a.capital[s]));
            out(RiskCounter::AllocationWeightBps.gauge(label, i64::from(bps)));
            let capital = micros(capital, ACCOUNT_SCALE);
            out(RiskCounter::AllocationCapitalMicro.gauge(label, capital));
        }
    }
}
