//! The risk and orders stage: intents in, orders out; venue reports in, positions updated and
//! feedback to the strategy out. It owns the reference prices, the working orders and the
//! positions, so every check reads state only this thread writes.
//!
//! An intent is checked against the reference as of the market event it was decided on: market
//! events later than the intent are applied only after it (no look-ahead on a fast replay).

use pulse_feeds::event::{drain_market_until, MarketEvent};
use pulse_feeds::instrument::InstrumentRegistry;
use pulse_feeds::latency::LatencyProbe;
use pulse_feeds::metrics::{report_journal, Metric, MetricLabel, MetricSink};
use pulse_feeds::num::{InstrumentId, Nanos, Px};
use pulse_feeds::stage::Stage;
use pulse_gateways::order::{CancelOrder, ClientOrderId, ExecKind, ExecReport, Order, Request};

use crate::decisions::OutputJournal;
use crate::intent::{CancelIntent, Feedback, Intent, OrderIntent};
use crate::risk::checks::{Exposure, RiskChecks};
use crate::risk::orders::{OrderState, OrderTable, WorkingOrder};
use crate::risk::position::Position;
use crate::risk::RejectReason;

const EVENTS_PER_CALL: usize = 1024;
/// Working orders tracked at once (all instruments).
pub const MAX_OPEN_ORDERS: usize = 64;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RiskCounters {
    pub intents: u64,
    pub approved: u64,
    /// Of `intents`, cancels (approved ones are in `approved` too).
    pub cancels: u64,
    /// By [`RejectReason::index`].
    pub rejected: [u64; RejectReason::ALL.len()],
}

pub struct RiskStage {
    checks: RiskChecks,
    orders: OrderTable,
    positions: Vec<Position>,
    marks: Vec<Option<Px>>,
    market: rtrb::Consumer<MarketEvent>,
    intents: rtrb::Consumer<Intent>,
    reports: rtrb::Consumer<ExecReport>,
    orders_out: rtrb::Producer<Request>,
    feedback: rtrb::Producer<Feedback>,
    next_client_id: u64,
    /// Per instrument: (qty scale, notional scale), to report amounts in millionths.
    scales: Vec<(u32, u32)>,
    probe: LatencyProbe,
    journal: Option<OutputJournal>,
    pub counters: RiskCounters,
}

pub struct RiskRings {
    pub market: rtrb::Consumer<MarketEvent>,
    pub intents: rtrb::Consumer<Intent>,
    pub reports: rtrb::Consumer<ExecReport>,
    pub orders_out: rtrb::Producer<Request>,
    pub feedback: rtrb::Producer<Feedback>,
}

impl RiskStage {
    pub fn new(
        checks: RiskChecks,
        instruments: &InstrumentRegistry,
        rings: RiskRings,
        probe: LatencyProbe,
    ) -> RiskStage {
        RiskStage {
            checks,
            orders: OrderTable::with_capacity(MAX_OPEN_ORDERS),
            positions: vec![Position::default(); instruments.len()],
            marks: vec![None; instruments.len()],
            market: rings.market,
            intents: rings.intents,
            reports: rings.reports,
            orders_out: rings.orders_out,
            feedback: rings.feedback,
            next_client_id: 1,
            scales: instruments
                .iter()
                .map(|i| (i.qty_scale, i.notional_scale()))
                .collect(),
            probe,
            journal: None,
            counters: RiskCounters::default(),
        }
    }

    /// Journals every intent, decision, order and report into `journal`.
    pub fn with_journal(mut self, journal: OutputJournal) -> RiskStage {
        self.journal = Some(journal);
        self
    }

    pub fn journal(&self) -> Option<&OutputJournal> {
        self.journal.as_ref()
    }

    pub fn positions(&self) -> &[Position] {
        &self.positions
    }

    /// The last mid price seen per instrument, the mark for unrealized PnL.
    pub fn mark(&self, instrument: usize) -> Option<Px> {
        self.marks.get(instrument).copied().flatten()
    }

    pub fn orders(&self) -> &OrderTable {
        &self.orders
    }

    fn apply_market_until(&mut self, limit: Option<Nanos>) -> usize {
        let (checks, marks) = (&mut self.checks, &mut self.marks);
        drain_market_until(&mut self.market, limit, EVENTS_PER_CALL, |event| {
            if let MarketEvent::Book(top) = event {
                checks.on_book(top);
                if let (Some(mark), Some(mid)) =
                    (marks.get_mut(top.meta.instrument.0 as usize), top.mid())
                {
                    *mark = Some(mid);
                }
            }
        })
    }

