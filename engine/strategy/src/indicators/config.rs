//! What an [`IndicatorSet`](super::IndicatorSet) is built from, with defaults that make sense
//! for a liquid crypto pair's book and trade streams.

use anyhow::{bail, ensure};
use pulse_core::event::TOP_DEPTH;

use crate::params::{ParamDecl, Params};

/// The longest window or period accepted. Every window is allocated at construction; this
/// bounds that memory, and keeps the Bollinger sums exact for any window whose values span
/// less than `2^64 / n` mantissa units (see [`Bollinger`](super::Bollinger)).
pub const MAX_WINDOW: usize = 1 << 20;
/// The most volume-profile buckets: a re-centring scans them all.
pub const MAX_BUCKETS: usize = 1 << 16;

/// Periods and windows count events, not time: book commits for the price indicators (EMA,
/// MACD, RSI, Bollinger, realized volatility), trades for the trade indicators (VWAP, profile,
/// flow). The classic bar-chart defaults (12/26/9, 14, 20 at 2 sigma) are kept because they
/// are the numbers people read indicators with; on Binance's 100 ms depth stream 20 book
/// events are about 2 seconds. Tune per instrument.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct IndicatorConfig {
    /// EMA of the mid. Default 20.
    pub ema_period: usize,
    /// MACD of the mid. Default 12/26/9.
    pub macd: MacdConfig,
    /// Wilder RSI of the mid. Default 14.
    pub rsi_period: usize,
    /// Bollinger bands of the mid. Default 20 events at 2 sigma.
    pub bollinger: BollingerConfig,
    /// VWAP over the last this many trades; 0 for a session VWAP (every trade since the set
    /// was built). Default 1,000 trades, about half a minute of BTCUSDT: a rolling window
    /// reads the same whenever the engine started, which a model's feature must.
    pub vwap_window: usize,
    /// Volume profile. Default 128 buckets of 100 ticks ($1 buckets over $128 on BTCUSDT).
    pub profile: ProfileConfig,
    /// Book levels per side in the imbalance, 1 to `TOP_DEPTH`. Default 5.
    pub imbalance_levels: usize,
    /// Realized volatility over this many mid returns. Default 100 (about 10 s of book events).
    pub vol_window: usize,
    /// Trade-flow imbalance over this many trades. Default 100.
    pub flow_window: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MacdConfig {
    pub fast: usize,
    pub slow: usize,
    pub signal: usize,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BollingerConfig {
    /// Window length.
    pub n: usize,
    /// Band distance in standard deviations.
    pub k: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProfileConfig {
    pub buckets: usize,
    /// Bucket width in price ticks.
    pub bucket_ticks: u32,
}

const W: f64 = MAX_WINDOW as f64;

impl IndicatorConfig {
    /// `[strategy.indicators]`: every knob, its range and default.
    pub const PARAMS: &'static [ParamDecl] = &[
        ParamDecl::int("ema_period", 1.0, W, 20.0, "EMA of the mid, in book events"),
        ParamDecl::int("macd_fast", 1.0, W, 12.0, "MACD's fast EMA, in book events"),
        ParamDecl::int("macd_slow", 1.0, W, 26.0, "MACD's slow EMA, in book events"),
        ParamDecl::int(
            "macd_signal",
            1.0,
            W,
            9.0,
            "MACD's signal EMA, in book events",
        ),
        ParamDecl::int(
            "rsi_period",
            1.0,
            W,
            14.0,
            "Wilder RSI of the mid, in book events",
        ),
        ParamDecl::int(
            "bollinger_n",
            1.0,
            W,
            20.0,
            "Bollinger window, in book events",
        ),
        ParamDecl::decimal(
            "bollinger_k",
            0.1,
            10.0,
            2.0,
            "Bollinger band distance, in sigmas",
        ),
        ParamDecl::int(
            "vwap_window",
            0.0,
            W,
            1_000.0,
            "VWAP over this many trades (0: session)",
        ),
        ParamDecl::int(
            "profile_buckets",
            1.0,
            MAX_BUCKETS as f64,
            128.0,
            "volume-profile buckets",
        ),
        ParamDecl::int(
            "imbalance_levels",
            1.0,
            TOP_DEPTH as f64,
            5.0,
            "book levels per side in the imbalance",
        ),
        ParamDecl::int(
            "vol_window",
            1.0,
            W,
            100.0,
            "realized volatility over this many returns",
        ),
        ParamDecl::int(
            "flow_window",
            1.0,
            W,
            100.0,
            "trade-flow imbalance over this many trades",
        ),
        ParamDecl::int(
            "profile_bucket_ticks",
            1.0,
            1_000_000.0,
            100.0,
            "volume-profile bucket width, in ticks",
        ),
    ];

    /// The settings `params` (resolved against [`IndicatorConfig::PARAMS`]) give.
    pub fn from_params(p: &Params) -> IndicatorConfig {
        IndicatorConfig {
            ema_period: p.count("ema_period"),
            macd: MacdConfig {
                fast: p.count("macd_fast"),
                slow: p.count("macd_slow"),
                signal: p.count("macd_signal"),
            },
            rsi_period: p.count("rsi_period"),
            bollinger: BollingerConfig {
                n: p.count("bollinger_n"),
                k: p.value("bollinger_k"),
            },
            vwap_window: p.count("vwap_window"),
            profile: ProfileConfig {
                buckets: p.count("profile_buckets"),
                bucket_ticks: p.count("profile_bucket_ticks") as u32,
            },
            imbalance_levels: p.count("imbalance_levels"),
            vol_window: p.count("vol_window"),
            flow_window: p.count("flow_window"),
        }
    }
}

impl Default for IndicatorConfig {
    /// The declared defaults.
    fn default() -> IndicatorConfig {
        IndicatorConfig::from_params(&Params::defaults(IndicatorConfig::PARAMS))
    }
}

impl IndicatorConfig {
    /// Every period and window in `1..=MAX_WINDOW` (the VWAP window may also be 0), MACD fast
    /// shorter than slow, a positive finite band width, `1..=TOP_DEPTH` imbalance levels and
    /// `1..=MAX_BUCKETS` profile buckets of at least one tick.
    pub fn validate(&self) -> anyhow::Result<()> {
        let windows = [
            ("ema_period", self.ema_period),
            ("macd.fast", self.macd.fast),
            ("macd.slow", self.macd.slow),
            ("macd.signal", self.macd.signal),
            ("rsi_period", self.rsi_period),
            ("bollinger.n", self.bollinger.n),
            ("vol_window", self.vol_window),
            ("flow_window", self.flow_window),
        ];
        for (name, n) in windows {
            ensure!(
                (1..=MAX_WINDOW).contains(&n),
                "indicators: {name} must be 1 to {MAX_WINDOW}, not {n}"
            );
        }
        ensure!(
            self.vwap_window <= MAX_WINDOW,
            "indicators: vwap_window must be at most {MAX_WINDOW} (0 for a session VWAP)"
        );
        if self.macd.fast >= self.macd.slow {
            bail!(
                "indicators: macd.fast ({}) must be shorter than macd.slow ({})",
                self.macd.fast,
                self.macd.slow
            );
        }
        let k = self.bollinger.k;
        ensure!(
            k.is_finite() && k > 0.0,
            "indicators: bollinger.k must be positive, not {k}"
        );
        ensure!(
            (1..=TOP_DEPTH).contains(&self.imbalance_levels),
            "indicators: imbalance_levels must be 1 to {TOP_DEPTH}"
        );
        ensure!(
            (1..=MAX_BUCKETS).contains(&self.profile.buckets),
            "indicators: profile.buckets must be 1 to {MAX_BUCKETS}"
        );
        ensure!(
            self.profile.bucket_ticks > 0,
            "indicators: profile.bucket_ticks must be at least 1"
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_mistakes_are_named() {
        assert!(IndicatorConfig::default().validate().is_ok());
        let bad = |f: fn(&mut IndicatorConfig)| {
            let mut cfg = IndicatorConfig::default();
            f(&mut cfg);
            cfg.validate().unwrap_err().to_string()
        };
        assert!(bad(|c| c.ema_period = 0).contains("ema_period"));
        assert!(bad(|c| c.macd.fast = 26).contains("macd.fast"));
        assert!(bad(|c| c.bollinger.k = f64::NAN).contains("bollinger.k"));
        assert!(bad(|c| c.imbalance_levels = TOP_DEPTH + 1).contains("imbalance_levels"));
        assert!(bad(|c| c.profile.bucket_ticks = 0).contains("bucket_ticks"));
        assert!(bad(|c| c.flow_window = MAX_WINDOW + 1).contains("flow_window"));
        let session = IndicatorConfig {
            vwap_window: 0,
            ..IndicatorConfig::default()
        };
        assert!(session.validate().is_ok());
    }
}
