//! The risk and orders stage: intents in, orders out; venue reports in, positions updated and
//! feedback to the strategy out. It owns the reference prices, the working orders, the account
//! and the throttle windows, so every check reads state only this thread writes.
//!
//! The kill switch is read before every decision: once engaged, no new order is approved from
//! that intent on, and every working order is cancelled on the same poll (as many as the ring
//! to the gateway takes, the rest on the next).
//!
//! An intent is checked against the reference as of the market event it was decided on: market
//! events later than the intent are applied only after it (no look-ahead on a fast replay).
//!
//! The stage also makes orders of its own, exits and flatten ([`closing`]): they go through
//! the same checks and the same journal as a strategy's.

use pulse_core::event::MarketEvent;
use pulse_core::instrument::InstrumentRegistry;
use pulse_core::latency::LatencyProbe;
use pulse_core::metrics::MetricSink;
use pulse_core::num::{InstrumentId, Nanos};
use pulse_core::order::{ClientOrderId, ExecKind, ExecReport, Order, Request};
use pulse_core::stage::Stage;

use crate::account::Account;
use crate::checks::{Context, Exposure, RiskChecks};
use crate::decisions::OutputJournal;
use crate::kill::{KillSwitch, TradingMode};
use crate::orders::{OrderState, OrderTable, Transition, WorkingOrder};
use crate::portfolio_link::PortfolioLink;
use crate::published::BookRiskLimits;
pub use crate::report::RiskCounters;
use crate::report::RiskReport;
use crate::state::{Cause, StateWatch};
use crate::throttle::{MessageThrottle, RecentOrders};
use pulse_core::intent::RejectReason;
use pulse_core::intent::{Feedback, Intent, OrderIntent, Origin};
use pulse_core::num::Qty;

const EVENTS_PER_CALL: usize = 1024;
/// Working orders tracked at once (all instruments): `max_open_orders` may not exceed it.
pub const MAX_OPEN_ORDERS: usize = 64;
/// Client order ids are `epoch << CLIENT_ID_BITS | n`: unique across restarts as long as each
/// run's epoch is larger than the last one's and a run sends fewer than 2^24 orders.
pub const CLIENT_ID_BITS: u32 = 24;

pub struct RiskStage {
    checks: RiskChecks,
    orders: OrderTable,
    account: Account,
    throttle: MessageThrottle,
    recent: RecentOrders,
    kill: KillSwitch,
    /// The re-arm generation last seen: a new one resets the fill pause.
    rearms: u64,
    /// Some order in doubt may still need its query.
    doubt: bool,
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
    /// What of the risk state was journaled last.
    state: StateWatch,
    /// The portfolio stage's rings, when it runs.
    portfolio: Option<PortfolioLink>,
    /// Exits and flatten: the orders the engine makes itself.
    closing: closing::Closing,
    /// Capital allocation across strategies, when configured ([`funds`]).
    allocator: Option<crate::allocation::Allocator>,
    /// Each strategy's instrument, naming it in the metrics ([`Funds`]).
    strategy_instruments: Vec<InstrumentId>,
    /// The margin guard's state by instrument (empty: nothing trades on margin).
    margin: Vec<crate::margin::MarginWatch>,
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
    /// `client_epoch` numbers this run's client order ids (see [`CLIENT_ID_BITS`]).
    pub fn new(
        checks: RiskChecks,
        kill: KillSwitch,
        instruments: &InstrumentRegistry,
        rings: RiskRings,
        probe: LatencyProbe,
        client_epoch: u64,
    ) -> RiskStage {
        let p = checks.portfolio;
        RiskStage {
            account: Account::new(p.capital, instruments),
            throttle: MessageThrottle::new(p.max_messages, p.throttle_window),
            recent: RecentOrders::new(p.duplicate_window),
            checks,
            orders: OrderTable::with_capacity(MAX_OPEN_ORDERS, instruments.len()),
            rearms: kill.rearms(),
            doubt: false,
            kill,
            market: rings.market,
            intents: rings.intents,
            reports: rings.reports,
            orders_out: rings.orders_out,
            feedback: rings.feedback,
            next_client_id: (client_epoch << CLIENT_ID_BITS) | 1,
            scales: instruments
                .iter()
                .map(|i| (i.qty_scale, i.notional_scale()))
                .collect(),
            probe,
            journal: None,
            state: StateWatch::default(),
            portfolio: None,
            closing: closing::Closing::new(instruments.len()),
            allocator: None,
            strategy_instruments: Vec::new(),
            margin: Vec::new(),
            counters: RiskCounters::default(),
        }
    }

