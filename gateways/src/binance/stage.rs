//! The gateway as a pipeline stage: one `do_work` polls the session, answers from the REST
//! fallback and requests from risk, and settles what timed out.

use pulse_feeds::metrics::{MetricLabel, MetricSink, Report};
use pulse_feeds::num::Nanos;
use pulse_feeds::stage::Stage;
use pulse_feeds::ws::session::SessionEvent;

use super::gateway::{BinanceGatewayStage, REPORTS_PER_MESSAGE};
use crate::counters::GatewayCounter;

/// How often the venue's clock is sampled again while the session is up: the offset drifts
/// (ours and theirs), and a request must land inside `recvWindow` of their clock.
const CLOCK_RESYNC: Nanos = Nanos(60_000_000_000);

impl Stage for BinanceGatewayStage {
    fn name(&self) -> &'static str {
        "gateway"
    }

    fn do_work(&mut self, now: Nanos) -> usize {
        self.now = now;
        let mut work = 0;
        {
            // Polled while draining too: answers to what was sent still come in.
            if self.orders.reports.room() >= REPORTS_PER_MESSAGE {
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
            (GatewayCounter::Requests, c.requests),
            (GatewayCounter::OrdersSent, c.orders_sent),
            (GatewayCounter::CancelsSent, c.cancels_sent),
            (GatewayCounter::ReplacesSent, c.replaces_sent),
            (GatewayCounter::StatusSent, c.status_sent),
            (GatewayCounter::Responses, c.responses),
            (GatewayCounter::StreamEvents, c.stream_events),
            (GatewayCounter::RefusedUnavailable, c.refused_unavailable),
            (GatewayCounter::RefusedRateLimited, c.refused_rate_limited),
            (GatewayCounter::OutcomeUnknown, c.outcome_unknown),
            (GatewayCounter::Timeouts, c.timeouts),
            (GatewayCounter::ReconciledFills, c.reconciled_fills),
            (GatewayCounter::ForeignEvents, c.foreign_events),
            (GatewayCounter::Malformed, c.malformed),
            (GatewayCounter::Reconnects, c.reconnects),
            (GatewayCounter::BalanceMismatches, c.balance_mismatches),
            (GatewayCounter::RestSent, c.rest_sent),
            (GatewayCounter::RestFailures, c.rest_failures),
        ];
        for (id, value) in counters {
            out(id.count(MetricLabel::None, value));
        }
        out(GatewayCounter::TrackedOrders.gauge(MetricLabel::None, self.tracked() as i64));
        out(GatewayCounter::Ready.gauge(MetricLabel::None, i64::from(self.ready)));
        out(GatewayCounter::ClockOffsetUs.gauge(MetricLabel::None, self.clock.offset() / 1_000));
    }
}

enum Incoming {
    Opened,
    Closed,
    Frame,
}
