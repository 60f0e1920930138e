//! The strategy stage: market events and feedback in, intents out. It is generic over the
//! [`Strategy`] it hosts, so each event costs a static call, never a virtual one.

use pulse_core::counters::CoreCounter;
use pulse_core::event::{drain_market_until, MarketEvent};
use pulse_core::intent::{Feedback, Intent, Intents, RejectReason};
use pulse_core::latency::LatencyProbe;
use pulse_core::metrics::{MetricLabel, MetricSink, Report};
use pulse_core::num::Nanos;
use pulse_core::stage::Stage;

use crate::builtin::BuiltinStrategy;
use crate::strategy::Strategy;

const EVENTS_PER_CALL: usize = 1024;

pub struct StrategyStage<S: Strategy = BuiltinStrategy> {
    strategy: S,
    market: rtrb::Consumer<MarketEvent>,
    feedback: rtrb::Consumer<Feedback>,
    intents: rtrb::Producer<Intent>,
    probe: LatencyProbe,
    /// What the strategy decided on the event in hand.
    pending: Intents,
    /// What it decides on hearing that the ring towards risk was full: dropped, the ring is.
    spill: Intents,
    /// Intents lost to a full ring towards risk: counted, and the strategy is told at once.
    pub intents_ring_full: u64,
}

impl<S: Strategy> StrategyStage<S> {
    pub fn new(
        strategy: S,
        market: rtrb::Consumer<MarketEvent>,
        feedback: rtrb::Consumer<Feedback>,
        intents: rtrb::Producer<Intent>,
        probe: LatencyProbe,
    ) -> StrategyStage<S> {
        StrategyStage {
            strategy,
            market,
            feedback,
            intents,
            probe,
            pending: Intents::default(),
            spill: Intents::default(),
            intents_ring_full: 0,
        }
    }

    pub fn strategy(&self) -> &S {
        &self.strategy
    }
}

impl<S: Strategy> Stage for StrategyStage<S> {
    fn name(&self) -> &'static str {
        "strategy"
    }

    fn report(&self, out: MetricSink<'_>) {
        self.strategy.report(&mut *out);
        let ring = MetricLabel::Tag("ring", "intents");
        out(CoreCounter::RingFull.count(ring, self.intents_ring_full));
    }

    fn do_work(&mut self, now: Nanos) -> usize {
        let mut work = 0;
        let mut out = Outbound {
            ring: &mut self.intents,
            pending: &mut self.pending,
            spill: &mut self.spill,
            ring_full: &mut self.intents_ring_full,
        };
        self.strategy.on_timer(now, out.pending);
        out.send(&mut self.strategy);
        while let Ok(feedback) = self.feedback.pop() {
            self.strategy.on_feedback(&feedback, out.pending);
            out.send(&mut self.strategy);
            work += 1;
        }
        let budget = EVENTS_PER_CALL.saturating_sub(work);
        work += drain_market_until(&mut self.market, None, budget, |event| {
            self.strategy.on_market(event, out.pending);
            out.send(&mut self.strategy);
            if let MarketEvent::Book(top) = event {
                self.probe.record_since(top.meta.ingress);
            }
        });
        work
    }
}

/// The way out of the stage: the ring towards risk and the buffers the strategy writes into.
struct Outbound<'a> {
    ring: &'a mut rtrb::Producer<Intent>,
    pending: &'a mut Intents,
    spill: &'a mut Intents,
    ring_full: &'a mut u64,
}

impl Outbound<'_> {
    /// Sends what the strategy decided towards risk, in order, and empties `pending`; an
    /// intent the ring refuses is counted and refused back to the strategy.
    #[inline]
    fn send<S: Strategy>(&mut self, strategy: &mut S) {
        for intent in self.pending.iter() {
            if self.ring.push(intent).is_err() {
                *self.ring_full += 1;
                let refused = Feedback::Rejected {
                    instrument: intent.instrument(),
                    tag: intent.tag(),
                    reason: RejectReason::RingFull,
                };
                self.spill.clear();
                strategy.on_feedback(&refused, self.spill);
            }
        }
        self.pending.clear();
    }
}
