//! The funds checks (8 in the chain) and the account's valuation in the account currency.

use super::*;
use crate::account::ACCOUNT_SCALE;
use crate::allocation::{Allocation, Basis, MAX_STRATEGIES};
use crate::balance::Balances;
use crate::limits::InstrumentLimits;
use pulse_core::event::{EventMeta, Level};
use pulse_core::instrument::Venue;
use pulse_core::intent::Origin;
use pulse_core::num::InstrumentId;
use pulse_core::order::TimeInForce;

const USDT: i128 = 10i128.pow(ACCOUNT_SCALE);
const SEC: u64 = 1_000_000_000;
/// BTCUSDT (price scale 2, quantity scale 8) and ETHBTC (6 and 4), quoted in BTC.
const BTCUSDT: usize = 0;
const ETHBTC: usize = 1;

fn registry() -> InstrumentRegistry {
    let mut reg = InstrumentRegistry::new();
    let btc = reg
        .add(Venue::Binance, "BTCUSDT", 2, 8, Px(1), Qty(1_000))
        .unwrap();
    let eth = reg
        .add(Venue::Binance, "ETHBTC", 6, 4, Px(1), Qty(1))
        .unwrap();
    reg.set_assets(btc, "BTC", "USDT");
    reg.set_assets(eth, "ETH", "BTC");
    reg
}

fn fx() -> FxTable {
    FxTable::resolve(&registry(), "USDT", &[]).unwrap()
}

/// 100,000 USDT; BTCUSDT in strategy 0, ETHBTC in strategy 1.
fn account() -> Account {
    let mut a = Account::new(100_000 * USDT, &registry());
    a.set_fx(&fx()).unwrap();
    a.set_strategies(&[0, 1]).unwrap();
    a
}

fn checks() -> RiskChecks {
    let limits = InstrumentLimits {
        max_order_qty: Qty(i64::MAX),
        max_order_notional: i128::MAX,
        max_position: Qty(i64::MAX),
        price_collar_bps: 100,
        max_ref_age: Nanos(2 * SEC),
    };
    let mut c = RiskChecks::new(
        registry(),
        vec![limits.clone(), limits],
        PortfolioLimits::with_capital(100_000 * USDT),
    );
    c.set_fx(&fx());
    c
}

fn book(i: usize, mid: i64, ts: u64, state: BookState) -> BookTop {
    let meta = EventMeta {
        instrument: InstrumentId(i as u16),
        recv_ts: Nanos(ts),
        ..EventMeta::default()
    };
    let level = |px| Level {
        px: Px(px),
        qty: Qty(1_000_000_000),
    };
    BookTop::with_touch(meta, state, level(mid - 1), level(mid + 1))
}

fn intent(i: usize, side: Side, px: i64, qty: i64, ts: u64) -> OrderIntent {
    let instrument = InstrumentId(i as u16);
    OrderIntent {
        meta: EventMeta {
            instrument,
            recv_ts: Nanos(ts),
            ..EventMeta::default()
        },
        instrument,
        side,
        px: Px(px),
        qty: Qty(qty),
        tif: TimeInForce::Ioc,
        tag: 0,
        confidence_bps: 10_000,
        vol_bps: 0,
        origin: Origin::Rule,
    }
}

fn ctx(account: &Account, i: usize) -> Context<'_> {
    let a = account.instrument(i).unwrap();
    Context {
        exposure: Exposure {
            position: a.position.qty,
            ..Exposure::default()
        },
        open_orders: 0,
        account,
        mode: TradingMode::Armed,
        fills: 0,
        throttled: false,
        duplicate: false,
        figures: None,
    }
}

