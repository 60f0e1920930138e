//! `[portfolio]`, `[portfolio.allocation]` and `[[portfolio.stress]]` as serde reads them (see
//! `raw.rs`: unknown keys denied, every checked value `Spanned`).

use serde::Deserialize;
use toml::Spanned;

use super::raw::DecimalText;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPortfolio {
    pub(super) interval_ms: Option<Spanned<i64>>,
    pub(super) window: Option<Spanned<i64>>,
    pub(super) min_rows: Option<Spanned<i64>>,
    pub(super) ewma_lambda: Option<Spanned<DecimalText>>,
    pub(super) correlation_threshold: Option<Spanned<DecimalText>>,
    pub(super) confidence: Option<Spanned<i64>>,
    pub(super) max_var: Option<Spanned<DecimalText>>,
    pub(super) max_correlated_exposure_pct: Option<Spanned<DecimalText>>,
    pub(super) max_stress_loss: Option<Spanned<DecimalText>>,
    #[serde(default)]
    pub(super) stress: Vec<RawStress>,
    /// `[portfolio.allocation]`: capital across the strategies (no portfolio stage needed).
    pub(super) allocation: Option<RawAllocation>,
}

impl RawPortfolio {
    /// Whether the table configures the portfolio stage, not only the allocation.
    pub(super) fn has_model(&self) -> bool {
        self.interval_ms.is_some()
            || self.window.is_some()
            || self.min_rows.is_some()
            || self.ewma_lambda.is_some()
            || self.correlation_threshold.is_some()
            || self.confidence.is_some()
            || self.max_var.is_some()
            || self.max_correlated_exposure_pct.is_some()
            || self.max_stress_loss.is_some()
            || !self.stress.is_empty()
    }
}

/// `[portfolio.allocation]` (checked in `check/funds.rs`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAllocation {
    pub(super) mode: Spanned<AllocationKind>,
    pub(super) weights: Option<Spanned<Vec<Spanned<DecimalText>>>>,
    pub(super) target_vol_pct: Option<Spanned<DecimalText>>,
    pub(super) rebalance_s: Option<Spanned<i64>>,
    pub(super) sample_ms: Option<Spanned<i64>>,
    pub(super) window: Option<Spanned<i64>>,
    pub(super) min_samples: Option<Spanned<i64>>,
    pub(super) min_vol_pct: Option<Spanned<DecimalText>>,
}

#[derive(Clone, Copy, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(super) enum AllocationKind {
    Fixed,
    VolTarget,
    RiskParity,
    EqualRisk,
}

/// One stress scenario: exactly one of the four kinds.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStress {
    pub(super) name: Spanned<String>,
    /// Price moves in percent, by base asset (`BTC`) or instrument (`venue:SYMBOL`).
    pub(super) shock_pct: Option<Spanned<std::collections::BTreeMap<String, DecimalText>>>,
    pub(super) vol_scale: Option<Spanned<DecimalText>>,
    pub(super) correlation_one: Option<Spanned<bool>>,
    pub(super) outage_venue: Option<Spanned<String>>,
    pub(super) outage_s: Option<Spanned<DecimalText>>,
}
