//! The portfolio's risk figures as the cold portfolio stage publishes them to the risk stage,
//! and the pre-trade limits that read them. Nothing here recomputes a matrix: the hot path
//! reads a handful of numbers per instrument and does O(1) arithmetic.
//!
//! For an order on instrument `i`, `Δ` is the change of `i`'s signed exposure (account
//! currency) from the exposure the figures were computed at to the exposure the order would
//! leave (the position with this order and every working order on its side filled, at the
//! reference mid). Then:
//!
//! - **VaR** (parametric, at the configured confidence, one sampling interval): exact for a
//!   change of one exposure under the published covariance, not an approximation:
//!   `σ'² = σ² + 2Δ(Σe)ᵢ + Δ²Σᵢᵢ`, `VaR' = z·σ'`.
//! - **Correlated exposure** (the definition in [`crate::portfolio`]): the gross exposure held
//!   in instruments linked (sign-adjusted correlation above the threshold) to a larger holding,
//!   as a share of equity. An order in a direction linked to some holding raises it by at most
//!   `|Δ|` plus the published jump of that instrument and direction (holdings it would overtake
//!   and so turn into linked smaller ones); the hot path adds that bound, never less than the
//!   truth. An order in a direction linked to nothing leaves it where it is.
//! - **Stress**: the worst scenario's loss plus `Δ` times that scenario's sensitivity to
//!   instrument `i` in the order's direction (exact for price shocks, the tangent for the
//!   volatility, correlation and outage scenarios: a linear approximation).
//!
//! Exposure changes of other instruments since the figures were computed (fills, marks) are
//! not in the estimate; the figures are recomputed every sampling interval.

use pulse_core::intent::RejectReason;
use pulse_core::num::Nanos;

/// Instruments the portfolio model covers (the config refuses more).
pub const MAX_BOOK_INSTRUMENTS: usize = 32;

/// What the hot path needs of one instrument.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct InstrumentRisk {
    /// Signed exposure in the account currency the figures were computed at.
    pub exposure: f64,
    /// `(Σe)ᵢ`: the covariance of this instrument's return with the portfolio's P&L.
    pub cov_portfolio: f64,
    /// `Σᵢᵢ`: the variance of its return over one interval.
    pub variance: f64,
    /// Adding exposure in each direction is linked to some holding (see the module docs).
    pub linked_buy: bool,
    pub linked_sell: bool,
    /// The most the correlated exposure can jump beyond the order's own size, per direction.
    pub jump_buy: f64,
    pub jump_sell: f64,
    /// The worst stress scenario's loss per unit of exposure added in each direction.
    pub stress_buy: f64,
    pub stress_sell: f64,
}

/// The full set of figures, for monitoring and the journal (account currency).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RiskSummary {
    pub var95_hist: f64,
    pub var99_hist: f64,
    pub cvar95_hist: f64,
    pub cvar99_hist: f64,
    pub var95_param: f64,
    pub var99_param: f64,
    pub cvar95_param: f64,
    pub cvar99_param: f64,
}

/// One publication of the portfolio stage.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PublishedRisk {
    /// Market time of the last return row the figures include.
    pub at: Nanos,
    /// Return rows in the window; the limits apply once the model has its minimum.
    pub rows: u32,
    pub ready: bool,
    /// `z` of the limit's confidence and `σ² = eᵀΣe` at the published exposures.
    pub z: f64,
    pub sigma2: f64,
    /// Correlated exposure (account currency) and the equity it was computed with.
    pub correlated: f64,
    pub equity: f64,
    /// The worst stress scenario: its index in the config and its loss.
    pub worst_scenario: u16,
    pub worst_stress: f64,
    pub summary: RiskSummary,
    pub instruments: [InstrumentRisk; MAX_BOOK_INSTRUMENTS],
}

impl Default for PublishedRisk {
    fn default() -> PublishedRisk {
        PublishedRisk {
            at: Nanos::ZERO,
            rows: 0,
            ready: false,
            z: 0.0,
            sigma2: 0.0,
            correlated: 0.0,
            equity: 0.0,
            worst_scenario: 0,
            worst_stress: 0.0,
            summary: RiskSummary::default(),
            instruments: [InstrumentRisk::default(); MAX_BOOK_INSTRUMENTS],
        }
    }
}

impl PublishedRisk {
    /// The limit's VaR at the published exposures.
    pub fn var(&self) -> f64 {
        self.z * self.sigma2.max(0.0).sqrt()
    }

    /// The VaR if instrument `i`'s exposure changed by `delta` (exact under the published
    /// covariance).
    pub fn var_after(&self, i: usize, delta: f64) -> f64 {
        let Some(r) = self.instruments.get(i) else {
            return self.var();
        };
        let s2 = self.sigma2 + 2.0 * delta * r.cov_portfolio + delta * delta * r.variance;
        self.z * s2.max(0.0).sqrt()
    }
}

/// The limits on the published figures, from `[portfolio]`; amounts in the account currency.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BookRiskLimits {
    pub max_var: Option<f64>,
    /// As a share of equity (0.10 = 10%).
    pub max_correlated_exposure: Option<f64>,
    pub max_stress_loss: Option<f64>,
}

