//! Bollinger bands: where the latest value sits against the recent mean, in units of recent
//! dispersion.

use super::window::Window;

/// Rolling mean and (population) standard deviation of the last `n` integer mantissas, with
/// bands at `mean ± k sigma`.
///
/// Accuracy: the running sums are *exact*. The inputs are integers (price mantissas), so the
/// window keeps `Σx` and `Σx²` in `i128`, and the variance is formed as the integer
/// `n Σx² - (Σx)² = n² sigma²` before a single conversion to `f64`. Neither Welford's update
/// nor compensated `f64` sums are needed: an integer sum has no rounding to drift, after a
/// million updates or a billion, and never suffers the cancellation that makes `Σx² - (Σx)²/n`
/// useless in floating point when the mean is large against the spread (a BTC mid of 6e6
/// mantissa units moving by a few units). The sums wrap (`wrapping_*`, never a panic); modular
/// arithmetic keeps `n Σx² - (Σx)²` exact whenever the true value fits, i.e. whenever
/// `n * (max - min) < 2^64` over the window, far beyond any price series.
///
/// O(1) per update: one value enters the sums and the one leaving the ring goes out.
///
/// ```
/// use pulse_strategy::indicators::Bollinger;
/// let mut bands = Bollinger::new(4, 2.0);
/// for x in [2, 4, 4, 6] {
///     bands.update(x);
/// }
/// assert_eq!((bands.middle(), bands.std_dev()), (4.0, 2.0f64.sqrt()));
/// assert_eq!(bands.percent_b(), 0.5 + 2.0 / (4.0 * 2.0f64.sqrt()));
/// ```
#[derive(Clone, Debug)]
pub struct Bollinger {
    window: Window<i64>,
    k: f64,
    sum: i128,
    sum_sq: i128,
    last: i64,
}

impl Bollinger {
    /// # Panics
    /// If `n` is zero.
    pub fn new(n: usize, k: f64) -> Bollinger {
        Bollinger {
            window: Window::new(n),
            k,
            sum: 0,
            sum_sq: 0,
            last: 0,
        }
    }

    pub fn update(&mut self, x: i64) {
        if let Some(old) = self.window.push(x) {
            let old = old as i128;
            self.sum = self.sum.wrapping_sub(old);
            self.sum_sq = self.sum_sq.wrapping_sub(old * old);
        }
        let x_wide = x as i128;
        self.sum = self.sum.wrapping_add(x_wide);
        self.sum_sq = self.sum_sq.wrapping_add(x_wide * x_wide);
        self.last = x;
    }

    /// The mean of the window (the middle band); 0 while empty.
    pub fn middle(&self) -> f64 {
        match self.window.len() {
            0 => 0.0,
            n => self.sum as f64 / n as f64,
        }
    }

    /// Population standard deviation of the window (divides by `n`, as Bollinger does).
    pub fn std_dev(&self) -> f64 {
        let n = self.window.len() as i128;
        if n == 0 {
            return 0.0;
        }
        let n2_variance = n
            .wrapping_mul(self.sum_sq)
            .wrapping_sub(self.sum.wrapping_mul(self.sum));
        (n2_variance.max(0) as f64).sqrt() / n as f64
    }

    pub fn upper(&self) -> f64 {
        self.middle() + self.k * self.std_dev()
    }

    pub fn lower(&self) -> f64 {
        self.middle() - self.k * self.std_dev()
    }

    /// %B of the latest value: 0 at the lower band, 1 at the upper, 0.5 when the bands have
    /// no width (a flat window). Not clamped: outside the bands it goes below 0 or above 1.
    /// Formed as `0.5 + (x - mean) / width` with `n (x - mean) = n x - Σx` exact in integers,
    /// so a narrow band around a large price loses nothing to the subtraction.
    pub fn percent_b(&self) -> f64 {
        let n = self.window.len() as i128;
        let width = 2.0 * self.k * self.std_dev();
        if n == 0 || width == 0.0 {
            return 0.5;
        }
        let n_offset = n.wrapping_mul(self.last as i128).wrapping_sub(self.sum);
        0.5 + n_offset as f64 / (n as f64 * width)
    }

    /// `(upper - lower) / middle`: the band width relative to the level; 0 while empty.
    pub fn bandwidth(&self) -> f64 {
        let middle = self.middle();
        if middle == 0.0 {
            return 0.0;
        }
        2.0 * self.k * self.std_dev() / middle
    }

