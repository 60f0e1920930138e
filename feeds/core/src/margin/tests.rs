use super::*;

/// USDT at the money unit of the examples: price scale 1 (0.1 USDT), quantity scale 3
/// (0.001 BTC), so notional scale 4.
const USDT: i128 = 10_000;
/// 1 BTC at quantity scale 3.
const BTC: i64 = 1_000;

/// Binance USDⓈ-M BTCUSDT leverage and margin brackets as published (the "Leverage & Margin"
/// table, `GET /fapi/v1/leverageBracket`, 2023 values): notional cap in USDT, max leverage,
/// maintenance margin rate in bps. The venue revises them; this fixture is for arithmetic.
/// Its maintenance amounts (cum) are 0, 50, 950, 11,450, 131,450, 481,450, 2,981,450,
/// 14,481,450, 26,481,450, 41,481,450, 121,481,450 and 421,481,450 USDT.
const BTCUSDT_BRACKETS: [(i128, u32, u32); 12] = [
    (50_000, 125, 40),
    (600_000, 100, 50),
    (3_000_000, 75, 65),
    (12_000_000, 50, 100),
    (70_000_000, 25, 200),
    (100_000_000, 20, 250),
    (230_000_000, 10, 500),
    (480_000_000, 5, 1_000),
    (600_000_000, 4, 1_250),
    (800_000_000, 3, 1_500),
    (1_200_000_000, 2, 2_500),
    (1_800_000_000, 1, 5_000),
];

fn btcusdt() -> MarginTiers {
    let brackets = BTCUSDT_BRACKETS.map(|(cap, lev, mmr)| (cap * USDT, lev, mmr));
    MarginTiers::from_brackets(&brackets).unwrap()
}

fn long(qty: i64, entry: i64, margin_usdt: i128) -> IsolatedPosition {
    IsolatedPosition {
        qty: Qty(qty),
        cost: i128::from(qty) * i128::from(entry),
        margin: margin_usdt * USDT,
    }
}

#[test]
fn maintenance_amounts_follow_the_brackets_as_binance_computes_them() {
    // cum_k = cum_k-1 + floor_k * (mmr_k - mmr_k-1):
    // 50,000 * 0.10% = 50; 50 + 600,000 * 0.15% = 950; 950 + 3,000,000 * 0.35% = 11,450;
    // 11,450 + 12,000,000 * 1% = 131,450; 131,450 + 70,000,000 * 0.5% = 481,450; ...
    let cums: Vec<i128> = btcusdt()
        .tiers()
        .iter()
        .map(|t| t.maintenance_amount / USDT)
        .collect();
    assert_eq!(
        cums,
        [
            0,
            50,
            950,
            11_450,
            131_450,
            481_450,
            2_981_450,
            14_481_450,
            26_481_450,
            41_481_450,
            121_481_450,
            421_481_450
        ]
    );
    // The same table with its amounts written out is accepted; a wrong amount is not.
    let mut tiers = btcusdt().tiers().to_vec();
    assert!(MarginTiers::new(tiers.clone()).is_ok());
    tiers[2].maintenance_amount += 1;
    assert!(MarginTiers::new(tiers).unwrap_err().contains("tier 3"));
    assert!(MarginTiers::from_brackets(&[(100, 10, 50), (50, 5, 100)]).is_err());
    assert!(MarginTiers::from_brackets(&[(100, 10, 50), (200, 20, 100)]).is_err());
    assert!(MarginTiers::from_brackets(&[(100, 10, 50), (200, 5, 40)]).is_err());
    assert!(MarginTiers::from_brackets(&[]).is_err());
    // 100 * 0.01% is not whole at scale 0.
    assert!(MarginTiers::from_brackets(&[(100, 10, 50), (200, 5, 51)]).is_err());
}

#[test]
fn maintenance_margin_is_continuous_across_brackets() {
    let t = btcusdt();
    // 50,000 at tier 1: 200; just above, tier 2: 50,000.0001 * 0.5% - 50 = 200.0000005.
    assert_eq!(t.maintenance_margin(50_000 * USDT), 200 * USDT);
    assert_eq!(t.maintenance_bps(50_000 * USDT + 1), 200 * USDT * BPS + 50);
    // 6,000,000 at tier 4: 60,000 - 11,450 = 48,550.
    assert_eq!(t.maintenance_margin(6_000_000 * USDT), 48_550 * USDT);
    assert_eq!(t.tier(-6_000_000 * USDT).map(|x| x.max_leverage), Some(50));
    assert_eq!(t.tier(1_800_000_001 * USDT), None);
}

#[test]
fn rescaling_keeps_the_brackets_and_refuses_lost_digits() {
    let t = btcusdt();
    let at_12 = t.rescaled(4, 12).unwrap();
    assert_eq!(at_12.tiers()[1].maintenance_amount, 50 * 10i128.pow(12));
    assert_eq!(at_12.rescaled(12, 4).unwrap(), t);
    // 50 USDT at scale 4 is 500,000: whole at scale 0 too; 0.5 USDT would not be.
    assert!(t.rescaled(4, 0).is_ok());
    assert!(MarginTiers::new(vec![MarginTier {
        max_notional: 5,
        max_leverage: 1,
        mmr_bps: 10,
        maintenance_amount: 0,
    }])
    .unwrap()
    .rescaled(0, 1)
    .is_ok());
}

