//! The simulated venue as a hot-path stage: market data and orders in, execution reports out.
//!
//! A request reaches the venue its latency after the market event that triggered it
//! ([`crate::latency`]; zero unless configured): before it executes, exactly the market events
//! up to that moment are applied, and none later. So a fast replay never lets an order see the
//! future, and with latency an order meets the book, and the queue, as it would have found
//! them on arrival. A request waits until a later market event, or the clock, shows that its
//! moment has passed; when intake stops, waiting requests execute (the venue's time goes on).
//! Requests keep their order: the session is one ordered connection. (In the single-thread
//! layout this is exact; with rings between threads, the venue may already have applied later
//! events when a request arrives.)

use pulse_feeds::event::{drain_market_until, MarketEvent};
use pulse_feeds::latency::LatencyProbe;
use pulse_feeds::metrics::{MetricLabel, MetricSink, Report};
use pulse_feeds::num::Nanos;
use pulse_feeds::stage::Stage;

use crate::counters::SimCounter;
use crate::latency::{LatencyDraws, VenueLatency};
use crate::order::{ExecReport, Request};
use crate::sim::tape::Tape;
use crate::sim::{DerivativesSim, SimVenue, MAX_REPORTS_PER_EVENT, MAX_REPORTS_PER_ORDER};

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
    latency: LatencyDraws,
    /// When the request at the head of the ring reaches the venue, once drawn.
    head_due: Option<Nanos>,
    /// When the last request reached it: none overtakes another.
    last_due: Nanos,
    /// Intake stopped: waiting requests execute without waiting for time to pass.
    draining: bool,
    /// A backtest's marks and arrivals (`pulse backtest` only).
    tape: Option<Box<Tape>>,
    /// A stress scenario's latency spike: orders decided from `.0` after the first market
    /// event, for `.1`, take `.2` longer to arrive.
    spike: Option<(Nanos, Nanos, Nanos)>,
    /// The first market event's time (the spike's origin).
    first_ts: Option<Nanos>,
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
            latency: LatencyDraws::new(VenueLatency::default()),
            head_due: None,
            last_due: Nanos::ZERO,
            draining: false,
            tape: None,
            spike: None,
            first_ts: None,
        }
    }

    /// Orders decided in `[at, at + dur)` after the first market event reach the venue
    /// `extra` later than their drawn latency (a stress scenario's latency spike).
    pub fn with_latency_spike(mut self, at: Nanos, dur: Nanos, extra: Nanos) -> SimGatewayStage {
        if dur > Nanos::ZERO && extra > Nanos::ZERO {
            self.spike = Some((at, dur, extra));
        }
        self
    }

    /// Records the marks and arrivals a backtest report reads ([`Tape`]).
    pub fn with_tape(mut self, tape: Tape) -> SimGatewayStage {
        self.tape = Some(Box::new(tape));
        self
    }

    /// The backtest's tape, closed with a sample at the last event's time.
    pub fn take_tape(&mut self) -> Option<Tape> {
        let mut tape = self.tape.take()?;
        tape.finish();
        Some(*tape)
    }

    /// `instrument` trades as a perpetual with isolated margin on the simulated venue
    /// ([`crate::sim::derivatives`]).
    pub fn with_derivatives(
        mut self,
        instrument: pulse_feeds::num::InstrumentId,
        settings: DerivativesSim,
    ) -> Result<SimGatewayStage, String> {
        self.venue = self.venue.with_derivatives(instrument, settings)?;
        Ok(self)
    }

    /// Requests reach the venue after these latencies.
    pub fn with_latency(mut self, legs: VenueLatency) -> SimGatewayStage {
        self.latency = LatencyDraws::new(legs);
        self
    }

    pub fn venue(&self) -> &SimVenue {
        &self.venue
    }

    /// Applies market events up to `limit` (`None`: all), while the reports ring has room for
    /// the fills one event can give resting orders. Returns how many were applied.
    fn apply_market_until(&mut self, limit: Option<Nanos>) -> usize {
        let mut n = 0;
        while n < EVENTS_PER_CALL && self.reports.slots() >= MAX_REPORTS_PER_EVENT {
            let (venue, reports, tape) = (&mut self.venue, &mut self.reports, &mut self.tape);
            let first_ts = &mut self.first_ts;
            // Room for every report was checked above.
            let applied = drain_market_until(&mut self.market, limit, 1, |event| {
                first_ts.get_or_insert(event.recv_ts());
                if let Some(tape) = tape {
                    let book = match event {
                        MarketEvent::Book(top) => Some(top),
                        MarketEvent::Trade(_) => None,
                    };
                    tape.on_event(event.recv_ts(), book);
                }
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
            (SimCounter::Orders, c.orders),
            (SimCounter::Fills, c.fills),
            (SimCounter::MakerFills, c.maker_fills),
            (SimCounter::Expired, c.expired),
            (SimCounter::Rejects, c.rejects),
            (SimCounter::Cancels, c.cancels),
            (SimCounter::CancelRejects, c.cancel_rejects),
            (SimCounter::Fundings, c.fundings),
            (SimCounter::Liquidations, c.liquidations),
        ];
        for (id, value) in counters {
            out(id.count(MetricLabel::None, value));
        }
        out(SimCounter::Resting.gauge(MetricLabel::None, self.venue.resting() as i64));
    }

    fn stop_intake(&mut self) {
        self.draining = true;
    }

    fn do_work(&mut self, now: Nanos) -> usize {
        let mut work = 0;
        while work < EVENTS_PER_CALL {
            let Ok(request) = self.requests.peek().copied() else {
                break;
            };
            let meta = request.meta();
            let due = match self.head_due {
                Some(due) => due,
                None => {
                    let mut delay = match request {
                        Request::New(_) => self.latency.order(),
                        Request::Cancel(_) | Request::Query(_) => self.latency.cancel(),
                    };
                    if let (Some((at, dur, extra)), Some(first), Request::New(_)) =
                        (self.spike, self.first_ts, &request)
                    {
                        let since = meta.recv_ts.0.saturating_sub(first.0);
                        if (at.0..at.0.saturating_add(dur.0)).contains(&since) {
                            delay = Nanos(delay.0.saturating_add(extra.0));
                        }
                    }
                    let due = Nanos(meta.recv_ts.0.saturating_add(delay.0)).max(self.last_due);
                    self.head_due = Some(due);
                    due
                }
            };
            work += self.apply_market_until(Some(due));
            // Its moment has passed when a later event is in, or the clock is past it. Without
            // latency the moment is the trigger itself, whose events are all in already.
            let arrived = match self.market.peek() {
                Ok(event) => event.recv_ts() > due,
                Err(_) => due == meta.recv_ts || now >= due || self.draining,
            };
            if !arrived || self.reports.slots() < MAX_REPORTS_PER_ORDER {
                return work;
            }
            let _ = self.requests.pop();
            self.head_due = None;
            self.last_due = due;
            if let (Some(tape), Request::New(order)) = (&mut self.tape, &request) {
                tape.on_arrival(order.client_id.0, order.instrument, due);
            }
            let (venue, reports) = (&mut self.venue, &mut self.reports);
            // Room for every report was checked above. Reports carry the venue's time.
            venue.execute(&request, |mut report| {
                report.ts = due;
                let _ = reports.push(report);
            });
            self.probe.record_since(meta.ingress);
            work += 1;
        }
        // Market events past a waiting request wait with it.
        work + self.apply_market_until(self.head_due)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::latency::Latency;
    use crate::order::{CancelOrder, ClientOrderId, ExecKind, Order, TimeInForce};
    use crate::sim::{Fees, Funding};
    use pulse_core::margin::MarginTiers;
    use pulse_feeds::book::Level;
    use pulse_feeds::event::{BookState, BookTop, EventMeta, TradeEvent};
    use pulse_feeds::num::{InstrumentId, Px, Qty, Side};

    const MS: u64 = 1_000_000;

    struct Rig {
        stage: SimGatewayStage,
        market: rtrb::Producer<MarketEvent>,
        requests: rtrb::Producer<Request>,
        reports: rtrb::Consumer<ExecReport>,
    }

    fn rig(order_ms: u64, cancel_ms: u64) -> Rig {
        let (market, market_rx) = rtrb::RingBuffer::new(64);
        let (requests, requests_rx) = rtrb::RingBuffer::new(64);
        let (reports_tx, reports) = rtrb::RingBuffer::new(MIN_REPORTS_RING * 2);
        let stage = SimGatewayStage::new(
            SimVenue::new(1, Fees::default()),
            market_rx,
            requests_rx,
            reports_tx,
            LatencyProbe::detached(quanta::Clock::new()),
        )
        .with_latency(VenueLatency {
            order: Latency::Fixed(Nanos(order_ms * MS)),
            cancel: Latency::Fixed(Nanos(cancel_ms * MS)),
            ..VenueLatency::default()
        });
        Rig {
            stage,
            market,
            requests,
            reports,
        }
    }

    fn meta(ts: u64) -> EventMeta {
        EventMeta {
            recv_ts: Nanos(ts),
            ..EventMeta::default()
        }
    }

    fn book(ts: u64, bid: (i64, i64), ask: (i64, i64)) -> MarketEvent {
        let level = |(px, qty)| Level {
            px: Px(px),
            qty: Qty(qty),
        };
        MarketEvent::Book(BookTop::with_touch(
            meta(ts),
            BookState::Live,
            level(bid),
            level(ask),
        ))
    }

    fn order(id: u64, ts: u64, side: Side, px: i64, qty: i64, tif: TimeInForce) -> Request {
        Request::New(Order {
            meta: meta(ts),
            client_id: ClientOrderId(id),
            instrument: InstrumentId(0),
            side,
            px: Px(px),
            qty: Qty(qty),
            tif,
        })
    }

    /// (client id, kind, report time) of everything reported so far.
    fn reports(r: &mut Rig) -> Vec<(u64, ExecKind, u64)> {
        std::iter::from_fn(|| r.reports.pop().ok())
            .map(|x| (x.client_id.0, x.kind, x.ts.0))
            .collect()
    }

    fn taken(out: &[(u64, ExecKind, u64)]) -> i64 {
        out.iter()
            .map(|(_, k, _)| match k {
                ExecKind::Fill { qty, .. } => qty.0,
                _ => 0,
            })
            .sum()
    }

    /// The ask at 100 is gone 1 ms after the order was decided: an order that takes 2 ms to
    /// arrive finds it gone; without latency it takes it.
    #[test]
    fn an_order_meets_the_book_as_it_is_when_it_arrives() {
        for (latency, filled) in [(0, 5), (2, 0)] {
            let mut r = rig(latency, 0);
            r.market.push(book(0, (99, 5), (100, 5))).unwrap();
            r.requests
                .push(order(1, 0, Side::Buy, 100, 5, TimeInForce::Ioc))
                .unwrap();
            r.market.push(book(MS, (99, 5), (101, 5))).unwrap();
            r.stage.do_work(Nanos(0));
            let out = reports(&mut r);
            if latency > 0 {
                // Its moment has not come: no later event, and the clock is still before it.
                assert!(out.is_empty(), "{out:?}");
                r.market.push(book(3 * MS, (99, 5), (101, 5))).unwrap();
                r.stage.do_work(Nanos(0));
            } else {
                r.stage.do_work(Nanos(0));
            }
            let out = [out, reports(&mut r)].concat();
            assert_eq!(taken(&out), filled, "latency {latency} ms: {out:?}");
            assert!(out.iter().all(|(_, _, ts)| *ts == latency * MS), "{out:?}");
        }
    }

    /// A resting order is hit 0.5 ms after its cancel was decided: a cancel that takes 1 ms
    /// arrives too late.
    #[test]
    fn a_slow_cancel_can_arrive_after_the_fill() {
        for (cancel_ms, outcome) in [(0, ExecKind::Cancelled), (1, ExecKind::CancelRejected)] {
            let mut r = rig(0, cancel_ms);
            r.market.push(book(0, (99, 5), (101, 5))).unwrap();
            r.requests
                .push(order(1, 0, Side::Buy, 100, 2, TimeInForce::Gtc))
                .unwrap();
            r.stage.do_work(Nanos(0));
            r.requests
                .push(Request::Cancel(CancelOrder {
                    meta: meta(10 * MS),
                    client_id: ClientOrderId(1),
                    instrument: InstrumentId(0),
                    side: Side::Buy,
                }))
                .unwrap();
            r.market
                .push(MarketEvent::Trade(TradeEvent {
                    meta: meta(10 * MS + MS / 2),
                    trade_id: 1,
                    px: Px(99),
                    qty: Qty(3),
                    aggressor: Side::Sell,
                }))
                .unwrap();
            r.market.push(book(20 * MS, (98, 5), (101, 5))).unwrap();
            r.stage.do_work(Nanos(0));
            let out = reports(&mut r);
            assert_eq!(out.last().map(|(_, k, _)| *k), Some(outcome), "{out:?}");
            assert_eq!(taken(&out), if cancel_ms == 0 { 0 } else { 2 });
        }
    }

    /// Drawn latencies: the same seed gives the same reports; when intake stops, waiting
    /// requests go in without waiting for the clock.
    #[test]
    fn recorded_latencies_repeat_with_the_seed_and_a_drain_flushes_waiting_requests() {
        let run = |seed| {
            let mut r = rig(0, 0);
            r.stage = r.stage.with_latency(VenueLatency {
                order: Latency::Recorded(vec![MS / 2, MS, 3 * MS]),
                seed,
                ..VenueLatency::default()
            });
            let mut out = Vec::new();
            for i in 0..20u64 {
                let ts = i * MS;
                r.market
                    .push(book(ts, (99, 5), (100 + (i % 3) as i64, 1)))
                    .unwrap();
                r.requests
                    .push(order(i + 1, ts, Side::Buy, 101, 1, TimeInForce::Ioc))
                    .unwrap();
                r.stage.do_work(Nanos(0));
                out.extend(reports(&mut r));
            }
            r.stage.stop_intake();
            r.stage.do_work(Nanos(0));
            out.extend(reports(&mut r));
            out
        };
        let a = run(3);
        assert_eq!(a, run(3));
        assert_ne!(a, run(4));
        // Every order got its ack and its final report.
        let acks = a.iter().filter(|(_, k, _)| *k == ExecKind::Ack).count();
        assert_eq!(acks, 20);
    }

    /// A perpetual through the stage: long 10 at 1,000 with 10x (1,000 of margin) on one
    /// 0.5% tier has its liquidation price at (1,000 - 10,000) / (10 * 0.005 - 10) = 904.52,
    /// so 904: a mark of 905 leaves it, 904 closes it there and the venue keeps
    /// 1,000 - 960 = 40.
    #[test]
    fn a_derivatives_instrument_is_liquidated_through_the_stage() {
        let mut r = rig(0, 0);
        r.stage = r
            .stage
            .with_derivatives(
                InstrumentId(0),
                DerivativesSim {
                    leverage: 10,
                    tiers: MarginTiers::from_brackets(&[(1_000_000_000, 100, 50)]).unwrap(),
                    funding: Funding::Every {
                        interval: Nanos(8 * 3_600_000 * MS),
                        rate_e8: 0,
                    },
                    wallet_balance: 5_000,
                },
            )
            .unwrap();
        r.market.push(book(0, (999, 50), (1_000, 50))).unwrap();
        r.requests
            .push(order(1, 0, Side::Buy, 1_000, 10, TimeInForce::Ioc))
            .unwrap();
        r.market.push(book(MS, (904, 50), (906, 50))).unwrap();
        r.stage.do_work(Nanos(0));
        assert_eq!(taken(&reports(&mut r)), 10);
        r.market.push(book(2 * MS, (903, 50), (905, 50))).unwrap();
        r.stage.do_work(Nanos(0));
        let liquidation = ExecKind::Liquidation {
            px: Px(904),
            qty: Qty(10),
            fee: 40,
        };
        assert_eq!(reports(&mut r), [(0, liquidation, 2 * MS)]);
        assert_eq!(r.stage.venue().account().positions, [Qty(0)]);
    }
}
