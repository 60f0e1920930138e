//! What the risk stage shows monitoring: its counters, the order table's, the output
//! journal's, and the account's gauges, every amount in millionths of its unit.

use pulse_core::intent::RejectReason;
use pulse_core::metrics::{report_journal, Metric, MetricLabel, MetricSink};
use pulse_core::num::InstrumentId;

use crate::account::{Account, ACCOUNT_SCALE};
use crate::decisions::OutputJournal;
use crate::kill::TradingMode;
use crate::orders::OrderTable;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RiskCounters {
    pub intents: u64,
    pub approved: u64,
    /// Of `intents`, cancels (approved ones are in `approved` too).
    pub cancels: u64,
    /// By [`RejectReason::index`].
    pub rejected: [u64; RejectReason::ALL.len()],
    /// Orders cancelled by the kill switch (not by a strategy).
    pub kill_cancels: u64,
    /// Approved orders whose quantity sizing or the drawdown halving made smaller.
    pub resized: u64,
    /// Fills since the last re-arm (the fill pause counts these).
    pub fills_since_rearm: u64,
    /// Queries sent about orders whose outcome was unknown.
    pub queries: u64,
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
}

impl RiskReport<'_> {
    pub(crate) fn emit(&self, out: MetricSink<'_>) {
        let c = self.counters;
        out(Metric::counter(
            "risk_intents",
            MetricLabel::None,
            c.intents,
        ));
        out(Metric::counter(
            "risk_accepted",
            MetricLabel::None,
            c.approved,
        ));
        for reason in RejectReason::ALL {
            let label = MetricLabel::Tag("reason", reason.name());
            out(Metric::counter(
                "risk_rejected",
                label,
                c.rejected[reason.index()],
            ));
        }
        let o = &self.orders.counters;
        out(Metric::counter("orders_sent", MetricLabel::None, o.sent));
        out(Metric::counter("orders_acked", MetricLabel::None, o.acked));
        out(Metric::counter(
            "orders_cancelled",
            MetricLabel::None,
            o.cancelled,
        ));
        out(Metric::counter(
            "orders_illegal_transitions",
            MetricLabel::None,
            o.illegal_transitions,
        ));
        out(Metric::gauge(
            "open_orders",
            MetricLabel::None,
            self.orders.open() as i64,
        ));
        if let Some(journal) = self.journal {
            report_journal("output", &journal.counters, out);
        }
        out(Metric::counter(
            "orders_duplicate_fills",
            MetricLabel::None,
            o.duplicate_fills,
        ));
        out(Metric::counter(
            "kill_cancels",
            MetricLabel::None,
            c.kill_cancels,
        ));
        let a = self.account;
        let scale = ACCOUNT_SCALE;
        out(Metric::gauge(
            "equity_micro",
            MetricLabel::None,
            micros(a.equity(), scale),
        ));
        out(Metric::gauge(
            "drawdown_bps",
            MetricLabel::None,
            a.drawdown_bps(),
        ));
        out(Metric::gauge(
            "gross_exposure_micro",
            MetricLabel::None,
            micros(a.gross_exposure(), scale),
        ));
        out(Metric::gauge(
            "trading_mode",
            MetricLabel::None,
            self.mode as i64,
        ));
        for (i, acct) in a.instruments().iter().enumerate() {
            let p = &acct.position;
            let label = MetricLabel::Instrument(InstrumentId(i as u16));
            let unrealized = acct.unrealized();
            let (qty_scale, notional_scale) = self.scales.get(i).copied().unwrap_or_default();
            out(Metric::counter("fills", label, p.fills));
            let position = micros(i128::from(p.qty.0), qty_scale);
            out(Metric::gauge("position_micro", label, position));
            let realized = micros(p.realized, notional_scale);
            out(Metric::gauge("realized_pnl_micro", label, realized));
            let unrealized = micros(unrealized, notional_scale);
            out(Metric::gauge("unrealized_pnl_micro", label, unrealized));
            out(Metric::gauge(
                "fees_micro",
                label,
                micros(p.fees, notional_scale),
            ));
        }
    }
}

/// A mantissa at `scale` decimals as millionths of its unit (truncated, saturated): monitoring
/// gets one fixed unit for every amount, whatever the instrument's scales.
fn micros(mantissa: i128, scale: u32) -> i64 {
    let v = if scale >= 6 {
        mantissa / 10i128.pow((scale - 6).min(38))
    } else {
        mantissa.saturating_mul(10i128.pow(6 - scale))
    };
    v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}
