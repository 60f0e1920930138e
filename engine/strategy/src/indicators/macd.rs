//! MACD: how far a fast trend has pulled away from a slow one, and whether that gap is still
//! widening (the histogram).

use super::ema::Ema;

/// MACD line `EMA_fast - EMA_slow`, signal line `EMA_signal(MACD)`, histogram `MACD - signal`.
///
/// All three EMAs are seeded by their first input, so the MACD line starts at exactly 0 (both
/// averages seeded with the same price) and the signal EMA takes it from the first sample.
/// [`Macd::is_ready`] waits `slow + signal - 1` samples, TA-Lib's lookback: the slow average
/// has had its period and the signal its own on top of it.
///
/// ```
/// use pulse_strategy::indicators::Macd;
/// let mut macd = Macd::new(12, 26, 9);
/// for x in [100.0, 101.0, 102.0] {
///     macd.update(x);
/// }
/// assert!(macd.macd() > 0.0, "a rising price puts the fast average above the slow one");
/// assert_eq!(macd.histogram(), macd.macd() - macd.signal());
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Macd {
    fast: Ema,
    slow: Ema,
    signal: Ema,
    line: f64,
    samples: usize,
    warm_up: usize,
}

impl Macd {
    /// # Panics
    /// If a period is zero.
    pub fn new(fast: usize, slow: usize, signal: usize) -> Macd {
        Macd {
            fast: Ema::new(fast),
            slow: Ema::new(slow),
            signal: Ema::new(signal),
            line: 0.0,
            samples: 0,
            warm_up: slow.max(fast) + signal - 1,
        }
    }

    pub fn update(&mut self, x: f64) {
        self.line = self.fast.update(x) - self.slow.update(x);
        self.signal.update(self.line);
        self.samples = self.samples.saturating_add(1);
    }

    /// The MACD line, in the input's units.
    pub fn macd(&self) -> f64 {
        self.line
    }

    pub fn signal(&self) -> f64 {
        self.signal.value()
    }

    pub fn histogram(&self) -> f64 {
        self.line - self.signal.value()
    }

    pub fn is_ready(&self) -> bool {
        self.samples >= self.warm_up
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indicators::ema::tests::ema_from_scratch;
    use crate::indicators::testkit::{assert_close, Rng};

    #[test]
    fn hand_computed_series() {
        // fast 2 (alpha 2/3), slow 3 (1/2), signal 2 (2/3) over 10, 13, 7:
        // fast 10, 12, 26/3; slow 10, 23/2, 37/4; MACD 0, 1/2, -7/12;
        // signal 0, 1/3, 1/3 + 2/3 (-7/12 - 1/3) = -5/18; histogram 0, 1/6, -7/12 + 5/18 = -11/36.
        let mut macd = Macd::new(2, 3, 2);
        let mut got = Vec::new();
        for x in [10.0, 13.0, 7.0] {
            macd.update(x);
            got.push((macd.macd(), macd.signal(), macd.histogram()));
        }
        let want = [
            (0.0, 0.0, 0.0),
            (0.5, 1.0 / 3.0, 1.0 / 6.0),
            (-7.0 / 12.0, -5.0 / 18.0, -11.0 / 36.0),
        ];
        for (g, w) in got.iter().zip(want) {
            assert_close(g.0, w.0, 10.0, "macd");
            assert_close(g.1, w.1, 10.0, "signal");
            assert_close(g.2, w.2, 10.0, "histogram");
        }
        assert!(!macd.is_ready(), "3 + 2 - 1 = 4 samples");
        macd.update(7.0);
        assert!(macd.is_ready());
    }

    #[test]
    fn matches_the_weighted_sums_at_every_step() {
        let mut rng = Rng::new(2);
        let xs = rng.walk_f64(6_000_000, 40, 2_000);
        let mut macd = Macd::new(12, 26, 9);
        let mut lines = Vec::new();
        for t in 0..xs.len() {
            macd.update(xs[t]);
            let line = ema_from_scratch(&xs[..=t], 12) - ema_from_scratch(&xs[..=t], 26);
            lines.push(line);
            let signal = ema_from_scratch(&lines, 9);
            assert_close(macd.macd(), line, 6e6, "macd");
            assert_close(macd.signal(), signal, 6e6, "signal");
            assert_close(macd.histogram(), line - signal, 6e6, "histogram");
            assert_eq!(
                macd.is_ready(),
                t + 1 >= 34,
                "TA-Lib's lookback for 12/26/9 is 33"
            );
        }
    }
}
