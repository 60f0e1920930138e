//! The four rule-based agents. Each is a pure function of the market view and its parameters,
//! so each can be tested on hand-made views, and each looks at the market differently:
//!
//! | agent | idea | acts when |
//! |---|---|---|
//! | conservative | follow an established trend in a calm market | trend, MACD and book agree, volatility low, RSI not stretched |
//! | aggressive | ride momentum early | MACD histogram and trade flow agree |
//! | balanced | a blend of everything, scaled | the blended score is clear of its threshold |
//! | contrarian | fade stretched moves | price outside the Bollinger band and RSI extreme |

use pulse_core::num::Side;

use super::signal::Signal;
use super::view::MarketView;
use crate::params::{ParamDecl, Params};

/// Every agent's thresholds; the defaults suit a liquid pair sampled on every book change.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AgentParams {
    pub conservative: Conservative,
    pub aggressive: Aggressive,
    pub balanced: Balanced,
    pub contrarian: Contrarian,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Conservative {
    /// Smallest |trend| to act on, bps.
    pub min_trend_bps: f64,
    /// Largest realized volatility to act in, bps per sample.
    pub max_vol_bps: f64,
    /// RSI must be inside (low, high).
    pub rsi_low: f64,
    pub rsi_high: f64,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Aggressive {
    /// Smallest |MACD histogram| to act on, bps.
    pub min_macd_bps: f64,
    /// Smallest |trade-flow imbalance| to act on.
    pub min_flow: f64,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Balanced {
    /// A trend of this many bps counts as a full-strength vote.
    pub trend_scale_bps: f64,
    /// Smallest |blended score| to act on, 0 to 1.
    pub min_score: f64,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Contrarian {
    /// Sell above this RSI (with %B above 1), buy below 100 minus it (with %B below 0).
    pub rsi_extreme: f64,
}

impl Conservative {
    /// `[strategy.agents.conservative]`.
    pub const PARAMS: &'static [ParamDecl] = &[
        ParamDecl::decimal(
            "min_trend_bps",
            0.0,
            10_000.0,
            0.1,
            "smallest |trend| to act on, bps",
        ),
        ParamDecl::decimal(
            "max_vol_bps",
            0.0,
            10_000.0,
            10.0,
            "largest volatility to act in, bps",
        ),
        ParamDecl::decimal("rsi_low", 0.0, 100.0, 30.0, "RSI must be above this"),
        ParamDecl::decimal("rsi_high", 0.0, 100.0, 70.0, "RSI must be below this"),
    ];

    pub fn from_params(p: &Params) -> Conservative {
        Conservative {
            min_trend_bps: p.value("min_trend_bps"),
            max_vol_bps: p.value("max_vol_bps"),
            rsi_low: p.value("rsi_low"),
            rsi_high: p.value("rsi_high"),
        }
    }
}

impl Aggressive {
    /// `[strategy.agents.aggressive]`.
    pub const PARAMS: &'static [ParamDecl] = &[
        ParamDecl::decimal(
            "min_macd_bps",
            0.0,
            10_000.0,
            0.05,
            "smallest |MACD histogram| to act on, bps",
        ),
        ParamDecl::decimal(
            "min_flow",
            0.0,
            1.0,
            0.3,
            "smallest |trade-flow imbalance| to act on",
        ),
    ];

    pub fn from_params(p: &Params) -> Aggressive {
        Aggressive {
            min_macd_bps: p.value("min_macd_bps"),
            min_flow: p.value("min_flow"),
        }
    }
}

impl Balanced {
    /// `[strategy.agents.balanced]`.
    pub const PARAMS: &'static [ParamDecl] = &[
        ParamDecl::decimal(
            "trend_scale_bps",
            0.001,
            10_000.0,
            1.0,
            "a trend of this many bps is a full-strength vote",
        ),
        ParamDecl::decimal(
            "min_score",
            0.0,
            1.0,
            0.35,
            "smallest |blended score| to act on",
        ),
    ];

    pub fn from_params(p: &Params) -> Balanced {
        Balanced {
            trend_scale_bps: p.value("trend_scale_bps"),
            min_score: p.value("min_score"),
        }
    }
}

