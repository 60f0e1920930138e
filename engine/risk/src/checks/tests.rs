use super::*;
use crate::account::ACCOUNT_SCALE;
use crate::sizing::Sizing;
use pulse_core::event::EventMeta;
use pulse_core::event::Level;
use pulse_core::instrument::Venue;
use pulse_core::num::InstrumentId;
use pulse_core::order::TimeInForce;

const BTC: InstrumentId = InstrumentId(0);
const USDT: i128 = 10i128.pow(ACCOUNT_SCALE);

fn registry() -> InstrumentRegistry {
    let mut reg = InstrumentRegistry::new();
    reg.add(Venue::Binance, "BTCUSDT", 2, 8, Px(1), Qty(1_000))
        .unwrap();
    reg
}

/// BTCUSDT-like: price scale 2 (tick 0.01), qty scale 8 (lot 0.00001 = 1000); 10,000 USDT
/// of capital, the default portfolio limits; the book at 60,000.00 / 60,000.02.
fn checks() -> RiskChecks {
    let limits = InstrumentLimits {
        max_order_qty: Qty(200_000),
        max_order_notional: 150 * 10i128.pow(10),
        max_position: Qty(1_000_000),
        price_collar_bps: 50,
        max_ref_age: Nanos::from_millis(2_000),
    };
    let mut c = RiskChecks::new(
        registry(),
        vec![limits],
        PortfolioLimits::with_capital(10_000 * USDT),
    );
    c.on_book(&book(6_000_000, 6_000_002, 1_000_000_000, BookState::Live));
    c
}

fn account() -> Account {
    let mut a = Account::new(10_000 * USDT, &registry());
    a.on_mark(0, Px(6_000_001), Nanos(1_000_000_000));
    a
}

fn book(bid: i64, ask: i64, ts: u64, state: BookState) -> BookTop {
    let meta = EventMeta {
        instrument: BTC,
        recv_ts: Nanos(ts),
        ..EventMeta::default()
    };
    let level = |px| Level {
        px: Px(px),
        qty: Qty(100_000_000),
    };
    BookTop::with_touch(meta, state, level(bid), level(ask))
}

fn intent(side: Side, px: i64, qty: i64, ts: u64) -> OrderIntent {
    OrderIntent {
        meta: EventMeta {
            instrument: BTC,
            recv_ts: Nanos(ts),
            ..EventMeta::default()
        },
        instrument: BTC,
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

fn ctx(account: &Account) -> Context<'_> {
    Context {
        exposure: Exposure::default(),
        open_orders: 0,
        account,
        mode: TradingMode::Armed,
        fills: 0,
        throttled: false,
        duplicate: false,
        figures: None,
    }
}

const T: u64 = 1_500_000_000;

#[test]
fn each_limit_rejects_with_its_own_reason() {
    let c = checks();
    let a = account();
    let ok = intent(Side::Buy, 6_000_002, 100_000, T);
    assert_eq!(c.check(&ok, &ctx(&a)), Ok(Qty(100_000)));
    let exposure = |position, working_buy, working_sell| Exposure {
        position: Qty(position),
        working_buy: Qty(working_buy),
        working_sell: Qty(working_sell),
    };
    type Case<'a> = (OrderIntent, Context<'a>, RejectReason);
    let base = ctx(&a);
    let mut unknown = ok;
    unknown.instrument = InstrumentId(7);
    let cases: Vec<Case<'_>> = vec![
        (
            ok,
            Context {
                mode: TradingMode::Killed,
                ..base
            },
            RejectReason::KillSwitch,
        ),
        (unknown, base, RejectReason::UnknownInstrument),
        (
            intent(Side::Buy, 6_000_002, 0, T),
            base,
            RejectReason::NotPositive,
        ),
        (
            intent(Side::Buy, 0, 100_000, T),
            base,
            RejectReason::NotPositive,
        ),
        (
            intent(Side::Buy, 6_000_002, 100_500, T),
            base,
            RejectReason::LotSize,
        ),
        (
            OrderIntent {
                confidence_bps: 5_999,
                ..ok
            },
            base,
            RejectReason::LowConfidence,
        ),
        (
            ok,
            Context {
                fills: 10_000,
                ..base
            },
            RejectReason::FillsPaused,
        ),
        (
            intent(Side::Buy, 6_000_002, 300_000, T),
            base,
            RejectReason::MaxOrderQty,
        ),
        // 0.002 BTC at 80,000 = 160 USDT > 150 (the collar would refuse it too, later).
        (
            intent(Side::Buy, 8_000_000, 200_000, T),
            base,
            RejectReason::MaxOrderNotional,
        ),
        (
            ok,
            Context {
                mode: TradingMode::ReduceOnly,
                ..base
            },
            RejectReason::ReduceOnly,
        ),
        (
            ok,
            Context {
                duplicate: true,
                ..base
            },
            RejectReason::Duplicate,
        ),
        (
            ok,
            Context {
                throttled: true,
                ..base
            },
            RejectReason::Throttle,
        ),
        (
            ok,
            Context {
                open_orders: 32,
                ..base
            },
            RejectReason::TooManyOrders,
        ),
        (
            intent(Side::Buy, 6_000_002, 200_000, T),
            Context {
                exposure: exposure(700_000, 200_000, 0),
                ..base
            },
            RejectReason::PositionLimit,
        ),
        (
            intent(Side::Sell, 6_000_000, 200_000, T),
            Context {
                exposure: exposure(-900_000, 0, 0),
                ..base
            },
            RejectReason::PositionLimit,
        ),
        (
            intent(Side::Buy, 6_000_002, 100_000, 3_000_000_001),
            base,
            RejectReason::ReferenceStale,
        ),
        // Mid 60000.01; 0.5% collar = 300.00005: 60300.02 is outside, 60300.01 inside.
        (
            intent(Side::Buy, 6_030_002, 100_000, T),
            base,
            RejectReason::PriceCollar,
        ),
        (
            intent(Side::Sell, 5_969_999, 100_000, T),
            base,
            RejectReason::PriceCollar,
        ),
    ];
    for (intent, ctx, reason) in cases {
        assert_eq!(c.check(&intent, &ctx), Err(reason), "{intent:?} {ctx:?}");
    }
    assert_eq!(
        c.check(&intent(Side::Buy, 6_030_001, 100_000, T), &base),
        Ok(Qty(100_000))
    );
    // Working sells do not use up buying room, and the limit is inclusive.
    assert_eq!(
        c.check(
            &intent(Side::Buy, 6_000_002, 200_000, T),
            &Context {
                exposure: exposure(800_000, 0, 500_000),
                ..base
            }
        ),
        Ok(Qty(200_000)),
        "0.01 BTC after the order: at the limit, which is inclusive"
    );
}

