//! The strategy stage: market events and feedback in, intents out. It hosts one strategy from
//! the closed set [`Strategy`].

use pulse_core::event::{drain_market_until, MarketEvent};
use pulse_core::latency::LatencyProbe;
use pulse_core::metrics::{Metric, MetricLabel, MetricSink};
use pulse_core::num::Nanos;
use pulse_core::stage::Stage;

use crate::agents::AgentKind;
use crate::ensemble::EnsembleStrategy;
use crate::imbalance::ImbalanceTaker;
use crate::market_maker::MarketMaker;
use pulse_core::intent::RejectReason;
use pulse_core::intent::{Feedback, Intent, Intents};

const EVENTS_PER_CALL: usize = 1024;

pub enum Strategy {
    Imbalance(ImbalanceTaker),
    /// Boxed: indicator windows and the policy network make it far larger than the other.
    Ensemble(Box<EnsembleStrategy>),
    /// Boxed: its quote table makes it three times the taker's size.
    MarketMaker(Box<MarketMaker>),
}

impl Strategy {
    /// Hands the strategy one market event; what it decides goes into `out`.
    pub fn on_event(&mut self, event: &MarketEvent, out: &mut Intents) {
        let single = match (self, event) {
            (Strategy::Imbalance(s), MarketEvent::Book(top)) => s.on_book(top),
            (Strategy::Imbalance(_), _) => None,
            (Strategy::Ensemble(s), event) => s.on_event(event),
            (Strategy::MarketMaker(s), event) => {
                s.on_event(event, out);
                None
            }
        };
        if let Some(intent) = single {
            out.push(Intent::New(intent));
        }
    }

    pub fn on_feedback(&mut self, feedback: &Feedback) {
        match self {
            Strategy::Imbalance(s) => s.on_feedback(feedback),
            Strategy::Ensemble(s) => s.on_feedback(feedback),
            Strategy::MarketMaker(s) => s.on_feedback(feedback),
        }
    }
}

pub struct StrategyStage {
    strategy: Strategy,
    market: rtrb::Consumer<MarketEvent>,
    feedback: rtrb::Consumer<Feedback>,
    intents: rtrb::Producer<Intent>,
    probe: LatencyProbe,
    /// What the strategy decided on the event in hand.
    pending: Intents,
    /// Intents lost to a full ring towards risk: counted, and the strategy is told at once.
    pub intents_ring_full: u64,
}

impl StrategyStage {
    pub fn new(
        strategy: Strategy,
        market: rtrb::Consumer<MarketEvent>,
        feedback: rtrb::Consumer<Feedback>,
        intents: rtrb::Producer<Intent>,
        probe: LatencyProbe,
    ) -> StrategyStage {
        StrategyStage {
            strategy,
            market,
            feedback,
            intents,
            probe,
            pending: Intents::default(),
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
            Strategy::MarketMaker(s) => (
                s.counters.quotes + s.counters.cancels,
                s.counters.quotes + s.counters.cancels,
            ),
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
        work += drain_market_until(
            &mut self.market,
            None,
            EVENTS_PER_CALL.saturating_sub(work),
            |event| {
                self.pending.clear();
                self.strategy.on_event(event, &mut self.pending);
                for intent in self.pending.iter() {
                    if self.intents.push(intent).is_err() {
                        self.intents_ring_full += 1;
                        self.strategy.on_feedback(&Feedback::Rejected {
                            instrument: intent.instrument(),
                            tag: intent.tag(),
                            reason: RejectReason::RingFull,
                        });
                    }
                }
                if let MarketEvent::Book(top) = event {
                    self.probe.record_since(top.meta.ingress);
                }
            },
        );
        work
    }
}
