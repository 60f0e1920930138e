//! The Binance spot order gateway: a hot-path stage speaking Binance's WebSocket API
//! (`order.place`, `order.cancel`, `order.status`) on one non-blocking session, with the user
//! data stream subscribed on the same connection (`userDataStream.subscribe.signature`).
//!
//! **Where order events come from.** Execution reports on the user data stream are the one
//! source of acks, fills, cancels and expiries; responses to requests only carry refusals and
//! doubt. So an order is never reported twice because both its response and its stream event
//! arrived, and a lost response loses nothing the stream still brings. Cumulative filled
//! quantity (`z`) guards against double counting: a fill is reported only for quantity beyond
//! what was already reported for that order.
//!
//! **Doubt.** A new order whose response is a 5xx or -1006/-1007, whose response does not come
//! within `response_timeout`, or whose connection drops before it is answered is reported
//! [`ExecKind::OutcomeUnknown`] (unless its stream event already settled it). Risk then asks
//! for its status ([`Request::Query`]); the gateway answers with `order.status`: any fills the
//! stream did not deliver, then [`ExecKind::Status`]. Nothing is ever resent.
//!
//! **Reconnects.** On every (re)connection the gateway syncs the venue's clock (`time`),
//! subscribes the user data stream, and asks `order.status` of every order it tracks as
//! working or in flight: fills and ends missed while the stream was down are reported then.
//! Cancels and queries that were in flight are sent again (both are safe to repeat). New
//! orders arriving while the session is down or unsubscribed are refused at once
//! ([`VenueReject::Unavailable`]): they were never sent, so nothing is in doubt. At start
//! there are none: the live feed takes no market data before the session is first ready
//! ([`BinanceGatewayStage::ready_signal`]).
//!
//! **Limits.** Every request passes the [`RateLimiter`] first; a new order that would break a
//! limit is refused ([`VenueReject::RateLimited`]), a cancel or query waits. A 429 blocks
//! everything until its `retryAfter`.
//!
//! **Allocation.** Requests are built and signed into buffers reserved at start, and responses
//! are read in place ([`super::json`]); the one allocation per request is tungstenite's owned
//! message buffer.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use pulse_feeds::instrument::InstrumentRegistry;
use pulse_feeds::latency::LatencyProbe;
use pulse_feeds::metrics::{Metric, MetricLabel, MetricSink};
use pulse_feeds::num::{parse_decimal, Decimal, InstrumentId, Nanos, Px, Qty, Side};
use pulse_feeds::stage::Stage;
use pulse_feeds::ws::session::{SessionEvent, WsSession};

use super::clock::VenueClock;
use super::json::{self, Value};
use super::limits::{Counts, RateLimiter};
use super::rest::{RestCall, RestFallback, RestLink, RestMethod};
use super::sign::{percent_encode, Signer, SIGNATURE_CAPACITY};
use super::symbol::split_symbol;
use crate::order::{
    CancelOrder, ExecKind, ExecReport, Liquidity, Order, OrderStatus, Request, TimeInForce,
    VenueReject,
};
use crate::secret::Secret;

/// Orders tracked at once (working or in flight). A new order beyond it is refused.
pub const MAX_TRACKED: usize = 256;
/// Requests awaiting their response at once.
const MAX_INFLIGHT: usize = 512;
/// The most reports one received message can produce (a status answer: a fill, then the
/// status).
const REPORTS_PER_MESSAGE: usize = 2;
/// Requests taken from the ring per `do_work`.
const REQUESTS_PER_CALL: usize = 16;
const REQUEST_BUFFER: usize = 1024;
/// How often the venue's clock is sampled again while the session is up: the offset drifts
/// (ours and theirs), and a request must land inside `recvWindow` of their clock.
const CLOCK_RESYNC: Nanos = Nanos(60_000_000_000);
/// Responses and events are a few hundred bytes; an open-orders answer can be more.
const INBOX_BUFFER: usize = 64 << 10;

/// How the gateway runs.
pub struct GatewaySettings {
    pub api_key: Secret,
    pub signer: Signer,
    /// `recvWindow` sent with every signed request, ms.
    pub recv_window_ms: u64,
    /// A request unanswered this long is in doubt.
    pub response_timeout: Nanos,
    pub limiter: RateLimiter,
    /// The REST fallback for cancels and queries while the session is down.
    pub rest: Option<(RestFallback, RestLink)>,
    /// Raised when the venue's balances disagree with the positions the gateway reported
    /// (after a reconnect): the engine's kill switch, so that an operator looks first.
    pub halt: Option<Arc<AtomicBool>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OrderState {
    /// Sent; no stream event or answer yet.
    Sent,
    /// The venue acknowledged it (stream `NEW` or a status answer): working.
    Working,
    /// Reported [`ExecKind::OutcomeUnknown`]: risk will query it.
    InDoubt,
}

#[derive(Clone, Copy, Debug)]
struct Tracked {
    order: Order,
    state: OrderState,
    /// Filled quantity reported so far (lots).
    filled: i64,
    /// Quote notional of the reported fills (price × quantity mantissas).
    quote: i128,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Place,
    Cancel,
    /// `order.cancelReplace`: a cancel and the new order that replaces it, atomically.
    Replace,
    /// Risk's query: answered with a status report.
    Query,
    /// The gateway's own status check (reconnect, cancel in doubt): reports only changes.
    Check,
    /// `account.status`: balances, compared with the positions reported.
    Account,
    Time,
    Subscribe,
}

impl Kind {
    fn tag(self) -> u8 {
        match self {
            Kind::Place => b'p',
            Kind::Cancel => b'c',
            Kind::Replace => b'r',
            Kind::Query => b'q',
            Kind::Check => b'k',
            Kind::Account => b'a',
            Kind::Time => b't',
            Kind::Subscribe => b's',
        }
    }

    fn from_tag(tag: u8) -> Option<Kind> {
        Some(match tag {
            b'p' => Kind::Place,
            b'c' => Kind::Cancel,
            b'r' => Kind::Replace,
            b'q' => Kind::Query,
            b'k' => Kind::Check,
            b'a' => Kind::Account,
            b't' => Kind::Time,
            b's' => Kind::Subscribe,
            _ => return None,
        })
    }
}

#[derive(Clone, Copy, Debug)]
struct Inflight {
    kind: Kind,
    /// The order concerned (0 for time and subscribe; a replace's new order).
    client_id: u64,
    /// A replace's cancelled order.
    replaced: u64,
    /// Sent over the REST fallback: not settled by the session closing or opening.
    rest: bool,
    /// The request's sequence number, unique per session: its `id` is `{tag}{seq}`.
    seq: u64,
    sent: Nanos,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GatewayCounters {
    pub requests: u64,
    pub orders_sent: u64,
    pub cancels_sent: u64,
    /// Cancel-replaces sent (a cancel followed by a new order on the same side, in one
    /// request); counted in neither `orders_sent` nor `cancels_sent`.
    pub replaces_sent: u64,
    pub status_sent: u64,
    pub responses: u64,
    pub stream_events: u64,
    pub refused_unavailable: u64,
    pub refused_rate_limited: u64,
    pub outcome_unknown: u64,
    pub timeouts: u64,
    /// Fills learned from a status answer rather than the stream.
    pub reconciled_fills: u64,
    /// Stream events for orders the gateway does not track (another session's, or done).
    pub foreign_events: u64,
    /// Messages that did not parse or lacked a field the gateway needs.
    pub malformed: u64,
    pub reconnects: u64,
    /// Balance checks (after each subscription) that found the venue's holdings different
    /// from the positions reported, twice in a row: trading halted.
    pub balance_mismatches: u64,
    /// Cancels and queries sent over the REST fallback.
    pub rest_sent: u64,
    /// REST calls that got no response at all.
    pub rest_failures: u64,
}

pub struct BinanceGatewayStage {
    session: WsSession,
    requests: rtrb::Consumer<Request>,
    reports: rtrb::Producer<ExecReport>,
    probe: LatencyProbe,
    instruments: InstrumentRegistry,
    settings: GatewaySettings,
    clock: VenueClock,
    tracked: OrderSlots,
    inflight: Vec<Inflight>,
    /// Cancels and queries waiting for the session or the limits, oldest first.
    waiting: Vec<Request>,
    /// The session is open, the clock synced and the user stream subscribed.
    ready: bool,
    /// Raised the first time `ready` is, never lowered: what market data waits for at start
    /// (see [`BinanceGatewayStage::ready_signal`]).
    ready_once: Arc<AtomicBool>,
    opened: bool,
    next_seq: u64,
    /// The request being written and signed.
    writer: RequestWriter,
    /// The message being handled, copied out of the session.
    inbox: String,
    draining: bool,
    /// No REST call before this: the last one got no response.
    rest_retry_at: Nanos,
    /// Net position per instrument as reported to risk (lots): the adopted account plus every
    /// fill since.
    positions: Vec<i64>,
    /// A balance check disagreed once: look again at this time before halting.
    recheck_at: Option<Nanos>,
    /// When the clock was last sampled.
    clock_synced_at: Nanos,
    now: Nanos,
    pub counters: GatewayCounters,
}

impl BinanceGatewayStage {
    pub fn new(
        session: WsSession,
        instruments: InstrumentRegistry,
        settings: GatewaySettings,
        rings: GatewayRings,
        probe: LatencyProbe,
    ) -> BinanceGatewayStage {
        let instrument_count = instruments.len();
        BinanceGatewayStage {
            session,
            requests: rings.requests,
            reports: rings.reports,
            probe,
            instruments,
            settings,
            clock: VenueClock::default(),
            tracked: OrderSlots::new(),
            inflight: Vec::with_capacity(MAX_INFLIGHT),
            waiting: Vec::with_capacity(MAX_INFLIGHT),
            ready: false,
            ready_once: Arc::new(AtomicBool::new(false)),
            opened: false,
            next_seq: 1,
            writer: RequestWriter::new(),
            inbox: String::with_capacity(INBOX_BUFFER),
            draining: false,
            rest_retry_at: Nanos::ZERO,
            positions: vec![0; instrument_count],
            recheck_at: None,
            clock_synced_at: Nanos::ZERO,
            now: Nanos::ZERO,
            counters: GatewayCounters::default(),
        }
    }