#[test]
fn a_btc_quoted_instrument_is_valued_through_btcusdt() {
    let mut a = account();
    assert_eq!(a.rate(ETHBTC), Some(0), "no BTCUSDT mid yet");
    a.on_mark(BTCUSDT, Px(6_000_000), Nanos(1));
    assert_eq!(a.rate(ETHBTC), Some(60_000 * USDT));
    assert_eq!(a.rate(BTCUSDT), Some(USDT));
    // Buy 2 ETH at 0.05 BTC with a 0.0001 BTC fee (notional scale 10: 10^6): -6 USDT.
    a.on_fill(ETHBTC, Side::Buy, Px(50_000), Qty(20_000), 1_000_000);
    assert_eq!(a.equity(), 99_994 * USDT);
    assert_eq!(a.realized(), -6 * USDT);
    // ETHBTC at 0.051: +0.002 BTC = +120 USDT; 0.102 BTC of exposure = 6,120 USDT.
    a.on_mark(ETHBTC, Px(51_000), Nanos(2));
    assert_eq!(a.equity(), 100_114 * USDT);
    assert_eq!(a.gross_exposure(), 6_120 * USDT);
    // BTC falls to 50,000: the open 0.002 BTC is worth 100 USDT, the exposure 5,100; the
    // fee stays at the 6 USDT it cost when paid.
    a.on_mark(BTCUSDT, Px(5_000_000), Nanos(3));
    assert_eq!(a.equity(), 100_094 * USDT);
    assert_eq!(a.realized(), -6 * USDT);
    assert_eq!(a.gross_exposure(), 5_100 * USDT);
    // A working buy of 1 ETH at 0.05 (0.05 BTC = 2,500 USDT) counts in the account currency.
    a.set_working(ETHBTC, 50_000 * 10_000, Qty(10_000), Qty(0));
    assert_eq!(a.working_notional(), 2_500 * USDT);
    assert_eq!(a.notional(ETHBTC, Px(50_000), Qty(10_000)), 2_500 * USDT);
    // Strategy 1 is ETHBTC: its PnL, exposure and working orders, all in USDT.
    let s = *a.strategy(1).unwrap();
    assert_eq!(
        (s.pnl, s.exposure, s.working),
        (94 * USDT, 5_100 * USDT, 2_500 * USDT)
    );
    assert_eq!(a.strategy(0).map(|s| s.pnl), Some(0));
    // A BTC rally moves the working notional with it: 0.05 BTC at 60,000 = 3,000 USDT.
    a.on_mark(BTCUSDT, Px(6_000_000), Nanos(4));
    assert_eq!(a.working_notional(), 3_000 * USDT);
    assert_eq!(a.equity(), 100_114 * USDT);
}

#[test]
fn a_stale_conversion_blocks_new_exposure_but_not_reductions() {
    let mut c = checks();
    let mut a = account();
    c.on_book(&book(ETHBTC, 50_000, SEC, BookState::Live));
    a.on_mark(ETHBTC, Px(50_000), Nanos(SEC));
    let buy = intent(ETHBTC, Side::Buy, 50_000, 10_000, SEC);
    assert_eq!(
        c.check(&buy, &ctx(&a, ETHBTC)),
        Err(RejectReason::ConversionStale),
        "no BTCUSDT book"
    );
    c.on_book(&book(BTCUSDT, 6_000_000, SEC, BookState::Live));
    a.on_mark(BTCUSDT, Px(6_000_000), Nanos(SEC));
    assert_eq!(c.check(&buy, &ctx(&a, ETHBTC)), Ok(Qty(10_000)));
    // Three seconds on, ETHBTC's book is fresh and BTCUSDT's is not (2 s at most).
    c.on_book(&book(ETHBTC, 50_000, 4 * SEC, BookState::Live));
    let later = intent(ETHBTC, Side::Buy, 50_000, 10_000, 4 * SEC);
    assert_eq!(
        c.check(&later, &ctx(&a, ETHBTC)),
        Err(RejectReason::ConversionStale)
    );
    c.on_book(&book(BTCUSDT, 6_000_000, 4 * SEC, BookState::Stale));
    assert_eq!(
        c.check(&later, &ctx(&a, ETHBTC)),
        Err(RejectReason::ConversionStale)
    );
    // Long 1 ETH: selling it only reduces, and goes.
    a.on_fill(ETHBTC, Side::Buy, Px(50_000), Qty(10_000), 0);
    let sell = intent(ETHBTC, Side::Sell, 50_000, 10_000, 4 * SEC);
    assert_eq!(c.check(&sell, &ctx(&a, ETHBTC)), Ok(Qty(10_000)));
    // BTCUSDT itself needs no conversion.
    c.on_book(&book(BTCUSDT, 6_000_000, 4 * SEC, BookState::Live));
    let btc = intent(BTCUSDT, Side::Buy, 6_000_000, 1_000_000, 4 * SEC);
    assert_eq!(c.check(&btc, &ctx(&a, BTCUSDT)), Ok(Qty(1_000_000)));
}

