//! The built-in strategies' parameter declarations: every default inside its range, every
//! declared name read by the settings it builds, and the defaults the same values as before
//! they were declared (the journal digests depend on them).

use pulse_core::num::{InstrumentId, Nanos, Px, Qty};
use pulse_strategy::agents::meta::MetaParams;
use pulse_strategy::agents::regime::RegimeParams;
use pulse_strategy::agents::rules::AgentParams;
use pulse_strategy::builtin::BUILTIN_KINDS;
use pulse_strategy::ensemble::EnsembleConfig;
use pulse_strategy::imbalance::ImbalanceConfig;
use pulse_strategy::indicators::IndicatorConfig;
use pulse_strategy::market_maker::MarketMakerConfig;
use pulse_strategy::params::{ParamType, Params};
use pulse_strategy::StrategyContext;

fn context() -> StrategyContext {
    StrategyContext {
        instrument: InstrumentId(1),
        tick: Px(1),
        order_qty: Qty(10),
        max_position: Qty(100),
        cooldown: Nanos::from_millis(5),
    }
}

#[test]
fn every_declared_default_is_inside_its_range() {
    for decl in BUILTIN_KINDS {
        for table in decl.tables {
            assert!(!table.params.is_empty(), "{}: {}", decl.kind, table.key);
            for (i, p) in table.params.iter().enumerate() {
                let key = table.path(p.name);
                assert!(p.min <= p.max, "{key}: empty range");
                assert!(p.contains(p.default), "{key}: default out of range");
                if p.kind == ParamType::Int {
                    assert_eq!(p.default.fract(), 0.0, "{key}: a whole default");
                }
                let twice = table.params[..i].iter().any(|q| q.name == p.name);
                assert!(!twice, "{key} declared twice");
            }
        }
    }
}

#[test]
fn the_kinds_build_from_their_declared_defaults() {
    let kinds: Vec<&str> = BUILTIN_KINDS.iter().map(|d| d.kind).collect();
    assert_eq!(kinds, ["book-imbalance", "ensemble", "market-maker"]);
    // Every declared name is read (a name the settings read but the declaration lacks panics).
    let ctx = context();
    let imbalance = ImbalanceConfig::from_params(&ctx, &ImbalanceConfig::DECL.defaults());
    assert_eq!((imbalance.depth_levels, imbalance.threshold_bps), (1, 1));
    let ensemble = EnsembleConfig::from_params(&ctx, &EnsembleConfig::DECL.defaults());
    assert_eq!(ensemble.min_confidence, 0.6);
    assert_eq!(ensemble.taker.slippage_ticks, 0);
    assert_eq!(ensemble.indicators, IndicatorConfig::default());
    assert_eq!(ensemble.agents, AgentParams::default());
    assert_eq!(ensemble.regime, RegimeParams::default());
    assert_eq!(ensemble.meta, MetaParams::default());
    let mm = MarketMakerConfig::from_params(&ctx, Qty(1), &MarketMakerConfig::DECL.defaults());
    let quotes = (mm.half_spread_ticks, mm.skew_ticks, mm.refresh_ticks);
    assert_eq!(quotes, (0, 1, 1));
}

/// The values the defaults had as hand-written `Default` impls.
#[test]
fn the_declared_defaults_are_the_former_ones() {
    let i = IndicatorConfig::default();
    assert_eq!(
        (
            i.ema_period,
            i.macd.fast,
            i.macd.slow,
            i.macd.signal,
            i.rsi_period
        ),
        (20, 12, 26, 9, 14)
    );
    assert_eq!(
        (i.bollinger.n, i.bollinger.k, i.vwap_window),
        (20, 2.0, 1_000)
    );
    assert_eq!((i.profile.buckets, i.profile.bucket_ticks), (128, 100));
    assert_eq!(
        (i.imbalance_levels, i.vol_window, i.flow_window),
        (5, 100, 100)
    );
    let r = RegimeParams::default();
    assert_eq!((r.trend_bps, r.vol_factor, r.exit_ratio), (0.1, 0.1, 0.5));
    let m = MetaParams::default();
    assert_eq!(
        m.weights,
        [
            [1.5, 1.2, 1.0, 0.3, 1.0],
            [1.5, 1.2, 1.0, 0.3, 1.0],
            [0.5, 0.6, 1.0, 1.5, 1.0],
        ]
    );
    assert_eq!(
        (
            m.horizon,
            m.score_alpha,
            m.score_scale_bps,
            m.min_factor,
            m.max_factor
        ),
        (50, 0.1, 5.0, 0.25, 2.0)
    );
    let a = AgentParams::default();
    let c = a.conservative;
    assert_eq!(
        (c.min_trend_bps, c.max_vol_bps, c.rsi_low, c.rsi_high),
        (0.1, 10.0, 30.0, 70.0)
    );
    assert_eq!(
        (a.aggressive.min_macd_bps, a.aggressive.min_flow),
        (0.05, 0.3)
    );
    let b = a.balanced;
    assert_eq!((b.trend_scale_bps, b.min_score), (1.0, 0.35));
    assert_eq!(a.contrarian.rsi_extreme, 70.0);
}

#[test]
fn resolve_names_the_parameter() {
    let quotes = MarketMakerConfig::DECL.tables[0].params;
    let e = Params::resolve(quotes, [("refresh_ticks", "0")]).unwrap_err();
    assert_eq!(e.name, "refresh_ticks");
    assert_eq!(e.message, "must be a whole number from 1 to 100000");
    let e = Params::resolve(quotes, [("skew", "1")]).unwrap_err();
    let expected = "unknown key, expected one of: half_spread_ticks, skew_ticks, refresh_ticks";
    assert_eq!(e.message, expected);
    let top = ImbalanceConfig::DECL.tables[0].params;
    let e = Params::resolve(top, [("slippage_ticks", "2"), ("depth_levels", "5")]).unwrap_err();
    assert!(e.missing);
    assert_eq!(e.name, "threshold_bps");
    let regime = RegimeParams::PARAMS;
    let e = Params::resolve(regime, [("exit_ratio", "1.5")]).unwrap_err();
    assert_eq!(e.message, "must be from 0 to 1");
    let p = Params::resolve(regime, [("exit_ratio", "0.25")]).unwrap();
    assert_eq!(RegimeParams::from_params(&p).exit_ratio, 0.25);
}
