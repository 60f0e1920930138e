//! The portfolio risk model (cold path): VaR, CVaR, correlation, correlated exposure and stress
//! figures of the whole book, computed beside the hot path on a market-time schedule and
//! published to the pre-trade checks as plain numbers ([`Figures`]), with per-instrument slopes
//! so an order's check estimates its effect in O(1), one multiply.
//!
//! # Definitions
//!
//! - **Returns** ([`ReturnSampler`]): per-interval simple returns `p_t / p_{t-1} - 1` of every
//!   instrument's mid on one grid `floor(ts / interval)` of market time; a slot without a mark
//!   carries the price (0), an instrument with no price yet gives 0. The newest `window` rows
//!   are kept, oldest `r_1` to newest `r_T`.
//! - **Covariance**: EWMA (RiskMetrics, zero mean) with normalized weights,
//!   `Σ = Σ_{k=0}^{T-1} w_k r_{T-k} r_{T-k}ᵀ`, `w_k = (1-λ) λ^k / (1 - λ^T)`. Correlation
//!   `ρ_ij = Σ_ij / sqrt(Σ_ii Σ_jj)` (0 when a variance is 0, `ρ_ii = 1`).
//! - **Exposures** `e_i`: signed, in account currency (position × mark, converted), from the
//!   caller.
//! - **Historical VaR/CVaR**: scenario losses `L_t = -Σ_i e_i r_{t,i}` over the window;
//!   `VaR_α` is their quantile with numpy's default linear method (`h = (T-1)α`, interpolated
//!   between `sorted[floor h]` and `sorted[ceil h]`), `CVaR_α` the mean of `L_t >= VaR_α`;
//!   α = 0.95 and 0.99.
//! - **Parametric** (normal): `σ_p = sqrt(eᵀΣe)`, `VaR_α = z_α σ_p`,
//!   `CVaR_α = σ_p φ(z_α) / (1-α)`.
//! - **Contributions and marginals** (99% parametric): `c_i = z e_i (Σe)_i / σ_p` (they sum
//!   to the VaR); `marginal_up[i] = z (Σe)_i / σ_p = -marginal_down[i]`, and both
//!   `z sqrt(Σ_ii)` when `σ_p = 0`. The hot path estimates the VaR after an order adding `Δ`
//!   to `e_i` as `var + |Δ| · marginal_dir` ([`Figures::var99_linear`]). `z sqrt(eᵀΣe)` is a
//!   norm, so convex: that tangent estimate can only understate, and the triangle inequality
//!   bounds the exact figure from above, `linear ≤ exact ≤ var + |Δ| z σ_i`
//!   ([`Figures::var99_bound`], from `standalone[i] = z σ_i`); [`Figures::var99_exact`]
//!   recomputes.
//! - **Correlated exposure**: held instrument `i` is *linked* to held `j ≠ i` when
//!   `ρ_ij sign(e_i) sign(e_j) > θ` (they move together in the same risk direction). Links
//!   make clusters (connected components); the correlated exposure is, summed over clusters,
//!   each cluster's gross exposure beyond its largest holding (two linked positions count the
//!   smaller, an unlinked one nothing), as a share of equity. For the hot path,
//!   `linked_buy[i]` / `linked_sell[i]` say whether adding exposure to `i` that way (buy +,
//!   sell −) would be linked to a held instrument. The correlated exposure after the order is
//!   at most `CE + ce_jump_dir[i] + |Δ| / equity` when linked and at most `CE` when not
//!   ([`Figures::correlated_exposure_bound`]); `ce_jump_dir[i]` is 0 unless the order would
//!   bridge several clusters (then it is the sum of their largest holdings less the largest).
//!   The clusters, rather than each position's larger neighbour, make that bound true: with a
//!   neighbour rule, shrinking a position below a linked neighbour could raise the figure by
//!   almost the whole position.
//! - **Stress** ([`StressScenario`]): instant shocks, volatility scaled, all correlations +1
//!   in the adverse direction, and an outage freezing some positions; the loss of each, the
//!   worst, and the worst's slopes `stress_up` / `stress_down` per instrument (a linear
//!   approximation, exact for shocks).
//!
//! Everything is allocated when the model and its [`Figures`] are made;
//! [`PortfolioModel::compute`] allocates nothing.

mod correlated;
mod covariance;
mod figures;
mod returns;
mod stress;
mod var;

use anyhow::{ensure, Result};
use pulse_core::num::Nanos;

