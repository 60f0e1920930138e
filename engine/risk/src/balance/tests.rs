use super::*;
use crate::account::Account;
use pulse_core::instrument::Venue;
use pulse_core::num::Nanos;

/// One unit of any asset at the asset scale (12 decimals).
const UNIT: i128 = 1_000_000_000_000;
/// One USDT at BTCUSDT's notional scale (price scale 2 + qty scale 8).
const N: i128 = 10_000_000_000;

/// BTCUSDT spot and a BTCUSDT perpetual (a derivative); 10,000 USDT and 0.5 BTC at the venue.
fn account() -> Account {
    let mut reg = InstrumentRegistry::new();
    let spot = reg
        .add(Venue::Binance, "BTCUSDT", 2, 8, Px(1), Qty(1_000))
        .unwrap();
    let perp = reg
        .add(Venue::BinanceUsdm, "BTCUSDT", 2, 8, Px(1), Qty(1_000))
        .unwrap();
    reg.set_assets(spot, "BTC", "USDT");
    reg.set_assets(perp, "BTC", "USDT");
    let start = [
        ("USDT".to_owned(), 10_000 * UNIT),
        ("BTC".to_owned(), UNIT / 2),
    ];
    let balances = Balances::new(&reg, &[true, false], &start).unwrap();
    let mut a = Account::new(10_000 * UNIT, &reg);
    a.set_balances(balances);
    a
}

fn available(a: &Account, asset: &str) -> i128 {
    a.balances().available(asset).unwrap()
}

#[test]
fn orders_reserve_fills_move_and_cancels_release() {
    let mut a = account();
    let px = Px(6_000_000);
    // A working buy of 0.1 BTC at 60,000 reserves 6,000 USDT: 4,000 left.
    a.reserve(0, 6_000 * N, Qty(0));
    assert_eq!(available(&a, "USDT"), 4_000 * UNIT);
    let b = a.balances();
    assert_eq!(
        b.check(0, Side::Buy, px, Qty(10_000_000)),
        Err(RejectReason::InsufficientBalance),
        "another 6,000 USDT"
    );
    assert_eq!(
        b.check(0, Side::Buy, px, Qty(5_000_000)),
        Ok(()),
        "3,000 USDT"
    );
    // A working sell of 0.3 BTC reserves it: 0.2 BTC left.
    a.reserve(0, 6_000 * N, Qty(30_000_000));
    assert_eq!(available(&a, "BTC"), UNIT / 5);
    let b = a.balances();
    assert_eq!(
        b.check(0, Side::Sell, Px(6_100_000), Qty(25_000_000)),
        Err(RejectReason::InsufficientBalance)
    );
    assert_eq!(
        b.check(0, Side::Sell, Px(6_100_000), Qty(20_000_000)),
        Ok(())
    );
    // 0.04 BTC of the buy fills at 60,000 with a 2.4 USDT fee: BTC 0.54, USDT
    // 10,000 - 2,400 - 2.4 = 7,597.6; the buy's 0.06 left reserves 3,600.
    a.on_fill(0, Side::Buy, px, Qty(4_000_000), 24 * N / 10);
    a.reserve(0, 3_600 * N, Qty(30_000_000));
    assert_eq!(available(&a, "USDT"), 3_997_600_000_000_000);
    assert_eq!(available(&a, "BTC"), 24 * UNIT / 100);
    // The sell is cancelled: all 0.54 BTC available.
    a.reserve(0, 3_600 * N, Qty(0));
    assert_eq!(available(&a, "BTC"), 54 * UNIT / 100);
    // Another sell of 0.1 fills at 61,000 with a 6.1 USDT fee: 0.44 BTC, and
    // 7,597.6 + 6,100 - 6.1 = 13,691.5 USDT, 3,600 of it still reserved.
    a.on_fill(0, Side::Sell, Px(6_100_000), Qty(10_000_000), 61 * N / 10);
    assert_eq!(available(&a, "BTC"), 44 * UNIT / 100);
    assert_eq!(available(&a, "USDT"), 10_091_500_000_000_000);
    let all: Vec<_> = a.balances().iter().collect();
    assert_eq!(
        all,
        [
            ("USDT", 13_691_500_000_000_000, 3_600 * UNIT),
            ("BTC", 44 * UNIT / 100, 0)
        ]
    );
}

#[test]
fn a_derivative_reserves_nothing_and_its_fills_move_no_balance() {
    let mut a = account();
    a.reserve(1, 1_000_000 * N, Qty(1_000_000_000));
    a.on_fill(1, Side::Buy, Px(6_000_000), Qty(100_000_000), N);
    assert_eq!(available(&a, "USDT"), 10_000 * UNIT);
    assert_eq!(available(&a, "BTC"), UNIT / 2);
    let huge = a
        .balances()
        .check(1, Side::Buy, Px(6_000_000), Qty(1_000_000_000));
    assert_eq!(huge, Ok(()));
    // Its position and PnL are the account's as ever: long 1 BTC at 60,000 less a 1 USDT fee.
    a.on_mark(1, Px(6_010_000), Nanos(1));
    assert_eq!(a.equity(), 10_099 * UNIT);
}

#[test]
fn a_spot_instrument_must_name_its_assets() {
    let mut reg = InstrumentRegistry::new();
    reg.add(Venue::Binance, "BTCUSDT", 2, 8, Px(1), Qty(1))
        .unwrap();
    assert!(Balances::new(&reg, &[true], &[]).is_err());
    assert!(Balances::new(&reg, &[false], &[]).is_ok());
    assert!(
        Balances::new(&reg, &[], &[]).is_err(),
        "one flag per instrument"
    );
}
