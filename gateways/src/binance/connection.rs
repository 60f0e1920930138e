//! The session's life: opening, closing, and the requests it leaves unanswered.

use pulse_feeds::num::Nanos;
use pulse_feeds::ws::session::CloseReason;

use super::gateway::BinanceGatewayStage;
use super::wire::Kind;
use crate::order::Request;
use crate::tracker::Inflight;

impl BinanceGatewayStage {
    pub(super) fn on_opened(&mut self) {
        self.opened = true;
        self.ready = false;
        self.recheck_at = None;
        // Anything still in flight on the session was settled when it closed; REST calls
        // are answered on their own.
        self.inflight.keep_fallback();
        let _ = self.send_time();
    }

    /// The connection dropped: every unanswered request is settled the safe way.
    pub(super) fn on_closed(&mut self) {
        if self.opened {
            self.counters.reconnects += 1;
        }
        self.opened = false;
        self.ready = false;
        let ts = self.now;
        while let Some(req) = self.inflight.take(|r| !r.rest) {
            self.unanswered(req, ts);
        }
    }

    /// A request that will never be answered (timeout, disconnect).
    pub(super) fn unanswered(&mut self, req: Inflight<Kind>, ts: Nanos) {
        let Some(slot) = self.orders.find(req.client_id) else {
            return;
        };
        let Some(t) = self.orders.get(slot) else {
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
            Kind::Cancel => self.orders.wait(Request::Cancel(t.about())),
            Kind::Query => self.orders.wait(Request::Query(t.about())),
            // A check is made again for every tracked order after the reconnect.
            _ => {}
        }
    }

    /// A new order's outcome is unknown: tell risk, which will query it.
    pub(super) fn doubt(&mut self, slot: usize, ts: Nanos) {
        if self.orders.doubt(slot, ts) {
            self.counters.outcome_unknown += 1;
        }
    }

    pub(super) fn check_timeouts(&mut self) {
        let timeout = self.settings.response_timeout;
        let now = self.now;
        while let Some(req) = self.inflight.take_expired(now, timeout) {
            self.counters.timeouts += 1;
            match req.kind {
                // A later clock sample may go unanswered: the last offset stands.
                Kind::Time if self.ready => {}
                // No time answer or subscription: the session is not usable. Start over.
                Kind::Time | Kind::Subscribe => {
                    self.session.close(now, CloseReason::Disconnected);
                    self.on_closed();
                    return;
                }
                _ => self.unanswered(req, now),
            }
        }
    }
}