pub use figures::{Figures, WorstStress};
pub use returns::ReturnSampler;
pub use stress::{check_scenarios, StressScenario};
pub use var::{Tail, Z95, Z99};

use correlated::{Clusters, Links};
use covariance::{correlation, ewma_covariance};
use stress::StressBook;
use var::{historical, parametric_tail, Parametric, Slopes};

/// The model's settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RiskModelConfig {
    /// Sampling interval of the return grid (default 1 s).
    pub interval: Nanos,
    /// Return rows kept (default 500, at most 10 000).
    pub window: usize,
    /// EWMA decay λ (default 0.94, RiskMetrics' daily value).
    pub lambda: f64,
    /// Correlation above which two same-direction positions are linked (default 0.7).
    pub corr_threshold: f64,
    /// Rows before the figures are ready (default 30).
    pub min_rows: usize,
}

impl Default for RiskModelConfig {
    fn default() -> RiskModelConfig {
        RiskModelConfig {
            interval: Nanos(1_000_000_000),
            window: 500,
            lambda: 0.94,
            corr_threshold: 0.7,
            min_rows: 30,
        }
    }
}

impl RiskModelConfig {
    /// Largest window accepted.
    pub const MAX_WINDOW: usize = 10_000;

    pub fn check(&self) -> Result<()> {
        ensure!(self.interval.0 > 0, "risk model interval must be positive");
        ensure!(
            (1..=Self::MAX_WINDOW).contains(&self.window),
            "risk model window {} not in 1..={}",
            self.window,
            Self::MAX_WINDOW
        );
        ensure!(
            self.lambda > 0.0 && self.lambda < 1.0,
            "risk model lambda {} not in (0, 1)",
            self.lambda
        );
        ensure!(
            (0.0..1.0).contains(&self.corr_threshold),
            "risk model correlation threshold {} not in [0, 1)",
            self.corr_threshold
        );
        ensure!(
            self.min_rows <= self.window,
            "risk model min_rows above the window"
        );
        Ok(())
    }
}

/// The portfolio risk model of `n` instruments: a [`ReturnSampler`] fed with marks, and the
/// computation of [`Figures`] from it and the current exposures.
///
/// ```
/// use pulse_core::num::Nanos;
/// use pulse_risk::portfolio::{Figures, PortfolioModel, RiskModelConfig, StressScenario};
///
/// let config = RiskModelConfig { min_rows: 2, ..RiskModelConfig::default() };
/// let mut model = PortfolioModel::new(2, config)?;
/// for (second, btc, eth) in [(0, 100.0, 10.0), (1, 101.0, 10.2), (2, 99.0, 9.9), (3, 100.0, 10.0)] {
///     model.on_mark(0, btc, Nanos(second * 1_000_000_000));
///     model.on_mark(1, eth, Nanos(second * 1_000_000_000));
/// }
/// model.sampler_mut().close_until(Nanos(4_000_000_000));
/// let scenarios = [StressScenario::Shock { name: "crash".into(), shocks: vec![(0, -0.2)] }];
/// let mut figures = Figures::new(2, scenarios.len());
/// model.compute(&[50_000.0, 20_000.0], 100_000.0, &scenarios, &mut figures);
/// assert!(figures.ready && figures.rows == 4);
/// // Long both and they moved together: one cluster, the smaller holding is correlated.
/// assert_eq!(figures.correlated_exposure_bps, 2_000);
/// assert_eq!(figures.worst_stress.map(|w| w.loss), Some(10_000.0));
/// // Buying more of either adds to the cluster; the hot path's bound for 10 000 more:
/// assert!(figures.linked_buy[1]);
/// assert!((figures.correlated_exposure_bound(1, 10_000.0) - 0.3).abs() < 1e-12);
/// # Ok::<(), anyhow::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct PortfolioModel {
    sampler: ReturnSampler,
    config: RiskModelConfig,
    losses: Vec<f64>,
    sigma_e: Vec<f64>,
    sub: Vec<f64>,
    sub_sigma_e: Vec<f64>,
    clusters: Clusters,
}

impl PortfolioModel {
    pub fn new(n: usize, config: RiskModelConfig) -> Result<PortfolioModel> {
        config.check()?;
        Ok(PortfolioModel {
            sampler: ReturnSampler::new(n, config.interval, config.window),
            config,
            losses: vec![0.0; config.window],
            sigma_e: vec![0.0; n],
            sub: vec![0.0; n],
            sub_sigma_e: vec![0.0; n],
            clusters: Clusters::new(n),
        })
    }