    /// The window is full.
    pub fn is_ready(&self) -> bool {
        self.window.is_full()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::indicators::testkit::{assert_close, each_step, Rng};

    /// Two passes over the window in `f64`: the mean, then the mean squared deviation. The
    /// values are first taken relative to the window's first one (exact for integers), so the
    /// reference itself does not lose digits to a large level; the mean is shifted back.
    pub(crate) fn from_scratch(window: &[i64], k: f64) -> (f64, f64, f64, f64) {
        let (base, n) = (window[0], window.len() as f64);
        let rel: Vec<f64> = window.iter().map(|&x| (x - base) as f64).collect();
        let rel_mean = rel.iter().sum::<f64>() / n;
        let var = rel.iter().map(|&d| (d - rel_mean).powi(2)).sum::<f64>() / n;
        let sd = var.sqrt();
        let rel_last = *rel.last().unwrap();
        let pct_b = if sd == 0.0 {
            0.5
        } else {
            (rel_last - (rel_mean - k * sd)) / (2.0 * k * sd)
        };
        let mean = base as f64 + rel_mean;
        (mean, sd, pct_b, 2.0 * k * sd / mean)
    }

    #[test]
    fn hand_computed_window() {
        // 2, 4, 4, 4, 5, 5, 7, 9: mean 5, squared deviations 9+1+1+1+0+0+4+16 = 32, sigma 2.
        let mut bands = Bollinger::new(8, 2.0);
        for x in [2, 4, 4, 4, 5, 5, 7, 9] {
            bands.update(x);
        }
        assert!(bands.is_ready());
        assert_eq!(
            (
                bands.middle(),
                bands.std_dev(),
                bands.upper(),
                bands.lower()
            ),
            (5.0, 2.0, 9.0, 1.0)
        );
        assert_eq!(bands.percent_b(), 1.0, "9 sits on the upper band");
        // Slide by one: 4, 4, 4, 5, 5, 7, 9, 1: mean 39/8, still computed exactly.
        bands.update(1);
        assert_eq!(bands.middle(), 39.0 / 8.0);
        let var = [4, 4, 4, 5, 5, 7, 9, 1]
            .map(|x: i32| (x as f64 - 39.0 / 8.0).powi(2))
            .iter()
            .sum::<f64>()
            / 8.0;
        assert_close(bands.std_dev(), var.sqrt(), 1.0, "sigma after the slide");
    }

    #[test]
    fn a_flat_window_has_zero_width_bands() {
        let mut bands = Bollinger::new(3, 2.0);
        for x in [100, 7, 7, 7] {
            bands.update(x);
        }
        assert_eq!(
            (bands.std_dev(), bands.percent_b(), bands.bandwidth()),
            (0.0, 0.5, 0.0)
        );
    }

    #[test]
    fn matches_two_passes_at_every_step() {
        let mut rng = Rng::new(4);
        let xs = rng.walk(6_000_000, 40, 4_000);
        let new = |n| Bollinger::new(n, 2.0);
        let check = |bands: &Bollinger, n: usize, t: usize| {
            let (mean, sd, pct_b, width) = from_scratch(&xs[t.saturating_sub(n - 1)..=t], 2.0);
            assert_close(bands.middle(), mean, 1.0, "middle");
            assert_close(bands.std_dev(), sd, 1.0, "sigma");
            assert_close(bands.upper(), mean + 2.0 * sd, 1.0, "upper");
            assert_close(bands.lower(), mean - 2.0 * sd, 1.0, "lower");
            assert_close(bands.percent_b(), pct_b, 1.0, "%B");
            assert_close(bands.bandwidth(), width, 1e-9, "bandwidth");
            assert_eq!(bands.is_ready(), t + 1 >= n);
        };
        each_step(&[1, 2, 20, 500], &xs, new, Bollinger::update, check);
    }

    #[test]
    fn extreme_values_neither_overflow_nor_panic() {
        let mut bands = Bollinger::new(3, 2.0);
        for x in [i64::MAX, i64::MIN, i64::MAX, 0, i64::MIN] {
            bands.update(x);
            assert!(bands.middle().is_finite() && bands.percent_b().is_finite());
            assert!(bands.std_dev() >= 0.0);
        }
    }

    /// Millions of updates far from zero and then a quiet window: exact sums leave nothing
    /// behind, where a plain `f64` running sum of squares would be all rounding error by now.
    #[test]
    fn stays_exact_over_millions_of_updates() {
        let mut rng = Rng::new(5);
        let mut bands = Bollinger::new(20, 2.0);
        let mut px = 6_000_000_000_000i64;
        for _ in 0..2_000_000 {
            px += rng.range(-5_000, 5_000);
            bands.update(px);
        }
        let quiet = [px, px + 1, px, px + 1, px];
        let mut last = Vec::new();
        for i in 0..20 {
            let x = quiet[i % quiet.len()];
            bands.update(x);
            last.push(x);
        }
        let (mean, sd, pct_b, _) = from_scratch(&last, 2.0);
        assert_close(bands.middle(), mean, 1.0, "middle");
        assert_close(bands.std_dev(), sd, 1e-9, "sigma of a quiet window");
        assert_close(bands.percent_b(), pct_b, 1e-9, "%B");
    }
}