    /// Takes the account the venue reported at start (startup reconciliation): its positions,
    /// and the orders it works for us, so that their execution reports are recognised.
    /// Orders with another client's id are not ours.
    pub fn adopt(&mut self, account: &crate::sim::VenueAccount) {
        for (p, q) in self.positions.iter_mut().zip(&account.positions) {
            *p = q.0;
        }
        for o in account.open.iter().filter(|o| o.order.client_id.0 != 0) {
            let filled = o.order.qty.0 - o.leaves.0;
            let adopted = self.tracked.insert(Tracked {
                order: o.order,
                state: OrderState::Working,
                filled,
                quote: i128::from(filled) * i128::from(o.order.px.0),
            });
            if adopted.is_none() {
                return;
            }
        }
    }

    pub fn is_ready(&self) -> bool {
        self.ready
    }

    /// A flag raised the first time the gateway can send orders (session open, clock synced,
    /// user data stream subscribed). The live feed holds its intake until then: an order
    /// decided on market data that arrived first would be refused, unsent, as unavailable.
    pub fn ready_signal(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.ready_once)
    }

    /// Orders tracked now (working or in flight).
    pub fn tracked(&self) -> usize {
        self.tracked.len()
    }

    fn emit(&mut self, order: &Order, kind: ExecKind, leaves: i64, ts: Nanos) {
        if let ExecKind::Fill { qty, .. } = kind {
            if let Some(p) = self.positions.get_mut(order.instrument.0 as usize) {
                *p += order.side.sign() * qty.0;
            }
        }
        let report = ExecReport {
            meta: order.meta,
            client_id: order.client_id,
            instrument: order.instrument,
            side: order.side,
            kind,
            leaves: Qty(leaves.max(0)),
            ts,
        };
        // Room was checked before the message or request that led here was taken.
        let _ = self.reports.push(report);
    }

    fn slot_of(&self, client_id: u64) -> Option<usize> {
        self.tracked.find(client_id)
    }

    // ---- requests out -------------------------------------------------------------------

    /// The next request's sequence number: its `id` is `{tag}{seq}`.
    fn take_seq(&mut self) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        seq
    }

    /// Starts a signed request with its API key; the other parameters follow with
    /// [`RequestWriter::param`], in name order.
    fn begin_signed(&mut self, kind: Kind, method: &str) -> u64 {
        let seq = self.take_seq();
        self.writer
            .begin(kind, seq, method, Some(self.settings.api_key.expose()));
        seq
    }

    /// Signs the request, sends it and keeps it in flight; `replaced` is a cancel-replace's
    /// cancelled order (0 otherwise).
    fn finish_signed(&mut self, kind: Kind, client_id: u64, replaced: u64, seq: u64) -> bool {
        self.writer.sign(&self.settings.signer);
        self.finish(kind, client_id, replaced, seq)
    }

    fn finish(&mut self, kind: Kind, client_id: u64, replaced: u64, seq: u64) -> bool {
        self.writer.close();
        if !self.session.send_text(&self.writer.out) {
            return false;
        }
        self.counters.requests += 1;
        if self.inflight.len() < MAX_INFLIGHT {
            self.inflight.push(Inflight {
                kind,
                client_id,
                replaced,
                rest: false,
                seq,
                sent: self.now,
            });
        }
        true
    }

    fn signed_common(&mut self) -> (u64, u64) {
        (
            self.clock.timestamp_ms(self.now),
            self.settings.recv_window_ms,
        )
    }

    fn send_time(&mut self) -> bool {
        let seq = self.take_seq();
        self.writer.begin(Kind::Time, seq, "time", None);
        self.finish(Kind::Time, 0, 0, seq)
    }

    fn send_subscribe(&mut self) -> bool {
        let (timestamp, _) = self.signed_common();
        let seq = self.begin_signed(Kind::Subscribe, "userDataStream.subscribe.signature");
        self.writer
            .param("timestamp", format_args!("{timestamp}"), false);
        self.finish_signed(Kind::Subscribe, 0, 0, seq)
    }

    /// `account.status`, to compare balances with the positions reported.
    fn send_account(&mut self) -> bool {
        let (timestamp, window) = self.signed_common();
        let seq = self.begin_signed(Kind::Account, "account.status");
        self.writer
            .param("recvWindow", format_args!("{window}"), false);
        self.writer
            .param("timestamp", format_args!("{timestamp}"), false);
        self.finish_signed(Kind::Account, 0, 0, seq)
    }