    /// Journals every intent, decision, order and report into `journal`.
    pub fn with_journal(mut self, journal: OutputJournal) -> RiskStage {
        self.journal = Some(journal);
        self
    }

    /// Sends the portfolio stage a snapshot every sampling interval and checks every order
    /// that adds exposure against the figures it publishes back, under `limits`.
    pub fn with_portfolio(mut self, link: PortfolioLink, limits: BookRiskLimits) -> RiskStage {
        self.portfolio = Some(link);
        self.checks.book = Some(limits);
        self
    }

    pub fn portfolio(&self) -> Option<&PortfolioLink> {
        self.portfolio.as_ref()
    }

    pub fn journal(&self) -> Option<&OutputJournal> {
        self.journal.as_ref()
    }

    pub fn account(&self) -> &Account {
        &self.account
    }

    pub fn orders(&self) -> &OrderTable {
        &self.orders
    }

    /// Journals the risk state if it changed (or `forced`), at market time `at`.
    fn observe(&mut self, at: Nanos, forced: Option<(Cause, Option<crate::kill::Rearm>)>) {
        let limits = &self.checks.portfolio;
        self.state.observe(
            &mut self.journal,
            &self.account,
            &self.kill,
            limits,
            at,
            forced,
        );
    }

    /// The trading mode the kill switch is in now.
    pub fn mode(&self) -> TradingMode {
        self.kill.mode()
    }

    /// Applies market events up to `limit` (see [`pulse_core::event::drain_market_until`], whose order and
    /// budget this keeps): each mid marks the account, then drives that instrument's exits
    /// at that very event, before the next one is applied.
    fn apply_market_until(&mut self, limit: Option<Nanos>) -> usize {
        let mut n = 0;
        while n < EVENTS_PER_CALL {
            // Applied where it lies in the ring: a book top is a few hundred bytes.
            let marked = match self.market.peek() {
                Ok(event) if limit.is_none_or(|t| event.recv_ts() <= t) => match event {
                    MarketEvent::Book(top) => {
                        self.checks.on_book(top);
                        top.mid().map(|mid| {
                            let at = top.meta.recv_ts;
                            let i = top.meta.instrument.0 as usize;
                            if let Some(link) = self.portfolio.as_mut() {
                                link.before_mark(&self.account, at);
                            }
                            self.account.on_mark(i, mid, at);
                            let limits = &self.checks.portfolio;
                            let (journal, account) = (&mut self.journal, &self.account);
                            self.state
                                .observe(journal, account, &self.kill, limits, at, None);
                            (top.meta, mid)
                        })
                    }
                    MarketEvent::Trade(_) => None,
                },
                _ => break,
            };
            if let Ok(chunk) = self.market.read_chunk(1) {
                chunk.commit_all();
            }
            n += 1;
            if let Some((meta, mid)) = marked {
                self.allocate(meta.recv_ts);
                self.closing_on_mid(meta, mid);
                self.margin_on_mid(meta, mid);
            }
        }
        n
    }

