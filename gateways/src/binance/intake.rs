//! Risk's requests in: new orders, cancels (one cancel-replace where a quote moves), queries.

use pulse_feeds::num::Nanos;

use super::gateway::{BinanceGatewayStage, REPORTS_PER_MESSAGE};
use super::rest::{RestCall, RestMethod};
use super::wire::Kind;
use crate::order::{CancelOrder, ExecKind, Order, Request, VenueReject};
use crate::tracker::{Inflight, OrderState};

/// Requests taken from the ring per `do_work`.
const REQUESTS_PER_CALL: usize = 16;

impl BinanceGatewayStage {
    /// Takes requests from risk while the reports ring has room for what each may cause.
    pub(super) fn take_requests(&mut self) -> usize {
        let mut n = 0;
        // Waiting cancels and queries go first, in order: over the session when it is up,
        // over REST when it is not.
        while let Some(request) = self.orders.first_waiting() {
            let sent = if self.ready {
                self.try_send(&request)
            } else {
                self.try_send_rest(&request)
            };
            if !sent {
                break;
            }
            self.orders.pop_waiting();
            n += 1;
        }
        while n < REQUESTS_PER_CALL && self.orders.reports.room() >= REPORTS_PER_MESSAGE {
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
                    if !(self.ready && !self.orders.has_waiting() && self.try_send(&request)) {
                        self.orders.wait(request);
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
    pub(super) fn replaceable(&self, cancel: &CancelOrder) -> bool {
        if !self.ready || self.draining || self.orders.has_waiting() {
            return false;
        }
        let tracked = self
            .orders
            .by_id(cancel.client_id.0)
            .is_some_and(|t| t.state == OrderState::Working);
        tracked
            && matches!(
                self.requests.peek(),
                Ok(Request::New(next))
                    if next.instrument == cancel.instrument && next.side == cancel.side
            )
    }

    /// Sends a new order, or with `replacing` a cancel-replace of that order by this one.
    pub(super) fn place(&mut self, order: &Order, replacing: Option<&CancelOrder>) {
        let ts = self.now;
        let refused = |gw: &mut Self, reason| {
            gw.orders.emit(order, ExecKind::Rejected(reason), 0, ts);
            // The cancel still has to go, on its own.
            if let Some(cancel) = replacing {
                gw.orders.wait(Request::Cancel(*cancel));
            }
        };
        if !self.ready || self.draining {
            self.counters.refused_unavailable += 1;
            return refused(self, VenueReject::Unavailable);
        }
        if self.orders.is_full() {
            return refused(self, VenueReject::TooManyOrders);
        }
        if order.client_id.0 == 0 {
            // Risk numbers orders from 1: an id 0 could never be matched to its reports.
            return refused(self, VenueReject::Refused);
        }
        let venue_now = self.venue_now();
        if self.settings.limiter.check(venue_now, 1, true).is_err() {
            self.counters.refused_rate_limited += 1;
            return refused(self, VenueReject::RateLimited);
        }
        if !self.send_order(order, replacing) {
            self.counters.refused_unavailable += 1;
            self.orders
                .emit(order, ExecKind::Rejected(VenueReject::Unavailable), 0, ts);
            if let Some(cancel) = replacing {
                self.orders.wait(Request::Cancel(*cancel));
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
        self.orders.sent(order);
    }

    /// Sends a cancel or query now if the limits allow; `false` to keep it waiting.
    pub(super) fn try_send(&mut self, request: &Request) -> bool {
        let (kind, about, weight) = match request {
            Request::Cancel(c) => (Kind::Cancel, c, 1),
            Request::Query(c) => (Kind::Query, c, 4),
            Request::New(_) => return true,
        };
        let Some(venue_now) = self.limits_allow(weight) else {
            return false;
        };
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
    pub(super) fn try_send_rest(&mut self, request: &Request) -> bool {
        let (kind, about, weight, method) = match request {
            Request::Cancel(c) => (Kind::Cancel, c, 1, RestMethod::Delete),
            Request::Query(c) => (Kind::Query, c, 4, RestMethod::Get),
            Request::New(_) => return true,
        };
        if self.settings.rest.is_none() || self.now < self.rest_retry_at {
            return false;
        }
        let Some(venue_now) = self.limits_allow(weight) else {
            return false;
        };
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
        if link.calls.push(call).is_err() || self.inflight.is_full() {
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

    /// The venue's time now, if a cancel or query of `weight` fits the limits.
    fn limits_allow(&mut self, weight: u32) -> Option<Nanos> {
        let venue_now = self.venue_now();
        let allowed = self
            .settings
            .limiter
            .check(venue_now, weight, false)
            .is_ok();
        allowed.then_some(venue_now)
    }
}
