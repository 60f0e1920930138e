use pulse_core::instrument::{InstrumentRegistry, Venue};

use super::*;
use crate::position::Position;

/// 1 USDT at the account scale.
const USDT: i128 = 1_000_000_000_000;
/// 1 USDT at the instrument's notional scale: price scale 1 (0.1 USDT), quantity scale 3
/// (0.001 BTC), so notional scale 4.
const USDT_4: i128 = 10_000;
const BTC: i64 = 1_000;

/// The first four of Binance USDⓈ-M BTCUSDT's published leverage and margin brackets (the
/// "Leverage & Margin" table, `GET /fapi/v1/leverageBracket`, 2023 values): 0-50,000 USDT
/// 125x 0.40% cum 0; 50,000-600,000 100x 0.50% cum 50; 600,000-3,000,000 75x 0.65% cum 950;
/// 3,000,000-12,000,000 50x 1.00% cum 11,450 (cum computed from the brackets, and checked
/// against those figures below).
fn btcusdt() -> MarginTiers {
    let brackets = [
        (50_000 * USDT, 125, 40),
        (600_000 * USDT, 100, 50),
        (3_000_000 * USDT, 75, 65),
        (12_000_000 * USDT, 50, 100),
    ];
    MarginTiers::from_brackets(&brackets).unwrap()
}

fn settings(leverage: u32) -> MarginSettings {
    MarginSettings::new(leverage, btcusdt(), 8_000, 9_000, 4).unwrap()
}

fn account() -> Account {
    let mut reg = InstrumentRegistry::new();
    reg.add(Venue::Binance, "BTCUSDT", 1, 3, Px(1), Qty(1))
        .unwrap();
    Account::new(10_000 * USDT, &reg)
}

fn buy(px: i64, qty: i64) -> MarginOrder {
    MarginOrder {
        side: Side::Buy,
        px: Px(px),
        qty: Qty(qty),
    }
}

#[test]
fn settings_hold_the_published_amounts_and_refuse_what_cannot_work() {
    let s = settings(20);
    let cums: Vec<i128> = s
        .tiers()
        .tiers()
        .iter()
        .map(|t| t.maintenance_amount / USDT)
        .collect();
    assert_eq!(cums, [0, 50, 950, 11_450]);
    assert_eq!(
        s.position_tiers().tiers()[3].maintenance_amount,
        11_450 * USDT_4
    );
    assert_eq!(
        (s.leverage(), s.call_bps(), s.reduce_bps()),
        (20, 8_000, 9_000)
    );
    // 60,000 at 20x: 3,000; rounded up.
    assert_eq!(s.initial_margin(-60_000 * USDT), 3_000 * USDT);
    assert_eq!(s.initial_margin(21), 2);
    assert!(MarginSettings::new(126, btcusdt(), 8_000, 9_000, 4).is_err());
    assert!(MarginSettings::new(0, btcusdt(), 8_000, 9_000, 4).is_err());
    assert!(MarginSettings::new(20, btcusdt(), 9_000, 9_000, 4).is_err());
    assert!(MarginSettings::new(20, btcusdt(), 8_000, 10_000, 4).is_err());
    assert!(MarginSettings::new(20, btcusdt(), 100, 9_000, 4).is_err());
    // Every amount of the fixture is whole USDT, so any notional scale takes them.
    assert!(MarginSettings::new(20, btcusdt(), 8_000, 9_000, 0).is_ok());
}

#[test]
fn margin_ratio_is_maintenance_over_equity() {
    let t = settings(20);
    let t = t.position_tiers();
    // 57,262.5 USDT of notional (tier 2): MM = 286.3125 - 50 = 236.3125; equity 262.5:
    // 90.02% -> 9002 bps.
    assert_eq!(margin_ratio_bps(t, 572_625 * BTC as i128, 2_625_000), 9_002);
    assert_eq!(margin_ratio_bps(t, 1, 0), u32::MAX);
    assert_eq!(margin_ratio_bps(t, 0, 5), 0);
}

