//! Answers to our requests, over the session or the REST fallback.

use std::sync::atomic::Ordering;

use pulse_feeds::num::{parse_decimal, Nanos};
use pulse_feeds::ws::session::CloseReason;

use super::gateway::{BinanceGatewayStage, REPORTS_PER_MESSAGE};
use super::json::{self, Value};
use super::limits::Counts;
use super::wire::Kind;
use crate::order::{ExecKind, OrderStatus, Request, VenueReject};
use crate::tracker::{Inflight, OrderState};

impl BinanceGatewayStage {
    /// Answers from the REST worker.
    pub(super) fn take_rest_replies(&mut self) -> usize {
        let mut n = 0;
        while self.orders.reports.room() >= REPORTS_PER_MESSAGE {
            let Some((_, link)) = &mut self.settings.rest else {
                break;
            };
            let Ok(reply) = link.replies.pop() else {
                break;
            };
            n += 1;
            let Some(req) = self
                .inflight
                .take(|r| r.rest && r.kind.tag() == reply.tag && r.seq == reply.seq)
            else {
                continue;
            };
            if reply.status == 0 {
                // No answer at all: the venue is unreachable over REST too. Try again later.
                self.counters.rest_failures += 1;
                self.rest_retry_at = self.now.saturating_add(Nanos::from_millis(1_000));
                self.unanswered(req, self.now);
                continue;
            }
            let venue_now = self.venue_now();
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

    pub(super) fn on_message(&mut self, msg: &[u8]) {
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
        let Some(req) = self.inflight.take(|r| r.kind == kind && r.seq == seq) else {
            // Answered after its timeout: already settled.
            return;
        };
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
    pub(super) fn on_answer(
        &mut self,
        req: Inflight<Kind>,
        status: u64,
        result: Option<&[u8]>,
        code: Option<i64>,
    ) {
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
                self.session.close(self.now, CloseReason::Disconnected);
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
                if let Some(t) = self.orders.by_id(req.client_id) {
                    self.orders.wait(Request::Query(t.about()));
                }
            }
        }
    }

    pub(super) fn on_limits(
        &mut self,
        status: u16,
        rate_limits: Option<Value<'_>>,
        error: Option<Value<'_>>,
    ) {
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
        let venue_now = self.venue_now();
        self.settings
            .limiter
            .on_ws_response(venue_now, status, counts, retry_after);
    }

    /// A status answer (`None`: the venue does not know the order).
    pub(super) fn on_status(&mut self, req: Inflight<Kind>, result: Option<&[u8]>) {
        let Some(slot) = self.orders.find(req.client_id) else {
            return;
        };
        let Some(t) = self.orders.get(slot) else {
            return;
        };
        let ts = self.now;
        let Some(r) = result else {
            // Never arrived: nothing works, nothing filled.
            self.orders.remove(slot);
            if req.kind == Kind::Query {
                self.orders
                    .emit(&t.order, ExecKind::Status(OrderStatus::NotFound), 0, ts);
            } else if t.state == OrderState::Sent {
                self.orders
                    .emit(&t.order, ExecKind::Rejected(VenueReject::Refused), 0, ts);
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
            self.orders.acked(slot, ts);
        }
        if self.orders.fill_up_to(slot, executed, quote, ts) {
            self.counters.reconciled_fills += 1;
        }
        let Some(t) = self.orders.get(slot) else {
            return;
        };
        let leaves = t.order.qty.0 - t.filled;
        if req.kind == Kind::Query {
            let answer = if working {
                OrderStatus::Working
            } else {
                OrderStatus::Done
            };
            self.orders.set_state(slot, OrderState::Working);
            self.orders.emit(
                &t.order,
                ExecKind::Status(answer),
                if working { leaves } else { 0 },
                ts,
            );
            if !working {
                self.orders.remove(slot);
            }
            return;
        }
        if !working {
            // Ended while we were not listening.
            self.orders.remove(slot);
            if leaves > 0 {
                let kind = if status == b"CANCELED" {
                    ExecKind::Cancelled
                } else {
                    ExecKind::Expired
                };
                self.orders.emit(&t.order, kind, 0, ts);
            }
        }
    }
}
