//! Exponential moving average: the smoothing every trend indicator here is built from.

/// EMA with `alpha = 2 / (n + 1)`, seeded by the first value.
///
/// Seeding by the first value (rather than by the mean of the first `n`) keeps the update a
/// single multiply-add with no warm-up branch after the first sample; the seed's weight decays
/// as `(1 - alpha)^t`, which is why [`Ema::is_ready`] waits for `n` samples before the value
/// is trusted (the seed's weight is then about `e^-2`, 13%, and falling).
///
/// ```
/// use pulse_strategy::indicators::Ema;
/// let mut ema = Ema::new(3); // alpha = 0.5
/// for x in [1.0, 2.0, 3.0, 4.0] {
///     ema.update(x);
/// }
/// assert_eq!(ema.value(), 3.125);
/// assert!(ema.is_ready());
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ema {
    alpha: f64,
    period: usize,
    samples: usize,
    value: f64,
}

impl Ema {
    /// # Panics
    /// If `period` is zero.
    pub fn new(period: usize) -> Ema {
        assert!(period > 0, "an EMA period is at least 1");
        Ema {
            alpha: 2.0 / (period as f64 + 1.0),
            period,
            samples: 0,
            value: 0.0,
        }
    }

    /// Takes one sample and returns the new average.
    pub fn update(&mut self, x: f64) -> f64 {
        self.value = if self.samples == 0 {
            x
        } else {
            self.value + self.alpha * (x - self.value)
        };
        self.samples = self.samples.saturating_add(1);
        self.value
    }

    /// The average so far; 0 before the first sample.
    pub fn value(&self) -> f64 {
        self.value
    }

    /// At least `period` samples seen.
    pub fn is_ready(&self) -> bool {
        self.samples >= self.period
    }

    pub fn alpha(&self) -> f64 {
        self.alpha
    }

    pub fn period(&self) -> usize {
        self.period
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::indicators::testkit::{assert_close, each_step, Rng};

    /// The EMA of `xs` written out as its weighted sum: the seed `xs[0]` keeps weight
    /// `(1 - a)^(t)`, sample `i > 0` gets `a (1 - a)^(t - i)`. No recursion shared with
    /// [`Ema::update`].
    pub(crate) fn ema_from_scratch(xs: &[f64], period: usize) -> f64 {
        let a = 2.0 / (period as f64 + 1.0);
        let t = xs.len() - 1;
        let seed = xs[0] * (1.0 - a).powi(t as i32);
        seed + (1..=t)
            .map(|i| a * (1.0 - a).powi((t - i) as i32) * xs[i])
            .sum::<f64>()
    }

    #[test]
    fn hand_computed_series() {
        // alpha = 2/(3+1) = 0.5: 1, then 1 + 0.5 (2 - 1) = 1.5, 2.25, 3.125.
        let mut ema = Ema::new(3);
        let got: Vec<f64> = [1.0, 2.0, 3.0, 4.0].map(|x| ema.update(x)).to_vec();
        assert_eq!(got, [1.0, 1.5, 2.25, 3.125]);
        // alpha = 2/(4+1) = 0.4: 10, 10 + 0.4 (20 - 10) = 14, 14 + 0.4 (5 - 14) = 10.4.
        let mut ema = Ema::new(4);
        let got: Vec<f64> = [10.0, 20.0, 5.0].map(|x| ema.update(x)).to_vec();
        assert_close(got[1], 14.0, 1.0, "second");
        assert_close(got[2], 10.4, 1.0, "third");
    }

    #[test]
    fn ready_after_period_samples() {
        let mut ema = Ema::new(3);
        assert_eq!(ema.value(), 0.0);
        ema.update(5.0);
        ema.update(5.0);
        assert!(!ema.is_ready());
        ema.update(5.0);
        assert!(ema.is_ready());
        assert_eq!(ema.value(), 5.0, "a constant series averages to itself");
    }

    #[test]
    fn matches_the_weighted_sum_at_every_step() {
        let mut rng = Rng::new(1);
        let xs = rng.walk_f64(6_000_000, 40, 3_000);
        let update = |ema: &mut Ema, x| {
            ema.update(x);
        };
        each_step(&[1, 2, 20, 200], &xs, Ema::new, update, |ema, period, t| {
            assert_close(ema.value(), ema_from_scratch(&xs[..=t], period), 6e6, "ema");
            assert_eq!(ema.is_ready(), t + 1 >= period);
        });
    }
}
