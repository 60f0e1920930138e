//! Exits the engine owns: stop-loss, take-profit and trailing stop per instrument, evaluated
//! by the risk stage on every mid it receives, against the position's average entry price
//! ([`crate::position::Position::avg_px`]).
//!
//! For a long position, with `d` the rule's distance:
//! - stop-loss fires when `mid <= entry - d`;
//! - take-profit when `mid >= entry + d`;
//! - trailing when `mid <= best - d`, `best` the highest mid since the position was opened,
//!   flipped or last increased (each of these restarts `best` at that fill's price).
//!
//! A short position mirrors them (`>=` above the entry, `<=` below, `best` the lowest mid).
//! When several fire at once the order is stop-loss, trailing, take-profit. A fixed distance
//! in bps is exact integer arithmetic on the reference price (entry, or `best` for trailing);
//! a volatility-scaled one does not fire until [`crate::volatility`] has its estimate.
//!
//! What happens when one fires (the order, its checks, one in flight) is the risk stage's
//! (`stage/closing.rs`).

use pulse_core::intent::ExitKind;
use pulse_core::num::{Nanos, Px, Qty};

use crate::volatility::{Volatility, VolatilitySettings};

/// How far from its reference price an exit sits.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ExitDistance {
    /// A fixed distance, in bps of the reference price.
    Bps(u32),
    /// `multiple` standard deviations of one interval's mid return (see
    /// [`crate::volatility`]), as a price distance: `multiple * sigma * reference`.
    Volatility { multiple: f64 },
    /// `multiple` average true ranges of the interval bars (Wilder's ATR), in price units.
    Atr { multiple: f64 },
}

/// The exit rules of one instrument (the config gives them per strategy; the engine maps
/// each strategy's rules to its instruments). `None` everywhere: no engine exit.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ExitRules {
    pub stop_loss: Option<ExitDistance>,
    pub take_profit: Option<ExitDistance>,
    pub trailing: Option<ExitDistance>,
}

/// How exits measure volatility and retry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExitSettings {
    pub volatility: VolatilitySettings,
    /// After a rejected exit order, the next try waits this long in market time (1 s).
    pub retry: Nanos,
}

impl Default for ExitSettings {
    fn default() -> ExitSettings {
        ExitSettings {
            volatility: VolatilitySettings::default(),
            retry: Nanos::from_millis(1_000),
        }
    }
}

/// Which side of the reference a trigger lies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Beyond {
    Below,
    Above,
}

impl ExitDistance {
    /// Whether `mid` is at or beyond `reference` moved by this distance in direction `beyond`;
    /// `false` while a volatility estimate is missing.
    fn crossed(self, mid: Px, reference: Px, beyond: Beyond, vol: &Volatility) -> bool {
        let distance = match self {
            ExitDistance::Bps(bps) => {
                // mid <= ref * (1 - bps/10^4), or mid >= ref * (1 + bps/10^4), exactly.
                let (m, r, b) = (i128::from(mid.0), i128::from(reference.0), i128::from(bps));
                return match beyond {
                    Beyond::Below => m * 10_000 <= r * (10_000 - b),
                    Beyond::Above => m * 10_000 >= r * (10_000 + b),
                };
            }
            ExitDistance::Volatility { multiple } => match vol.sigma() {
                Some(sigma) => multiple * sigma * reference.0 as f64,
                None => return false,
            },
            ExitDistance::Atr { multiple } => match vol.atr() {
                Some(atr) => multiple * atr,
                None => return false,
            },
        };
        let (m, r) = (mid.0 as f64, reference.0 as f64);
        match beyond {
            Beyond::Below => m <= r - distance,
            Beyond::Above => m >= r + distance,
        }
    }
}

impl ExitRules {
    pub fn is_empty(&self) -> bool {
        self.stop_loss.is_none() && self.take_profit.is_none() && self.trailing.is_none()
    }

