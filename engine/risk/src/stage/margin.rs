//! The margin guard in the risk stage: on every mid of a margined instrument with a position,
//! [`Guard::assess`] on the venue's isolated margin ([`InstrumentMargin::isolated`]). An
//! alert is counted once per crossing of the call level (`margin_calls`); a cut goes out as an
//! engine order of [`ExitKind::Deleverage`] through the closing machinery ([`super::closing`]:
//! reduce-only, a marketable IOC within the collar, one in flight, retried after a
//! rejection). The margin ratio of each margined instrument is a gauge of the risk report.
//!
//! [`ExitKind::Deleverage`]: pulse_core::intent::ExitKind::Deleverage

use pulse_core::event::EventMeta;
use pulse_core::num::Px;

use super::RiskStage;
use crate::margin::{margin_ratio_bps, GuardAction, InstrumentMargin, MarginWatch};

impl RiskStage {
    /// Instruments by index that trade on margin (`None`: cash): their pre-trade margin check
    /// and their guard. At start.
    pub fn with_margin(mut self, margins: Vec<Option<InstrumentMargin>>) -> RiskStage {
        self.margin = vec![MarginWatch::default(); margins.len()];
        self.checks.margins = margins;
        self
    }

    /// The guard state by instrument index (empty without margined instruments).
    pub fn margin_watch(&self) -> &[MarginWatch] {
        &self.margin
    }

    /// An engine order of the instrument ended: the guard assesses the position again at the
    /// latest mid. In isolated margin a cut releases margin in proportion and leaves a
    /// first-tier ratio where it was, so the cuts go on, one in flight, until the ratio is
    /// below the reduce level or the position is closed, before the next market event.
    pub(super) fn margin_after_cut(&mut self, meta: EventMeta) {
        let i = usize::from(meta.instrument.0);
        if let Some(mid) = self.checks.reference(i).and_then(|r| r.mid) {
            self.margin_on_mid(meta, mid);
        }
    }

    /// A new mid of instrument `meta.instrument`: the guard's assessment and what it calls
    /// for. O(tiers), no allocation.
    pub(super) fn margin_on_mid(&mut self, meta: EventMeta, mid: Px) {
        let i = usize::from(meta.instrument.0);
        let (Some(Some(m)), Some(a)) = (self.checks.margins.get(i), self.account.instrument(i))
        else {
            return;
        };
        let Some(watch) = self.margin.get_mut(i) else {
            return;
        };
        let position = a.position;
        if position.qty.0 == 0 {
            *watch = MarginWatch::default();
            return;
        }
        let margin = m.isolated(&position);
        let notional = i128::from(position.qty.0).abs() * i128::from(mid.0);
        let equity = margin + position.unrealized(mid);
        let tiers = m.guard.settings().position_tiers();
        watch.ratio_bps = Some(margin_ratio_bps(tiers, notional, equity));
        let action = m.guard.assess(&position, mid, margin);
        let deleverage = m.deleverage;
        let at_call = action != GuardAction::None;
        if at_call && !watch.called {
            self.counters.margin_calls += 1;
        }
        watch.called = at_call;
        if let (GuardAction::Reduce { qty }, true) = (action, deleverage) {
            self.closing_deleverage(i, meta, qty);
        }
    }
}
