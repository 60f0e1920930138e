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

/// Equal risk contribution (with correlations): the weights whose contributions
/// `w_i (Cov w)_i` to the portfolio's variance are equal, normalized to 1. Solved by cyclical
/// coordinate descent on `min ½ yᵀ Cov y - Σ ln y_i / n` (Griveau-Billion, Richard and
/// Roncalli, 2013), whose minimum normalized is the answer; a strictly positive diagonal
/// (volatilities floored) keeps every step defined. `ITERATIONS` sweeps of `n` closed-form
/// updates: well converged for eight strategies or fewer.
pub(crate) fn equal_risk(cov: &Cov, n: usize) -> Weights {
    const ITERATIONS: usize = 500;
    let n = n.clamp(1, MAX_STRATEGIES);
    let b = 1.0 / n as f64;
    let mut y = [0.0; MAX_STRATEGIES];
    for i in 0..n {
        y[i] = 1.0 / cov[i][i].sqrt();
    }
    for _ in 0..ITERATIONS {
        for i in 0..n {
            let others: f64 = (0..n).filter(|&j| j != i).map(|j| cov[i][j] * y[j]).sum();
            y[i] = (-others + (others * others + 4.0 * cov[i][i] * b).sqrt()) / (2.0 * cov[i][i]);
        }
    }
    let sum: f64 = y[..n].iter().sum();
    y.iter_mut().for_each(|y| *y /= sum);
    y
}

/// A covariance matrix of the strategies' returns (the first `n` rows and columns used).
pub(crate) type Cov = [[f64; MAX_STRATEGIES]; MAX_STRATEGIES];

/// The last `capacity` samples of every strategy's return, one row per sampling interval
/// (allocated once, overwritten oldest first), so that covariances pair returns of the same
/// interval.
#[derive(Clone, Debug)]
pub(crate) struct Window {
    rows: Vec<[f64; MAX_STRATEGIES]>,
    next: usize,
    len: usize,
}

impl Window {
    pub(crate) fn new(capacity: usize) -> Window {
        Window {
            rows: vec![[0.0; MAX_STRATEGIES]; capacity.max(1)],
            next: 0,
            len: 0,
        }
    }

    pub(crate) fn push(&mut self, row: [f64; MAX_STRATEGIES]) {
        self.rows[self.next] = row;
        self.next = (self.next + 1) % self.rows.len();
        self.len = (self.len + 1).min(self.rows.len());
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The sample covariance matrix (n - 1) of the first `n` strategies, `None` below two
    /// samples.
    pub(crate) fn cov(&self, n: usize) -> Option<Cov> {
        if self.len < 2 {
            return None;
        }
        let rows = &self.rows[..self.len];
        let count = self.len as f64;
        let mut mean = [0.0; MAX_STRATEGIES];
        for row in rows {
            for (m, x) in mean.iter_mut().zip(row) {
                *m += x / count;
            }
        }
        let mut cov = [[0.0; MAX_STRATEGIES]; MAX_STRATEGIES];
        for row in rows {
            for i in 0..n {
                for j in 0..n {
                    cov[i][j] += (row[i] - mean[i]) * (row[j] - mean[j]) / (count - 1.0);
                }
            }
        }
        Some(cov)
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
        let row = |a: f64, b: f64| {
            let mut r = [0.0; MAX_STRATEGIES];
            r[..2].copy_from_slice(&[a, b]);
            r
        };
        let mut w = Window::new(3);
        w.push(row(100.0, 0.0));
        assert_eq!(w.cov(2), None);
        // (1, 3), (2, 2), (3, 1) after the first fell out: means 2 and 2, variances
        // (1 + 0 + 1) / 2 = 1 each, covariance (-1 + 0 - 1) / 2 = -1.
        for (a, b) in [(1.0, 3.0), (2.0, 2.0), (3.0, 1.0)] {
            w.push(row(a, b));
        }
        let cov = w.cov(2).unwrap();
        assert_eq!(
            (w.len(), cov[0][0], cov[1][1], cov[0][1]),
            (3, 1.0, 1.0, -1.0)
        );
    }

    #[test]
    fn equal_risk_contributions_count_correlations() {
        // Uncorrelated, volatilities 1% and 2%: inverse volatility, 2/3 and 1/3.
        let mut cov = [[0.0; MAX_STRATEGIES]; MAX_STRATEGIES];
        (cov[0][0], cov[1][1]) = (1e-4, 4e-4);
        let near = |a: f64, b: f64| (a - b).abs() < 1e-9;
        let w = equal_risk(&cov, 2);
        assert!(near(w[0], 2.0 / 3.0) && near(w[1], 1.0 / 3.0), "{w:?}");
        // A and B the same strategy, C independent, all at 1%: A and B share one risk, so
        // 2 a^2 = c^2 with 2a + c = 1: a = 1 / (2 + sqrt 2) = 0.292893, c = 0.414214.
        let mut cov = [[0.0; MAX_STRATEGIES]; MAX_STRATEGIES];
        for (i, j) in [(0, 0), (0, 1), (1, 0), (1, 1), (2, 2)] {
            cov[i][j] = 1e-4;
        }
        let w = equal_risk(&cov, 3);
        let a = 1.0 / (2.0 + 2f64.sqrt());
        assert!(near(w[0], a) && near(w[1], a), "{w:?}");
        assert!(near(w[2], 2f64.sqrt() * a), "{w:?}");
        // Inverse volatility would have given a third each.
        assert_eq!(&w[3..], &[0.0; MAX_STRATEGIES - 3]);
    }
}