    /// A mid of instrument `i` at market time `ts` (see [`ReturnSampler::on_mark`]).
    pub fn on_mark(&mut self, i: usize, mid: f64, ts: Nanos) {
        self.sampler.on_mark(i, mid, ts);
    }

    pub fn rows(&self) -> usize {
        self.sampler.rows()
    }

    pub fn config(&self) -> &RiskModelConfig {
        &self.config
    }

    /// For closing slots on the schedule ([`ReturnSampler::close_until`]) and loading rows.
    pub fn sampler_mut(&mut self) -> &mut ReturnSampler {
        &mut self.sampler
    }

    /// Computes every figure for `exposures` (one per instrument) and `equity` (account
    /// currency) into `out`, made by `Figures::new(n, scenarios.len())`. Allocates nothing.
    ///
    /// # Panics
    /// When `exposures` or `out` do not match the model's instruments and the scenarios.
    pub fn compute(
        &mut self,
        exposures: &[f64],
        equity: f64,
        scenarios: &[StressScenario],
        out: &mut Figures,
    ) {
        let n = self.sampler.instruments();
        assert_eq!(exposures.len(), n, "one exposure per instrument");
        assert_eq!(
            out.cov.len(),
            n * n,
            "figures made for the model's instruments"
        );
        assert_eq!(
            out.stress.len(),
            scenarios.len(),
            "figures made for the scenarios"
        );
        out.rows = self.sampler.rows();
        out.ts = self.sampler.last_ts();
        out.ready = out.rows >= self.config.min_rows;

        ewma_covariance(&self.sampler, self.config.lambda, &mut out.cov);
        correlation(n, &out.cov, &mut out.corr);
        out.hist = historical(&self.sampler, exposures, &mut self.losses);
        let sigma_p = Parametric {
            cov: &out.cov,
            exposures,
            sigma_e: &mut self.sigma_e,
        }
        .sigma_p();
        out.sigma_p = sigma_p;
        out.param = parametric_tail(sigma_p);
        Slopes {
            contributions: &mut out.contributions,
            marginal_up: &mut out.marginal_up,
            marginal_down: &mut out.marginal_down,
            standalone: &mut out.standalone,
        }
        .fill(&out.cov, exposures, &self.sigma_e, sigma_p);

        self.correlated(exposures, equity, out);
        self.stress(exposures, scenarios, out);
    }

    fn correlated(&mut self, exposures: &[f64], equity: f64, out: &mut Figures) {
        let theta = self.config.corr_threshold;
        out.correlated_gross = self.clusters.gross(&out.corr, exposures, theta);
        let links = Links {
            buy: &mut out.linked_buy,
            sell: &mut out.linked_sell,
            jump_buy: &mut out.ce_jump_buy,
            jump_sell: &mut out.ce_jump_sell,
        };
        self.clusters.publish(&out.corr, exposures, theta, links);
        if equity > 0.0 {
            out.per_equity = 1.0 / equity;
            out.correlated_exposure = out.correlated_gross / equity;
            for jump in out
                .ce_jump_buy
                .iter_mut()
                .chain(out.ce_jump_sell.iter_mut())
            {
                *jump /= equity;
            }
        } else {
            // No equity: any correlated exposure is too much.
            out.per_equity = f64::INFINITY;
            out.correlated_exposure = f64::INFINITY;
        }
        // `as` saturates: infinity is u32::MAX.
        out.correlated_exposure_bps = (out.correlated_exposure * 10_000.0).ceil() as u32;
    }

    fn stress(&mut self, exposures: &[f64], scenarios: &[StressScenario], out: &mut Figures) {
        let mut book = StressBook {
            cov: &out.cov,
            exposures,
            sigma_p: out.sigma_p,
            marginal_up: &out.marginal_up,
            marginal_down: &out.marginal_down,
            sub: &mut self.sub,
            sub_sigma_e: &mut self.sub_sigma_e,
        };
        out.worst_stress = None;
        for (index, (scenario, loss)) in scenarios.iter().zip(out.stress.iter_mut()).enumerate() {
            *loss = book.loss(scenario);
            if out.worst_stress.is_none_or(|w| *loss > w.loss) {
                out.worst_stress = Some(WorstStress { index, loss: *loss });
            }
        }
        match out.worst_stress {
            Some(w) => book.sensitivities(
                &scenarios[w.index],
                &mut out.stress_up,
                &mut out.stress_down,
            ),
            None => {
                out.stress_up.fill(0.0);
                out.stress_down.fill(0.0);
            }
        }
    }
}

#[cfg(test)]
mod tests;
