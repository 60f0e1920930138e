//! The config types of risk across the book: `[portfolio]` (the portfolio stage, its limits
//! and stress scenarios) and `[instruments.margin]`.

/// `[instruments.margin]`: an instrument traded on margin as a linear perpetual (isolated
/// margin, one-way mode, the venue's brackets).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MarginConfig {
    /// Leverage, brackets (account scale), call and reduce levels.
    pub settings: pulse_risk::margin::MarginSettings,
    /// `false` with `reduce_pct = "100"`: the guard only alerts, the venue liquidates.
    pub deleverage: bool,
    /// The margin put up for the instrument, at the account scale.
    pub margin: i128,
    /// The same at the instrument's notional scale (the simulated venue's wallet).
    pub margin_notional: i128,
    /// The simulated venue's funding; `None`: no funding.
    pub funding: Option<pulse_gateways::sim::Funding>,
}

/// `[portfolio]`: the portfolio stage's model of risk across the book, the limits the hot path
/// reads from its figures, and the stress scenarios it applies to the portfolio.
#[derive(Clone, Debug, PartialEq)]
pub struct PortfolioRiskConfig {
    /// Return sampling interval (market time).
    pub interval: pulse_feeds::num::Nanos,
    /// Return rows kept; the EWMA weights and historical VaR use them all.
    pub window: usize,
    /// Figures refuse nothing before this many rows.
    pub min_rows: usize,
    pub lambda: f64,
    pub correlation_threshold: f64,
    /// 95 or 99: the VaR `max_var` bounds.
    pub confidence: u8,
    pub limits: pulse_risk::published::BookRiskLimits,
    pub stress: Vec<StressConfig>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct StressConfig {
    pub name: String,
    pub kind: StressKind,
}

/// What a stress scenario does to the portfolio (see `pulse_risk::portfolio`).
#[derive(Clone, Debug, PartialEq)]
pub enum StressKind {
    /// Each instrument's price moves by this fraction (-0.1 = -10%).
    Shock(Vec<(usize, f64)>),
    /// Every volatility times this.
    VolScale(f64),
    /// Every correlation +1 in the adverse direction.
    CorrelationOne,
    /// These instruments' positions cannot be closed for this many sampling intervals.
    Outage {
        instruments: Vec<usize>,
        intervals: f64,
    },
}