    /// The balances answer: each instrument's base asset (free plus locked) against the
    /// position reported. A difference is looked at again half a second later (a fill's
    /// report may still be on its way); if it is still there, trading halts.
    fn on_account(&mut self, result: &[u8]) {
        let mut mismatch = false;
        for i in 0..self.instruments.len() {
            let Some(spec) = self.instruments.get(InstrumentId(i as u16)) else {
                continue;
            };
            let (base, _) = split_symbol(&spec.symbol);
            let scale = spec.qty_scale;
            let mut held = 0i64;
            let walked = json::fields(result, |k, v| {
                if k != b"balances" {
                    return;
                }
                let Value::Array(balances) = v else { return };
                let _ = json::elements(balances, |b| {
                    let Value::Object(b) = b else { return };
                    let (mut asset, mut free, mut locked) = (None, 0, 0);
                    let amount = |v: Value<'_>| {
                        v.text()
                            .and_then(|t| parse_decimal(t, scale).ok())
                            .unwrap_or(0)
                    };
                    let _ = json::fields(b, |k, v| match k {
                        b"asset" => asset = v.text(),
                        b"free" => free = amount(v),
                        b"locked" => locked = amount(v),
                        _ => {}
                    });
                    if asset == Some(base.as_bytes()) {
                        held += free + locked;
                    }
                });
            });
            if walked.is_err() {
                self.counters.malformed += 1;
                return;
            }
            mismatch |= self.positions.get(i).is_some_and(|&p| p != held);
        }
        match (mismatch, self.recheck_at) {
            (false, _) => self.recheck_at = None,
            (true, None) => {
                self.recheck_at = Some(self.now.saturating_add(Nanos::from_millis(500)))
            }
            (true, Some(_)) => {
                self.recheck_at = None;
                self.counters.balance_mismatches += 1;
                if let Some(halt) = &self.settings.halt {
                    // Release: the risk stage reads the kill switch with Acquire.
                    halt.store(true, Ordering::Release);
                }
            }
        }
    }

    /// `order.place`, or with `replacing` `order.cancelReplace` (`STOP_ON_FAILURE`) of that
    /// working order by this one.
    fn send_order(&mut self, order: &Order, replacing: Option<&CancelOrder>) -> bool {
        let (timestamp, window) = self.signed_common();
        let (kind, method) = match replacing {
            Some(_) => (Kind::Replace, "order.cancelReplace"),
            None => (Kind::Place, "order.place"),
        };
        let seq = self.take_seq();
        let Some(spec) = self.instruments.get(order.instrument) else {
            return false;
        };
        let w = &mut self.writer;
        w.begin(kind, seq, method, Some(self.settings.api_key.expose()));
        let replaced = replacing.map_or(0, |c| c.client_id.0);
        if replacing.is_some() {
            w.param("cancelOrigClientOrderId", format_args!("{replaced}"), true);
            w.param("cancelReplaceMode", format_args!("STOP_ON_FAILURE"), true);
        }
        let cid = order.client_id.0;
        w.param("newClientOrderId", format_args!("{cid}"), true);
        w.param("newOrderRespType", format_args!("ACK"), true);
        if order.tif != TimeInForce::Market {
            let px = Decimal::new(order.px.0, spec.price_scale);
            w.param("price", format_args!("{px}"), true);
        }
        let qty = Decimal::new(order.qty.0, spec.qty_scale);
        w.param("quantity", format_args!("{qty}"), true);
        w.param("recvWindow", format_args!("{window}"), false);
        let side = if order.side == Side::Buy {
            "BUY"
        } else {
            "SELL"
        };
        w.param("side", format_args!("{side}"), true);
        w.param("symbol", format_args!("{}", spec.symbol), true);
        let tif = match order.tif {
            TimeInForce::Gtc => Some("GTC"),
            TimeInForce::Ioc => Some("IOC"),
            TimeInForce::Fok => Some("FOK"),
            TimeInForce::PostOnly | TimeInForce::Market => None,
        };
        if let Some(tif) = tif {
            w.param("timeInForce", format_args!("{tif}"), true);
        }
        w.param("timestamp", format_args!("{timestamp}"), false);
        let order_type = match order.tif {
            TimeInForce::PostOnly => "LIMIT_MAKER",
            TimeInForce::Market => "MARKET",
            _ => "LIMIT",
        };
        w.param("type", format_args!("{order_type}"), true);
        self.finish_signed(kind, cid, replaced, seq)
    }

    /// `order.cancel` or `order.status` of one order, by its client order id.
    fn send_about(&mut self, kind: Kind, c: &CancelOrder) -> bool {
        let (timestamp, window) = self.signed_common();
        let method = if kind == Kind::Cancel {
            "order.cancel"
        } else {
            "order.status"
        };
        let seq = self.take_seq();
        let Some(spec) = self.instruments.get(c.instrument) else {
            return false;
        };
        let w = &mut self.writer;
        w.begin(kind, seq, method, Some(self.settings.api_key.expose()));
        let cid = c.client_id.0;
        w.param("origClientOrderId", format_args!("{cid}"), true);
        w.param("recvWindow", format_args!("{window}"), false);
        w.param("symbol", format_args!("{}", spec.symbol), true);
        w.param("timestamp", format_args!("{timestamp}"), false);
        self.finish_signed(kind, cid, 0, seq)
    }

    fn about(t: &Tracked) -> CancelOrder {
        CancelOrder {
            meta: t.order.meta,
            client_id: t.order.client_id,
            instrument: t.order.instrument,
            side: t.order.side,
        }
    }

    /// Takes requests from risk while the reports ring has room for what each may cause.
    fn take_requests(&mut self) -> usize {
        let mut n = 0;
        // Waiting cancels and queries go first, in order: over the session when it is up,
        // over REST when it is not.
        while !self.waiting.is_empty() {
            let request = self.waiting[0];
            let sent = if self.ready {
                self.try_send(&request)
            } else {
                self.try_send_rest(&request)
            };
            if !sent {
                break;
            }
            self.waiting.remove(0);
            n += 1;
        }
        while n < REQUESTS_PER_CALL && self.reports.slots() >= REPORTS_PER_MESSAGE {
            let Ok(request) = self.requests.pop() else {
                break;
            };
            n += 1;
            match request {
                Request::New(order) => self.place(&order, None),
                // A cancel followed by a new order on the same side is a quote being moved:
                // one atomic cancel-replace instead of two requests.
                Request::Cancel(cancel) if self.replaceable(&cancel) => {
                    if let Ok(Request::New(order)) = self.requests.pop() {
                        self.place(&order, Some(&cancel));
                        self.probe.record_since(order.meta.ingress);
                    }
                }
                Request::Cancel(_) | Request::Query(_) => {
                    if !(self.ready && self.waiting.is_empty() && self.try_send(&request))
                        && self.waiting.len() < MAX_INFLIGHT
                    {
                        self.waiting.push(request);
                    }
                }
            }
            // Latency from the market event to the order leaving: new orders only (a query's
            // meta is its order's, from long before).
            if let Request::New(order) = request {
                self.probe.record_since(order.meta.ingress);
            }
        }
        n
    }

    /// Whether `cancel` and the request after it can go as one cancel-replace.
    fn replaceable(&self, cancel: &CancelOrder) -> bool {
        if !self.ready || self.draining || !self.waiting.is_empty() {
            return false;
        }
        let tracked = self
            .slot_of(cancel.client_id.0)
            .and_then(|s| self.tracked.get(s))
            .is_some_and(|t| t.state == OrderState::Working);
        tracked
            && matches!(
                self.requests.peek(),
                Ok(Request::New(next))
                    if next.instrument == cancel.instrument && next.side == cancel.side
            )
    }

    /// Sends a new order, or with `replacing` a cancel-replace of that order by this one.
    fn place(&mut self, order: &Order, replacing: Option<&CancelOrder>) {
        let ts = self.now;
        let refused = |gw: &mut Self, reason| {
            gw.emit(order, ExecKind::Rejected(reason), 0, ts);
            // The cancel still has to go, on its own.
            if let Some(cancel) = replacing {
                gw.wait(Request::Cancel(*cancel));
            }
        };
        if !self.ready || self.draining {
            self.counters.refused_unavailable += 1;
            return refused(self, VenueReject::Unavailable);
        }
        if self.tracked.is_full() {
            return refused(self, VenueReject::TooManyOrders);
        }
        if order.client_id.0 == 0 {
            // Risk numbers orders from 1: an id 0 could never be matched to its reports.
            return refused(self, VenueReject::Refused);
        }
        let venue_now = Nanos(self.clock.timestamp_ms(self.now).saturating_mul(1_000_000));
        if self.settings.limiter.check(venue_now, 1, true).is_err() {
            self.counters.refused_rate_limited += 1;
            return refused(self, VenueReject::RateLimited);
        }
        if !self.send_order(order, replacing) {
            self.counters.refused_unavailable += 1;
            self.emit(order, ExecKind::Rejected(VenueReject::Unavailable), 0, ts);
            if let Some(cancel) = replacing {
                self.wait(Request::Cancel(*cancel));
            }
            return;
        }
        self.settings.limiter.sent(venue_now, 1, true);
        if replacing.is_some() {
            self.counters.replaces_sent += 1;
        } else {
            self.counters.orders_sent += 1;
        }
        // Room was checked above.
        let _ = self.tracked.insert(Tracked {
            order: *order,
            state: OrderState::Sent,
            filled: 0,
            quote: 0,
        });
    }

    /// Queues a cancel or query to go when the session and the limits allow.
    fn wait(&mut self, request: Request) {
        if self.waiting.len() < MAX_INFLIGHT {
            self.waiting.push(request);
        }
    }

    /// Sends a cancel or query now if the limits allow; `false` to keep it waiting.
    fn try_send(&mut self, request: &Request) -> bool {
        let (kind, about, weight) = match request {
            Request::Cancel(c) => (Kind::Cancel, c, 1),
            Request::Query(c) => (Kind::Query, c, 4),
            Request::New(_) => return true,
        };
        let venue_now = Nanos(self.clock.timestamp_ms(self.now).saturating_mul(1_000_000));
        if self
            .settings
            .limiter
            .check(venue_now, weight, false)
            .is_err()
        {
            return false;
        }
        if !self.send_about(kind, about) {
            return false;
        }
        self.settings.limiter.sent(venue_now, weight, false);
        if kind == Kind::Cancel {
            self.counters.cancels_sent += 1;
        } else {
            self.counters.status_sent += 1;
        }
        true
    }

    /// Sends a waiting cancel or query over the REST fallback; `false` to keep it waiting
    /// (no fallback, the limits, or the last REST call failed moments ago).
    fn try_send_rest(&mut self, request: &Request) -> bool {
        let (kind, about, weight, method) = match request {
            Request::Cancel(c) => (Kind::Cancel, c, 1, RestMethod::Delete),
            Request::Query(c) => (Kind::Query, c, 4, RestMethod::Get),
            Request::New(_) => return true,
        };
        if self.settings.rest.is_none() || self.now < self.rest_retry_at {
            return false;
        }
        let venue_now = Nanos(self.clock.timestamp_ms(self.now).saturating_mul(1_000_000));
        if self
            .settings
            .limiter
            .check(venue_now, weight, false)
            .is_err()
        {
            return false;
        }
        let (timestamp, window) = self.signed_common();
        let Some(spec) = self.instruments.get(about.instrument) else {
            return true;
        };
        let cid = about.client_id.0;
        self.writer.rest_query(
            &self.settings.signer,
            format_args!(
                "symbol={}&origClientOrderId={cid}&recvWindow={window}&timestamp={timestamp}",
                spec.symbol
            ),
        );
        let seq = self.next_seq;
        let Some(call) = RestCall::new(kind.tag(), cid, seq, method, self.writer.out.as_bytes())
        else {
            return true;
        };
        let Some((_, link)) = &mut self.settings.rest else {
            return false;
        };
        if link.calls.push(call).is_err() || self.inflight.len() >= MAX_INFLIGHT {
            return false;
        }
        self.next_seq += 1;
        self.inflight.push(Inflight {
            kind,
            client_id: cid,
            replaced: 0,
            rest: true,
            seq,
            sent: self.now,
        });
        self.settings.limiter.sent(venue_now, weight, false);
        self.counters.rest_sent += 1;
        true
    }

    /// Answers from the REST worker.
    fn take_rest_replies(&mut self) -> usize {
        let mut n = 0;
        while self.reports.slots() >= REPORTS_PER_MESSAGE {
            let Some((_, link)) = &mut self.settings.rest else {
                break;
            };
            let Ok(reply) = link.replies.pop() else {
                break;
            };
            n += 1;
            let Some(pos) = self
                .inflight
                .iter()
                .position(|r| r.rest && r.kind.tag() == reply.tag && r.seq == reply.seq)
            else {
                continue;
            };
            let req = self.inflight.swap_remove(pos);
            if reply.status == 0 {
                // No answer at all: the venue is unreachable over REST too. Try again later.
                self.counters.rest_failures += 1;
                self.rest_retry_at = self.now.saturating_add(Nanos::from_millis(1_000));
                self.unanswered(req, self.now);
                continue;
            }
            let venue_now = Nanos(self.clock.timestamp_ms(self.now).saturating_mul(1_000_000));
            let counts = Counts {
                weight: reply.weight,
                orders_10s: reply.orders_10s,
                orders_day: None,
            };
            let retry = reply
                .retry_after_s
                .map(|s| venue_now.saturating_add(Nanos(u64::from(s) * 1_000_000_000)));
            self.settings
                .limiter
                .on_ws_response(venue_now, reply.status, counts, retry);
            let body = reply.body();
            let (result, code) = if reply.status == 200 {
                (Some(body), None)
            } else {
                let code = json::field(body, b"code")
                    .ok()
                    .flatten()
                    .and_then(Value::i64);
                (None, code)
            };
            self.on_answer(req, u64::from(reply.status), result, code);
        }
        n
    }

    // ---- the session ----------------------------------------------------------------------

    fn on_opened(&mut self) {
        self.opened = true;
        self.ready = false;
        self.recheck_at = None;
        // Anything still in flight on the session was settled when it closed; REST calls
        // are answered on their own.
        self.inflight.retain(|r| r.rest);
        let _ = self.send_time();
    }

    /// The connection dropped: every unanswered request is settled the safe way.
    fn on_closed(&mut self) {
        if self.opened {
            self.counters.reconnects += 1;
        }
        self.opened = false;
        self.ready = false;
        let ts = self.now;
        let mut i = 0;
        while i < self.inflight.len() {
            if self.inflight[i].rest {
                i += 1;
                continue;
            }
            let req = self.inflight.swap_remove(i);
            self.unanswered(req, ts);
        }
    }

    /// A request that will never be answered (timeout, disconnect).
    fn unanswered(&mut self, req: Inflight, ts: Nanos) {
        let Some(slot) = self.slot_of(req.client_id) else {
            return;
        };
        let Some(t) = self.tracked.get(slot) else {
            return;
        };
        match req.kind {
            Kind::Place => self.doubt(slot, ts),
            // The new order is in doubt; the replaced one is checked (now, or after the
            // reconnect with every tracked order).
            Kind::Replace => {
                self.doubt(slot, ts);
                if self.opened {
                    self.check(req.replaced);
                }
            }
            // Repeat: a cancel of a cancelled order is refused harmlessly, a query is
            // read-only. Both go once the session is back.
            Kind::Cancel if self.waiting.len() < MAX_INFLIGHT => {
                self.waiting.push(Request::Cancel(Self::about(&t)))
            }
            Kind::Query if self.waiting.len() < MAX_INFLIGHT => {
                self.waiting.push(Request::Query(Self::about(&t)))
            }
            // A check is made again for every tracked order after the reconnect.
            _ => {}
        }
    }

    /// A new order's outcome is unknown: tell risk, which will query it.
    fn doubt(&mut self, slot: usize, ts: Nanos) {
        let Some(t) = self.tracked.get_mut(slot) else {
            return;
        };
        if t.state != OrderState::Sent {
            return;
        }
        t.state = OrderState::InDoubt;
        let (order, leaves) = (t.order, t.order.qty.0 - t.filled);
        self.counters.outcome_unknown += 1;
        self.emit(&order, ExecKind::OutcomeUnknown, leaves, ts);
    }

    fn check_timeouts(&mut self) {
        let timeout = self.settings.response_timeout;
        let now = self.now;
        let mut i = 0;
        while i < self.inflight.len() {
            let req = self.inflight[i];
            if now.saturating_sub(req.sent) < timeout {
                i += 1;
                continue;
            }
            self.inflight.swap_remove(i);
            self.counters.timeouts += 1;
            match req.kind {
                // A later clock sample may go unanswered: the last offset stands.
                Kind::Time if self.ready => {}
                // No time answer or subscription: the session is not usable. Start over.
                Kind::Time | Kind::Subscribe => {
                    self.session
                        .close(now, pulse_feeds::ws::session::CloseReason::Disconnected);
                    self.on_closed();
                    return;
                }
                _ => self.unanswered(req, now),
            }
        }
    }

    // ---- messages in ----------------------------------------------------------------------

    fn on_message(&mut self, msg: &[u8]) {
        let mut id = None;
        let mut status = None;
        let mut result = None;
        let mut error = None;
        let mut event = None;
        let mut rate_limits = None;
        let walked = json::fields(msg, |k, v| match k {
            b"id" => id = v.text(),
            b"status" => status = v.u64(),
            b"result" => result = Some(v),
            b"error" => error = Some(v),
            b"event" => event = Some(v),
            b"rateLimits" => rate_limits = Some(v),
            _ => {}
        });
        if walked.is_err() {
            self.counters.malformed += 1;
            return;
        }
        if let Some(Value::Object(event)) = event {
            self.counters.stream_events += 1;
            self.on_event(event);
            return;
        }
        let Some(id) = id else {
            self.counters.malformed += 1;
            return;
        };
        self.counters.responses += 1;
        let (Some((&tag, digits)), Some(status)) = (id.split_first(), status) else {
            self.counters.malformed += 1;
            return;
        };
        let (Some(kind), Some(seq)) = (Kind::from_tag(tag), Value::Atom(digits).u64()) else {
            self.counters.malformed += 1;
            return;
        };
        let Some(pos) = self
            .inflight
            .iter()
            .position(|r| r.kind == kind && r.seq == seq)
        else {
            // Answered after its timeout: already settled.
            return;
        };
        let req = self.inflight.swap_remove(pos);
        self.on_limits(status as u16, rate_limits, error);
        let code = error.and_then(|e| match e {
            Value::Object(o) => json::field(o, b"code").ok().flatten().and_then(Value::i64),
            _ => None,
        });
        let result = match result {
            Some(Value::Object(r)) => Some(r),
            _ => None,
        };
        self.on_answer(req, status, result, code);
    }

    /// An answer to one of our requests, over the session or REST: its status, its result
    /// object on success, the venue's error code otherwise.
    fn on_answer(&mut self, req: Inflight, status: u64, result: Option<&[u8]>, code: Option<i64>) {
        match (req.kind, status, result) {
            // Over REST, a cancel answers with the order as it ended: fills the stream (down)
            // did not bring, and the end, reported like a status check's.
            (Kind::Cancel, 200, Some(r)) if req.rest => {
                let check = Inflight {
                    kind: Kind::Check,
                    ..req
                };
                self.on_status(check, Some(r))
            }
            (Kind::Time, 200, Some(r)) => {
                if let Some(ms) = json::field(r, b"serverTime")
                    .ok()
                    .flatten()
                    .and_then(Value::u64)
                {
                    self.clock.on_time(req.sent, self.now, ms);
                }
                self.clock_synced_at = self.now;
                // The first sample of a session leads to the subscription; later ones only
                // refresh the offset.
                if !self.ready {
                    let _ = self.send_subscribe();
                }
            }
            (Kind::Subscribe, 200, _) => {
                self.ready = true;
                // Release: the feed's Acquire load then sees a gateway that takes orders.
                self.ready_once.store(true, Ordering::Release);
                self.check_all();
                // After the status checks: their fills are reported before the balances come.
                let _ = self.send_account();
            }
            (Kind::Account, 200, Some(r)) => self.on_account(r),
            (Kind::Account, _, _) => {}
            (Kind::Time, _, _) if self.ready => {}
            (Kind::Subscribe | Kind::Time, _, _) => {
                // Refused (a bad key or signature): nothing can trade. Retry later.
                self.session.close(
                    self.now,
                    pulse_feeds::ws::session::CloseReason::Disconnected,
                );
                self.on_closed();
            }
            (Kind::Place, 200, _) => {}
            (Kind::Place, _, _) => self.on_place_error(req, status, code),
            (Kind::Cancel, 200, _) => {}
            (Kind::Cancel, _, _) => self.on_cancel_error(req, status, code),
            (Kind::Replace, 200, _) => {}
            (Kind::Replace, _, _) => self.on_replace_error(req, status, code),
            (Kind::Query | Kind::Check, 200, Some(r)) => self.on_status(req, Some(r)),
            (Kind::Query | Kind::Check, _, _) if code == Some(-2013) => self.on_status(req, None),
            (Kind::Query | Kind::Check, _, _) => {
                // Could not learn it now: ask again once the limits or the venue allow.
                if let Some(t) = self
                    .slot_of(req.client_id)
                    .and_then(|s| self.tracked.get(s))
                {
                    self.wait(Request::Query(Self::about(&t)));
                }
            }
        }
    }

    fn on_limits(&mut self, status: u16, rate_limits: Option<Value<'_>>, error: Option<Value<'_>>) {
        let mut counts = Counts::default();
        if let Some(Value::Array(limits)) = rate_limits {
            let _ = json::elements(limits, |v| {
                let Value::Object(o) = v else { return };
                let (mut kind, mut interval, mut num, mut count) = (None, None, None, None);
                let _ = json::fields(o, |k, v| match k {
                    b"rateLimitType" => kind = v.text(),
                    b"interval" => interval = v.text(),
                    b"intervalNum" => num = v.u64(),
                    b"count" => count = v.u64().and_then(|c| u32::try_from(c).ok()),
                    _ => {}
                });
                match (kind, interval, num) {
                    (Some(b"REQUEST_WEIGHT"), Some(b"MINUTE"), Some(1)) => counts.weight = count,
                    (Some(b"ORDERS"), Some(b"SECOND"), Some(10)) => counts.orders_10s = count,
                    (Some(b"ORDERS"), Some(b"DAY"), Some(1)) => counts.orders_day = count,
                    _ => {}
                }
            });
        }
        let retry_after = error.and_then(|e| match e {
            Value::Object(o) => match json::field(o, b"data").ok().flatten() {
                Some(Value::Object(d)) => json::field(d, b"retryAfter")
                    .ok()
                    .flatten()
                    .and_then(Value::u64)
                    .map(|ms| Nanos(ms.saturating_mul(1_000_000))),
                _ => None,
            },
            _ => None,
        });
        let venue_now = Nanos(self.clock.timestamp_ms(self.now).saturating_mul(1_000_000));
        self.settings
            .limiter
            .on_ws_response(venue_now, status, counts, retry_after);
    }

    fn on_place_error(&mut self, req: Inflight, status: u64, code: Option<i64>) {
        let Some(slot) = self.slot_of(req.client_id) else {
            return;
        };
        let ts = self.now;
        // 5xx, -1006 (unexpected response), -1007 (timeout): the order may be working.
        if status >= 500 || matches!(code, Some(-1006 | -1007)) {
            self.doubt(slot, ts);
            return;
        }
        let Some(t) = self.tracked.get(slot) else {
            return;
        };
        if t.state != OrderState::Sent {
            // The stream already settled it; an error now is about something else.
            return;
        }
        let reason = match (status, code) {
            (429 | 418, _) => VenueReject::RateLimited,
            (_, Some(-1121)) => VenueReject::UnknownInstrument,
            (_, Some(-1013 | -1100 | -1111)) => VenueReject::InvalidQuantity,
            (_, Some(-1015)) => VenueReject::TooManyOrders,
            (_, Some(-2010)) if t.order.tif == TimeInForce::PostOnly => VenueReject::WouldTake,
            _ => VenueReject::Refused,
        };
        if reason == VenueReject::RateLimited {
            self.counters.refused_rate_limited += 1;
        }
        self.tracked.remove(slot);
        self.emit(&t.order, ExecKind::Rejected(reason), 0, ts);
    }

    fn on_cancel_error(&mut self, req: Inflight, status: u64, code: Option<i64>) {
        let Some(slot) = self.slot_of(req.client_id) else {
            return;
        };
        let Some(t) = self.tracked.get(slot) else {
            return;
        };
        if status == 429 || status == 418 {
            // Not carried out: it goes again once the venue lets us.
            return self.wait(Request::Cancel(Self::about(&t)));
        }
        if status >= 500 || matches!(code, Some(-1006 | -1007)) {
            // Did it go through? Its status says; the stream may say first.
            return self.check(req.client_id);
        }
        // -2011: the venue no longer works the order (filled, cancelled, never there).
        self.emit(
            &t.order,
            ExecKind::CancelRejected,
            t.order.qty.0 - t.filled,
            self.now,
        );
    }

    /// A refused or failed cancel-replace.
    fn on_replace_error(&mut self, req: Inflight, status: u64, code: Option<i64>) {
        let old = self
            .slot_of(req.replaced)
            .and_then(|s| self.tracked.get(s))
            .map(|t| Self::about(&t));
        if status >= 500 || matches!(code, Some(-1006 | -1007)) {
            // Either part may have happened.
            if let Some(slot) = self.slot_of(req.client_id) {
                self.doubt(slot, self.now);
            }
            return self.check(req.replaced);
        }
        let Some(slot) = self.slot_of(req.client_id) else {
            return;
        };
        let Some(new) = self.tracked.get(slot) else {
            return;
        };
        let reason = match (status, code) {
            (429 | 418, _) => VenueReject::RateLimited,
            (_, Some(-2010)) if new.order.tif == TimeInForce::PostOnly => VenueReject::WouldTake,
            _ => VenueReject::Refused,
        };
        if new.state == OrderState::Sent {
            self.tracked.remove(slot);
            self.emit(&new.order, ExecKind::Rejected(reason), 0, self.now);
        }
        let Some(old) = old else { return };
        match code {
            // The cancel failed (the order is no longer working); the new one was not tried.
            Some(-2022) => {
                if let Some(t) = self.slot_of(req.replaced).and_then(|s| self.tracked.get(s)) {
                    self.emit(
                        &t.order,
                        ExecKind::CancelRejected,
                        t.order.qty.0 - t.filled,
                        self.now,
                    );
                }
            }
            // Cancelled, the new order refused: the stream reports the cancel.
            Some(-2021) => {}
            // Refused whole (a limit, a parameter): the cancel goes again on its own.
            _ => self.wait(Request::Cancel(old)),
        }
    }

    /// The gateway's own status request for a tracked order (not risk's query).
    fn check(&mut self, client_id: u64) {
        let Some(t) = self.slot_of(client_id).and_then(|s| self.tracked.get(s)) else {
            return;
        };
        if self.send_about(Kind::Check, &Self::about(&t)) {
            self.counters.status_sent += 1;
        }
    }

    /// Asks the status of every tracked order (after a (re)connect).
    fn check_all(&mut self) {
        for slot in 0..MAX_TRACKED {
            let Some(t) = self.tracked.get(slot) else {
                continue;
            };
            if t.state == OrderState::InDoubt {
                // Risk queries those itself.
                continue;
            }
            let about = Self::about(&t);
            if self.send_about(Kind::Check, &about) {
                self.counters.status_sent += 1;
            }
        }
    }

    /// A status answer (`None`: the venue does not know the order).
    fn on_status(&mut self, req: Inflight, result: Option<&[u8]>) {
        let Some(slot) = self.slot_of(req.client_id) else {
            return;
        };
        let Some(t) = self.tracked.get(slot) else {
            return;
        };
        let ts = self.now;
        let Some(r) = result else {
            // Never arrived: nothing works, nothing filled.
            self.tracked.remove(slot);
            if req.kind == Kind::Query {
                self.emit(&t.order, ExecKind::Status(OrderStatus::NotFound), 0, ts);
            } else if t.state == OrderState::Sent {
                self.emit(&t.order, ExecKind::Rejected(VenueReject::Refused), 0, ts);
            }
            return;
        };
        let Some(spec) = self.instruments.get(t.order.instrument) else {
            return;
        };
        let (px_scale, qty_scale) = (spec.price_scale, spec.qty_scale);
        let (mut executed, mut quote, mut status) = (None, None, None);
        if json::fields(r, |k, v| match k {
            b"executedQty" => executed = v.text().and_then(|t| parse_decimal(t, qty_scale).ok()),
            b"cummulativeQuoteQty" => {
                quote = v
                    .text()
                    .and_then(|t| parse_decimal(t, px_scale + qty_scale).ok())
            }
            b"status" => status = v.text(),
            _ => {}
        })
        .is_err()
        {
            self.counters.malformed += 1;
            return;
        }
        let (Some(executed), Some(status)) = (executed, status) else {
            self.counters.malformed += 1;
            return;
        };
        let quote = i128::from(quote.unwrap_or(0));
        let working = matches!(status, b"NEW" | b"PARTIALLY_FILLED" | b"PENDING_NEW");
        if working && t.state == OrderState::Sent && req.kind == Kind::Check {
            self.acked(slot, ts);
        }
        self.fill_up_to(slot, executed, quote, ts);
        let Some(t) = self.tracked.get(slot) else {
            return;
        };
        let leaves = t.order.qty.0 - t.filled;
        if req.kind == Kind::Query {
            let answer = if working {
                OrderStatus::Working
            } else {
                OrderStatus::Done
            };
            if let Some(t) = self.tracked.get_mut(slot) {
                t.state = OrderState::Working;
            }
            self.emit(
                &t.order,
                ExecKind::Status(answer),
                if working { leaves } else { 0 },
                ts,
            );
            if !working {
                self.tracked.remove(slot);
            }
            return;
        }
        if !working {
            // Ended while we were not listening.
            self.tracked.remove(slot);
            if leaves > 0 {
                let kind = if status == b"CANCELED" {
                    ExecKind::Cancelled
                } else {
                    ExecKind::Expired
                };
                self.emit(&t.order, kind, 0, ts);
            }
        }
    }

    fn acked(&mut self, slot: usize, ts: Nanos) {
        if let Some(t) = self.tracked.get_mut(slot) {
            t.state = OrderState::Working;
            let (order, leaves) = (t.order, t.order.qty.0 - t.filled);
            self.emit(&order, ExecKind::Ack, leaves, ts);
        }
    }

    /// Reports the fill that brings the order's reported quantity up to `executed` (cumulative),
    /// at the average price of the quote difference, if anything is missing. The fee of a
    /// reconciled fill is not known from a status answer: reported as zero.
    fn fill_up_to(&mut self, slot: usize, executed: i64, quote: i128, ts: Nanos) {
        let Some(t) = self.tracked.get_mut(slot) else {
            return;
        };
        let missing = executed - t.filled;
        if missing <= 0 {
            return;
        }
        let quote_missing = quote - t.quote;
        let px = Px((quote_missing / i128::from(missing)) as i64);
        t.filled = executed;
        t.quote = quote;
        let (order, leaves) = (t.order, t.order.qty.0 - executed);
        self.counters.reconciled_fills += 1;
        let fill = ExecKind::Fill {
            px,
            qty: Qty(missing),
            fee: 0,
            liquidity: Liquidity::Taker,
            trade_id: 0,
        };
        self.emit(&order, fill, leaves, ts);
        if leaves <= 0 {
            self.tracked.remove(slot);
        }
    }

    /// An `executionReport`.
    fn on_event(&mut self, e: &[u8]) {
        let mut f = EventFields::default();
        if json::fields(e, |k, v| f.take(k, v)).is_err() || f.kind != Some(b"executionReport") {
            if f.kind.is_none() {
                self.counters.malformed += 1;
            }
            return;
        }
        // A cancel's report names the cancel request in `c` and the order in `C`.
        let id = match (f.exec_type, f.orig_client) {
            (Some(b"CANCELED"), Some(orig)) if !orig.is_empty() => Some(orig),
            _ => f.client,
        };
        let Some(cid) = id.and_then(|c| Value::Atom(c).u64()) else {
            self.counters.foreign_events += 1;
            return;
        };
        let Some(slot) = self.slot_of(cid) else {
            self.counters.foreign_events += 1;
            return;
        };
        let Some(t) = self.tracked.get(slot) else {
            return;
        };
        let Some(spec) = self.instruments.get(t.order.instrument) else {
            return;
        };
        let (px_scale, qty_scale) = (spec.price_scale, spec.qty_scale);
        let (base_asset, quote_asset) = split_symbol(&spec.symbol);
        // Binance charges a fee in the quote asset, in the base asset (a buy without BNB) or in
        // BNB. A quote fee is reported as it is; a base fee at the fill's price, and the
        // holdings the balance check expects shrink by it; a BNB fee is not in this
        // instrument's notional: reported as 0.
        let fee_in_quote = f.fee_asset == Some(quote_asset.as_bytes());
        let fee_in_base = f.fee_asset == Some(base_asset.as_bytes());
        let ts = Nanos(f.time_ms.unwrap_or(0).saturating_mul(1_000_000));
        let dec = |v: Option<&[u8]>, scale| v.and_then(|t| parse_decimal(t, scale).ok());
        match f.exec_type {
            Some(b"NEW") if t.state != OrderState::Working => self.acked(slot, ts),
            Some(b"TRADE") => {
                if t.state == OrderState::Sent {
                    // Trading means it arrived: its ack came first on the stream, or was lost.
                    self.acked(slot, ts);
                }
                let (Some(qty), Some(px), Some(cum)) = (
                    dec(f.last_qty, qty_scale),
                    dec(f.last_px, px_scale),
                    dec(f.cum_qty, qty_scale),
                ) else {
                    self.counters.malformed += 1;
                    return;
                };
                let Some(t) = self.tracked.get_mut(slot) else {
                    return;
                };
                if cum <= t.filled {
                    // Already reported (by a status answer, or twice on the stream).
                    return;
                }
                // Report only what is new: a reconciled fill may have covered part of it.
                let new = qty.min(cum - t.filled);
                t.filled = cum;
                t.quote += i128::from(px) * i128::from(new);
                let base_fee = if fee_in_base {
                    dec(f.fee, qty_scale).unwrap_or(0)
                } else {
                    0
                };
                let fee = if fee_in_quote {
                    dec(f.fee, px_scale + qty_scale).map_or(0, i128::from)
                } else {
                    i128::from(base_fee) * i128::from(px)
                };
                let (order, leaves) = (t.order, t.order.qty.0 - cum);
                let fill = ExecKind::Fill {
                    px: Px(px),
                    qty: Qty(new),
                    fee,
                    liquidity: if f.maker == Some(true) {
                        Liquidity::Maker
                    } else {
                        Liquidity::Taker
                    },
                    trade_id: f.trade_id.unwrap_or(0),
                };
                self.emit(&order, fill, leaves, ts);
                if let Some(p) = self.positions.get_mut(order.instrument.0 as usize) {
                    *p -= base_fee;
                }
                if leaves <= 0 {
                    self.tracked.remove(slot);
                }
            }
            Some(b"CANCELED" | b"EXPIRED" | b"TRADE_PREVENTION" | b"REJECTED") => {
                self.tracked.remove(slot);
                let kind = match f.exec_type {
                    Some(b"CANCELED") => ExecKind::Cancelled,
                    Some(b"REJECTED") => ExecKind::Rejected(VenueReject::Refused),
                    _ => ExecKind::Expired,
                };
                if t.state == OrderState::Sent && kind != ExecKind::Rejected(VenueReject::Refused) {
                    self.emit(&t.order, ExecKind::Ack, t.order.qty.0 - t.filled, ts);
                }
                self.emit(&t.order, kind, 0, ts);
            }
            _ => {}
        }
    }
}

