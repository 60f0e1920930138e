//! Relative strength index: the share of recent movement that was upward, as Wilder defined it.

/// RSI over `n` with Wilder's smoothing: the first averages of gains and losses are the plain
/// means of the first `n` changes; after that each average moves `1/n` of the way to the new
/// change (`avg = (avg (n - 1) + change) / n`). RSI = `100 - 100 / (1 + RS)` with
/// `RS = avg_gain / avg_loss`: a market that only rose reads 100 (no division by its zero
/// loss), one that only fell reads 0, and one that did not move reads 50.
///
/// Ready after `n + 1` inputs (`n` changes); before that [`Rsi::value`] is the neutral 50.
///
/// ```
/// use pulse_strategy::indicators::Rsi;
/// let mut rsi = Rsi::new(2);
/// for x in [10.0, 11.0, 12.0] {
///     rsi.update(x);
/// }
/// assert_eq!(rsi.value(), 100.0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rsi {
    period: usize,
    prev: f64,
    samples: usize,
    /// Sums of the changes while warming up, Wilder's averages once ready.
    gain: f64,
    loss: f64,
}

impl Rsi {
    /// # Panics
    /// If `period` is zero.
    pub fn new(period: usize) -> Rsi {
        assert!(period > 0, "an RSI period is at least 1");
        Rsi {
            period,
            prev: 0.0,
            samples: 0,
            gain: 0.0,
            loss: 0.0,
        }
    }

    pub fn update(&mut self, x: f64) {
        let change = x - self.prev;
        self.prev = x;
        self.samples = self.samples.saturating_add(1);
        let changes = self.samples - 1;
        if changes == 0 {
            return;
        }
        let (gain, loss) = (change.max(0.0), (-change).max(0.0));
        let n = self.period as f64;
        if changes <= self.period {
            self.gain += gain;
            self.loss += loss;
            if changes == self.period {
                self.gain /= n;
                self.loss /= n;
            }
        } else {
            self.gain = (self.gain * (n - 1.0) + gain) / n;
            self.loss = (self.loss * (n - 1.0) + loss) / n;
        }
    }

    /// 0 to 100; 50 until ready.
    pub fn value(&self) -> f64 {
        if !self.is_ready() || self.gain + self.loss == 0.0 {
            50.0
        } else if self.loss == 0.0 {
            100.0
        } else {
            100.0 - 100.0 / (1.0 + self.gain / self.loss)
        }
    }

    pub fn is_ready(&self) -> bool {
        self.samples > self.period
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::indicators::testkit::{assert_close, each_step, Rng};

    /// Wilder's averages written out: the seed (mean of the first `n` changes) keeps weight
    /// `(1 - 1/n)^(t - n)`, each later change `c_j` gets `(1/n) (1 - 1/n)^(t - j)`.
    pub(crate) fn rsi_from_scratch(xs: &[f64], n: usize) -> f64 {
        let changes: Vec<f64> = xs.windows(2).map(|w| w[1] - w[0]).collect();
        let t = changes.len();
        let k = 1.0 - 1.0 / n as f64;
        let average = |part: fn(f64) -> f64| {
            let seed = changes[..n].iter().map(|&c| part(c)).sum::<f64>() / n as f64;
            seed * k.powi((t - n) as i32)
                + (n..t)
                    .map(|j| part(changes[j]) / n as f64 * k.powi((t - 1 - j) as i32))
                    .sum::<f64>()
        };
        let (gain, loss) = (average(|c| c.max(0.0)), average(|c| (-c).max(0.0)));
        if gain + loss == 0.0 {
            50.0
        } else {
            100.0 - 100.0 / (1.0 + gain / loss)
        }
    }

    /// The 14-period worked example that StockCharts publishes (closes of 33 days). Its table
    /// prints 70.53, 66.32, ... because the spreadsheet rounds the averages to two places each
    /// day; carried at full precision the same closes give the values below (as TA-Lib and the
    /// usual libraries do), which this checks to the printed two places.
    #[test]
    fn wilders_worked_example() {
        let closes = [
            44.34, 44.09, 44.15, 43.61, 44.33, 44.83, 45.10, 45.42, 45.84, 46.08, 45.89, 46.03,
            45.61, 46.28, 46.28, 46.00, 46.03, 46.41, 46.22, 45.64, 46.21, 46.25, 45.71, 46.45,
            45.78, 45.35, 44.03, 44.18, 44.22, 44.57, 43.42, 42.66, 43.13,
        ];
        let want = [
            70.46, 66.25, 66.48, 69.35, 66.29, 57.92, 62.88, 63.21, 56.01, 62.34, 54.67, 50.39,
            40.02, 41.49, 41.90, 45.50, 37.32, 33.09, 37.79,
        ];
        let mut rsi = Rsi::new(14);
        let mut got = Vec::new();
        for (i, &x) in closes.iter().enumerate() {
            rsi.update(x);
            assert_eq!(rsi.is_ready(), i >= 14);
            if rsi.is_ready() {
                got.push(rsi.value());
            }
        }
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 0.005, "{g} vs {w}");
        }
        // The first average gain and loss, by hand: gains sum to 3.34, losses to 1.40 (of 14).
        let (gain, loss): (f64, f64) = (3.34 / 14.0, 1.40 / 14.0);
        assert_close(got[0], 100.0 * gain / (gain + loss), 100.0, "first RSI");
    }

    #[test]
    fn flat_rising_and_falling_markets() {
        let mut rsi = Rsi::new(3);
        assert_eq!(rsi.value(), 50.0);
        for x in [5.0; 4] {
            rsi.update(x);
        }
        assert_eq!((rsi.is_ready(), rsi.value()), (true, 50.0));
        rsi.update(6.0);
        assert_eq!(rsi.value(), 100.0);
        let mut falling = Rsi::new(3);
        for x in [9.0, 8.0, 7.0, 6.0] {
            falling.update(x);
        }
        assert_eq!(falling.value(), 0.0);
    }

    #[test]
    fn matches_the_weighted_sums_at_every_step() {
        let mut rng = Rng::new(3);
        let xs = rng.walk_f64(6_000_000, 40, 3_000);
        each_step(&[1, 2, 14, 100], &xs, Rsi::new, Rsi::update, |rsi, n, t| {
            assert_eq!(rsi.is_ready(), t >= n);
            if t >= n {
                assert_close(rsi.value(), rsi_from_scratch(&xs[..=t], n), 1.0, "rsi");
            }
        });
    }
}
