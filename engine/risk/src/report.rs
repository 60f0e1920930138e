//! What the risk stage shows monitoring: its counters, the order table's, the output
//! journal's, and the account's gauges, every amount in millionths of its unit.

use pulse_core::intent::{ExitKind, RejectReason};
use pulse_core::metrics::{report_journal, MetricLabel, MetricSink, Report};
use pulse_core::num::InstrumentId;

use crate::account::{Account, ACCOUNT_SCALE};
use crate::counters::RiskCounter;
use crate::decisions::OutputJournal;
use crate::flatten::{FlattenOutcome, FlattenState};
use crate::kill::TradingMode;
use crate::orders::OrderTable;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RiskCounters {
    pub intents: u64,
    pub approved: u64,
    /// Of `intents`, cancels (approved ones are in `approved` too).
    pub cancels: u64,
    /// By [`RejectReason::index`].
    pub rejected: [u64; RejectReason::ALL.len()],
    /// Orders cancelled by the kill switch (not by a strategy).
    pub kill_cancels: u64,
    /// Orders cancelled by a flatten, before its slices.
    pub engine_cancels: u64,
    /// Engine exits that fired, by [`ExitKind::index`] (a flatten counts once per instrument
    /// with a position when it starts; a deleverage once per cut sent).
    pub exits: [u64; ExitKind::ALL.len()],
    /// Engine exit orders (exits and flatten slices) refused by the checks or the venue.
    pub exit_rejected: u64,
    /// Approved orders whose quantity sizing or the drawdown halving made smaller.
    pub resized: u64,
    /// Fills since the last re-arm (the fill pause counts these).
    pub fills_since_rearm: u64,
    /// Queries sent about orders whose outcome was unknown.
    pub queries: u64,
    /// Margin calls: crossings of the call level by a margined instrument's margin ratio.
    pub margin_calls: u64,
}

impl Default for RiskCounters {
    fn default() -> RiskCounters {
        RiskCounters {
            intents: 0,
            approved: 0,
            cancels: 0,
            rejected: [0; RejectReason::ALL.len()],
            kill_cancels: 0,
            engine_cancels: 0,
            exits: [0; ExitKind::ALL.len()],
            exit_rejected: 0,
            resized: 0,
            fills_since_rearm: 0,
            queries: 0,
            margin_calls: 0,
        }
    }
}

/// A borrowed view of the risk stage's state, for its `report`.
pub(crate) struct RiskReport<'a> {
    pub counters: &'a RiskCounters,
    pub orders: &'a OrderTable,
    pub journal: Option<&'a OutputJournal>,
    pub account: &'a Account,
    pub mode: TradingMode,
    /// Per instrument: (qty scale, notional scale).
    pub scales: &'a [(u32, u32)],
    /// Snapshots the portfolio stage had no room for, when it runs.
    pub snapshots_dropped: Option<u64>,
    pub flatten: &'a [FlattenState],
    /// The margin guard's state by instrument (empty: nothing trades on margin).
    pub margin: &'a [crate::margin::MarginWatch],
}

impl RiskReport<'_> {
    pub(crate) fn emit(&self, out: MetricSink<'_>) {
        let c = self.counters;
        out(RiskCounter::Intents.count(MetricLabel::None, c.intents));
        out(RiskCounter::Accepted.count(MetricLabel::None, c.approved));
        for reason in RejectReason::ALL {
            let label = MetricLabel::Tag("reason", reason.name());
            out(RiskCounter::Rejected.count(label, c.rejected[reason.index()]));
        }
        let o = &self.orders.counters;
        out(RiskCounter::OrdersSent.count(MetricLabel::None, o.sent));
        out(RiskCounter::OrdersAcked.count(MetricLabel::None, o.acked));
        out(RiskCounter::OrdersCancelled.count(MetricLabel::None, o.cancelled));
        out(RiskCounter::OrdersIllegalTransitions.count(MetricLabel::None, o.illegal_transitions));
        out(RiskCounter::OpenOrders.gauge(MetricLabel::None, self.orders.open() as i64));
        if let Some(journal) = self.journal {
            report_journal("output", &journal.counters, out);
        }
        out(RiskCounter::OrdersDuplicateFills.count(MetricLabel::None, o.duplicate_fills));
        out(RiskCounter::KillCancels.count(MetricLabel::None, c.kill_cancels));
        if let Some(dropped) = self.snapshots_dropped {
            out(RiskCounter::PortfolioSnapshotsDropped.count(MetricLabel::None, dropped));
        }
        out(RiskCounter::EngineCancels.count(MetricLabel::None, c.engine_cancels));
        for kind in ExitKind::ALL {
            let label = MetricLabel::Tag("kind", kind.name());
            out(RiskCounter::Exits.count(label, c.exits[kind.index()]));
        }
        out(RiskCounter::ExitRejected.count(MetricLabel::None, c.exit_rejected));
        let (mut open, mut unclosable) = (0, 0);
        for s in self.flatten {
            match s.outcome {
                FlattenOutcome::InProgress => open += 1,
                FlattenOutcome::Unclosable(_) => (open, unclosable) = (open + 1, unclosable + 1),
                FlattenOutcome::Idle | FlattenOutcome::Closed => {}
            }
        }
        out(RiskCounter::FlattenOpen.gauge(MetricLabel::None, open));
        out(RiskCounter::FlattenUnclosable.gauge(MetricLabel::None, unclosable));
        if !self.margin.is_empty() {
            out(RiskCounter::MarginCalls.count(MetricLabel::None, c.margin_calls));
        }
        for (i, w) in self.margin.iter().enumerate() {
            let label = MetricLabel::Instrument(InstrumentId(i as u16));
            let ratio = w.ratio_bps.map_or(0, i64::from);
            out(RiskCounter::MarginRatioBps.gauge(label, ratio));
        }
        let a = self.account;
        let scale = ACCOUNT_SCALE;
        out(RiskCounter::EquityMicro.gauge(MetricLabel::None, micros(a.equity(), scale)));
        out(RiskCounter::DrawdownBps.gauge(MetricLabel::None, a.drawdown_bps()));
        out(RiskCounter::GrossExposureMicro
            .gauge(MetricLabel::None, micros(a.gross_exposure(), scale)));
        out(RiskCounter::TradingMode.gauge(MetricLabel::None, self.mode as i64));
        for (i, acct) in a.instruments().iter().enumerate() {
            let p = &acct.position;
            let label = MetricLabel::Instrument(InstrumentId(i as u16));
            let unrealized = acct.unrealized();
            let (qty_scale, notional_scale) = self.scales.get(i).copied().unwrap_or_default();
            out(RiskCounter::Fills.count(label, p.fills));
            let position = micros(i128::from(p.qty.0), qty_scale);
            out(RiskCounter::PositionMicro.gauge(label, position));
            let realized = micros(p.realized, notional_scale);
            out(RiskCounter::RealizedPnlMicro.gauge(label, realized));
            let unrealized = micros(unrealized, notional_scale);
            out(RiskCounter::UnrealizedPnlMicro.gauge(label, unrealized));
            out(RiskCounter::FeesMicro.gauge(label, micros(p.fees, notional_scale)));
        }
    }
}

/// A mantissa at `scale` decimals as millionths of its unit (truncated, saturated): monitoring
/// gets one fixed unit for every amount, whatever the instrument's scales.
pub(crate) fn micros(mantissa: i128, scale: u32) -> i64 {
    let v = if scale >= 6 {
        mantissa / 10i128.pow((scale - 6).min(38))
    } else {
        mantissa.saturating_mul(10i128.pow(6 - scale))
    };
    v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}
