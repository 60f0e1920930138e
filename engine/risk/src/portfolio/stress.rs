//! Named stress scenarios: the loss each would cause the current book, and how the worst one's
//! loss moves with an order.

use anyhow::{ensure, Result};

use super::var::{Parametric, Z99};

/// A named stress scenario. Losses are in account currency, positive.
#[derive(Clone, Debug, PartialEq)]
pub enum StressScenario {
    /// Instant returns (`-0.10` = down 10%) of the listed instruments, the others unchanged:
    /// loss `-Σ e_i shock_i` (a listed instrument twice shocks twice).
    Shock {
        name: String,
        shocks: Vec<(usize, f64)>,
    },
    /// Volatility times `factor`: the 99% parametric VaR with `Σ` scaled by `factor²`.
    VolScale { name: String, factor: f64 },
    /// Every correlation +1 in the adverse direction: the 99% parametric VaR with
    /// `σ_p = Σ_i |e_i| σ_i`.
    CorrelationOne { name: String },
    /// The listed instruments' positions frozen (a venue down) for `horizon_intervals`
    /// sampling intervals: the 99% parametric VaR of that sub-portfolio times
    /// `sqrt(horizon_intervals)`.
    Outage {
        name: String,
        instruments: Vec<usize>,
        horizon_intervals: f64,
    },
}

impl StressScenario {
    pub fn name(&self) -> &str {
        match self {
            StressScenario::Shock { name, .. }
            | StressScenario::VolScale { name, .. }
            | StressScenario::CorrelationOne { name }
            | StressScenario::Outage { name, .. } => name,
        }
    }
}

/// Checks scenarios against `n` instruments once, when they are configured: indices in range,
/// shocks and factors finite, horizons finite and not negative.
pub fn check_scenarios(scenarios: &[StressScenario], n: usize) -> Result<()> {
    for s in scenarios {
        let name = s.name();
        match s {
            StressScenario::Shock { shocks, .. } => {
                for &(i, shock) in shocks {
                    ensure!(i < n, "stress scenario {name}: instrument {i} of {n}");
                    ensure!(shock.is_finite(), "stress scenario {name}: shock {shock}");
                }
            }
            StressScenario::VolScale { factor, .. } => {
                ensure!(
                    factor.is_finite(),
                    "stress scenario {name}: factor {factor}"
                )
            }
            StressScenario::CorrelationOne { .. } => {}
            StressScenario::Outage {
                instruments,
                horizon_intervals: h,
                ..
            } => {
                for &i in instruments {
                    ensure!(i < n, "stress scenario {name}: instrument {i} of {n}");
                }
                ensure!(
                    h.is_finite() && *h >= 0.0,
                    "stress scenario {name}: horizon {h}"
                );
            }
        }
    }
    Ok(())
}

/// What the scenarios are evaluated against: the book, the covariance and the 99% parametric
/// figures already computed, with scratch for a sub-portfolio.
pub(crate) struct StressBook<'a> {
    pub cov: &'a [f64],
    pub exposures: &'a [f64],
    pub sigma_p: f64,
    pub marginal_up: &'a [f64],
    pub marginal_down: &'a [f64],
    /// Scratch of length `n`.
    pub sub: &'a mut [f64],
    /// Scratch of length `n`.
    pub sub_sigma_e: &'a mut [f64],
}

impl StressBook<'_> {
    /// The scenario's loss. Instrument indices out of range are skipped (see
    /// [`check_scenarios`]).
    pub fn loss(&mut self, s: &StressScenario) -> f64 {
        match s {
            StressScenario::Shock { shocks, .. } => shocks
                .iter()
                .filter_map(|&(i, shock)| self.exposures.get(i).map(|e| -e * shock))
                .sum(),
            StressScenario::VolScale { factor, .. } => Z99 * factor.abs() * self.sigma_p,
            StressScenario::CorrelationOne { .. } => {
                let n = self.exposures.len();
                let sum: f64 = (0..n)
                    .map(|i| self.exposures[i].abs() * self.sigma(i))
                    .sum();
                Z99 * sum
            }
            StressScenario::Outage {
                instruments,
                horizon_intervals,
                ..
            } => Z99 * horizon_intervals.sqrt() * self.frozen_sigma(instruments),
        }
    }

    /// The scenario's loss added per unit of exposure added to each instrument in the +
    /// (`up`) and − (`down`) direction: the scenario's gradient, a linear approximation (exact
    /// for shocks; for the VaR-type scenarios the tangent of a convex function, so it can
    /// understate, by at most `z σ_i` per unit for an instrument the scenario covers).
    pub fn sensitivities(&mut self, s: &StressScenario, up: &mut [f64], down: &mut [f64]) {
        up.fill(0.0);
        down.fill(0.0);
        let n = up.len();
        match s {
            StressScenario::Shock { shocks, .. } => {
                for &(i, shock) in shocks.iter().filter(|(i, _)| *i < n) {
                    up[i] -= shock;
                    down[i] += shock;
                }
            }
            StressScenario::VolScale { factor, .. } => {
                for i in 0..n {
                    up[i] = factor.abs() * self.marginal_up[i];
                    down[i] = factor.abs() * self.marginal_down[i];
                }
            }
            StressScenario::CorrelationOne { .. } => {
                for i in 0..n {
                    let (e, zs) = (self.exposures[i], Z99 * self.sigma(i));
                    up[i] = if e < 0.0 { -zs } else { zs };
                    down[i] = if e > 0.0 { -zs } else { zs };
                }
            }
            StressScenario::Outage {
                instruments,
                horizon_intervals,
                ..
            } => {
                let sigma = self.frozen_sigma(instruments);
                let scale = Z99 * horizon_intervals.sqrt();
                for &i in instruments.iter().filter(|i| **i < n) {
                    if sigma > 0.0 {
                        up[i] = scale * self.sub_sigma_e[i] / sigma;
                        down[i] = -up[i];
                    } else {
                        up[i] = scale * self.sigma(i);
                        down[i] = up[i];
                    }
                }
            }
        }
    }

    fn sigma(&self, i: usize) -> f64 {
        let n = self.exposures.len();
        self.cov[i * n + i].max(0.0).sqrt()
    }

    /// `σ` of the sub-portfolio of `instruments` (each once); leaves its `Σe` in `sub_sigma_e`.
    fn frozen_sigma(&mut self, instruments: &[usize]) -> f64 {
        self.sub.fill(0.0);
        for &i in instruments.iter().filter(|i| **i < self.exposures.len()) {
            self.sub[i] = self.exposures[i];
        }
        Parametric {
            cov: self.cov,
            exposures: self.sub,
            sigma_e: self.sub_sigma_e,
        }
        .sigma_p()
    }
}

#[cfg(test)]
mod tests;
