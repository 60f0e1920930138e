//! The signal aggregator: one decision from the agents' signals and the meta-agent's weights,
//! or none when the ensemble is not sure enough.
//!
//! Each signalling agent votes `weight * confidence` for its side; the net vote divided by the
//! weight of the agents that spoke is the ensemble's confidence, from -1 (every voice sure of a
//! sell) to 1. Silent agents neither support nor oppose (they have no opinion, which is not a
//! vote against). Anything below `min_confidence` (default 60%) is dropped.

use pulse_core::num::Side;

use super::signal::Signal;
use pulse_core::intent::{AgentKind, AGENTS};

/// The aggregator's threshold: DESIGN.md's default minimum confidence.
pub const DEFAULT_MIN_CONFIDENCE: f64 = 0.6;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Decision {
    pub side: Side,
    /// |net vote|, 0 to 1.
    pub confidence: f64,
    /// Weighted mean strength of the agents on the winning side.
    pub strength: f64,
    /// Agents that spoke.
    pub voices: u32,
    /// The agent with the largest weighted vote on the winning side (the first on a tie).
    pub lead: Option<AgentKind>,
}

/// Combines `signals` (by agent index) under `weights`; `None` below `min_confidence`.
pub fn aggregate(
    signals: &[Option<Signal>; AGENTS],
    weights: &[f64; AGENTS],
    min_confidence: f64,
) -> Option<Decision> {
    let (mut net, mut spoke, mut voices) = (0.0, 0.0, 0u32);
    for (signal, &w) in signals.iter().zip(weights) {
        if let Some(s) = signal {
            if w > 0.0 {
                net += w * s.score();
                spoke += w;
                voices += 1;
            }
        }
    }
    if spoke <= 0.0 {
        return None;
    }
    let confidence = (net / spoke).abs();
    if confidence < min_confidence || net == 0.0 {
        return None;
    }
    let side = if net > 0.0 { Side::Buy } else { Side::Sell };
    let (mut sum, mut wsum) = (0.0, 0.0);
    let mut lead: Option<(AgentKind, f64)> = None;
    for ((signal, &w), agent) in signals.iter().zip(weights).zip(AgentKind::ALL) {
        if let Some(s) = signal.filter(|s| s.side == side) {
            sum += w * s.strength;
            wsum += w;
            let vote = w * s.confidence;
            if w > 0.0 && lead.is_none_or(|(_, best)| vote > best) {
                lead = Some((agent, vote));
            }
        }
    }
    Some(Decision {
        side,
        confidence,
        strength: if wsum > 0.0 { sum / wsum } else { 0.0 },
        voices,
        lead: lead.map(|(agent, _)| agent),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(side: Side, strength: f64, confidence: f64) -> Option<Signal> {
        Some(Signal::new(side, strength, confidence))
    }

    #[test]
    fn agreeing_confident_voices_pass() {
        let signals = [
            s(Side::Buy, 0.5, 0.8),
            s(Side::Buy, 1.0, 0.7),
            None,
            None,
            None,
        ];
        let d = aggregate(&signals, &[1.0, 2.0, 1.0, 1.0, 1.0], 0.6).unwrap();
        assert_eq!(d.side, Side::Buy);
        assert!((d.confidence - (0.8 + 1.4) / 3.0).abs() < 1e-12);
        assert!((d.strength - (0.5 + 2.0) / 3.0).abs() < 1e-12);
        assert_eq!(d.voices, 2);
    }

    #[test]
    fn disagreement_and_low_confidence_are_dropped() {
        let split = [
            s(Side::Buy, 1.0, 0.9),
            s(Side::Sell, 1.0, 0.9),
            None,
            None,
            None,
        ];
        assert_eq!(aggregate(&split, &[1.0; AGENTS], 0.6), None);
        // 0.9 buy against 0.3 sell at equal weight: (0.9 - 0.3) / 2 = 0.3 < 0.6.
        let lean = [
            s(Side::Buy, 1.0, 0.9),
            s(Side::Sell, 1.0, 0.3),
            None,
            None,
            None,
        ];
        assert_eq!(aggregate(&lean, &[1.0; AGENTS], 0.6), None);
        // ...but the seller's weight at 0.1: (0.9 - 0.03) / 1.1 = 0.79 passes.
        let d = aggregate(&lean, &[1.0, 0.1, 1.0, 1.0, 1.0], 0.6).unwrap();
        assert!((d.confidence - 0.87 / 1.1).abs() < 1e-12);
        let unsure = [s(Side::Sell, 1.0, 0.59), None, None, None, None];
        assert_eq!(aggregate(&unsure, &[1.0; AGENTS], 0.6), None);
        assert_eq!(aggregate(&[None; AGENTS], &[1.0; AGENTS], 0.6), None);
    }

    #[test]
    fn a_zero_weight_silences_an_agent() {
        let signals = [
            s(Side::Sell, 1.0, 1.0),
            s(Side::Buy, 1.0, 0.7),
            None,
            None,
            None,
        ];
        let d = aggregate(&signals, &[0.0, 1.0, 1.0, 1.0, 1.0], 0.6).unwrap();
        assert_eq!((d.side, d.voices), (Side::Buy, 1));
    }
}