/// The orders the gateway tracks, in fixed slots, with their client ids in a dense array of
/// their own: every message looks its order up by id, and scanning 256 ids (2 KiB) costs far
/// less than scanning 256 whole orders.
struct OrderSlots {
    slots: Vec<Option<Tracked>>,
    /// The client id in each slot; 0 for a free one (0 is never one of ours).
    ids: Vec<u64>,
    len: usize,
}

impl OrderSlots {
    fn new() -> OrderSlots {
        OrderSlots {
            slots: vec![None; MAX_TRACKED],
            ids: vec![0; MAX_TRACKED],
            len: 0,
        }
    }

    fn find(&self, client_id: u64) -> Option<usize> {
        if client_id == 0 {
            return None;
        }
        self.ids.iter().position(|&id| id == client_id)
    }

    fn get(&self, slot: usize) -> Option<Tracked> {
        self.slots.get(slot).copied().flatten()
    }

    fn get_mut(&mut self, slot: usize) -> Option<&mut Tracked> {
        self.slots.get_mut(slot).and_then(Option::as_mut)
    }

    fn is_full(&self) -> bool {
        self.len == MAX_TRACKED
    }

    fn len(&self) -> usize {
        self.len
    }

    /// The slot `t` went into; `None` when every slot is taken (or for client id 0, which
    /// marks a free slot).
    fn insert(&mut self, t: Tracked) -> Option<usize> {
        if t.order.client_id.0 == 0 {
            return None;
        }
        let slot = self.ids.iter().position(|&id| id == 0)?;
        self.ids[slot] = t.order.client_id.0;
        self.slots[slot] = Some(t);
        self.len += 1;
        Some(slot)
    }