impl BookRiskLimits {
    /// An order that does not reduce its position, moving instrument `i`'s signed exposure to
    /// `after` (account currency): refused when a limit would be passed. Figures that are not
    /// ready yet (too few return rows) refuse nothing.
    pub fn check(&self, f: &PublishedRisk, i: usize, after: f64) -> Result<(), RejectReason> {
        if !f.ready {
            return Ok(());
        }
        let Some(r) = f.instruments.get(i) else {
            return Ok(());
        };
        let delta = after - r.exposure;
        if let Some(max) = self.max_var {
            if f.var_after(i, delta) > max {
                return Err(RejectReason::VarLimit);
            }
        }
        if let Some(max) = self.max_correlated_exposure {
            let (linked, jump) = if delta > 0.0 {
                (r.linked_buy, r.jump_buy)
            } else {
                (r.linked_sell, r.jump_sell)
            };
            if linked && delta != 0.0 && f.correlated + jump + delta.abs() > max * f.equity.max(0.0)
            {
                return Err(RejectReason::CorrelatedExposure);
            }
        }
        if let Some(max) = self.max_stress_loss {
            let per_unit = if delta >= 0.0 {
                r.stress_buy
            } else {
                r.stress_sell
            };
            if f.worst_stress + delta.abs() * per_unit > max {
                return Err(RejectReason::StressLoss);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two instruments, σ₁ = 1%, σ₂ = 2%, ρ = 0.5 per interval; long 1,000 of the first.
    fn figures() -> PublishedRisk {
        let (s1, s2, rho) = (0.01f64, 0.02f64, 0.5f64);
        let c12 = rho * s1 * s2;
        let e = [1_000.0, 0.0];
        let mut f = PublishedRisk {
            ready: true,
            rows: 100,
            z: 2.326_347_874_040_840_8,
            sigma2: e[0] * e[0] * s1 * s1,
            equity: 10_000.0,
            worst_stress: 100.0,
            ..PublishedRisk::default()
        };
        f.instruments[0] = InstrumentRisk {
            exposure: e[0],
            cov_portfolio: e[0] * s1 * s1,
            variance: s1 * s1,
            linked_buy: false,
            linked_sell: false,
            jump_buy: 0.0,
            jump_sell: 0.0,
            stress_buy: 0.10,
            stress_sell: -0.10,
        };
        f.instruments[1] = InstrumentRisk {
            exposure: 0.0,
            cov_portfolio: e[0] * c12,
            variance: s2 * s2,
            linked_buy: true,
            linked_sell: false,
            jump_buy: 0.0,
            jump_sell: 0.0,
            stress_buy: 0.10,
            stress_sell: -0.10,
        };
        f
    }

    #[test]
    fn var_after_an_order_is_the_exact_quadratic_form() {
        let f = figures();
        // VaR now: z * 1,000 * 1% = 23.26.
        assert!((f.var() - 23.263_478_740_408_41).abs() < 1e-9);
        // Buy 500 of the second: σ² = 10² + 2·500·(1000·0.0001) + 500²·0.0004 = 100+100+100.
        let expected = f.z * 300f64.sqrt();
        assert!((f.var_after(1, 500.0) - expected).abs() < 1e-9);
        // Sell 500 of it instead (a partial hedge): 100 - 100 + 100.
        assert!((f.var_after(1, -500.0) - f.z * 10.0).abs() < 1e-9);
    }

    #[test]
    fn each_limit_refuses_with_its_reason() {
        let f = figures();
        let var = BookRiskLimits {
            max_var: Some(30.0),
            max_correlated_exposure: None,
            max_stress_loss: None,
        };
        // 500 more of the second: VaR 40.29 > 30.
        assert_eq!(var.check(&f, 1, 500.0), Err(RejectReason::VarLimit));
        // 200 more: σ² = 100 + 40 + 16 = 156, VaR 29.06.
        assert_eq!(var.check(&f, 1, 200.0), Ok(()));
        let corr = BookRiskLimits {
            max_var: None,
            max_correlated_exposure: Some(0.10),
            max_stress_loss: None,
        };
        // Buying the second overlaps the first: 1,001 > 10% of 10,000.
        assert_eq!(
            corr.check(&f, 1, 1_001.0),
            Err(RejectReason::CorrelatedExposure)
        );
        assert_eq!(corr.check(&f, 1, 1_000.0), Ok(()));
        // Selling it is not linked to anything.
        assert_eq!(corr.check(&f, 1, -5_000.0), Ok(()));
        let stress = BookRiskLimits {
            max_var: None,
            max_correlated_exposure: None,
            max_stress_loss: Some(150.0),
        };
        // Worst 100 now; +600 exposure at 10% adds 60.
        assert_eq!(stress.check(&f, 0, 1_600.0), Err(RejectReason::StressLoss));
        assert_eq!(stress.check(&f, 0, 1_400.0), Ok(()));
        // Not ready: nothing refused.
        let early = PublishedRisk {
            ready: false,
            ..figures()
        };
        assert_eq!(var.check(&early, 1, 1e9), Ok(()));
    }
}