    fn on_intent(&mut self, intent: OrderIntent) {
        self.counters.intents += 1;
        let intent_no = self.journal.as_mut().map_or(0, |j| j.intent(&intent));
        let i = intent.instrument;
        let (working_buy, working_sell) = self.orders.working(i);
        let exposure = Exposure {
            position: self
                .positions
                .get(i.0 as usize)
                .map_or_else(Default::default, |p| p.qty),
            working_buy,
            working_sell,
        };
        let verdict = self.checks.check(&intent, exposure).and_then(|()| {
            if self.orders_out.slots() == 0 {
                return Err(RejectReason::RingFull);
            }
            let order = Order {
                meta: intent.meta,
                client_id: ClientOrderId(self.next_client_id),
                instrument: i,
                side: intent.side,
                px: intent.px,
                qty: intent.qty,
                tif: intent.tif,
            };
            let tracked = self.orders.insert(WorkingOrder {
                client_id: order.client_id,
                instrument: i,
                side: order.side,
                qty: order.qty,
                leaves: order.qty,
                state: OrderState::Sent,
                cancel_pending: false,
            });
            if !tracked {
                return Err(RejectReason::TooManyOrders);
            }
            self.next_client_id += 1;
            // Journaled before it is sent: a crash after the send never loses the order. The
            // push cannot fail: the ring's room was checked above.
            if let Some(journal) = &mut self.journal {
                journal.decision(intent.meta.recv_ts, intent_no, Ok(order.client_id.0));
                journal.order(&order);
            }
            self.orders_out
                .push(Request::New(order))
                .map(|()| order.client_id)
                .map_err(|_| RejectReason::RingFull)
        });
        if let (Err(reason), Some(journal)) = (verdict, &mut self.journal) {
            journal.decision(intent.meta.recv_ts, intent_no, Err(reason));
        }
        // Room for feedback was checked before the intent was taken.
        let feedback = match verdict {
            Ok(client_id) => {
                self.counters.approved += 1;
                Feedback::Accepted {
                    instrument: i,
                    tag: intent.tag,
                    client_id,
                }
            }
            Err(reason) => self.rejected(i, intent.tag, reason),
        };
        let _ = self.feedback.push(feedback);
        self.probe.record_since(intent.meta.ingress);
    }

    /// A cancel passes no limit check: it only ever reduces exposure, and it goes out even with
    /// the kill switch engaged. It must name an order that is working.
    fn on_cancel(&mut self, cancel: CancelIntent) {
        self.counters.intents += 1;
        self.counters.cancels += 1;
        let intent_no = self
            .journal
            .as_mut()
            .map_or(0, |j| j.cancel_intent(&cancel));
        let verdict = match self.orders.get(cancel.client_id) {
            None => Err(RejectReason::UnknownOrder),
            Some(o) if o.instrument != cancel.instrument => Err(RejectReason::UnknownOrder),
            Some(_) if self.orders_out.slots() == 0 => Err(RejectReason::RingFull),
            Some(o) => Ok(CancelOrder {
                meta: cancel.meta,
                client_id: o.client_id,
                instrument: o.instrument,
                side: o.side,
            }),
        };
        if let Some(journal) = &mut self.journal {
            let decided = verdict.map(|c| c.client_id.0);
            journal.decision(cancel.meta.recv_ts, intent_no, decided);
            if let Ok(c) = &verdict {
                journal.cancel(c);
            }
        }
        match verdict {
            Ok(c) => {
                self.orders.cancel_sent(c.client_id);
                // Room was checked above.
                let _ = self.orders_out.push(Request::Cancel(c));
                self.counters.approved += 1;
            }
            Err(reason) => {
                let feedback = self.rejected(cancel.instrument, cancel.tag, reason);
                let _ = self.feedback.push(feedback);
            }
        }
        self.probe.record_since(cancel.meta.ingress);
    }

    fn rejected(&mut self, instrument: InstrumentId, tag: u32, reason: RejectReason) -> Feedback {
        self.counters.rejected[reason.index()] += 1;
        Feedback::Rejected {
            instrument,
            tag,
            reason,
        }
    }

    fn on_report(&mut self, report: ExecReport) {
        if let Some(journal) = &mut self.journal {
            journal.report(&report);
        }
        self.orders.on_report(&report);
        if let ExecKind::Fill { px, qty, fee, .. } = report.kind {
            if let Some(p) = self.positions.get_mut(report.instrument.0 as usize) {
                p.apply_fill(report.side, px, qty, fee);
            }
        }
        let _ = self.feedback.push(Feedback::Report(report));
    }
}

impl Stage for RiskStage {
    fn name(&self) -> &'static str {
        "risk"
    }

    fn report(&self, out: MetricSink<'_>) {
        let c = &self.counters;
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
        if let Some(journal) = &self.journal {
            report_journal("output", &journal.counters, out);
        }
        for (i, p) in self.positions.iter().enumerate() {
            let label = MetricLabel::Instrument(InstrumentId(i as u16));
            let unrealized = self.mark(i).map_or(0, |m| p.unrealized(m));
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

    fn do_work(&mut self, _now: Nanos) -> usize {
        let mut work = 0;
        // Reports first: they free position room and working slots for the intents below.
        while work < EVENTS_PER_CALL && self.feedback.slots() > 0 {
            let Ok(report) = self.reports.pop() else {
                break;
            };
            self.on_report(report);
            work += 1;
        }
        while work < EVENTS_PER_CALL && self.feedback.slots() > 0 {
            let Ok(intent) = self.intents.peek().copied() else {
                break;
            };
            work += self.apply_market_until(Some(intent.meta().recv_ts));
            let _ = self.intents.pop();
            match intent {
                Intent::New(new) => self.on_intent(new),
                Intent::Cancel(cancel) => self.on_cancel(cancel),
            }
            work += 1;
        }
        work + self.apply_market_until(None)
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