#[test]
fn a_strategy_commits_no_more_than_its_allocated_capital() {
    let mut c = checks();
    let mut a = account();
    c.on_book(&book(BTCUSDT, 6_000_000, SEC, BookState::Live));
    a.on_mark(BTCUSDT, Px(6_000_000), Nanos(SEC));
    let mut allocation = Allocation {
        at: Nanos(SEC),
        count: 2,
        weights_bps: [0; MAX_STRATEGIES],
        capital: [0; MAX_STRATEGIES],
        equity: 100_000 * USDT,
        mode: 0,
        basis: Basis::Fixed,
    };
    allocation.weights_bps[..2].copy_from_slice(&[100, 9_900]);
    allocation.capital[..2].copy_from_slice(&[1_000 * USDT, 99_000 * USDT]);
    a.set_allocation(&allocation);
    // 0.01 BTC at 60,000 = 600 USDT of strategy 0's 1,000.
    let buy = intent(BTCUSDT, Side::Buy, 6_000_000, 1_000_000, SEC);
    assert_eq!(c.check(&buy, &ctx(&a, BTCUSDT)), Ok(Qty(1_000_000)));
    // With 500 USDT already working: 1,100.
    a.set_working(BTCUSDT, 500 * 10_000_000_000, Qty(833_000), Qty(0));
    assert_eq!(
        c.check(&buy, &ctx(&a, BTCUSDT)),
        Err(RejectReason::AllocationLimit)
    );
    // Filled instead: long 0.00833 BTC (499.8 USDT at the mark) + 600 = 1,099.8.
    a.set_working(BTCUSDT, 0, Qty(0), Qty(0));
    a.on_fill(BTCUSDT, Side::Buy, Px(6_000_000), Qty(833_000), 0);
    assert_eq!(
        c.check(&buy, &ctx(&a, BTCUSDT)),
        Err(RejectReason::AllocationLimit)
    );
    // 0.0066 BTC = 396 USDT: 895.8 fits; selling what it holds always does.
    let small = intent(BTCUSDT, Side::Buy, 6_000_000, 660_000, SEC);
    assert_eq!(c.check(&small, &ctx(&a, BTCUSDT)), Ok(Qty(660_000)));
    let sell = intent(BTCUSDT, Side::Sell, 6_000_000, 833_000, SEC);
    assert_eq!(c.check(&sell, &ctx(&a, BTCUSDT)), Ok(Qty(833_000)));
}

#[test]
fn sizing_sees_the_strategys_allocated_capital() {
    let mut c = checks();
    c.portfolio.sizing = crate::sizing::Sizing::Kelly {
        payoff_bps: 10_000,
        cap_bps: 2_500,
    };
    let mut a = account();
    c.on_book(&book(BTCUSDT, 6_000_000, SEC, BookState::Live));
    a.on_mark(BTCUSDT, Px(6_000_000), Nanos(SEC));
    // Kelly at 90% confidence, capped at 25%: of the equity, 25,000 USDT, more than the
    // 0.01 BTC (600 USDT) asked for.
    let buy = intent(BTCUSDT, Side::Buy, 6_000_000, 1_000_000, SEC);
    let buy = OrderIntent {
        confidence_bps: 9_000,
        ..buy
    };
    assert_eq!(a.sizing_capital(BTCUSDT), 100_000 * USDT);
    assert_eq!(c.check(&buy, &ctx(&a, BTCUSDT)), Ok(Qty(1_000_000)));
    // With 1,000 USDT allocated to strategy 0: 250 USDT, 0.00416 BTC in whole lots.
    let mut allocation = Allocation {
        at: Nanos(SEC),
        count: 2,
        weights_bps: [0; MAX_STRATEGIES],
        capital: [0; MAX_STRATEGIES],
        equity: 100_000 * USDT,
        mode: 0,
        basis: Basis::Fixed,
    };
    allocation.capital[..2].copy_from_slice(&[1_000 * USDT, 99_000 * USDT]);
    a.set_allocation(&allocation);
    assert_eq!(a.sizing_capital(BTCUSDT), 1_000 * USDT);
    assert_eq!(c.check(&buy, &ctx(&a, BTCUSDT)), Ok(Qty(416_000)));
}

#[test]
fn an_order_needs_the_balance_it_reserves() {
    let mut c = checks();
    let mut a = account();
    let start = [
        ("USDT".to_owned(), 500 * USDT),
        ("BTC".to_owned(), USDT / 100),
    ];
    a.set_balances(Balances::new(&registry(), &[true, true], &start).unwrap());
    c.on_book(&book(BTCUSDT, 6_000_000, SEC, BookState::Live));
    a.on_mark(BTCUSDT, Px(6_000_000), Nanos(SEC));
    // 600 USDT to buy 0.01 BTC, 500 there.
    let buy = intent(BTCUSDT, Side::Buy, 6_000_000, 1_000_000, SEC);
    assert_eq!(
        c.check(&buy, &ctx(&a, BTCUSDT)),
        Err(RejectReason::InsufficientBalance)
    );
    let fits = intent(BTCUSDT, Side::Buy, 6_000_000, 833_000, SEC);
    assert_eq!(c.check(&fits, &ctx(&a, BTCUSDT)), Ok(Qty(833_000)));
    // Selling 0.01 BTC: held. 0.011: not.
    let sell = intent(BTCUSDT, Side::Sell, 6_000_000, 1_000_000, SEC);
    assert_eq!(c.check(&sell, &ctx(&a, BTCUSDT)), Ok(Qty(1_000_000)));
    let more = intent(BTCUSDT, Side::Sell, 6_000_000, 1_100_000, SEC);
    assert_eq!(
        c.check(&more, &ctx(&a, BTCUSDT)),
        Err(RejectReason::InsufficientBalance)
    );
}
