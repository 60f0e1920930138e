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

use crate::order::{ExecReport, Order};
use crate::sim::{SimVenue, MAX_REPORTS_PER_ORDER};

const EVENTS_PER_CALL: usize = 1024;

pub struct SimGatewayStage {
    venue: SimVenue,
    market: rtrb::Consumer<MarketEvent>,
    orders: rtrb::Consumer<Order>,
    reports: rtrb::Producer<ExecReport>,
    probe: LatencyProbe,
}

impl SimGatewayStage {
    pub fn new(
        venue: SimVenue,
        market: rtrb::Consumer<MarketEvent>,
        orders: rtrb::Consumer<Order>,
        reports: rtrb::Producer<ExecReport>,
        probe: LatencyProbe,
    ) -> SimGatewayStage {
        SimGatewayStage {
            venue,
            market,
            orders,
            reports,
            probe,
        }
    }

    pub fn venue(&self) -> &SimVenue {
        &self.venue
    }

    fn apply_market_until(&mut self, limit: Option<Nanos>, budget: usize) -> usize {
        let venue = &mut self.venue;
        drain_market_until(&mut self.market, limit, budget, |event| {
            venue.on_market(event)
        })
    }
}

impl Stage for SimGatewayStage {
    fn name(&self) -> &'static str {
        "gateway"
    }

    fn report(&self, out: MetricSink<'_>) {
        let c = &self.venue.counters;
        out(Metric::counter("venue_orders", MetricLabel::None, c.orders));
        out(Metric::counter("venue_fills", MetricLabel::None, c.fills));
        out(Metric::counter(
            "venue_expired",
            MetricLabel::None,
            c.expired,
        ));
        out(Metric::counter(
            "venue_rejects",
            MetricLabel::None,
            c.rejects,
        ));
    }

    fn do_work(&mut self, _now: Nanos) -> usize {
        let mut work = 0;
        while work < EVENTS_PER_CALL {
            let Ok(order) = self.orders.peek().copied() else {
                break;
            };
            if self.reports.slots() < MAX_REPORTS_PER_ORDER {
                return work;
            }
            work += self.apply_market_until(Some(order.meta.recv_ts), EVENTS_PER_CALL);
            let _ = self.orders.pop();
            let (venue, reports) = (&mut self.venue, &mut self.reports);
            // Room for every report was checked above.
            venue.execute(&order, |report| {
                let _ = reports.push(report);
            });
            self.probe.record_since(order.meta.ingress);
            work += 1;
        }
        work + self.apply_market_until(None, EVENTS_PER_CALL)
    }
}
