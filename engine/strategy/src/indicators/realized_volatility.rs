//! Realized volatility: how much the price has actually moved lately, from the sum of squared
//! log returns, the scale every other move is judged against.

use super::compensated::CompensatedSum;
use super::window::Window;

/// Sum of squared log returns of a price series over the last `n` returns (`n + 1` prices).
/// Per sample, not annualized: the caller knows the sampling rate and scales by it.
///
/// Accuracy: the returns are floating point, so the running sum is a Neumaier-compensated
/// `f64` sum (see `compensated.rs`), and the ring keeps each squared return exactly as it was
/// added, so it leaves the sum bit for bit. The error stays near one rounding of the current
/// sum over millions of updates instead of growing with them. Returns are
/// `ln_1p((p - prev) / prev)`, accurate for the tiny moves of a mid.
///
/// ```
/// use pulse_strategy::indicators::RealizedVolatility;
/// let mut vol = RealizedVolatility::new(2);
/// for px in [100.0, 110.0, 100.0] {
///     vol.update(px);
/// }
/// let r = (110.0f64 / 100.0).ln();
/// assert!((vol.variance() - 2.0 * r * r).abs() < 1e-15);
/// assert!(vol.is_ready());
/// ```
#[derive(Clone, Debug)]
pub struct RealizedVolatility {
    squared_returns: Window<f64>,
    sum: CompensatedSum,
    prev: f64,
    last_return: f64,
}

impl RealizedVolatility {
    /// # Panics
    /// If `n` is zero.
    pub fn new(n: usize) -> RealizedVolatility {
        RealizedVolatility {
            squared_returns: Window::new(n),
            sum: CompensatedSum::default(),
            prev: 0.0,
            last_return: 0.0,
        }
    }

    /// Takes the next price. A price that is not positive and finite is ignored: one NaN in a
    /// running sum would poison it for good.
    pub fn update(&mut self, px: f64) {
        if !(px > 0.0 && px.is_finite()) {
            return;
        }
        if self.prev > 0.0 {
            let r = ((px - self.prev) / self.prev).ln_1p();
            let r2 = r * r;
            if let Some(old) = self.squared_returns.push(r2) {
                self.sum.sub(old);
            }
            self.sum.add(r2);
            self.last_return = r;
        }
        self.prev = px;
    }

    /// Sum of squared log returns over the window (never negative).
    pub fn variance(&self) -> f64 {
        self.sum.value().max(0.0)
    }

    /// `sqrt(variance)`: the volatility over the window, as a fraction of the price.
    pub fn volatility(&self) -> f64 {
        self.variance().sqrt()
    }

    /// The log return into the latest price; 0 before the second.
    pub fn last_return(&self) -> f64 {
        self.last_return
    }

    /// `n` returns seen.
    pub fn is_ready(&self) -> bool {
        self.squared_returns.is_full()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::indicators::testkit::{assert_close, each_step, Rng};

    /// The window summed afresh. Each return is `ln_1p((p - q) / q)` here too: that is the
    /// definition (`ln(p / q)` would round the ratio to 1e-16 first, a relative error of 3e-10
    /// in a calm mid's 3e-7 return); what this checks is the rolling sum around it.
    pub(crate) fn from_scratch(prices: &[f64]) -> f64 {
        prices
            .windows(2)
            .map(|w| ((w[1] - w[0]) / w[0]).ln_1p().powi(2))
            .sum()
    }

    #[test]
    fn matches_recomputation_at_every_step() {
        let mut rng = Rng::new(11);
        let prices = rng.walk_f64(6_000_000, 400, 3_000);
        let new = RealizedVolatility::new;
        let check = |vol: &RealizedVolatility, n: usize, t: usize| {
            let expected = from_scratch(&prices[t.saturating_sub(n)..=t]);
            assert_close(vol.variance(), expected, 1e-12, "realized variance");
            assert_eq!(vol.is_ready(), t >= n);
        };
        each_step(
            &[1, 2, 100, 1_000],
            &prices,
            new,
            RealizedVolatility::update,
            check,
        );
    }

    /// Two million updates, the first million violent and the rest calm: an uncompensated
    /// running sum would be left holding the violent period's rounding errors, larger than the
    /// calm window's whole variance.
    #[test]
    fn stays_accurate_over_millions_of_updates() {
        let mut rng = Rng::new(12);
        let mut vol = RealizedVolatility::new(50);
        let mut tail = Vec::new();
        let mut px = 6_000_000.0f64;
        for i in 0..2_000_000 {
            let step = if i < 1_000_000 { 600_000 } else { 2 };
            px = (px + rng.range(-step, step) as f64).max(1_000.0);
            vol.update(px);
            tail.push(px);
            if tail.len() > 51 {
                tail.remove(0);
            }
        }
        assert_close(
            vol.variance(),
            from_scratch(&tail),
            1e-15,
            "after 2M updates",
        );
    }

    #[test]
    fn ignores_prices_that_are_not_positive() {
        let mut vol = RealizedVolatility::new(1);
        for px in [100.0, 0.0, -3.0, f64::NAN, f64::INFINITY, 100.0] {
            vol.update(px);
        }
        assert_eq!((vol.variance(), vol.is_ready()), (0.0, true));
        vol.update(125.0);
        assert_eq!(vol.last_return(), 0.25f64.ln_1p());
    }
}