    /// Decides `intent` (a strategy's, or the engine's own from [`closing`]), journals the
    /// decision, sends the order and tells the strategy; the client id it went out under.
    fn on_intent(&mut self, intent: OrderIntent) -> Result<ClientOrderId, RejectReason> {
        self.counters.intents += 1;
        let intent_no = self.journal.as_mut().map_or(0, |j| j.intent(&intent));
        let i = intent.instrument;
        let now = intent.meta.recv_ts;
        // The mode this decision reads is journaled before it.
        self.observe(now, None);
        let working = self.orders.working(i);
        let ctx = Context {
            exposure: Exposure {
                position: self
                    .account
                    .instrument(i.0 as usize)
                    .map_or_else(Default::default, |a| a.position.qty),
                working_buy: working.buy,
                working_sell: working.sell,
            },
            open_orders: self.orders.open(),
            account: &self.account,
            mode: self.kill.mode(),
            fills: self.counters.fills_since_rearm,
            throttled: self.throttle.is_full(now),
            duplicate: self.recent.seen(i, intent.side, intent.px, intent.qty, now)
                || self
                    .orders
                    .has_working(i, intent.side, intent.px, intent.qty),
            figures: self.portfolio.as_ref().map(PortfolioLink::latest),
        };
        let verdict = self.checks.check(&intent, &ctx).and_then(|qty| {
            if self.orders_out.slots() == 0 {
                return Err(RejectReason::RingFull);
            }
            if !self.orders.has_room() {
                return Err(RejectReason::TooManyOrders);
            }
            let order = Order {
                meta: intent.meta,
                client_id: ClientOrderId(self.next_client_id),
                instrument: i,
                side: intent.side,
                px: intent.px,
                qty,
                tif: intent.tif,
            };
            self.next_client_id += 1;
            if let Some(journal) = &mut self.journal {
                // Journaled before it is sent (durable first with `sync = "order"`): a crash
                // after this line cannot lose the order, and one that could not be journaled
                // is not sent.
                journal
                    .accept(now, intent_no, &order)
                    .map_err(|_| RejectReason::JournalFailed)?;
            }
            let tracked = self.orders.insert(WorkingOrder {
                client_id: order.client_id,
                instrument: i,
                side: order.side,
                px: order.px,
                qty: order.qty,
                leaves: order.qty,
                state: OrderState::Sent,
                cancel_pending: false,
                queried: false,
            });
            debug_assert!(tracked, "room was checked above");
            self.orders_out
                .push(Request::New(order))
                .map(|()| order)
                .map_err(|_| RejectReason::RingFull)
        });
        if let (Err(reason), Some(journal)) = (verdict, &mut self.journal) {
            journal.decision(now, intent_no, Err(reason));
        }
        // Room for feedback was checked before the intent was taken.
        let feedback = match verdict {
            Ok(order) => {
                self.counters.approved += 1;
                if order.qty != intent.qty {
                    self.counters.resized += 1;
                }
                self.throttle.record(now);
                self.recent
                    .record(i, order.side, intent.px, intent.qty, now);
                self.set_working(i);
                Feedback::Accepted {
                    instrument: i,
                    tag: intent.tag,
                    client_id: order.client_id,
                }
            }
            Err(reason) => self.rejected(i, intent.tag, reason),
        };
        let _ = self.feedback.push(feedback);
        if !matches!(intent.origin, Origin::Exit(_)) {
            // An engine order made on a report or a request has no ingress of its own.
            self.probe.record_since(intent.meta.ingress);
        }
        verdict.map(|order| order.client_id)
    }

    /// Tells the account what instrument `i` has working now.
    fn set_working(&mut self, i: InstrumentId) {
        let w = self.orders.working(i);
        self.account
            .set_working(i.0 as usize, w.notional, w.buy, w.sell);
        self.account.reserve(i.0 as usize, w.buy_notional, w.sell);
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
        let i = report.instrument.0 as usize;
        // Funding and liquidation answer no order: they go straight to the account.
        match report.kind {
            ExecKind::Funding { amount } => self.account.on_funding(i, amount),
            ExecKind::Liquidation { px, qty, fee } => {
                self.account.on_fill(i, report.side, px, qty, fee)
            }
            _ => {
                self.on_order_report(report, i);
                return;
            }
        }
        self.observe(report.meta.recv_ts, None);
        let _ = self.feedback.push(Feedback::Report(report));
    }