impl Contrarian {
    /// `[strategy.agents.contrarian]`.
    pub const PARAMS: &'static [ParamDecl] = &[ParamDecl::decimal(
        "rsi_extreme",
        50.0,
        100.0,
        70.0,
        "sell above this RSI, buy below 100 minus it",
    )];

    pub fn from_params(p: &Params) -> Contrarian {
        Contrarian {
            rsi_extreme: p.value("rsi_extreme"),
        }
    }
}

impl Default for AgentParams {
    /// The declared defaults.
    fn default() -> AgentParams {
        AgentParams {
            conservative: Conservative::from_params(&Params::defaults(Conservative::PARAMS)),
            aggressive: Aggressive::from_params(&Params::defaults(Aggressive::PARAMS)),
            balanced: Balanced::from_params(&Params::defaults(Balanced::PARAMS)),
            contrarian: Contrarian::from_params(&Params::defaults(Contrarian::PARAMS)),
        }
    }
}

fn side_of(x: f64) -> Side {
    if x >= 0.0 {
        Side::Buy
    } else {
        Side::Sell
    }
}

/// +1 when `x` points the same way as `side`, else 0.
fn agrees(side: Side, x: f64) -> f64 {
    match side {
        Side::Buy if x > 0.0 => 1.0,
        Side::Sell if x < 0.0 => 1.0,
        _ => 0.0,
    }
}

pub fn conservative(v: &MarketView, p: &Conservative) -> Option<Signal> {
    if !v.ready
        || v.trend_bps.abs() < p.min_trend_bps
        || v.vol_bps > p.max_vol_bps
        || v.rsi <= p.rsi_low
        || v.rsi >= p.rsi_high
    {
        return None;
    }
    let side = side_of(v.trend_bps);
    // The trend alone is not enough: momentum must point the same way.
    if agrees(side, v.macd_hist_bps) == 0.0 {
        return None;
    }
    let support = agrees(side, v.imbalance) + agrees(side, v.flow) + agrees(side, v.outside);
    let strength = (v.trend_bps.abs() / (4.0 * p.min_trend_bps)).min(1.0);
    Some(Signal::new(side, strength, 0.55 + 0.15 * support))
}

pub fn aggressive(v: &MarketView, p: &Aggressive) -> Option<Signal> {
    if !v.ready || v.macd_hist_bps.abs() < p.min_macd_bps || v.flow.abs() < p.min_flow {
        return None;
    }
    let side = side_of(v.macd_hist_bps);
    if agrees(side, v.flow) == 0.0 {
        return None;
    }
    let push = (v.macd_hist_bps.abs() / (4.0 * p.min_macd_bps)).min(1.0);
    let support = agrees(side, v.imbalance) + agrees(side, v.micro_dev_bps);
    Some(Signal::new(
        side,
        push,
        0.4 + 0.3 * v.flow.abs() + 0.15 * support,
    ))
}

pub fn balanced(v: &MarketView, p: &Balanced) -> Option<Signal> {
    if !v.ready {
        return None;
    }
    let votes = [
        (v.trend_bps / p.trend_scale_bps).tanh(),
        v.imbalance,
        v.flow,
        (v.rsi - 50.0) / 50.0,
        v.outside,
    ];
    let score = votes.iter().sum::<f64>() / votes.len() as f64;
    if score.abs() < p.min_score {
        return None;
    }
    let agreeing = votes.iter().filter(|&&x| x * score > 0.0).count();
    Some(Signal::new(
        side_of(score),
        score.abs(),
        agreeing as f64 / votes.len() as f64,
    ))
}

