//! One agent's opinion: a side, a strength and a confidence.

use pulse_core::num::Side;

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
