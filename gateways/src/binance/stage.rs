//! The gateway as a pipeline stage: one `do_work` polls the session, answers from the REST
//! fallback and requests from risk, and settles what timed out.

use pulse_feeds::metrics::{Metric, MetricLabel, MetricSink};
use pulse_feeds::num::Nanos;
use pulse_feeds::stage::Stage;
use pulse_feeds::ws::session::SessionEvent;

use super::gateway::{BinanceGatewayStage, REPORTS_PER_MESSAGE};

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
