//! The simulated venue as a hot-path stage: market data and orders in, execution reports out.
//!
//! Orders are matched against the book as of the market event that triggered them: before an
//! order executes, only market events no later than the order's trigger are applied. So a fast
//! replay never lets an order see the future. (In the single-thread layout this is exact; with
//! rings between threads, the venue may already have applied later events when the order
//! arrives.)

use pulse_feeds::event::{drain_market_until, MarketEvent};
use pulse_feeds::latency::LatencyProbe;
use pulse_feeds::metrics::{Metric, MetricLabel, MetricSink};
use pulse_feeds::num::Nanos;
use pulse_feeds::stage::Stage;

use crate::order::{ExecReport, Request};
use crate::sim::{SimVenue, MAX_REPORTS_PER_EVENT, MAX_REPORTS_PER_ORDER};

const EVENTS_PER_CALL: usize = 1024;

/// The smallest reports ring the simulated venue can work with: room for everything one request
/// or one market event can produce.
pub const MIN_REPORTS_RING: usize = if MAX_REPORTS_PER_EVENT > MAX_REPORTS_PER_ORDER {
    MAX_REPORTS_PER_EVENT
} else {
    MAX_REPORTS_PER_ORDER
};

pub struct SimGatewayStage {
    venue: SimVenue,
    market: rtrb::Consumer<MarketEvent>,
    requests: rtrb::Consumer<Request>,
    reports: rtrb::Producer<ExecReport>,
    probe: LatencyProbe,
}

impl SimGatewayStage {
    pub fn new(
        venue: SimVenue,
        market: rtrb::Consumer<MarketEvent>,
        requests: rtrb::Consumer<Request>,
        reports: rtrb::Producer<ExecReport>,
        probe: LatencyProbe,
    ) -> SimGatewayStage {
        SimGatewayStage {
            venue,
            market,
            requests,
            reports,
            probe,
        }
    }

    pub fn venue(&self) -> &SimVenue {
        &self.venue
    }

    /// Applies market events up to `limit` (`None`: all), while the reports ring has room for
    /// the fills one event can give resting orders. Returns how many were applied.
    fn apply_market_until(&mut self, limit: Option<Nanos>) -> usize {
        let mut n = 0;
        while n < EVENTS_PER_CALL && self.reports.slots() >= MAX_REPORTS_PER_EVENT {
            let (venue, reports) = (&mut self.venue, &mut self.reports);
            // Room for every report was checked above.
            let applied = drain_market_until(&mut self.market, limit, 1, |event| {
                venue.on_market(event, |report| {
                    let _ = reports.push(report);
                })
            });
            if applied == 0 {
                break;
            }
            n += applied;
        }
        n
    }
}

impl Stage for SimGatewayStage {
    fn name(&self) -> &'static str {
        "gateway"
    }

    fn report(&self, out: MetricSink<'_>) {
        let c = &self.venue.counters;
        let counters = [
            ("venue_orders", c.orders),
            ("venue_fills", c.fills),
            ("venue_maker_fills", c.maker_fills),
            ("venue_expired", c.expired),
            ("venue_rejects", c.rejects),
            ("venue_cancels", c.cancels),
            ("venue_cancel_rejects", c.cancel_rejects),
        ];
        for (name, value) in counters {
            out(Metric::counter(name, MetricLabel::None, value));
        }
        out(Metric::gauge(
            "venue_resting",
            MetricLabel::None,
            self.venue.resting() as i64,
        ));
    }

    fn do_work(&mut self, _now: Nanos) -> usize {
        let mut work = 0;
        while work < EVENTS_PER_CALL {
            let Ok(request) = self.requests.peek().copied() else {
                break;
            };
            let meta = request.meta();
            work += self.apply_market_until(Some(meta.recv_ts));
            let caught_up = self
                .market
                .peek()
                .map_or(true, |event| event.recv_ts() > meta.recv_ts);
            if !caught_up || self.reports.slots() < MAX_REPORTS_PER_ORDER {
                return work;
            }
            let _ = self.requests.pop();
            let (venue, reports) = (&mut self.venue, &mut self.reports);
            // Room for every report was checked above.
            venue.execute(&request, |report| {
                let _ = reports.push(report);
            });
            self.probe.record_since(meta.ingress);
            work += 1;
        }
        work + self.apply_market_until(None)
    }
}
