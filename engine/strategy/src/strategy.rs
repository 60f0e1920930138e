//! The [`Strategy`] trait: what a strategy sees (market events, order feedback, the time) and
//! what it says (intents). The same code runs live, on paper and in replay: the strategy stage
//! calls it the same way whatever feeds the market ring and whatever answers the orders.

use pulse_core::event::MarketEvent;
use pulse_core::intent::{Feedback, Intents};
use pulse_core::metrics::MetricSink;
use pulse_core::num::Nanos;

/// A trading strategy, hosted by a [`StrategyStage`](crate::stage::StrategyStage) that is
/// generic over it, so every call is static. Each hook appends what it decides to `out`, in
/// order; at most [`MAX_INTENTS_PER_EVENT`](pulse_core::intent::MAX_INTENTS_PER_EVENT) per
/// call. Hooks run on the hot path: no allocation, no lock, no panic.
pub trait Strategy {
    /// What the summary and the stats call it (`book-imbalance`, `my-strategy`).
    fn name(&self) -> &'static str;

    /// One market event: a book snapshot, a trade, a status change.
    fn on_market(&mut self, event: &MarketEvent, out: &mut Intents);

    /// What became of an intent: accepted, filled, refused by risk or by the venue.
    fn on_feedback(&mut self, _feedback: &Feedback, _out: &mut Intents) {}

    /// Once per pass of the stage with the runner's clock, before the pass's events.
    fn on_timer(&mut self, _now: Nanos, _out: &mut Intents) {}

    /// The strategy's own counters, for the stats file and Prometheus.
    fn report(&self, _out: MetricSink<'_>) {}
}
