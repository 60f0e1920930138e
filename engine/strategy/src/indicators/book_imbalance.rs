//! Order-book imbalance: which side of the book holds more resting size near the touch; price
//! tends to move away from the heavier side.

use pulse_core::event::Level;

/// `(bid - ask) / (bid + ask)` of the quantity on the best `levels` levels of each side of one
/// book snapshot: +1 all bids, -1 all asks, 0 balanced.
///
/// A function of the latest snapshot only: "incremental" holds trivially, at O(levels) per
/// book, `levels` at most the book top's depth. The sums are exact integers (`i128`); one
/// rounding at the division.
///
/// ```
/// use pulse_strategy::indicators::BookImbalance;
/// use pulse_core::event::Level;
/// use pulse_core::num::{Px, Qty};
/// let level = |px, qty| Level { px: Px(px), qty: Qty(qty) };
/// let mut imbalance = BookImbalance::new(2);
/// imbalance.update(&[level(99, 3), level(98, 3), level(97, 100)], &[level(101, 2)]);
/// assert_eq!(imbalance.value(), 0.5); // (6 - 2) / (6 + 2): the third bid is beyond 2 levels
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BookImbalance {
    levels: usize,
    value: f64,
    ready: bool,
}

impl BookImbalance {
    /// # Panics
    /// If `levels` is zero.
    pub fn new(levels: usize) -> BookImbalance {
        assert!(levels > 0, "an imbalance looks at one level at least");
        BookImbalance {
            levels,
            value: 0.0,
            ready: false,
        }
    }

    /// Takes a snapshot, each side best level first. A snapshot with no quantity on either
    /// side changes nothing.
    pub fn update(&mut self, bids: &[Level], asks: &[Level]) {
        let depth = |side: &[Level]| -> i128 {
            side.iter()
                .take(self.levels)
                .map(|l| l.qty.0.max(0) as i128)
                .sum()
        };
        let (bid, ask) = (depth(bids), depth(asks));
        if bid + ask == 0 {
            return;
        }
        self.value = (bid - ask) as f64 / (bid + ask) as f64;
        self.ready = true;
    }

    /// -1 to 1; 0 before the first book with any quantity.
    pub fn value(&self) -> f64 {
        self.value
    }

    pub fn is_ready(&self) -> bool {
        self.ready
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indicators::testkit::{assert_close, Rng};
    use pulse_core::num::{Px, Qty};

    #[test]
    fn matches_recomputation_over_random_books() {
        let mut rng = Rng::new(9);
        for levels in [1, 3, 10] {
            let mut imbalance = BookImbalance::new(levels);
            for _ in 0..3_000 {
                let mut side = |dir: i64| -> Vec<Level> {
                    let n = rng.range(0, 10) as usize;
                    (0..n as i64)
                        .map(|i| Level {
                            px: Px(6_000_000 + dir * (i + 1)),
                            qty: Qty(rng.range(1, 2_000_000_000)),
                        })
                        .collect()
                };
                let (bids, asks) = (side(-1), side(1));
                let before = imbalance.value();
                imbalance.update(&bids, &asks);
                let sum = |s: &[Level]| s.iter().take(levels).map(|l| l.qty.0 as f64).sum::<f64>();
                let (b, a) = (sum(&bids), sum(&asks));
                let expected = if b + a == 0.0 {
                    before
                } else {
                    (b - a) / (b + a)
                };
                assert_close(imbalance.value(), expected, 1.0, "imbalance");
            }
            assert!(imbalance.is_ready());
        }
    }

    #[test]
    fn one_sided_and_empty_books() {
        let level = |qty| Level {
            px: Px(1),
            qty: Qty(qty),
        };
        let mut imbalance = BookImbalance::new(5);
        imbalance.update(&[], &[]);
        assert_eq!((imbalance.value(), imbalance.is_ready()), (0.0, false));
        imbalance.update(&[level(4)], &[]);
        assert_eq!(imbalance.value(), 1.0);
        imbalance.update(&[], &[level(4)]);
        assert_eq!(imbalance.value(), -1.0);
        imbalance.update(&[level(1)], &[level(3)]);
        assert_eq!(imbalance.value(), -0.5);
    }
}
