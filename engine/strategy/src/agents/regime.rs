//! The market's regime, from trend and volatility: bull, bear or sideways. A regime changes
//! only when the trend has passed the threshold by a margin (hysteresis), so the meta-agent's
//! weights do not flap on noise.

use super::view::MarketView;
use crate::params::{ParamDecl, Params};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Regime {
    Bull,
    Bear,
    Sideways,
}

pub const REGIMES: usize = 3;

impl Regime {
    pub const ALL: [Regime; REGIMES] = [Regime::Bull, Regime::Bear, Regime::Sideways];

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn name(self) -> &'static str {
        match self {
            Regime::Bull => "bull",
            Regime::Bear => "bear",
            Regime::Sideways => "sideways",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RegimeParams {
    /// |trend| in bps beyond which the market trends...
    pub trend_bps: f64,
    /// ...counted in units of this many bps of volatility: a trend of 1 bp means little when
    /// the mid moves 5 bp a sample. The threshold is `trend_bps + vol_factor * vol_bps`.
    pub vol_factor: f64,
    /// Leave a trend only when |trend| falls below this share of the threshold.
    pub exit_ratio: f64,
}

impl RegimeParams {
    /// `[strategy.regime]`. Defaults tuned on the bundled BTCUSDT capture (about a third of
    /// the book events trend).
    pub const PARAMS: &'static [ParamDecl] = &[
        ParamDecl::decimal("trend_bps", 0.0, 10_000.0, 0.1, "trend threshold, in bps"),
        ParamDecl::decimal(
            "vol_factor",
            0.0,
            100.0,
            0.1,
            "bps of threshold per bp of volatility",
        ),
        ParamDecl::decimal(
            "exit_ratio",
            0.0,
            1.0,
            0.5,
            "leave a trend below this share of the threshold",
        ),
    ];

    pub fn from_params(p: &Params) -> RegimeParams {
        RegimeParams {
            trend_bps: p.value("trend_bps"),
            vol_factor: p.value("vol_factor"),
            exit_ratio: p.value("exit_ratio"),
        }
    }
}

impl Default for RegimeParams {
    /// The declared defaults.
    fn default() -> RegimeParams {
        RegimeParams::from_params(&Params::defaults(RegimeParams::PARAMS))
    }
}

pub struct RegimeClassifier {
    params: RegimeParams,
    regime: Regime,
}

impl RegimeClassifier {
    pub fn new(params: RegimeParams) -> RegimeClassifier {
        RegimeClassifier {
            params,
            regime: Regime::Sideways,
        }
    }

    pub fn regime(&self) -> Regime {
        self.regime
    }

    pub fn update(&mut self, v: &MarketView) -> Regime {
        if !v.ready {
            return self.regime;
        }
        let enter = self.params.trend_bps + self.params.vol_factor * v.vol_bps;
        let exit = enter * self.params.exit_ratio;
        self.regime = match self.regime {
            Regime::Bull if v.trend_bps >= exit => Regime::Bull,
            Regime::Bear if v.trend_bps <= -exit => Regime::Bear,
            _ if v.trend_bps >= enter => Regime::Bull,
            _ if v.trend_bps <= -enter => Regime::Bear,
            _ => Regime::Sideways,
        };
        self.regime
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(trend_bps: f64, vol_bps: f64) -> MarketView {
        MarketView {
            ready: true,
            trend_bps,
            vol_bps,
            ..MarketView::default()
        }
    }

    #[test]
    fn trends_enter_past_the_threshold_and_leave_below_the_exit() {
        let mut c = RegimeClassifier::new(RegimeParams {
            trend_bps: 0.5,
            vol_factor: 0.5,
            exit_ratio: 0.5,
        });
        // Threshold with 1 bp of volatility: 0.5 + 0.5 = 1.0; exit at 0.5.
        assert_eq!(c.update(&view(0.9, 1.0)), Regime::Sideways);
        assert_eq!(c.update(&view(1.0, 1.0)), Regime::Bull);
        assert_eq!(c.update(&view(0.6, 1.0)), Regime::Bull, "hysteresis");
        assert_eq!(c.update(&view(0.4, 1.0)), Regime::Sideways);
        assert_eq!(c.update(&view(-1.2, 1.0)), Regime::Bear);
        assert_eq!(
            c.update(&view(-1.2, 3.0)),
            Regime::Bear,
            "still past the exit (1.0)"
        );
        assert_eq!(
            c.update(&view(-1.2, 6.0)),
            Regime::Sideways,
            "exit 1.75 in a storm"
        );
        assert_eq!(c.update(&view(2.0, 0.0)), Regime::Bull);
        assert_eq!(c.update(&view(-0.5, 0.0)), Regime::Bear, "straight across");
    }
}
