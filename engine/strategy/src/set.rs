//! Several built-in strategies in one strategy stage (`[[strategies]]`): one account and one
//! risk stage behind them, each strategy trading instruments no other trades.
//!
//! Every market event goes to every member (each reads what it wants: its own instrument, or
//! others' as context), so a strategy may read several venues' books. Feedback goes to the one
//! member trading the instrument it is about, by a table indexed by instrument: O(1), and no
//! tag rewriting, so a member's tags and client ids are its own as when it runs alone.

use pulse_core::event::MarketEvent;
use pulse_core::intent::{Feedback, Intents};
use pulse_core::metrics::{Metric, MetricLabel, MetricSink};
use pulse_core::num::{InstrumentId, Nanos};

use crate::strategy::Strategy;

/// One strategy of a set and the instrument it trades (`S`: the built-in strategies, which
/// name the set as one of their own kinds).
pub struct Member<S> {
    pub strategy: S,
    pub instrument: InstrumentId,
}

pub struct StrategySet<S> {
    members: Vec<Member<S>>,
    /// By `InstrumentId.0`: the index of the member trading it, or [`NO_MEMBER`].
    owner: Vec<u8>,
}

const NO_MEMBER: u8 = u8::MAX;

impl<S> StrategySet<S> {
    /// A set of `members`; an error when two trade the same instrument, or there are more than
    /// 254.
    pub fn new(members: Vec<Member<S>>) -> Result<StrategySet<S>, String> {
        if members.len() >= usize::from(NO_MEMBER) {
            return Err(format!(
                "{} strategies: a set holds at most {}",
                members.len(),
                NO_MEMBER - 1
            ));
        }
        let slots = members
            .iter()
            .map(|m| usize::from(m.instrument.0) + 1)
            .max()
            .unwrap_or(0);
        let mut owner = vec![NO_MEMBER; slots];
        for (n, m) in members.iter().enumerate() {
            let slot = &mut owner[usize::from(m.instrument.0)];
            if *slot != NO_MEMBER {
                return Err(format!(
                    "instrument {} is traded by two strategies",
                    m.instrument.0
                ));
            }
            *slot = n as u8;
        }
        Ok(StrategySet { members, owner })
    }

    pub fn members(&self) -> &[Member<S>] {
        &self.members
    }

    fn owner_of(&mut self, instrument: InstrumentId) -> Option<&mut Member<S>> {
        let n = *self.owner.get(usize::from(instrument.0))?;
        self.members.get_mut(usize::from(n))
    }
}

impl<S: Strategy> Strategy for StrategySet<S> {
    fn name(&self) -> &'static str {
        "strategies"
    }

    #[inline]
    fn on_market(&mut self, event: &MarketEvent, out: &mut Intents) {
        for m in &mut self.members {
            m.strategy.on_market(event, out);
        }
    }

    #[inline]
    fn on_feedback(&mut self, feedback: &Feedback, out: &mut Intents) {
        if let Some(m) = self.owner_of(feedback.instrument()) {
            m.strategy.on_feedback(feedback, out);
        }
    }

    fn on_timer(&mut self, now: Nanos, out: &mut Intents) {
        for m in &mut self.members {
            m.strategy.on_timer(now, out);
        }
    }

    /// Each member's counters under its instrument's label (a counter a member labels itself,
    /// such as the ensemble's per-agent signals, keeps its own label).
    fn report(&self, out: MetricSink<'_>) {
        for m in &self.members {
            let mut relabel = |metric: Metric| {
                let label = match metric.label {
                    MetricLabel::None => MetricLabel::Instrument(m.instrument),
                    other => other,
                };
                out(Metric { label, ..metric })
            };
            m.strategy.report(&mut relabel);
        }
    }
}

#[cfg(test)]
mod tests;