/// The portfolio checks, each alone: the share of equity, gross exposure, capital.
#[test]
fn portfolio_limits_count_positions_and_working_orders() {
    let mut c = checks();
    c.limits[0].max_position = Qty(100_000_000);
    let a = account();
    let base = ctx(&a);
    let buy = intent(Side::Buy, 6_000_002, 100_000, T);
    // 0.016 BTC held + 0.001 = 0.017 at 60,000.01 = 1,020 USDT > 1,000 (10% of equity).
    let held = |q| Context {
        exposure: Exposure {
            position: Qty(q),
            ..Exposure::default()
        },
        ..base
    };
    assert_eq!(c.check(&buy, &held(1_500_000)), Ok(Qty(100_000)));
    assert_eq!(
        c.check(&buy, &held(1_600_000)),
        Err(RejectReason::PortfolioShare)
    );
    // Selling out of it always passes.
    let sell = intent(Side::Sell, 6_000_000, 100_000, T);
    assert_eq!(c.check(&sell, &held(1_600_000)), Ok(Qty(100_000)));
    // Gross exposure: other instruments' exposure is in the account's total.
    c.portfolio.max_position_share_bps = 10_000;
    c.portfolio.max_gross_exposure = 1_000 * USDT;
    assert_eq!(
        c.check(&buy, &held(1_600_000)),
        Err(RejectReason::PortfolioLimit)
    );
    c.portfolio.max_gross_exposure = 100_000 * USDT;
    // Capital: positions at their marks plus working orders plus this order.
    let mut b = account();
    b.set_working(0, 9_990 * 10i128.pow(10), Qty(0), Qty(0));
    let committed = ctx(&b);
    assert_eq!(c.check(&buy, &committed), Err(RejectReason::CapitalCap));
    b.set_working(0, 9_930 * 10i128.pow(10), Qty(0), Qty(0));
    assert_eq!(c.check(&buy, &ctx(&b)), Ok(Qty(100_000)));
}

/// 10,000 USDT all in one BTC bought at 10,000.00 and marked there, with checks whose
/// exposure and capital limits leave room for it: the account the breaker tests mark down.
fn long_one_btc() -> (RiskChecks, Account) {
    let mut c = checks();
    c.portfolio.max_gross_exposure = 1_000_000 * USDT;
    c.portfolio.capital = 1_000_000 * USDT;
    c.limits[0].max_position = Qty(1_000_000_000);
    let mut a = Account::new(10_000 * USDT, &registry());
    a.on_mark(0, Px(1_000_000), Nanos(1));
    a.on_fill(0, Side::Buy, Px(1_000_000), Qty(100_000_000), 0);
    (c, a)
}

