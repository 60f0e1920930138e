//! The meta-agent: how much each agent's voice counts, by regime and by how its recent calls
//! turned out.
//!
//! Base weights come from config, one row per regime (an agent that suits trends weighs more in
//! bull and bear markets). Each agent's calls are scored after `horizon` book events: the mid's
//! move in bps, positive when the call was right; an EMA of those scores scales the agent's
//! weight by `1 + score / score_scale_bps`, clamped to `[min_factor, max_factor]`. An agent that
//! keeps calling it wrong fades; one that calls it right grows, within bounds. Allocation-free:
//! each agent has one pending call at a time (a new call while one is pending is not scored).

use super::regime::{Regime, REGIMES};
use super::signal::Signal;
use crate::params::{ParamDecl, Params};
use pulse_core::intent::{AgentKind, AGENTS};

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MetaParams {
    /// `weights[regime][agent]`, regimes in [`Regime::ALL`] order, agents in
    /// [`AgentKind::ALL`] order.
    pub weights: [[f64; AGENTS]; REGIMES],
    /// Book events after which a call is scored.
    pub horizon: u32,
    /// Smoothing of the score EMA (alpha).
    pub score_alpha: f64,
    pub score_scale_bps: f64,
    pub min_factor: f64,
    pub max_factor: f64,
}

/// A base weight: `<regime>_<agent>` in `[strategy.meta]`.
const fn weight(name: &'static str, default: f64) -> ParamDecl {
    ParamDecl::decimal(
        name,
        0.0,
        100.0,
        default,
        "an agent's base weight in a regime",
    )
}

impl MetaParams {
    /// `[strategy.meta]`. The base weights: an agent that suits trends (conservative,
    /// aggressive) weighs more in bull and bear markets, the contrarian in a sideways one.
    pub const PARAMS: &'static [ParamDecl] = &[
        ParamDecl::int(
            "horizon",
            1.0,
            1_000_000.0,
            50.0,
            "book events after which a call is scored",
        ),
        ParamDecl::decimal("score_alpha", 0.0, 1.0, 0.1, "smoothing of the score EMA"),
        ParamDecl::decimal(
            "score_scale_bps",
            0.001,
            10_000.0,
            5.0,
            "a score of this many bps doubles a weight",
        ),
        ParamDecl::decimal(
            "min_factor",
            0.0,
            100.0,
            0.25,
            "lowest score factor on a weight",
        ),
        ParamDecl::decimal(
            "max_factor",
            0.0,
            100.0,
            2.0,
            "highest score factor on a weight",
        ),
        weight("bull_conservative", 1.5),
        weight("bull_aggressive", 1.2),
        weight("bull_balanced", 1.0),
        weight("bull_contrarian", 0.3),
        weight("bull_policy", 1.0),
        weight("bear_conservative", 1.5),
        weight("bear_aggressive", 1.2),
        weight("bear_balanced", 1.0),
        weight("bear_contrarian", 0.3),
        weight("bear_policy", 1.0),
        weight("sideways_conservative", 0.5),
        weight("sideways_aggressive", 0.6),
        weight("sideways_balanced", 1.0),
        weight("sideways_contrarian", 1.5),
        weight("sideways_policy", 1.0),
    ];

    pub fn from_params(p: &Params) -> MetaParams {
        let mut weights = [[0.0; AGENTS]; REGIMES];
        for regime in Regime::ALL {
            for agent in AgentKind::ALL {
                let name = format!("{}_{}", regime.name(), agent.name());
                weights[regime.index()][agent.index()] = p.value(&name);
            }
        }
        MetaParams {
            weights,
            horizon: p.count("horizon") as u32,
            score_alpha: p.value("score_alpha"),
            score_scale_bps: p.value("score_scale_bps"),
            min_factor: p.value("min_factor"),
            max_factor: p.value("max_factor"),
        }
    }
}

