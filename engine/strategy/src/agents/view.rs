//! What agents see: one instrument's indicators as scale-free numbers.

/// Built from the indicator set on every book event ([`crate::ensemble`]).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct MarketView {
    /// Every indicator has enough samples.
    pub ready: bool,
    /// Fast EMA above the slow one, in bps of the mid: the trend.
    pub trend_bps: f64,
    /// MACD histogram in bps of the mid: momentum.
    pub macd_hist_bps: f64,
    /// RSI, 0 to 100.
    pub rsi: f64,
    /// Bollinger %B: 0 at the lower band, 1 at the upper.
    pub pct_b: f64,
    /// Book imbalance over the configured levels, -1 (all asks) to 1 (all bids).
    pub imbalance: f64,
    /// Micro-price above the mid, in bps.
    pub micro_dev_bps: f64,
    /// Realized volatility of the mid over the window, in bps per sample.
    pub vol_bps: f64,
    /// Trade-flow imbalance, -1 (all sells) to 1 (all buys).
    pub flow: f64,
    /// An outside score for the instrument (sentiment, fundamentals), -1 to 1; 0 when none.
    pub outside: f64,
}