    /// The exit that fires for a position of `qty` entered at `entry`, with `best` the best
    /// mid since it was opened (see the module doc), at `mid`; `None` when none does (or flat).
    pub fn evaluate(
        &self,
        qty: Qty,
        entry: Px,
        best: Px,
        mid: Px,
        vol: &Volatility,
    ) -> Option<ExitKind> {
        let (adverse, favourable) = match qty.0.signum() {
            1 => (Beyond::Below, Beyond::Above),
            -1 => (Beyond::Above, Beyond::Below),
            _ => return None,
        };
        let fires = |rule: Option<ExitDistance>, reference: Px, beyond: Beyond| {
            rule.is_some_and(|d| d.crossed(mid, reference, beyond, vol))
        };
        if fires(self.stop_loss, entry, adverse) {
            Some(ExitKind::StopLoss)
        } else if fires(self.trailing, best, adverse) {
            Some(ExitKind::Trailing)
        } else if fires(self.take_profit, entry, favourable) {
            Some(ExitKind::TakeProfit)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_vol() -> Volatility {
        Volatility::new(VolatilitySettings::default())
    }

    #[test]
    fn fixed_bps_triggers_long_and_short() {
        let rules = ExitRules {
            stop_loss: Some(ExitDistance::Bps(100)),
            take_profit: Some(ExitDistance::Bps(200)),
            trailing: Some(ExitDistance::Bps(50)),
        };
        let v = no_vol();
        let long = |best, mid| rules.evaluate(Qty(5), Px(10_000), Px(best), Px(mid), &v);
        // Entry 10,000: stop at 9,900, take-profit at 10,200; trailing 0.5% under best.
        assert_eq!(long(10_000, 9_951), None);
        // 9,950 is 50 bps under best 10,000: trailing, before the stop.
        assert_eq!(long(10_000, 9_950), Some(ExitKind::Trailing));
        assert_eq!(long(9_900, 9_900), Some(ExitKind::StopLoss));
        // best 10,250: trailing at 10,198.75; 10,199 is above it, and under the 10,200 target.
        assert_eq!(long(10_250, 10_199), None);
        assert_eq!(long(10_250, 10_198), Some(ExitKind::Trailing));
        assert_eq!(long(10_200, 10_200), Some(ExitKind::TakeProfit));
        let short = |best, mid| rules.evaluate(Qty(-5), Px(10_000), Px(best), Px(mid), &v);
        // Short: stop at 10,100, target 9,800, trailing 0.5% above the lowest mid.
        assert_eq!(short(10_100, 10_099), None);
        assert_eq!(short(10_100, 10_100), Some(ExitKind::StopLoss));
        assert_eq!(short(9_800, 9_800), Some(ExitKind::TakeProfit));
        // lowest 9,700: trailing at 9,748.5.
        assert_eq!(short(9_700, 9_749), Some(ExitKind::Trailing));
        assert_eq!(short(9_700, 9_748), Some(ExitKind::TakeProfit));
        assert_eq!(rules.evaluate(Qty(0), Px(1), Px(1), Px(1), &v), None);
    }

    #[test]
    fn volatility_rules_wait_for_their_estimate() {
        let rules = ExitRules {
            stop_loss: Some(ExitDistance::Atr { multiple: 2.0 }),
            ..ExitRules::default()
        };
        let mut v = Volatility::new(VolatilitySettings {
            interval: Nanos::from_millis(1_000),
            bars: 1,
        });
        // Far below any entry, but no estimate yet: nothing fires.
        assert_eq!(
            rules.evaluate(Qty(1), Px(1_000), Px(1_000), Px(1), &v),
            None
        );
        // Bars 1,000 then 1,010 (closed by the third): ATR = 10, stop at 1,000 - 20 = 980.
        for (s, mid) in [(0, 1_000), (1, 1_010), (2, 1_010)] {
            v.on_mid(Px(mid), Nanos::from_millis(s * 1_000));
        }
        assert_eq!(v.atr(), Some(10.0));
        assert_eq!(
            rules.evaluate(Qty(1), Px(1_000), Px(1_000), Px(981), &v),
            None
        );
        assert_eq!(
            rules.evaluate(Qty(1), Px(1_000), Px(1_000), Px(980), &v),
            Some(ExitKind::StopLoss)
        );
    }
}