impl Default for MetaParams {
    /// The declared defaults.
    fn default() -> MetaParams {
        MetaParams::from_params(&Params::defaults(MetaParams::PARAMS))
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct Pending {
    /// +1 buy, -1 sell.
    sign: f64,
    mid: f64,
    due: u64,
}

#[derive(Clone, Copy, Debug, Default)]
struct Record {
    pending: Option<Pending>,
    score_bps: f64,
    calls: u64,
    scored: u64,
}

pub struct MetaAgent {
    params: MetaParams,
    records: [Record; AGENTS],
    events: u64,
}

impl MetaAgent {
    pub fn new(params: MetaParams) -> MetaAgent {
        MetaAgent {
            params,
            records: [Record::default(); AGENTS],
            events: 0,
        }
    }

    /// Scores the calls that are due at this book event (mid in quote units).
    pub fn on_event(&mut self, mid: f64) {
        self.events += 1;
        if mid <= 0.0 {
            return;
        }
        let alpha = self.params.score_alpha;
        for r in &mut self.records {
            let Some(p) = r.pending else { continue };
            if self.events < p.due {
                continue;
            }
            let outcome_bps = p.sign * (mid - p.mid) / p.mid * 10_000.0;
            r.score_bps = if r.scored == 0 {
                outcome_bps
            } else {
                r.score_bps + alpha * (outcome_bps - r.score_bps)
            };
            r.scored += 1;
            r.pending = None;
        }
    }

    /// Remembers `agent`'s call at `mid`, to score it `horizon` events from now.
    pub fn on_call(&mut self, agent: AgentKind, signal: &Signal, mid: f64) {
        let r = &mut self.records[agent.index()];
        r.calls += 1;
        if r.pending.is_none() && mid > 0.0 {
            r.pending = Some(Pending {
                sign: signal.score().signum(),
                mid,
                due: self.events + u64::from(self.params.horizon),
            });
        }
    }

    /// The performance factor of `agent`: 1 until its first call is scored.
    pub fn factor(&self, agent: AgentKind) -> f64 {
        let r = &self.records[agent.index()];
        if r.scored == 0 {
            return 1.0;
        }
        (1.0 + r.score_bps / self.params.score_scale_bps)
            .clamp(self.params.min_factor, self.params.max_factor)
    }

    /// Every agent's weight in `regime`: the configured base times its performance factor.
    pub fn weights(&self, regime: Regime) -> [f64; AGENTS] {
        let base = self.params.weights[regime.index()];
        let mut w = [0.0; AGENTS];
        for agent in AgentKind::ALL {
            w[agent.index()] = base[agent.index()] * self.factor(agent);
        }
        w
    }

    /// (calls, scored, score in bps) of `agent`, for reports.
    pub fn record(&self, agent: AgentKind) -> (u64, u64, f64) {
        let r = &self.records[agent.index()];
        (r.calls, r.scored, r.score_bps)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pulse_core::num::Side;

    fn params() -> MetaParams {
        MetaParams {
            horizon: 2,
            score_alpha: 0.5,
            ..MetaParams::default()
        }
    }

    #[test]
    fn right_calls_grow_a_weight_and_wrong_ones_shrink_it() {
        let mut m = MetaAgent::new(params());
        let buy = Signal::new(Side::Buy, 1.0, 1.0);
        m.on_event(100.0);
        m.on_call(AgentKind::Aggressive, &buy, 100.0);
        m.on_call(
            AgentKind::Contrarian,
            &Signal::new(Side::Sell, 1.0, 1.0),
            100.0,
        );
        assert_eq!(m.factor(AgentKind::Aggressive), 1.0, "not scored yet");
        m.on_event(100.05);
        m.on_event(100.05); // due: +5 bps for the buyer, -5 for the seller
        assert!((m.factor(AgentKind::Aggressive) - 2.0).abs() < 1e-9);
        assert!(
            (m.factor(AgentKind::Contrarian) - 0.25).abs() < 1e-9,
            "clamped"
        );
        let w = m.weights(Regime::Sideways);
        assert!((w[AgentKind::Aggressive.index()] - 0.6 * 2.0).abs() < 1e-9);
        assert!(
            (w[AgentKind::Balanced.index()] - 1.0).abs() < 1e-12,
            "never called"
        );
        // A second, losing call is smoothed in: 5 + 0.5 * (-10 - 5) = -2.5 bps.
        m.on_call(AgentKind::Aggressive, &buy, 100.05);
        m.on_event(100.05);
        m.on_event(99.949_95);
        let (calls, scored, score) = m.record(AgentKind::Aggressive);
        assert_eq!((calls, scored), (2, 2));
        assert!((score - -2.5).abs() < 1e-3, "{score}");
        assert!((m.factor(AgentKind::Aggressive) - 0.5).abs() < 1e-3);
    }

    #[test]
    fn one_pending_call_per_agent() {
        let mut m = MetaAgent::new(params());
        let buy = Signal::new(Side::Buy, 1.0, 1.0);
        m.on_call(AgentKind::Balanced, &buy, 100.0);
        m.on_call(AgentKind::Balanced, &buy, 200.0);
        m.on_event(110.0);
        m.on_event(110.0);
        let (calls, scored, score) = m.record(AgentKind::Balanced);
        assert_eq!((calls, scored), (2, 1));
        assert!(
            (score - 1000.0).abs() < 1e-9,
            "scored against the first call's mid"
        );
    }
}
