//! Leverage end to end: `[instruments.margin]` through the config loader, and the risk
//! stage's margin check and guard against the simulated venue's margin and liquidation (both
//! stages driven by hand, no threads). Funding and liquidation over the USD-M capture, through
//! `pulse backtest` and `pulse run`, are in `margin_runs.rs`.
//!
//! The scenario of the stage tests is `configs/leverage-usdm.toml` (BTCUSDT, price scale 2,
//! quantity scale 3, so money at the notional scale 5; Binance's brackets, 0.40% to 50,000
//! USDT) with 300 USDT of margin, 20x, no fees, and limits wide enough for 0.1 BTC.

mod margin_support;

use margin_support::{config_text, Bench};
use pulse_core::intent::{ExitKind, RejectReason};
use pulse_core::num::{Px, Qty, Side};
use pulse_core::order::ExecKind;
use pulse_engine::config;

/// `configs/leverage-usdm.toml` with `from` (once) replaced by `to`.
fn refused(from: &str, to: &str) -> (String, Option<usize>, String) {
    let text = config_text().replacen(from, to, 1);
    assert_ne!(text, config_text(), "{from:?} is in the config");
    let base = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs");
    match config::parse(&text, &base) {
        Ok(_) => panic!("accepted with {to:?}"),
        Err(e) => {
            let line = text
                .lines()
                .position(|l| l.contains(to.lines().next().unwrap_or(to)))
                .map(|n| n + 1);
            assert_eq!(e.line, line, "{e}");
            (e.key, e.line, e.message)
        }
    }
}

#[test]
fn each_bad_margin_key_is_refused_with_its_line() {
    let (key, _, message) = refused("leverage = 20  ", "leverage = 126  ");
    assert_eq!(key, "instruments[0].margin.leverage");
    assert_eq!(message, "126 is above the first bracket's maximum of 125x");

    let (key, _, message) = refused("[\"600000\", 100, \"0.50\"]", "[\"40000\", 100, \"0.50\"]");
    assert_eq!(key, "instruments[0].margin.brackets[1]");
    assert_eq!(
        message,
        "notional caps must rise from one bracket to the next"
    );

    let (key, _, message) = refused("[\"600000\", 100, \"0.50\"]", "[\"600000\", 130, \"0.50\"]");
    assert_eq!(key, "instruments[0].margin.brackets[1]");
    assert_eq!(
        message,
        "max leverage must not rise from one bracket to the next"
    );

    let (key, _, message) = refused("[\"600000\", 100, \"0.50\"]", "[\"600000\", 100, \"0.30\"]");
    assert_eq!(key, "instruments[0].margin.brackets[1]");
    assert_eq!(
        message,
        "maintenance rates must not fall from one bracket to the next"
    );

    let (key, _, message) = refused(
        "[\"600000\", 100, \"0.50\"]",
        "[\"600000\", 100, \"0.505\"]",
    );
    assert_eq!(key, "instruments[0].margin.brackets[1]");
    assert!(message.contains("at most 2 decimals"), "{message}");

    let (key, _, message) = refused("reduce_pct = \"90\"", "reduce_pct = \"80\"");
    assert_eq!(key, "instruments[0].margin.reduce_pct");
    assert_eq!(
        message,
        "must be above call_pct (the alert comes before the cut)"
    );

    let (key, _, message) = refused("reduce_pct = \"90\"", "reduce_pct = \"101\"");
    assert_eq!(key, "instruments[0].margin.reduce_pct");
    assert_eq!(message, "must be above 0 and at most 100");

    // The last bracket's maintenance rate is 1%: a call at 0.5% could never clear.
    let (key, _, message) = refused("call_pct = \"80\"", "call_pct = \"0.5\"");
    assert_eq!(key, "instruments[0].margin.call_pct");
    assert!(
        message.contains("above every maintenance rate"),
        "{message}"
    );

    let (key, _, message) = refused("margin = \"300\"", "margin = \"0\"");
    assert_eq!(key, "instruments[0].margin.margin");
    assert_eq!(message, "must be greater than zero");

    let (key, _, message) = refused("funding_rate_pct = \"0.01\"", "funding_rate_pct = \"x\"");
    assert_eq!(key, "instruments[0].margin.funding_rate_pct");
    assert!(message.contains("not a percentage"), "{message}");

    let (key, _, message) = refused(
        "funding_interval_h = \"0.01\"",
        "funding_interval_h = \"0\"",
    );
    assert_eq!(key, "instruments[0].margin.funding_interval_h");
    assert_eq!(message, "must be greater than zero");
}