    fn remove(&mut self, slot: usize) {
        if let Some(s) = self.slots.get_mut(slot) {
            if s.take().is_some() {
                self.ids[slot] = 0;
                self.len -= 1;
            }
        }
    }
}

/// A request written into buffers reserved at start: the JSON text sent (`out`) and the
/// payload that is signed (`payload`: `name=value` pairs joined by `&`, in name order).
struct RequestWriter {
    out: String,
    payload: String,
    /// A REST call's signature, before it is percent-encoded into the query.
    signature: String,
}

impl RequestWriter {
    fn new() -> RequestWriter {
        RequestWriter {
            out: String::with_capacity(REQUEST_BUFFER),
            payload: String::with_capacity(REQUEST_BUFFER),
            signature: String::with_capacity(SIGNATURE_CAPACITY),
        }
    }

    /// `{"id":"<tag><seq>","method":"<method>","params":{`, then the API key of a signed
    /// request (the first parameter in name order).
    fn begin(&mut self, kind: Kind, seq: u64, method: &str, api_key: Option<&str>) {
        self.out.clear();
        self.payload.clear();
        let _ = write!(
            self.out,
            "{{\"id\":\"{}{seq}\",\"method\":\"{method}\",\"params\":{{",
            kind.tag() as char
        );
        if let Some(key) = api_key {
            // The key cannot hold a quote: it was checked when the gateway was built.
            self.param("apiKey", format_args!("{key}"), true);
        }
    }

