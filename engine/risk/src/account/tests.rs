use super::*;
use pulse_core::instrument::Venue;

/// BTCUSDT-like: notional scale 10, so account amounts are notional * 100.
fn account(capital_usdt: i128) -> Account {
    let mut reg = InstrumentRegistry::new();
    reg.add(Venue::Binance, "BTCUSDT", 2, 8, Px(1), Qty(1_000))
        .unwrap();
    Account::new(capital_usdt * 10i128.pow(ACCOUNT_SCALE), &reg)
}

const USDT: i128 = 1_000_000_000_000;

#[test]
fn equity_drawdown_and_the_day_follow_fills_and_marks() {
    let mut a = account(1_000);
    a.on_mark(0, Px(1_000_000), Nanos(5));
    // Buy 0.5 BTC at 10,000 with a 1 USDT fee: equity 999.
    a.on_fill(0, Side::Buy, Px(1_000_000), Qty(50_000_000), 10i128.pow(10));
    assert_eq!(a.equity(), 999 * USDT);
    assert_eq!(a.gross_exposure(), 5_000 * USDT);
    assert_eq!(a.high_water_mark(), 1_000 * USDT);
    assert_eq!(a.drawdown_bps(), 10);
    // The mark rises 1%: +50 USDT, a new high-water mark.
    a.on_mark(0, Px(1_010_000), Nanos(6));
    assert_eq!(a.equity(), 1_049 * USDT);
    assert_eq!(a.high_water_mark(), 1_049 * USDT);
    assert_eq!(a.drawdown_bps(), 0);
    assert_eq!(a.day_pnl(), 49 * USDT);
    // It falls 20%: -1,010 from the high: drawdown 96.28%.
    a.on_mark(0, Px(808_000), Nanos(7));
    assert_eq!(a.equity(), 39 * USDT);
    assert_eq!(a.drawdown_bps(), (1_010 * 10_000 / 1_049) as i64);
    // The next day starts its PnL from there.
    a.on_mark(0, Px(808_000), Nanos(DAY_NS + 1));
    assert_eq!(a.day_pnl(), 0);
    a.set_working(0, 123 * 10i128.pow(10), Qty(0), Qty(0));
    a.set_working(0, 100 * 10i128.pow(10), Qty(20_000_000), Qty(90_000_000));
    assert_eq!(a.working_notional(), 100 * USDT);
    // Long 0.5: the working buys make it 0.7, the sells -0.4; the worst is 0.7 at 8,080.
    assert_eq!(a.gross_worst(), 5_656 * USDT);
    assert_eq!(a.worst(0), a.gross_worst());
    assert_eq!(a.notional(0, Px(1_000_000), Qty(-1_000_000)), 100 * USDT);
    assert_eq!(
        a.notional_wide(0, Px(1_000_000), -(1i128 << 70)),
        a.notional(0, Px(1_000_000), Qty(i64::MAX))
    );
}

#[test]
fn a_restored_account_continues_the_last_sessions_equity_and_day() {
    let mut a = account(1_000);
    // An earlier session realized -120 USDT after a high of 1,050.
    a.restore(1_050 * USDT, -120 * USDT, Some(3), 990 * USDT);
    assert_eq!(a.equity(), 880 * USDT);
    assert_eq!(a.realized(), -120 * USDT);
    assert_eq!(a.drawdown_bps(), 1_619);
    // The same UTC day: its PnL still counts from the equity it began with.
    a.on_mark(0, Px(1_000_000), Nanos(3 * DAY_NS + 5));
    assert_eq!(a.day_pnl(), -110 * USDT);
    // Fills of this session add to what was realized before.
    a.on_fill(0, Side::Buy, Px(1_000_000), Qty(10_000_000), 10i128.pow(10));
    assert_eq!(a.realized(), -121 * USDT);
    // The next day starts afresh.
    a.on_mark(0, Px(1_000_000), Nanos(4 * DAY_NS));
    assert_eq!((a.day(), a.day_pnl()), (Some(4), 0));
    assert_eq!(a.high_water_mark(), 1_050 * USDT);
    // A restart on another day does not keep the old day's start.
    let mut b = account(1_000);
    b.restore(1_050 * USDT, -120 * USDT, Some(3), 990 * USDT);
    b.on_mark(0, Px(1_000_000), Nanos(9 * DAY_NS));
    assert_eq!(b.day_pnl(), 0);
}

#[test]
fn division_takes_the_short_way_with_the_same_result() {
    for (a, b) in [
        (7, 2),
        (-7, 2),
        (7, -2),
        (i128::from(i64::MIN), -1),
        (i128::from(i64::MAX) + 1, 3),
        (-(1i128 << 100), 7),
        (5, i128::from(i64::MAX) + 10),
    ] {
        assert_eq!(div(a, b), a / b, "{a} / {b}");
    }
}

/// Long 0.5 BTC at 10,000 liquidated at 9,100 with 10 USDT kept by the venue: the position
/// is gone and equity lost 0.5 * 900 + 10 = 460, plus the 2.5 of funding paid before.
#[test]
fn funding_and_a_liquidation_reach_equity() {
    let mut a = account(1_000);
    a.on_mark(0, Px(1_000_000), Nanos(5));
    a.on_fill(0, Side::Buy, Px(1_000_000), Qty(50_000_000), 0);
    a.on_funding(0, 25 * 10i128.pow(9));
    assert_eq!(a.equity(), 1_000 * USDT - 25 * USDT / 10);
    a.on_fill(
        0,
        Side::Sell,
        Px(910_000),
        Qty(50_000_000),
        10 * 10i128.pow(10),
    );
    a.on_mark(0, Px(900_000), Nanos(6));
    assert_eq!(a.equity(), 1_000 * USDT - 4_625 * USDT / 10);
    assert_eq!(a.realized(), a.equity() - 1_000 * USDT);
    assert_eq!(a.gross_exposure(), 0);
}
