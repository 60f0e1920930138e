//! Value at risk and expected shortfall of the portfolio: historical (over the window's
//! scenarios) and parametric (normal, EWMA covariance), with the parametric 99% VaR's
//! per-instrument contributions and marginals.

use super::returns::ReturnSampler;

/// Standard normal quantile at 0.95.
pub const Z95: f64 = 1.644_853_626_951_472_2;
/// Standard normal quantile at 0.99.
pub const Z99: f64 = 2.326_347_874_040_840_8;

/// VaR and CVaR (expected shortfall) at 95% and 99%, in account currency, losses positive.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Tail {
    pub var95: f64,
    pub cvar95: f64,
    pub var99: f64,
    pub cvar99: f64,
}

/// Historical figures over the window: scenario losses `L_t = -Σ_i e_i r_{t,i}`, `VaR_α` their
/// linear-interpolated (numpy's default, type 7) quantile and `CVaR_α` the mean of the losses
/// at or above it. `losses` is scratch of at least the window's length. Zeros without rows.
pub(crate) fn historical(sampler: &ReturnSampler, exposures: &[f64], losses: &mut [f64]) -> Tail {
    let rows = sampler.rows();
    if rows == 0 {
        return Tail::default();
    }
    let losses = &mut losses[..rows];
    for (t, l) in losses.iter_mut().enumerate() {
        *l = -sampler
            .row(t)
            .iter()
            .zip(exposures)
            .map(|(r, e)| e * r)
            .sum::<f64>();
    }
    losses.sort_unstable_by(f64::total_cmp);
    let (var95, cvar95) = var_cvar_sorted(losses, 0.95);
    let (var99, cvar99) = var_cvar_sorted(losses, 0.99);
    Tail {
        var95,
        cvar95,
        var99,
        cvar99,
    }
}

/// `(VaR_α, CVaR_α)` of ascending, non-empty `sorted`: `h = (T-1)α`, VaR interpolates between
/// `sorted[floor h]` and `sorted[ceil h]`; CVaR is the mean of the values `>= VaR`. The
/// interpolation is numpy's (from the nearer end), so it never leaves `[sorted[lo], sorted[hi]]`.
pub(crate) fn var_cvar_sorted(sorted: &[f64], alpha: f64) -> (f64, f64) {
    let h = (sorted.len() - 1) as f64 * alpha;
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    let (a, b, t) = (sorted[lo], sorted[hi], h - lo as f64);
    let var = if t >= 0.5 {
        b - (b - a) * (1.0 - t)
    } else {
        a + (b - a) * t
    };
    let tail = &sorted[lo + sorted[lo..].partition_point(|l| *l < var)..];
    (var, tail.iter().sum::<f64>() / tail.len() as f64)
}

/// The parametric figures of exposures `e` against covariance `cov` (`n * n`).
pub(crate) struct Parametric<'a> {
    pub cov: &'a [f64],
    pub exposures: &'a [f64],
    /// Scratch of length `n`: receives `Σe`.
    pub sigma_e: &'a mut [f64],
}

impl Parametric<'_> {
    /// Fills `Σe` and returns `σ_p = sqrt(eᵀΣe)` (a rounding-negative quadratic form is 0).
    pub fn sigma_p(&mut self) -> f64 {
        let n = self.exposures.len();
        let mut q = 0.0;
        for (i, se) in self.sigma_e.iter_mut().enumerate() {
            let row = &self.cov[i * n..(i + 1) * n];
            *se = row.iter().zip(self.exposures).map(|(c, e)| c * e).sum();
            q += self.exposures[i] * *se;
        }
        q.max(0.0).sqrt()
    }
}

/// Normal VaR and CVaR of a portfolio with standard deviation `sigma_p`:
/// `VaR_α = z_α σ_p`, `CVaR_α = σ_p φ(z_α) / (1 - α)`.
pub(crate) fn parametric_tail(sigma_p: f64) -> Tail {
    Tail {
        var95: Z95 * sigma_p,
        cvar95: sigma_p * normal_pdf(Z95) / 0.05,
        var99: Z99 * sigma_p,
        cvar99: sigma_p * normal_pdf(Z99) / 0.01,
    }
}

fn normal_pdf(z: f64) -> f64 {
    (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

/// The 99% parametric VaR's split and slopes, per instrument, written into the slices:
/// component `c_i = z e_i (Σe)_i / σ_p` (they sum to the VaR), marginal up/down (VaR added per
/// unit of exposure added in the + / − direction: `±z (Σe)_i / σ_p`, or `z sqrt(Σ_ii)` both
/// ways when `σ_p = 0`) and standalone `z sqrt(Σ_ii)`.
pub(crate) struct Slopes<'a> {
    pub contributions: &'a mut [f64],
    pub marginal_up: &'a mut [f64],
    pub marginal_down: &'a mut [f64],
    pub standalone: &'a mut [f64],
}

impl Slopes<'_> {
    pub fn fill(&mut self, cov: &[f64], exposures: &[f64], sigma_e: &[f64], sigma_p: f64) {
        let n = exposures.len();
        for i in 0..n {
            let standalone = Z99 * cov[i * n + i].max(0.0).sqrt();
            self.standalone[i] = standalone;
            if sigma_p > 0.0 {
                let m = Z99 * sigma_e[i] / sigma_p;
                self.contributions[i] = exposures[i] * m;
                self.marginal_up[i] = m;
                self.marginal_down[i] = -m;
            } else {
                self.contributions[i] = 0.0;
                self.marginal_up[i] = standalone;
                self.marginal_down[i] = standalone;
            }
        }
    }
}

#[cfg(test)]
mod tests;
