//! The strategy stage: market events and feedback in, intents out. It hosts one strategy from
//! the closed set [`Strategy`].

use pulse_feeds::event::MarketEvent;
use pulse_feeds::latency::LatencyProbe;
use pulse_feeds::metrics::{Metric, MetricLabel, MetricSink};
use pulse_feeds::num::Nanos;
use pulse_feeds::stage::Stage;

use crate::agents::AgentKind;
use crate::intent::{Feedback, OrderIntent};
use crate::strategy::ensemble::EnsembleStrategy;
use crate::strategy::imbalance::ImbalanceTaker;

const EVENTS_PER_CALL: usize = 1024;

pub enum Strategy {
    Imbalance(ImbalanceTaker),
    /// Boxed: indicator windows and the policy network make it far larger than the other.
    Ensemble(Box<EnsembleStrategy>),
}

impl Strategy {
    pub fn on_event(&mut self, event: &MarketEvent) -> Option<OrderIntent> {
        match (self, event) {
            (Strategy::Imbalance(s), MarketEvent::Book(top)) => s.on_book(top),
            (Strategy::Imbalance(_), _) => None,
            (Strategy::Ensemble(s), event) => s.on_event(event),
        }
    }

    pub fn on_feedback(&mut self, feedback: &Feedback) {
        match self {
            Strategy::Imbalance(s) => s.on_feedback(feedback),
            Strategy::Ensemble(s) => s.on_feedback(feedback),
        }
    }
}

pub struct StrategyStage {
    strategy: Strategy,
    market: rtrb::Consumer<MarketEvent>,
    feedback: rtrb::Consumer<Feedback>,
    intents: rtrb::Producer<OrderIntent>,
    probe: LatencyProbe,
    /// Intents lost to a full ring towards risk: counted, and the strategy is told at once.
    pub intents_ring_full: u64,
}

impl StrategyStage {
    pub fn new(
        strategy: Strategy,
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

    pub fn strategy(&self) -> &Strategy {
        &self.strategy
    }
}

impl Stage for StrategyStage {
    fn name(&self) -> &'static str {
        "strategy"
    }

    fn report(&self, out: MetricSink<'_>) {
        let (signals, intents) = match &self.strategy {
            Strategy::Imbalance(s) => (s.counters.signals, s.counters.intents),
            Strategy::Ensemble(s) => (s.counters.decisions, s.counters.intents),
        };
        out(Metric::counter(
            "strategy_signals",
            MetricLabel::None,
            signals,
        ));
        out(Metric::counter(
            "strategy_intents",
            MetricLabel::None,
            intents,
        ));
        if let Strategy::Ensemble(s) = &self.strategy {
            for agent in AgentKind::ALL {
                let label = MetricLabel::Tag("agent", agent.name());
                let n = s.counters.signals[agent.index()];
                out(Metric::counter("agent_signals", label, n));
            }
        }
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
            if let Some(intent) = self.strategy.on_event(&event) {
                if self.intents.push(intent).is_err() {
                    self.intents_ring_full += 1;
                    self.strategy.on_feedback(&Feedback::Rejected {
                        instrument: intent.instrument,
                        reason: crate::risk::RejectReason::RingFull,
                    });
                }
            }
            if let MarketEvent::Book(top) = event {
                self.probe.record_since(top.meta.ingress);
            }
        }
        work
    }
}