/// Available 1,000 USDT at 20x: a position up to 20,000 USDT of notional fits.
#[test]
fn the_resulting_position_must_fit_the_available_margin() {
    let (s, a) = (settings(20), account());
    let flat = Exposure::default();
    // 0.3 BTC at 60,000 = 18,000: 900 of initial margin.
    assert_eq!(
        margin_check(&s, &a, 0, flat, buy(600_000, 300), 1_000 * USDT),
        Ok(())
    );
    // 0.4 BTC = 24,000: 1,200.
    assert_eq!(
        margin_check(&s, &a, 0, flat, buy(600_000, 400), 1_000 * USDT),
        Err(MarginReject::InsufficientMargin)
    );
    // Long 0.2 with 0.1 working on the buy side: another 0.1 makes 0.4.
    let long = Exposure {
        position: Qty(200),
        working_buy: Qty(100),
        working_sell: Qty(0),
    };
    assert_eq!(
        margin_check(&s, &a, 0, long, buy(600_000, 100), 1_000 * USDT),
        Err(MarginReject::InsufficientMargin)
    );
    assert_eq!(
        margin_check(&s, &a, 0, long, buy(600_000, 100), 1_200 * USDT),
        Ok(())
    );
    // Selling part of the long only reduces: it passes with nothing available.
    let sell = MarginOrder {
        side: Side::Sell,
        ..buy(600_000, 150)
    };
    assert_eq!(margin_check(&s, &a, 0, long, sell, 0), Ok(()));
    // Selling through zero to a short of 0.2 needs 12,000 / 20 = 600.
    let flip = MarginOrder {
        qty: Qty(400),
        ..sell
    };
    assert_eq!(
        margin_check(&s, &a, 0, long, flip, 599 * USDT),
        Err(MarginReject::InsufficientMargin)
    );
    assert_eq!(margin_check(&s, &a, 0, long, flip, 600 * USDT), Ok(()));
}

/// At 125x only the first bracket (up to 50,000) is allowed: 1 BTC at 60,000 is in the
/// 100x bracket. At 50x, 300 BTC (18,000,000) is beyond the last bracket of the fixture.
#[test]
fn the_tier_of_the_resulting_notional_must_allow_the_leverage() {
    let a = account();
    let flat = Exposure::default();
    let rich = 1_000_000 * USDT;
    assert_eq!(
        margin_check(&settings(125), &a, 0, flat, buy(600_000, BTC), rich),
        Err(MarginReject::TierLeverage)
    );
    assert_eq!(
        margin_check(&settings(100), &a, 0, flat, buy(600_000, BTC), rich),
        Ok(())
    );
    assert_eq!(
        margin_check(&settings(50), &a, 0, flat, buy(600_000, 300 * BTC), rich),
        Err(MarginReject::TierLeverage)
    );
}

/// Long 1 BTC at 60,000 with 3,000 of margin (20x). Binance's liquidation price is
/// (3,000 + 50 - 60,000) / (0.005 - 1) = 57,236.18 -> 57,236.1; the reduce level (90%)
/// (0.9 * 57,000 - 50) / 0.895 = 57,262.57 -> 57,262.5; the call level (80%)
/// (0.8 * 57,000 - 50) / 0.795 = 57,295.60 -> 57,295.5.
#[test]
fn the_guard_alerts_then_asks_for_a_cut_before_the_liquidation_price() {
    let guard = Guard::new(settings(20), Qty(1));
    let mut pos = Position::default();
    pos.apply_fill(Side::Buy, Px(600_000), Qty(BTC), 0);
    let margin = 3_000 * USDT_4;
    assert_eq!(guard.liquidation_price(&pos, margin), Some(Px(572_361)));
    assert_eq!(guard.reduce_price(&pos, margin), Some(Px(572_625)));
    assert_eq!(guard.assess(&pos, Px(572_956), margin), GuardAction::None);
    assert_eq!(guard.assess(&pos, Px(572_955), margin), GuardAction::Alert);
    assert_eq!(guard.assess(&pos, Px(572_626), margin), GuardAction::Alert);
    // At 57,262.5: equity 262.5, so below the call level the maintenance margin must stay
    // under 0.8 * 262.5 = 210: n * 0.5% - 50 < 210, n < 52,000, so 0.908 BTC
    // (51,994.35, MM 209.97) may stay; 0.909 (52,051.61, MM 210.26) may not. Cut 0.092.
    assert_eq!(
        guard.assess(&pos, Px(572_625), margin),
        GuardAction::Reduce { qty: Qty(92) }
    );
    // With a 0.01 BTC lot the cut rounds up to 0.1.
    let coarse = Guard::new(settings(20), Qty(10));
    assert_eq!(
        coarse.assess(&pos, Px(572_625), margin),
        GuardAction::Reduce { qty: Qty(100) }
    );
    // Past the bankruptcy price (57,000) there is no equity: cut everything.
    assert_eq!(
        guard.assess(&pos, Px(569_000), margin),
        GuardAction::Reduce { qty: Qty(BTC) }
    );
    assert_eq!(
        guard.assess(&Position::default(), Px(1), margin),
        GuardAction::None
    );
}

