//! The weights of each allocation mode, from the strategies' measured volatilities, and the
//! rolling window they are measured over. Cold-path f64: run once per rebalance.

use super::MAX_STRATEGIES;

/// One weight per strategy (the first `count` used).
pub(crate) type Weights = [f64; MAX_STRATEGIES];

/// `1 / count` each.
pub(crate) fn equal(count: usize) -> Weights {
    let mut w = [0.0; MAX_STRATEGIES];
    let count = count.clamp(1, MAX_STRATEGIES);
    w[..count].fill(1.0 / count as f64);
    w
}

/// Volatility targeting: `target / sigma` each, scaled down together when they sum past 1
/// (what is not allocated stays cash).
pub(crate) fn vol_target(target: f64, sigmas: &[f64]) -> Weights {
    let mut w = [0.0; MAX_STRATEGIES];
    for (w, s) in w.iter_mut().zip(sigmas) {
        *w = target / s;
    }
    let sum: f64 = w.iter().sum();
    if sum > 1.0 {
        w.iter_mut().for_each(|w| *w /= sum);
    }
    w
}

/// Inverse-volatility risk parity: `1 / sigma` each, normalized to 1. Correlations are
/// ignored (it is equal risk contribution only for uncorrelated strategies).
pub(crate) fn inverse_vol(sigmas: &[f64]) -> Weights {
    let mut w = [0.0; MAX_STRATEGIES];
    for (w, s) in w.iter_mut().zip(sigmas) {
        *w = 1.0 / s;
    }
    let sum: f64 = w.iter().sum();
    if sum > 0.0 {
        w.iter_mut().for_each(|w| *w /= sum);
    }
    w
}

/// A weight in basis points, rounded down (so that they never sum past 10,000).
pub(crate) fn to_bps(w: f64) -> u32 {
    (w * 10_000.0).floor().clamp(0.0, 10_000.0) as u32
}

/// The last `capacity` samples (allocated once, overwritten oldest first).
#[derive(Clone, Debug)]
pub(crate) struct Window {
    values: Vec<f64>,
    next: usize,
    len: usize,
}

impl Window {
    pub(crate) fn new(capacity: usize) -> Window {
        Window {
            values: vec![0.0; capacity.max(1)],
            next: 0,
            len: 0,
        }
    }

    pub(crate) fn push(&mut self, v: f64) {
        self.values[self.next] = v;
        self.next = (self.next + 1) % self.values.len();
        self.len = (self.len + 1).min(self.values.len());
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The sample standard deviation (n - 1), `None` below two samples.
    pub(crate) fn std(&self) -> Option<f64> {
        if self.len < 2 {
            return None;
        }
        let xs = &self.values[..self.len];
        let n = self.len as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0);
        Some(var.sqrt())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn each_mode_weighs_by_hand() {
        assert_eq!(&equal(4)[..5], &[0.25, 0.25, 0.25, 0.25, 0.0]);
        // Risk parity, sigmas 1% and 2%: 1/0.01 = 100, 1/0.02 = 50 → 2/3 and 1/3.
        let rp = inverse_vol(&[0.01, 0.02]);
        assert!(close(rp[0], 2.0 / 3.0) && close(rp[1], 1.0 / 3.0), "{rp:?}");
        // Target 0.5%: 0.005/0.01 = 0.5 and 0.005/0.02 = 0.25: 25% stays cash.
        let vt = vol_target(0.005, &[0.01, 0.02]);
        assert!(close(vt[0], 0.5) && close(vt[1], 0.25), "{vt:?}");
        // Target 2%: 2 + 1 = 3 > 1, scaled to 2/3 and 1/3.
        let vt = vol_target(0.02, &[0.01, 0.02]);
        assert!(close(vt[0], 2.0 / 3.0) && close(vt[1], 1.0 / 3.0), "{vt:?}");
        assert_eq!(
            (to_bps(2.0 / 3.0), to_bps(1.0 / 3.0), to_bps(1.5)),
            (6_666, 3_333, 10_000)
        );
    }

    #[test]
    fn the_window_keeps_the_last_samples() {
        let mut w = Window::new(3);
        w.push(100.0);
        assert_eq!(w.std(), None);
        // 1, 2, 3 after 100 fell out: mean 2, variance (1 + 0 + 1) / 2 = 1.
        for v in [1.0, 2.0, 3.0] {
            w.push(v);
        }
        assert_eq!((w.len(), w.std()), (3, Some(1.0)));
    }
}
