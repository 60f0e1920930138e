//! The built-in strategies as one closed set: an enum whose dispatch is a `match`, itself a
//! [`Strategy`] like any other.

use pulse_core::event::MarketEvent;
use pulse_core::intent::{AgentKind, Feedback, Intent, Intents};
use pulse_core::metrics::{MetricLabel, MetricSink, Report};
use pulse_core::num::Nanos;

use crate::counters::StrategyCounter;
use crate::ensemble::{EnsembleConfig, EnsembleStrategy};
use crate::imbalance::{ImbalanceConfig, ImbalanceTaker};
use crate::market_maker::{MarketMaker, MarketMakerConfig};
use crate::params::StrategyDecl;
use crate::strategy::Strategy;

/// Every built-in `kind` and its knobs, in the order `pulse strategies` lists them.
pub const BUILTIN_KINDS: &[StrategyDecl] = &[
    ImbalanceConfig::DECL,
    EnsembleConfig::DECL,
    MarketMakerConfig::DECL,
];

pub enum BuiltinStrategy {
    Imbalance(ImbalanceTaker),
    /// Boxed: indicator windows and the policy network make it far larger than the other.
    Ensemble(Box<EnsembleStrategy>),
    /// Boxed: its quote table makes it three times the taker's size.
    MarketMaker(Box<MarketMaker>),
    /// Several of the above, `[[strategies]]`.
    Set(Box<crate::set::StrategySet<BuiltinStrategy>>),
}

impl Strategy for BuiltinStrategy {
    fn name(&self) -> &'static str {
        match self {
            BuiltinStrategy::Imbalance(_) => "book-imbalance",
            BuiltinStrategy::Ensemble(_) => "ensemble",
            BuiltinStrategy::MarketMaker(_) => "market-maker",
            BuiltinStrategy::Set(s) => s.name(),
        }
    }

    #[inline]
    fn on_market(&mut self, event: &MarketEvent, out: &mut Intents) {
        let single = match (self, event) {
            (BuiltinStrategy::Imbalance(s), MarketEvent::Book(top)) => s.on_book(top),
            (BuiltinStrategy::Imbalance(_), _) => None,
            (BuiltinStrategy::Ensemble(s), event) => s.on_event(event),
            (BuiltinStrategy::MarketMaker(s), event) => {
                s.on_event(event, out);
                None
            }
            (BuiltinStrategy::Set(s), event) => {
                s.on_market(event, out);
                None
            }
        };
        if let Some(intent) = single {
            out.push(Intent::New(intent));
        }
    }

    #[inline]
    fn on_feedback(&mut self, feedback: &Feedback, out: &mut Intents) {
        match self {
            BuiltinStrategy::Imbalance(s) => s.on_feedback(feedback),
            BuiltinStrategy::Ensemble(s) => s.on_feedback(feedback),
            BuiltinStrategy::MarketMaker(s) => s.on_feedback(feedback),
            BuiltinStrategy::Set(s) => s.on_feedback(feedback, out),
        }
    }

    fn report(&self, out: MetricSink<'_>) {
        let (signals, intents) = match self {
            BuiltinStrategy::Set(s) => return s.report(out),
            BuiltinStrategy::Imbalance(s) => (s.counters.signals, s.counters.intents),
            BuiltinStrategy::Ensemble(s) => (s.counters.decisions, s.counters.intents),
            BuiltinStrategy::MarketMaker(s) => (
                s.counters.quotes + s.counters.cancels,
                s.counters.quotes + s.counters.cancels,
            ),
        };
        out(StrategyCounter::Signals.count(MetricLabel::None, signals));
        out(StrategyCounter::Intents.count(MetricLabel::None, intents));
        if let BuiltinStrategy::Ensemble(s) = self {
            for agent in AgentKind::ALL {
                let label = MetricLabel::Tag("agent", agent.name());
                let n = s.counters.signals[agent.index()];
                out(StrategyCounter::AgentSignals.count(label, n));
            }
        }
    }

    fn on_timer(&mut self, now: Nanos, out: &mut Intents) {
        if let BuiltinStrategy::Set(s) = self {
            s.on_timer(now, out);
        }
    }
}