    /// One parameter, in the payload and in the JSON. Values are ASCII without quotes or
    /// escapes (symbols, decimals, enums, ids, the key), so neither needs encoding.
    fn param(&mut self, name: &str, value: std::fmt::Arguments<'_>, quoted: bool) {
        if !self.payload.is_empty() {
            self.payload.push('&');
            self.out.push(',');
        }
        let _ = write!(self.payload, "{name}={value}");
        if quoted {
            let _ = write!(self.out, "\"{name}\":\"{value}\"");
        } else {
            let _ = write!(self.out, "\"{name}\":{value}");
        }
    }

    /// The signature of the payload, as the last parameter.
    fn sign(&mut self, signer: &Signer) {
        let sep = if self.payload.is_empty() { "" } else { "," };
        let _ = write!(self.out, "{sep}\"signature\":\"");
        signer.sign_into(&self.payload, &mut self.out);
        self.out.push('"');
    }

    /// Closes the parameters and the request.
    fn close(&mut self) {
        self.out.push_str("}}");
    }

    /// A REST target, `/api/v3/order?<query>&signature=<signature>`: REST signs the query
    /// string exactly as sent, and the signature goes percent-encoded (an Ed25519 signature is
    /// base64: `+`, `/` and `=`; an HMAC one is hex and passes unchanged).
    fn rest_query(&mut self, signer: &Signer, query: std::fmt::Arguments<'_>) {
        self.payload.clear();
        let _ = write!(self.payload, "{query}");
        self.out.clear();
        let _ = write!(self.out, "/api/v3/order?{}&signature=", self.payload);
        self.signature.clear();
        signer.sign_into(&self.payload, &mut self.signature);
        percent_encode(&self.signature, &mut self.out);
    }
}