/// Long 1 BTC at 60,000 USDT with 20x: isolated margin 60,000 / 20 = 3,000. Notional 60,000 is
/// in tier 2 (0.50%, cum 50); Binance's formula for one isolated position, one-way mode:
/// LP = (WB + cum - Q*E) / (Q*MMR - Q) = (3,000 + 50 - 60,000) / (0.005 - 1) = 57,236.1809...
/// Its notional, 57,236, is still tier 2. In 0.1 USDT: the highest price at which it is
/// liquidated is 57,236.1: equity 3,000 - 2,763.9 = 236.1 <= MM 286.1805 - 50 = 236.1805,
/// while at 57,236.2 equity 236.2 > MM 236.181.
#[test]
fn a_long_is_liquidated_at_binances_price() {
    let t = btcusdt();
    let pos = long(BTC, 600_000, 3_000);
    assert_eq!(liquidation_price(&t, &pos), Some(Px(572_361)));
    assert!(pos.at_ratio(&t, Px(572_361), 10_000));
    assert!(!pos.at_ratio(&t, Px(572_362), 10_000));
    // The 90% level: (0.9 * (60,000 - 3,000) - 50) / (0.9 - 0.005) = 57,262.569...
    assert_eq!(price_at_ratio(&t, &pos, 9_000), Some(Px(572_625)));
    // The 80% level: (0.8 * 57,000 - 50) / 0.795 = 57,295.597...
    assert_eq!(price_at_ratio(&t, &pos, 8_000), Some(Px(572_955)));
    assert_eq!(price_at_ratio(&t, &pos, 5_000), None);
}

/// Short 1 BTC at 60,000 with 3,000 of margin: LP = (WB + cum + Q*E) / (Q*MMR + Q)
/// = 63,050 / 1.005 = 62,736.318...; the lowest liquidated price in 0.1 USDT is 62,736.4
/// (equity 263.6 <= MM 313.682 - 50 = 263.682; at 62,736.3 equity 263.7 > 263.6815).
#[test]
fn a_short_is_liquidated_at_binances_price() {
    let t = btcusdt();
    let pos = IsolatedPosition {
        qty: Qty(-BTC),
        cost: -600_000 * i128::from(BTC),
        margin: 3_000 * USDT,
    };
    assert_eq!(liquidation_price(&t, &pos), Some(Px(627_364)));
    assert!(pos.at_ratio(&t, Px(627_364), 10_000));
    assert!(!pos.at_ratio(&t, Px(627_363), 10_000));
}

/// Long 1 BTC at 52,000 with 10x (5,200 of margin): tier 2's formula gives
/// (5,200 + 50 - 52,000) / -0.995 = 46,984.92, whose notional is in tier 1, so tier 1 it is:
/// (5,200 - 52,000) / (0.004 - 1) = 46,987.951... -> 46,987.9 (equity 187.9 <= MM 187.9516).
#[test]
fn the_tier_is_the_one_at_the_liquidation_price() {
    let t = btcusdt();
    let pos = long(BTC, 520_000, 5_200);
    assert_eq!(liquidation_price(&t, &pos), Some(Px(469_879)));
    assert!(pos.at_ratio(&t, Px(469_879), 10_000));
    assert!(!pos.at_ratio(&t, Px(469_880), 10_000));
}

/// Long 100 BTC at 60,000 (6,000,000, tier 4: 1%, cum 11,450) at 25x: 240,000 of margin.
/// LP = (240,000 + 11,450 - 6,000,000) / (100 * 0.01 - 100) = 58,066.1616... -> 58,066.1.
#[test]
fn a_large_long_uses_its_higher_tier() {
    let t = btcusdt();
    let pos = long(100 * BTC, 600_000, 240_000);
    assert_eq!(liquidation_price(&t, &pos), Some(Px(580_661)));
    // At 1x a long is never liquidated: its margin covers a fall to zero.
    assert_eq!(liquidation_price(&t, &long(BTC, 600_000, 60_000)), None);
    assert_eq!(liquidation_price(&t, &long(0, 600_000, 60_000)), None);
}

#[test]
fn rounding_helpers_round_the_right_way() {
    assert_eq!(
        (floor_div(7, 2), floor_div(-7, 2), floor_div(-8, 2)),
        (3, -4, -4)
    );
    assert_eq!(
        (ceil_div(7, 2), ceil_div(-7, 2), ceil_div(8, 2)),
        (4, -3, 4)
    );
}

proptest::proptest! {
    /// For any position on the BTCUSDT brackets, with any leverage's margin and some extra,
    /// the returned price is exactly where the venue's condition starts to hold: true there,
    /// false one tick back (and for a long with no price, false at the lowest price).
    #[test]
    fn the_price_at_a_ratio_is_the_exact_edge_of_the_condition(
        qty in 1i64..5_000_000,
        entry in 1_000i64..2_000_000,
        leverage in 1i128..=125,
        extra in 0i128..1_000_000_000,
        short in proptest::bool::ANY,
        ratio in proptest::sample::select(vec![5_001u32, 8_000, 9_000, 10_000]),
    ) {
        let t = btcusdt();
        let q = if short { -qty } else { qty };
        let notional = i128::from(qty) * i128::from(entry);
        let pos = IsolatedPosition {
            qty: Qty(q),
            cost: i128::from(q) * i128::from(entry),
            margin: ceil_div(notional, leverage) + extra,
        };
        let back = if short { -1 } else { 1 };
        match price_at_ratio(&t, &pos, ratio) {
            Some(p) => {
                proptest::prop_assert!(pos.at_ratio(&t, p, ratio), "at {:?}", p);
                proptest::prop_assert!(!pos.at_ratio(&t, Px(p.0 + back), ratio), "before {:?}", p);
            }
            None => proptest::prop_assert!(short || !pos.at_ratio(&t, Px(1), ratio)),
        }
    }
}
