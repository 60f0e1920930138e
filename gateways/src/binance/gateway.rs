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
//! `ExecKind::OutcomeUnknown` (unless its stream event already settled it). Risk then asks
//! for its status (`Request::Query`); the gateway answers with `order.status`: any fills the
//! stream did not deliver, then `ExecKind::Status`. Nothing is ever resent.
//!
//! **Reconnects.** On every (re)connection the gateway syncs the venue's clock (`time`),
//! subscribes the user data stream, and asks `order.status` of every order it tracks as
//! working or in flight: fills and ends missed while the stream was down are reported then.
//! Cancels and queries that were in flight are sent again (both are safe to repeat). New
//! orders arriving while the session is down or unsubscribed are refused at once
//! (`VenueReject::Unavailable`): they were never sent, so nothing is in doubt. At start
//! there are none: the live feed takes no market data before the session is first ready
//! ([`BinanceGatewayStage::ready_signal`]).
//!
//! **Limits.** Every request passes the [`RateLimiter`] first; a new order that would break a
//! limit is refused (`VenueReject::RateLimited`), a cancel or query waits. A 429 blocks
//! everything until its `retryAfter`.
//!
//! **The parts.** What is not Binance's (the order slots, requests in flight, doubt,
//! timeouts, the cumulative-fill guard) is the venue-neutral [`crate::tracker`]; this folder
//! holds the wire ([`super::wire`]), requests out, risk's requests in, answers, error mapping,
//! the user data stream, the balance check and the session's life, one file each.
//!
//! **Allocation.** Requests are built and signed into buffers reserved at start, and responses
//! are read in place ([`super::json`]); the one allocation per request is tungstenite's owned
//! message buffer.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use pulse_feeds::instrument::InstrumentRegistry;
use pulse_feeds::latency::LatencyProbe;
use pulse_feeds::num::Nanos;
use pulse_feeds::ws::session::WsSession;

use super::clock::VenueClock;
use super::limits::RateLimiter;
use super::rest::{RestFallback, RestLink};
use super::sign::Signer;
use super::wire::{Kind, RequestWriter};
use crate::order::{ExecReport, Request, VenueAccount};
use crate::secret::Secret;
use crate::tracker::{InflightRequests, OrderTracker, Reports};

/// The most reports one received message can produce (a status answer: a fill, then the
/// status).
pub(super) const REPORTS_PER_MESSAGE: usize = 2;
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
    pub(super) session: WsSession,
    pub(super) requests: rtrb::Consumer<Request>,
    pub(super) probe: LatencyProbe,
    pub(super) instruments: InstrumentRegistry,
    pub(super) settings: GatewaySettings,
    pub(super) clock: VenueClock,
    /// The orders tracked, the cancels and queries waiting, the reports out.
    pub(super) orders: OrderTracker,
    pub(super) inflight: InflightRequests<Kind>,
    /// The session is open, the clock synced and the user stream subscribed.
    pub(super) ready: bool,
    /// Raised the first time `ready` is, never lowered: what market data waits for at start
    /// (see [`BinanceGatewayStage::ready_signal`]).
    pub(super) ready_once: Arc<AtomicBool>,
    pub(super) opened: bool,
    pub(super) next_seq: u64,
    /// The request being written and signed.
    pub(super) writer: RequestWriter,
    /// The message being handled, copied out of the session.
    pub(super) inbox: String,
    pub(super) draining: bool,
    /// No REST call before this: the last one got no response.
    pub(super) rest_retry_at: Nanos,
    /// A balance check disagreed once: look again at this time before halting.
    pub(super) recheck_at: Option<Nanos>,
    /// When the clock was last sampled.
    pub(super) clock_synced_at: Nanos,
    pub(super) now: Nanos,
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
            probe,
            instruments,
            settings,
            clock: VenueClock::default(),
            orders: OrderTracker::new(Reports::new(rings.reports, instrument_count)),
            inflight: InflightRequests::new(),
            ready: false,
            ready_once: Arc::new(AtomicBool::new(false)),
            opened: false,
            next_seq: 1,
            writer: RequestWriter::new(),
            inbox: String::with_capacity(INBOX_BUFFER),
            draining: false,
            rest_retry_at: Nanos::ZERO,
            recheck_at: None,
            clock_synced_at: Nanos::ZERO,
            now: Nanos::ZERO,
            counters: GatewayCounters::default(),
        }
    }

    /// Takes the account the venue reported at start (startup reconciliation): its positions,
    /// and the orders it works for us, so that their execution reports are recognised.
    /// Orders with another client's id are not ours.
    pub fn adopt(&mut self, account: &VenueAccount) {
        for (i, q) in account.positions.iter().enumerate() {
            if let Some(p) = self.orders.reports.position_mut(i) {
                *p = q.0;
            }
        }
        self.orders.adopt(&account.open);
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

    /// Now on the venue's clock, as the rate limits count it.
    pub(super) fn venue_now(&self) -> Nanos {
        Nanos(self.clock.timestamp_ms(self.now).saturating_mul(1_000_000))
    }

    /// Orders tracked now (working or in flight).
    pub fn tracked(&self) -> usize {
        self.orders.len()
    }
}

/// The rings a gateway stage works between.
pub struct GatewayRings {
    pub requests: rtrb::Consumer<Request>,
    pub reports: rtrb::Producer<ExecReport>,
}