/// Losses of exactly 5%, 10% and 15% from the high-water mark, made by a 1 BTC position
/// marked down: each level takes effect at its threshold and not a basis point before.
#[test]
fn circuit_breakers_take_effect_at_their_thresholds() {
    let (mut c, mut a) = long_one_btc();
    c.portfolio.daily_loss_limit = 1_000_000 * USDT;
    let long = Exposure {
        position: Qty(100_000_000),
        ..Exposure::default()
    };
    let mut at = |mark: i64| {
        a.on_mark(0, Px(mark), Nanos(2));
        c.on_book(&book(mark - 1, mark + 1, T - 1, BookState::Live));
        let sell = intent(Side::Sell, mark, 100_000, T);
        let conservative = OrderIntent {
            origin: Origin::Agent(AgentKind::Conservative),
            ..sell
        };
        let ctx = Context {
            exposure: long,
            ..ctx(&a)
        };
        (
            a.drawdown_bps(),
            c.check(&sell, &ctx),
            c.check(&conservative, &ctx),
        )
    };
    let full = Ok(Qty(100_000));
    let half = Ok(Qty(50_000));
    assert_eq!(at(950_001), (499, full, full));
    assert_eq!(at(950_000), (500, half, half));
    assert_eq!(at(900_001), (999, half, half));
    let restricted = Err(RejectReason::DrawdownRestricted);
    assert_eq!(at(900_000), (1_000, restricted, half));
    assert_eq!(at(850_001), (1_499, restricted, half));
    let halt = Err(RejectReason::DrawdownHalt);
    assert_eq!(at(850_000), (1_500, halt, halt));
    // Recovering above a level lifts it.
    assert_eq!(at(990_000), (100, full, full));
}

#[test]
fn the_day_loss_limit_and_one_lot_halved_stop_trading() {
    let (mut c, mut a) = long_one_btc();
    c.portfolio.daily_loss_limit = 100 * USDT;
    c.portfolio.max_position_share_bps = 10_000;
    a.on_mark(0, Px(990_001), Nanos(2));
    c.on_book(&book(990_000, 990_002, T - 1, BookState::Live));
    let buy = intent(Side::Buy, 990_002, 1_000, T);
    assert_eq!(c.check(&buy, &ctx(&a)), Ok(Qty(1_000)));
    a.on_mark(0, Px(990_000), Nanos(3));
    assert_eq!(c.check(&buy, &ctx(&a)), Err(RejectReason::DailyLoss));
    // One lot cannot be halved: at 5% drawdown it is refused.
    c.portfolio.daily_loss_limit = 1_000_000 * USDT;
    a.on_mark(0, Px(950_000), Nanos(4));
    c.on_book(&book(949_999, 950_001, T - 1, BookState::Live));
    let one_lot = intent(Side::Buy, 950_001, 1_000, T);
    assert_eq!(c.check(&one_lot, &ctx(&a)), Err(RejectReason::DrawdownHalt));
}

#[test]
fn reduce_only_lets_through_what_reduces_and_nothing_that_flips() {
    let c = checks();
    let a = account();
    let reduce_only = |position, working_sell| Context {
        mode: TradingMode::ReduceOnly,
        exposure: Exposure {
            position: Qty(position),
            working_buy: Qty(0),
            working_sell: Qty(working_sell),
        },
        ..ctx(&a)
    };
    let sell = intent(Side::Sell, 6_000_000, 100_000, T);
    assert_eq!(c.check(&sell, &reduce_only(300_000, 0)), Ok(Qty(100_000)));
    assert_eq!(
        c.check(&sell, &reduce_only(300_000, 200_000)),
        Ok(Qty(100_000))
    );
    assert_eq!(
        c.check(&sell, &reduce_only(300_000, 250_000)),
        Err(RejectReason::ReduceOnly),
        "with the working sells it would go short"
    );
    assert_eq!(
        c.check(&sell, &reduce_only(0, 0)),
        Err(RejectReason::ReduceOnly)
    );
}

#[test]
fn sizing_shrinks_before_the_limits() {
    let mut c = checks();
    c.portfolio.sizing = Sizing::Kelly {
        payoff_bps: 10_000,
        cap_bps: 100,
    };
    let a = account();
    // 1% of 10,000 USDT = 100 USDT at 60,000.02: 0.00166 BTC.
    let mut i = intent(Side::Buy, 6_000_002, 200_000, T);
    i.confidence_bps = 9_000;
    assert_eq!(c.check(&i, &ctx(&a)), Ok(Qty(166_000)));
    // No edge at 50% and even odds: nothing to trade.
    i.confidence_bps = 6_000;
    c.portfolio.min_confidence_bps = 0;
    c.portfolio.sizing = Sizing::Kelly {
        payoff_bps: 5_000,
        cap_bps: 100,
    };
    assert_eq!(c.check(&i, &ctx(&a)), Err(RejectReason::NotPositive));
}

#[test]
fn a_stale_or_crossed_book_blocks_orders() {
    let mut c = checks();
    let a = account();
    let ok = intent(Side::Buy, 6_000_002, 100_000, T);
    for state in [BookState::Stale, BookState::Crossed] {
        c.on_book(&book(6_000_000, 6_000_002, 1_000_000_000, state));
        assert_eq!(c.check(&ok, &ctx(&a)), Err(RejectReason::BookNotLive));
    }
    c.on_book(&book(6_000_000, 6_000_002, 1_000_000_000, BookState::Live));
    assert_eq!(c.check(&ok, &ctx(&a)), Ok(Qty(100_000)));
    let mut reg = InstrumentRegistry::new();
    reg.add(Venue::Binance, "BTCUSDT", 2, 8, Px(10), Qty(1_000))
        .unwrap();
    let coarse = RiskChecks::new(reg, c.limits.clone(), c.portfolio);
    assert_eq!(coarse.check(&ok, &ctx(&a)), Err(RejectReason::TickSize));
}
