//! Trade-flow imbalance: who has been crossing the spread lately, buyers or sellers; takers
//! reveal intent that resting orders only hint at.

use pulse_core::num::{Qty, Side};

use super::window::Window;

/// `(buy - sell) / (buy + sell)` of the taker volume of the last `n` trades: +1 only buyers
/// took, -1 only sellers. Exact integer sums; each trade leaves the window as it entered.
///
/// ```
/// use pulse_strategy::indicators::TradeFlowImbalance;
/// use pulse_core::num::{Qty, Side};
/// let mut flow = TradeFlowImbalance::new(2);
/// flow.update(Qty(3), Side::Buy);
/// flow.update(Qty(1), Side::Sell);
/// assert_eq!(flow.value(), 0.5);
/// flow.update(Qty(1), Side::Sell); // the buy leaves
/// assert_eq!(flow.value(), -1.0);
/// ```
#[derive(Clone, Debug)]
pub struct TradeFlowImbalance {
    /// Taker quantities, positive for buys, negative for sells.
    signed: Window<i64>,
    buy: i128,
    sell: i128,
}

impl TradeFlowImbalance {
    /// # Panics
    /// If `n` is zero.
    pub fn new(n: usize) -> TradeFlowImbalance {
        TradeFlowImbalance {
            signed: Window::new(n),
            buy: 0,
            sell: 0,
        }
    }

    /// Takes a trade and the side of its taker. A non-positive quantity is ignored.
    pub fn update(&mut self, qty: Qty, aggressor: Side) {
        if qty.0 <= 0 {
            return;
        }
        if let Some(old) = self.signed.push(qty.0 * aggressor.sign()) {
            self.add(old, -1);
        }
        self.add(qty.0 * aggressor.sign(), 1);
    }

    fn add(&mut self, signed: i64, times: i128) {
        if signed > 0 {
            self.buy += times * signed as i128;
        } else {
            self.sell -= times * signed as i128;
        }
    }

    /// -1 to 1; 0 before any trade.
    pub fn value(&self) -> f64 {
        let total = self.buy + self.sell;
        if total == 0 {
            return 0.0;
        }
        (self.buy - self.sell) as f64 / total as f64
    }

    /// `n` trades seen.
    pub fn is_ready(&self) -> bool {
        self.signed.is_full()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indicators::testkit::{assert_close, each_step, Rng};

    #[test]
    fn matches_recomputation_at_every_step() {
        let mut rng = Rng::new(13);
        let trades: Vec<(Qty, Side)> = (0..3_000)
            .map(|_| {
                let side = if rng.range(0, 2) == 0 {
                    Side::Sell
                } else {
                    Side::Buy
                };
                (Qty(rng.range(1, 2_000_000_000)), side)
            })
            .collect();
        let update = |flow: &mut TradeFlowImbalance, (qty, side)| flow.update(qty, side);
        let new = TradeFlowImbalance::new;
        each_step(&[1, 2, 100, 1_000], &trades, new, update, |flow, n, t| {
            let window = &trades[t.saturating_sub(n - 1)..=t];
            let volume = |side| -> f64 {
                let of_side = window.iter().filter(|(_, s)| *s == side);
                of_side.map(|(q, _)| q.0 as f64).sum()
            };
            let (buy, sell) = (volume(Side::Buy), volume(Side::Sell));
            assert_close(flow.value(), (buy - sell) / (buy + sell), 1.0, "flow");
            assert_eq!(flow.is_ready(), t + 1 >= n);
        });
    }

    #[test]
    fn empty_and_ignored_trades() {
        let mut flow = TradeFlowImbalance::new(3);
        flow.update(Qty(0), Side::Buy);
        flow.update(Qty(-5), Side::Sell);
        assert_eq!((flow.value(), flow.is_ready()), (0.0, false));
        flow.update(Qty(5), Side::Sell);
        assert_eq!(flow.value(), -1.0);
    }
}