/// Long 0.1 BTC at 60,000 with 20x: 300 USDT of isolated margin (the whole margin put up).
///
/// - Liquidation (ratio 100%, tier 1: 0.40%, cum 0): `P = (300 - 6000) / (0.1 * 0.004 - 0.1)`
///   = 57,228.9156..., so 57,228.91 (the highest cent at which equity <= maintenance).
/// - The guard's reduce level (90%): `P = 0.9 * (6000 - 300) / (0.1 * (0.9 - 0.004))`
///   = 57,254.4642..., so 57,254.46: 25.55 USDT before the liquidation price.
/// - The call (80%): `0.8 * 5700 / (0.1 * 0.796)` = 57,286.43.
///
/// Marks 57,300 (ratio 22.92 / 30 = 76.4%: nothing), 57,280 (22.912 / 28 = 81.8%: the margin
/// call), 57,250 (22.9 / 25 = 91.6%: a cut), then 57,200, past the liquidation price.
#[test]
fn the_guard_closes_the_position_before_the_venue_would_liquidate_it() {
    let mut b = Bench::new("reduce_pct = \"90\"");
    b.open_long_tenth();
    let (reduce, liquidation) = b.guard_prices();
    assert_eq!(
        (reduce, liquidation),
        (Some(Px(5_725_446)), Some(Px(5_722_891)))
    );
    assert_eq!(b.venue_liquidation_price(), Some(Px(5_722_891)));

    b.mark(5_730_000);
    assert_eq!(b.risk.counters.margin_calls, 0);
    assert_eq!(b.ratio_bps(), Some(7_640)); // 22.92 / 30
    b.mark(5_728_000);
    assert_eq!(b.risk.counters.margin_calls, 1);
    b.mark(5_725_000);
    // Cut after cut at the same mark (isolated margin: each keeps the ratio), sold at the
    // bid 57,249.90: the first is the guard's 0.013 (the notional below the call level is
    // under 0.8 * 25 / 0.004 = 5,000 USDT: 0.087 BTC kept).
    let sells = b.engine_sells();
    assert_eq!(sells.first(), Some(&(Px(5_724_990), Qty(13))));
    assert_eq!(sells.iter().map(|s| s.1 .0).sum::<i64>(), 100);
    assert!(sells.iter().all(|s| s.0 > liquidation.unwrap()));
    assert_eq!(b.position(), 0);
    let cuts = b.risk.counters.exits[ExitKind::Deleverage.index()];
    assert_eq!(cuts, sells.len() as u64);
    // Still one call: the ratio never went back under the call level while open.
    assert_eq!(b.risk.counters.margin_calls, 1);
    // Realized: 0.1 * (57,249.90 - 60,000) = -275.01 USDT; the venue's wallet has the rest.
    assert_eq!(b.realized(), -27_501_000);
    b.mark(5_720_000);
    assert_eq!(b.liquidations(), (0, Vec::new()));
    assert_eq!(
        b.gateway.venue().margin(b.id()).unwrap().wallet_balance,
        2_499_000
    );
}

/// The same marks with `reduce_pct = "100"`: the call comes, no cut, and at 57,200 the venue
/// liquidates at 57,228.91 and keeps what is left of the margin, 300 - 0.1 * (60,000 -
/// 57,228.91) = 22.891 USDT: the whole 300 is lost.
#[test]
fn without_the_guard_the_same_market_ends_in_a_liquidation() {
    let mut b = Bench::new("reduce_pct = \"100\"");
    b.open_long_tenth();
    for mid in [5_730_000, 5_728_000, 5_725_000] {
        b.mark(mid);
    }
    assert_eq!(b.risk.counters.margin_calls, 1);
    assert!(b.engine_sells().is_empty());
    assert_eq!(b.position(), 100);
    b.mark(5_720_000);
    let liquidation = ExecKind::Liquidation {
        px: Px(5_722_891),
        qty: Qty(100),
        fee: 2_289_100,
    };
    assert_eq!(b.liquidations(), (1, vec![(Side::Sell, liquidation)]));
    assert_eq!(b.position(), 0);
    // Realized -277.109, fee 22.891: -300.
    assert_eq!(b.realized(), -27_710_900);
    assert_eq!(b.fees(), 2_289_100);
}

/// 125x with 300 USDT, buying at the ask 60,000.10: 0.6 BTC (36,000.06 USDT, 288.0005 of
/// margin) passes; 0.8 (48,000.08: 384) does not fit; 1.0 (60,000.10) is in the second
/// bracket, at most 100x.
#[test]
fn orders_beyond_the_margin_or_the_tier_leverage_are_refused() {
    let mut b = Bench::with(
        &[("leverage = 20  ", "leverage = 125 ")],
        "reduce_pct = \"90\"",
    );
    b.mark(6_000_000);
    assert_eq!(b.buy(1_000), Err(RejectReason::MarginTierLeverage));
    assert_eq!(b.buy(800), Err(RejectReason::InsufficientMargin));
    assert!(b.buy(600).is_ok());
    // Holding 0.6, another 0.05 makes 0.65 at 60,000.10: 312 > 300; selling never needs it.
    assert_eq!(b.buy(50), Err(RejectReason::InsufficientMargin));
    assert!(b.sell(600).is_ok());
    assert_eq!(
        b.risk.counters.rejected[RejectReason::InsufficientMargin.index()],
        2
    );
    assert_eq!(
        b.risk.counters.rejected[RejectReason::MarginTierLeverage.index()],
        1
    );
    assert!(RejectReason::InsufficientMargin.is_breach());
    assert_eq!(RejectReason::ALL[33], RejectReason::MarginTierLeverage);
    assert_eq!(RejectReason::ALL[34].name(), "insufficient_margin");
}