/// The fields of an `executionReport` the gateway reads.
#[derive(Default)]
struct EventFields<'a> {
    kind: Option<&'a [u8]>,
    client: Option<&'a [u8]>,
    orig_client: Option<&'a [u8]>,
    exec_type: Option<&'a [u8]>,
    last_qty: Option<&'a [u8]>,
    last_px: Option<&'a [u8]>,
    cum_qty: Option<&'a [u8]>,
    fee: Option<&'a [u8]>,
    fee_asset: Option<&'a [u8]>,
    trade_id: Option<u64>,
    maker: Option<bool>,
    time_ms: Option<u64>,
}

impl<'a> EventFields<'a> {
    fn take(&mut self, k: &[u8], v: Value<'a>) {
        match k {
            b"e" => self.kind = v.text(),
            b"c" => self.client = v.text(),
            b"C" => self.orig_client = v.text(),
            b"x" => self.exec_type = v.text(),
            b"l" => self.last_qty = v.text(),
            b"L" => self.last_px = v.text(),
            b"z" => self.cum_qty = v.text(),
            b"n" => self.fee = v.text(),
            b"N" => self.fee_asset = v.text(),
            b"t" => self.trade_id = v.u64(),
            b"m" => self.maker = v.bool(),
            b"T" => self.time_ms = v.u64(),
            _ => {}
        }
    }
}

/// The rings a gateway stage works between.
pub struct GatewayRings {
    pub requests: rtrb::Consumer<Request>,
    pub reports: rtrb::Producer<ExecReport>,
}

impl Stage for BinanceGatewayStage {
    fn name(&self) -> &'static str {
        "gateway"
    }

    fn do_work(&mut self, now: Nanos) -> usize {
        self.now = now;
        let mut work = 0;
        {
            // Polled while draining too: answers to what was sent still come in.
            if self.reports.slots() >= REPORTS_PER_MESSAGE {
                let mut inbox = std::mem::take(&mut self.inbox);
                inbox.clear();
                let mut incoming = None;
                work += self.session.poll(now, |event| match event {
                    SessionEvent::Opened => incoming = Some(Incoming::Opened),
                    SessionEvent::Closed(_) => incoming = Some(Incoming::Closed),
                    SessionEvent::Frame(bytes) => {
                        // Copied out of the session's buffer into one reserved at start.
                        if let Ok(text) = std::str::from_utf8(bytes) {
                            inbox.push_str(text);
                            incoming = Some(Incoming::Frame);
                        }
                    }
                });
                match incoming {
                    Some(Incoming::Opened) => self.on_opened(),
                    Some(Incoming::Closed) => self.on_closed(),
                    Some(Incoming::Frame) => self.on_message(inbox.as_bytes()),
                    None => {}
                }
                self.inbox = inbox;
            }
            if self.ready && now.saturating_sub(self.clock_synced_at) >= CLOCK_RESYNC {
                self.clock_synced_at = now;
                let _ = self.send_time();
            }
            if self.ready && self.recheck_at.is_some_and(|at| now >= at) {
                // Sent once: the answer halts or clears.
                self.recheck_at = Some(Nanos(u64::MAX));
                let _ = self.send_account();
            }
            work += self.take_rest_replies();
            work += self.take_requests();
            self.check_timeouts();
        }
        work
    }

    fn stop_intake(&mut self) {
        self.draining = true;
    }

    fn report(&self, out: MetricSink<'_>) {
        let c = &self.counters;
        let counters = [
            ("gateway_requests", c.requests),
            ("gateway_orders_sent", c.orders_sent),
            ("gateway_cancels_sent", c.cancels_sent),
            ("gateway_replaces_sent", c.replaces_sent),
            ("gateway_status_sent", c.status_sent),
            ("gateway_responses", c.responses),
            ("gateway_stream_events", c.stream_events),
            ("gateway_refused_unavailable", c.refused_unavailable),
            ("gateway_refused_rate_limited", c.refused_rate_limited),
            ("gateway_outcome_unknown", c.outcome_unknown),
            ("gateway_timeouts", c.timeouts),
            ("gateway_reconciled_fills", c.reconciled_fills),
            ("gateway_foreign_events", c.foreign_events),
            ("gateway_malformed", c.malformed),
            ("gateway_reconnects", c.reconnects),
            ("gateway_balance_mismatches", c.balance_mismatches),
            ("gateway_rest_sent", c.rest_sent),
            ("gateway_rest_failures", c.rest_failures),
        ];
        for (name, value) in counters {
            out(Metric::counter(name, MetricLabel::None, value));
        }
        out(Metric::gauge(
            "gateway_tracked_orders",
            MetricLabel::None,
            self.tracked() as i64,
        ));
        out(Metric::gauge(
            "gateway_ready",
            MetricLabel::None,
            i64::from(self.ready),
        ));
        out(Metric::gauge(
            "gateway_clock_offset_us",
            MetricLabel::None,
            self.clock.offset() / 1_000,
        ));
    }
}

