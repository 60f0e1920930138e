//! The strategy stage: market events and feedback in, intents out.

use pulse_feeds::event::MarketEvent;
use pulse_feeds::latency::LatencyProbe;
use pulse_feeds::metrics::{Metric, MetricLabel, MetricSink};
use pulse_feeds::num::Nanos;
use pulse_feeds::stage::Stage;

use crate::intent::{Feedback, OrderIntent};
use crate::strategy::imbalance::ImbalanceTaker;

const EVENTS_PER_CALL: usize = 1024;

pub struct StrategyStage {
    strategy: ImbalanceTaker,
    market: rtrb::Consumer<MarketEvent>,
    feedback: rtrb::Consumer<Feedback>,
    intents: rtrb::Producer<OrderIntent>,
    probe: LatencyProbe,
    /// Intents lost to a full ring towards risk: counted, and the strategy is told at once.
    pub intents_ring_full: u64,
}

impl StrategyStage {
    pub fn new(
        strategy: ImbalanceTaker,
        market: rtrb::Consumer<MarketEvent>,
        feedback: rtrb::Consumer<Feedback>,
        intents: rtrb::Producer<OrderIntent>,
        probe: LatencyProbe,
    ) -> StrategyStage {
        StrategyStage {
            strategy,
            market,
            feedback,
            intents,
            probe,
            intents_ring_full: 0,
        }
    }

    pub fn strategy(&self) -> &ImbalanceTaker {
        &self.strategy
    }
}

impl Stage for StrategyStage {
    fn name(&self) -> &'static str {
        "strategy"
    }

    fn report(&self, out: MetricSink<'_>) {
        let c = &self.strategy.counters;
        out(Metric::counter(
            "strategy_signals",
            MetricLabel::None,
            c.signals,
        ));
        out(Metric::counter(
            "strategy_intents",
            MetricLabel::None,
            c.intents,
        ));
        let ring = MetricLabel::Tag("ring", "intents");
        out(Metric::counter("ring_full", ring, self.intents_ring_full));
    }

    fn do_work(&mut self, _now: Nanos) -> usize {
        let mut work = 0;
        while let Ok(feedback) = self.feedback.pop() {
            self.strategy.on_feedback(&feedback);
            work += 1;
        }
        while work < EVENTS_PER_CALL {
            let Ok(event) = self.market.pop() else {
                break;
            };
            work += 1;
            let MarketEvent::Book(top) = event else {
                continue;
            };
            if let Some(intent) = self.strategy.on_book(&top) {
                if self.intents.push(intent).is_err() {
                    self.intents_ring_full += 1;
                    self.strategy.on_feedback(&Feedback::Rejected {
                        instrument: intent.instrument,
                        reason: crate::risk::RejectReason::RingFull,
                    });
                }
            }
            self.probe.record_since(top.meta.ingress);
        }
        work
    }
}