/// Short 1 BTC at 60,000 with 3,000: the ratio rises with the price. Its reduce level:
/// (0.9 * (3,000 + 60,000) + 50) / (0.9 + 0.005) = 62,707.18 -> the lowest price at or above
/// it in 0.1 USDT, 62,707.2; the liquidation price 63,050 / 1.005 = 62,736.32 -> 62,736.4.
#[test]
fn a_short_is_guarded_from_below() {
    let guard = Guard::new(settings(20), Qty(1));
    let mut pos = Position::default();
    pos.apply_fill(Side::Sell, Px(600_000), Qty(BTC), 0);
    let margin = 3_000 * USDT_4;
    assert_eq!(guard.reduce_price(&pos, margin), Some(Px(627_072)));
    assert_eq!(guard.liquidation_price(&pos, margin), Some(Px(627_364)));
    assert!(matches!(
        guard.assess(&pos, Px(627_072), margin),
        GuardAction::Reduce { .. }
    ));
    assert_eq!(guard.assess(&pos, Px(627_071), margin), GuardAction::Alert);
}

proptest::proptest! {
    /// Whatever the position and the mark, a cut the guard asks for brings the margin ratio
    /// below the call level (the margin balance unchanged by a cut at the mark), and one lot
    /// less would not.
    #[test]
    fn the_cut_is_the_least_that_brings_the_ratio_below_the_call_level(
        qty in 1i64..5_000_000,
        entry in 1_000i64..2_000_000,
        leverage in 1i128..=50,
        move_bps in 0i64..2_000,
        lot in proptest::sample::select(vec![1i64, 10, 1_000]),
        short in proptest::bool::ANY,
    ) {
        let guard = Guard::new(settings(20), Qty(lot));
        let side = if short { Side::Sell } else { Side::Buy };
        let mut pos = Position::default();
        pos.apply_fill(side, Px(entry), Qty(qty), 0);
        let margin = pulse_core::margin::ceil_div(i128::from(qty) * i128::from(entry), leverage);
        let adverse = if short { 1 } else { -1 };
        let mark = Px(entry + adverse * entry * move_bps / 10_000);
        let iso = IsolatedPosition { qty: pos.qty, cost: pos.cost, margin };
        let equity = iso.equity(mark);
        let tiers = guard.settings().position_tiers();
        let below_call = |kept: i64| {
            kept == 0
                || tiers.maintenance_bps(i128::from(kept) * i128::from(mark.0))
                    < 8_000 * equity
        };
        if let GuardAction::Reduce { qty: cut } = guard.assess(&pos, mark, margin) {
            proptest::prop_assert!(cut.0 > 0 && cut.0 <= qty);
            proptest::prop_assert!(equity <= 0 || below_call(qty - cut.0));
            if equity > 0 && cut.0 < qty {
                proptest::prop_assert_eq!(cut.0 % lot, 0);
                proptest::prop_assert!(!below_call(qty - cut.0 + lot));
            }
        }
    }
}