enum Incoming {
    Opened,
    Closed,
    Frame,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{OpenOrder, VenueAccount};
    use pulse_feeds::event::EventMeta;
    use pulse_feeds::instrument::Venue;
    use pulse_feeds::ws::endpoint::Endpoint;
    use pulse_feeds::ws::session::SessionTimers;

    /// A stage whose session is never polled (its port is never dialled here), tracking one
    /// working buy of 0.002 BTC (client id 5), with the reports ring to read.
    fn stage() -> (BinanceGatewayStage, rtrb::Consumer<ExecReport>) {
        let mut instruments = InstrumentRegistry::new();
        instruments
            .add(Venue::Binance, "BTCUSDT", 2, 8, Px(1), Qty(1_000))
            .unwrap();
        let endpoint = Endpoint::parse("ws://127.0.0.1:9/ws-api/v3").unwrap();
        let addrs = endpoint.resolve().unwrap();
        let session = WsSession::new(endpoint, addrs, None, SessionTimers::default(), 1).unwrap();
        let (_orders, requests) = rtrb::RingBuffer::new(4);
        let (reports_tx, reports) = rtrb::RingBuffer::new(64);
        let mut gw = BinanceGatewayStage::new(
            session,
            instruments,
            GatewaySettings {
                api_key: Secret::new("k".into()),
                signer: Signer::hmac(Secret::new("s".into())),
                recv_window_ms: 5_000,
                response_timeout: Nanos::from_millis(1_000),
                limiter: RateLimiter::new(super::super::limits::Limits::default()),
                rest: None,
                halt: None,
            },
            GatewayRings {
                requests,
                reports: reports_tx,
            },
            LatencyProbe::detached(quanta::Clock::new()),
        );
        let order = Order {
            meta: EventMeta::default(),
            client_id: crate::order::ClientOrderId(5),
            instrument: InstrumentId(0),
            side: Side::Buy,
            px: Px(6_000_000),
            qty: Qty(200_000),
            tif: TimeInForce::Gtc,
        };
        gw.adopt(&VenueAccount {
            positions: vec![Qty(0)],
            open: vec![OpenOrder {
                order,
                leaves: order.qty,
            }],
        });
        (gw, reports)
    }

    fn trade(cum: &str, fee: &str, fee_asset: &str) -> String {
        format!(
            r#"{{"subscriptionId":0,"event":{{"e":"executionReport","s":"BTCUSDT","c":"5",
            "C":"","x":"TRADE","X":"PARTIALLY_FILLED","l":"0.00100000","L":"60000.00",
            "z":"{cum}","n":"{fee}","N":"{fee_asset}","t":9,"m":true,"T":1700000000000}}}}"#
        )
    }

    #[test]
    fn execution_reports_become_fills_once_with_fees_in_quote_or_base_asset() {
        let (mut gw, mut reports) = stage();
        // A fill with its fee in USDT: 0.06 USDT at notional scale 10.
        gw.on_message(trade("0.00100000", "0.06000000", "USDT").as_bytes());
        let r = reports.pop().unwrap();
        assert_eq!(
            r.kind,
            ExecKind::Fill {
                px: Px(6_000_000),
                qty: Qty(100_000),
                fee: 600_000_000,
                liquidity: Liquidity::Maker,
                trade_id: 9,
            }
        );
        assert_eq!(
            (r.leaves, r.ts),
            (Qty(100_000), Nanos(1_700_000_000_000_000_000))
        );
        // The same report again (a duplicate on the stream): nothing new.
        gw.on_message(trade("0.00100000", "0.06000000", "USDT").as_bytes());
        assert!(reports.pop().is_err());
        // The second fill pays 0.000001 BTC: reported at the fill's price, 0.06 USDT, and the
        // holdings the balance check expects are 0.002 BTC less the fee.
        gw.on_message(trade("0.00200000", "0.00000100", "BTC").as_bytes());
        let r = reports.pop().unwrap();
        assert!(
            matches!(
                r.kind,
                ExecKind::Fill {
                    fee: 600_000_000,
                    ..
                }
            ),
            "{r:?}"
        );
        assert_eq!(r.leaves, Qty(0));
        assert_eq!(gw.positions[0], 200_000 - 100);
        assert_eq!(gw.tracked(), 0, "filled: no longer tracked");
    }

    /// What the writer sends is JSON whose parameters, sorted and signed as Binance's
    /// WebSocket API signs them, give the signature it carries.
    #[test]
    fn a_written_request_is_json_signed_over_its_sorted_parameters() {
        let signer = Signer::hmac(Secret::new("s3cret".into()));
        let mut w = RequestWriter::new();
        w.begin(Kind::Place, 42, "order.place", Some("key-1"));
        w.param("newClientOrderId", format_args!("{}", 7), true);
        w.param(
            "price",
            format_args!("{}", Decimal::new(6_168_602, 2)),
            true,
        );
        w.param("recvWindow", format_args!("{}", 5_000), false);
        w.param("symbol", format_args!("BTCUSDT"), true);
        w.param("timestamp", format_args!("{}", 1_700_000_000_000u64), false);
        w.sign(&signer);
        w.close();
        let v: serde_json::Value = serde_json::from_str(&w.out).unwrap();
        assert_eq!(v["id"], "p42");
        assert_eq!(v["method"], "order.place");
        let params = v["params"].as_object().unwrap();
        assert_eq!(params["price"], "61686.02");
        assert_eq!(params["recvWindow"], 5_000);
        let texts: Vec<(String, String)> = params
            .iter()
            .filter(|(k, _)| k.as_str() != "signature")
            .map(|(k, v)| (k.clone(), v.as_str().map_or(v.to_string(), str::to_owned)))
            .collect();
        let pairs: Vec<(&str, &str)> = texts
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(pairs.len(), 6);
        assert_eq!(
            params["signature"],
            signer.sign(&super::super::sign::payload_sorted(&pairs))
        );
        // A time request: no parameters, no signature.
        w.begin(Kind::Time, 43, "time", None);
        w.close();
        assert_eq!(w.out, r#"{"id":"t43","method":"time","params":{}}"#);
    }

    #[test]
    fn malformed_and_foreign_messages_are_counted_not_reported() {
        let (mut gw, mut reports) = stage();
        gw.on_message(b"{\"subscriptionId\":0,\"event\":{\"e\":\"executionReport\"");
        gw.on_message(br#"{"id":"p1","status":200}"#);
        gw.on_message(
            trade("0.00100000", "0", "USDT")
                .replace("\"c\":\"5\"", "\"c\":\"web-123\"")
                .as_bytes(),
        );
        assert!(reports.pop().is_err());
        assert_eq!(gw.counters.malformed, 1);
        assert_eq!(gw.counters.foreign_events, 1);
        // An answer to nothing in flight (p1 was never sent) is dropped.
        assert_eq!(gw.counters.responses, 1);
    }
}