pub fn contrarian(v: &MarketView, p: &Contrarian) -> Option<Signal> {
    if !v.ready {
        return None;
    }
    let (side, stretch) = if v.pct_b > 1.0 && v.rsi >= p.rsi_extreme {
        (Side::Sell, v.pct_b - 1.0)
    } else if v.pct_b < 0.0 && v.rsi <= 100.0 - p.rsi_extreme {
        (Side::Buy, -v.pct_b)
    } else {
        return None;
    };
    let rsi_excess = ((v.rsi - 50.0).abs() - (p.rsi_extreme - 50.0)) / (100.0 - p.rsi_extreme);
    Some(Signal::new(
        side,
        stretch.min(1.0),
        0.6 + 0.4 * rsi_excess.min(1.0),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn calm_uptrend() -> MarketView {
        MarketView {
            ready: true,
            trend_bps: 1.0,
            macd_hist_bps: 0.2,
            rsi: 60.0,
            pct_b: 0.8,
            imbalance: 0.3,
            flow: 0.5,
            vol_bps: 1.0,
            micro_dev_bps: 0.1,
            ..MarketView::default()
        }
    }

    #[test]
    fn conservative_follows_a_calm_trend_and_counts_support() {
        let p = Conservative {
            min_trend_bps: 0.5,
            max_vol_bps: 2.0,
            ..AgentParams::default().conservative
        };
        let s = conservative(&calm_uptrend(), &p).unwrap();
        assert_eq!(s.side, Side::Buy);
        assert!((s.confidence - (0.55 + 0.15 * 2.0)).abs() < 1e-12);
        assert!((s.strength - 0.5).abs() < 1e-12, "1 bp over 4 x 0.5 bp");
        let stormy = MarketView {
            vol_bps: 3.0,
            ..calm_uptrend()
        };
        assert_eq!(conservative(&stormy, &p), None);
        let stretched = MarketView {
            rsi: 75.0,
            ..calm_uptrend()
        };
        assert_eq!(conservative(&stretched, &p), None);
        let fading = MarketView {
            macd_hist_bps: -0.1,
            ..calm_uptrend()
        };
        assert_eq!(conservative(&fading, &p), None, "momentum disagrees");
        let not_ready = MarketView {
            ready: false,
            ..calm_uptrend()
        };
        assert_eq!(conservative(&not_ready, &p), None);
    }

    #[test]
    fn aggressive_needs_momentum_and_flow_to_agree() {
        let p = AgentParams::default().aggressive;
        let s = aggressive(&calm_uptrend(), &p).unwrap();
        assert_eq!(s.side, Side::Buy);
        assert!((s.confidence - (0.4 + 0.3 * 0.5 + 0.15 * 2.0)).abs() < 1e-12);
        assert!((s.strength - 1.0).abs() < 1e-12);
        let against = MarketView {
            flow: -0.5,
            ..calm_uptrend()
        };
        assert_eq!(aggressive(&against, &p), None);
    }

    #[test]
    fn balanced_blends_every_vote() {
        let p = AgentParams::default().balanced;
        let s = balanced(&calm_uptrend(), &p).unwrap();
        let votes = [1.0f64.tanh(), 0.3, 0.5, -((50.0 - 60.0) / 50.0), 0.0];
        let score: f64 = votes.iter().sum::<f64>() / 5.0;
        assert_eq!(s.side, Side::Buy);
        assert!((s.strength - score).abs() < 1e-12);
        assert!(
            (s.confidence - 0.8).abs() < 1e-12,
            "four of five votes agree"
        );
        let flat = MarketView {
            trend_bps: 0.0,
            imbalance: 0.0,
            flow: 0.0,
            rsi: 50.0,
            ..calm_uptrend()
        };
        assert_eq!(balanced(&flat, &p), None);
    }

    #[test]
    fn contrarian_fades_stretched_moves_only() {
        let p = AgentParams::default().contrarian;
        let spike = MarketView {
            pct_b: 1.4,
            rsi: 85.0,
            ..calm_uptrend()
        };
        let s = contrarian(&spike, &p).unwrap();
        assert_eq!(s.side, Side::Sell);
        assert!((s.strength - 0.4).abs() < 1e-12);
        assert!((s.confidence - (0.6 + 0.4 * 0.5)).abs() < 1e-12);
        let dip = MarketView {
            pct_b: -0.2,
            rsi: 20.0,
            ..calm_uptrend()
        };
        assert_eq!(contrarian(&dip, &p).unwrap().side, Side::Buy);
        assert_eq!(contrarian(&calm_uptrend(), &p), None);
    }
}