    /// A report on one of our orders: the order table first, then the account.
    fn on_order_report(&mut self, report: ExecReport, i: usize) {
        let transition = self.orders.on_report(&report);
        if report.kind == ExecKind::OutcomeUnknown {
            self.doubt = true;
        }
        // Only a fill the order table took moves the position: an illegal, unknown or
        // duplicate one is counted there and goes no further.
        if let (ExecKind::Fill { px, qty, fee, .. }, Transition::Applied(_)) =
            (report.kind, transition)
        {
            let before = self
                .account
                .instrument(i)
                .map_or(Qty(0), |a| a.position.qty);
            self.account.on_fill(i, report.side, px, qty, fee);
            self.closing_on_fill(i, before, px);
            self.counters.fills_since_rearm += 1;
            self.observe(report.meta.recv_ts, None);
        }
        self.set_working(report.instrument);
        if matches!(transition, Transition::Applied(_)) {
            let _ = self.feedback.push(Feedback::Report(report));
            self.closing_on_report(&report, transition);
        }
    }
}

impl Stage for RiskStage {
    fn name(&self) -> &'static str {
        "risk"
    }

    fn report(&self, out: MetricSink<'_>) {
        RiskReport {
            counters: &self.counters,
            orders: &self.orders,
            journal: self.journal.as_ref(),
            account: &self.account,
            mode: self.kill.mode(),
            scales: &self.scales,
            snapshots_dropped: self.portfolio.as_ref().map(|p| p.dropped),
            flatten: self.flatten_status(),
            margin: &self.margin,
        }
        .emit(out);
        crate::limit_report::LimitReport {
            limits: &self.checks.portfolio,
            account: &self.account,
            book: self
                .checks
                .book
                .as_ref()
                .zip(self.portfolio.as_ref().map(|p| p.latest())),
        }
        .emit(out);
        self.report_funds(out);
    }

    /// The state this session starts from, journaled before any decision.
    fn on_start(&mut self) {
        self.observe(self.checks.latest_ts(), Some((Cause::Start, None)));
    }

    fn do_work(&mut self, _now: Nanos) -> usize {
        let mut work = 0;
        let rearms = self.kill.rearms();
        if rearms != self.rearms {
            self.rearms = rearms;
            self.counters.fills_since_rearm = 0;
            let rearm = Some((Cause::Rearm, Some(self.kill.last_rearm())));
            self.observe(self.checks.latest_ts(), rearm);
        }
        // A kill or reduce-only from outside is journaled when this thread first sees it.
        self.observe(self.checks.latest_ts(), None);
        if let Some(link) = &mut self.portfolio {
            if link.take(&mut self.journal) {
                work += 1;
            }
        }
        // Reports first: they free position room and working slots for the intents below.
        while work < EVENTS_PER_CALL && self.feedback.slots() > 0 {
            let Ok(report) = self.reports.pop() else {
                break;
            };
            self.on_report(report);
            work += 1;
        }
        if self.doubt {
            work += self.query_doubtful();
        }
        while work < EVENTS_PER_CALL && self.feedback.slots() > 0 {
            let Ok(intent) = self.intents.peek().copied() else {
                break;
            };
            work += self.apply_market_until(Some(intent.meta().recv_ts));
            let _ = self.intents.pop();
            match intent {
                Intent::New(new) => {
                    let _ = self.on_intent(new);
                }
                Intent::Cancel(cancel) => self.on_cancel(cancel),
            }
            work += 1;
        }
        work += self.apply_market_until(None);
        work += self.closing_poll();
        if self.kill.mode() == TradingMode::Killed {
            work += self.cancel_all();
        }
        work
    }
}

mod cancels;
mod closing;
mod funds;
mod start;
pub use funds::Funds;
mod margin;
pub use crate::margin::MarginWatch;
#[cfg(test)]
mod closing_props;
#[cfg(test)]
mod exit_tests;
#[cfg(test)]
mod flatten_tests;
#[cfg(test)]
mod funds_tests;
#[cfg(test)]
mod rig;
#[cfg(test)]
mod tests;
