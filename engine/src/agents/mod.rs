//! Trading agents (DESIGN.md, "Strategy and agents"): a few simple, different opinions about
//! the same market, each a [`Signal`] with a confidence, weighed by a meta-agent that knows the
//! market's regime and how each agent has fared lately, and combined by an aggregator that drops
//! anything below the minimum confidence.
//!
//! Agents read a [`MarketView`]: the indicators of one instrument, scale-free (basis points,
//! ratios), so the same thresholds work for any instrument. Everything here is `f64`
//! arithmetic without transcendental functions beyond `tanh`, evaluated in a fixed order: a
//! given binary reproduces every decision from the same input, which replay relies on. No value
//! computed here crosses a ring; intents carry integer prices and quantities.

pub mod aggregate;
pub mod meta;
pub mod regime;
pub mod rules;
pub mod view;

use pulse_feeds::num::Side;

pub use view::MarketView;

/// One agent's opinion.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Signal {
    pub side: Side,
    /// How far to lean, 0 to 1 (sizing may use it).
    pub strength: f64,
    /// How sure the agent is, 0 to 1.
    pub confidence: f64,
}

impl Signal {
    /// A signal with both values clamped into 0..=1 (and NaN taken as 0).
    pub fn new(side: Side, strength: f64, confidence: f64) -> Signal {
        Signal {
            side,
            strength: unit(strength),
            confidence: unit(confidence),
        }
    }

    /// +confidence for a buy, -confidence for a sell.
    pub fn score(&self) -> f64 {
        match self.side {
            Side::Buy => self.confidence,
            Side::Sell => -self.confidence,
        }
    }
}

fn unit(x: f64) -> f64 {
    if x.is_nan() {
        0.0
    } else {
        x.clamp(0.0, 1.0)
    }
}

pub use pulse_core::intent::{AgentKind, AGENTS};
