//! The simulated venue as a perpetual: BTCUSDT-like, price scale 1 (0.1 USDT), quantity scale
//! 3 (0.001 BTC), so money at notional scale 4; 20x; 10,000 USDT in the wallet; no fees.

use pulse_feeds::book::Level;
use pulse_feeds::event::{BookState, BookTop, EventMeta, MarketEvent, TradeEvent};
use pulse_feeds::num::{InstrumentId, Nanos, Px, Qty, Side};
use pulse_risk::account::{Account, ACCOUNT_SCALE};
use pulse_risk::margin::{Guard, GuardAction, MarginSettings};
use pulse_risk::position::Position;

use super::*;
use crate::order::{ClientOrderId, ExecKind, ExecReport, Order, Request, TimeInForce, VenueReject};
use crate::sim::{Fees, SimVenue};

const USDT: i128 = 10_000;
const BTC: i64 = 1_000;
const HOUR: u64 = 3_600_000_000_000;

/// The first four of Binance USDⓈ-M BTCUSDT's published brackets (`GET
/// /fapi/v1/leverageBracket`, 2023): up to 50,000 USDT 125x 0.40%; to 600,000 100x 0.50%; to
/// 3,000,000 75x 0.65%; to 12,000,000 50x 1.00% (cum 0, 50, 950, 11,450), in money `unit`.
fn btcusdt(unit: i128) -> MarginTiers {
    MarginTiers::from_brackets(&[
        (50_000 * unit, 125, 40),
        (600_000 * unit, 100, 50),
        (3_000_000 * unit, 75, 65),
        (12_000_000 * unit, 50, 100),
    ])
    .unwrap()
}

fn venue(funding: Funding) -> SimVenue {
    SimVenue::new(1, Fees::default())
        .with_derivatives(
            InstrumentId(0),
            DerivativesSim {
                leverage: 20,
                tiers: btcusdt(USDT),
                funding,
                wallet_balance: 10_000 * USDT,
            },
        )
        .unwrap()
}

fn every_8h(rate_e8: i64) -> Funding {
    Funding::Every {
        interval: Nanos(8 * HOUR),
        rate_e8,
    }
}

fn meta(ts: u64) -> EventMeta {
    EventMeta {
        recv_ts: Nanos(ts),
        ..EventMeta::default()
    }
}

/// A book whose mid (the mark) is `bid + (ask - bid) / 2`, 10 BTC on each side.
fn book(v: &mut SimVenue, ts: u64, bid: i64, ask: i64) -> Vec<ExecReport> {
    let level = |px| Level {
        px: Px(px),
        qty: Qty(10 * BTC),
    };
    let top = BookTop::with_touch(meta(ts), BookState::Live, level(bid), level(ask));
    let mut out = Vec::new();
    v.on_market(&MarketEvent::Book(top), |r| out.push(r));
    out
}

fn send(
    v: &mut SimVenue,
    id: u64,
    side: Side,
    px: i64,
    qty: i64,
    tif: TimeInForce,
) -> Vec<ExecKind> {
    let mut out = Vec::new();
    let order = Order {
        meta: meta(0),
        client_id: ClientOrderId(id),
        instrument: InstrumentId(0),
        side,
        px: Px(px),
        qty: Qty(qty),
        tif,
    };
    v.execute(&Request::New(order), |r| out.push(r.kind));
    out
}

/// Long 1 BTC at 60,000: 3,000 of margin leaves 7,000 in the wallet.
fn long_one_btc(v: &mut SimVenue, ts: u64) {
    book(v, ts, 599_998, 600_000);
    let out = send(v, 1, Side::Buy, 600_000, BTC, TimeInForce::Ioc);
    assert!(
        matches!(
            out[1],
            ExecKind::Fill {
                px: Px(600_000),
                ..
            }
        ),
        "{out:?}"
    );
}

fn wallet(v: &SimVenue) -> i128 {
    v.margin(InstrumentId(0)).unwrap().wallet_balance
}

/// 0.01% every 8 h on a long of 1 BTC: at the first event past 8 h, the mark then (60,999.9)
/// makes 1 * 60,999.9 * 0.0001 = 6.09999, rounded up to 6.1 USDT; at a trade past 16 h,
/// 1 * 62,000 * 0.0001 = 6.2; an event at 40 h settles 24, 32 and 40 h at once:
/// 3 * 6.2 = 18.6. Nothing between the funding times.
#[test]
fn a_long_pays_positive_funding_at_each_funding_time() {
    let mut v = venue(every_8h(10_000));
    long_one_btc(&mut v, HOUR);
    assert_eq!(wallet(&v), 7_000 * USDT);
    assert!(book(&mut v, 7 * HOUR, 609_998, 610_000).is_empty());
    let out = book(&mut v, 8 * HOUR + 1, 619_999, 620_001);
    assert_eq!(out.len(), 1);
    assert_eq!(
        (out[0].kind, out[0].side, out[0].client_id, out[0].ts),
        (
            ExecKind::Funding { amount: 61_000 },
            Side::Buy,
            ClientOrderId(0),
            Nanos(8 * HOUR + 1)
        )
    );
    assert!(book(&mut v, 15 * HOUR, 619_999, 620_001).is_empty());
    let mut out = Vec::new();
    let trade = TradeEvent {
        meta: meta(16 * HOUR + 5),
        trade_id: 1,
        px: Px(620_000),
        qty: Qty(1),
        aggressor: Side::Buy,
    };
    v.on_market(&MarketEvent::Trade(trade), |r| out.push(r.kind));
    assert_eq!(out, [ExecKind::Funding { amount: 62_000 }]);
    let out = book(&mut v, 40 * HOUR, 619_999, 620_001);
    assert_eq!(out[0].kind, ExecKind::Funding { amount: 186_000 });
    assert_eq!(wallet(&v), 7_000 * USDT - 61_000 - 62_000 - 186_000);
    assert_eq!(v.counters.fundings, 3);
}

/// Recorded rates on a short of 1 BTC at a mark of 59,999.9: at 8 h -0.005% (longs receive,
/// shorts pay): -1 * 59,999.9 * -0.00005 = 2.999995 -> 3.0 paid; at 16 h +0.02%: the short
/// receives 1 * 59,999.9 * 0.0002 = 11.99998, rounded against it to 11.9999.
#[test]
fn a_short_pays_negative_funding_and_receives_positive() {
    let mut v = venue(Funding::Recorded(vec![
        FundingEvent {
            ts: Nanos(0),
            rate_e8: 99_999,
        },
        FundingEvent {
            ts: Nanos(8 * HOUR),
            rate_e8: -5_000,
        },
        FundingEvent {
            ts: Nanos(16 * HOUR),
            rate_e8: 20_000,
        },
    ]));
    book(&mut v, HOUR, 599_998, 600_000);
    let out = send(&mut v, 1, Side::Sell, 599_998, BTC, TimeInForce::Ioc);
    assert!(matches!(out[1], ExecKind::Fill { .. }), "{out:?}");
    let funding = |out: Vec<ExecReport>| out.iter().map(|r| (r.kind, r.side)).collect::<Vec<_>>();
    assert_eq!(
        funding(book(&mut v, 8 * HOUR, 599_998, 600_000)),
        [(ExecKind::Funding { amount: 30_000 }, Side::Sell)]
    );
    assert_eq!(
        funding(book(&mut v, 17 * HOUR, 599_998, 600_000)),
        [(ExecKind::Funding { amount: -119_999 }, Side::Sell)]
    );
    // The settlement before the run's first event is not the run's.
    assert_eq!(v.counters.fundings, 2);
}

/// Long 1 BTC at 60,000 with 3,000 of isolated margin: Binance's liquidation price
/// (3,000 + 50 - 60,000) / (0.005 - 1) = 57,236.18 -> 57,236.1. A mark of 57,236.2 leaves it;
/// 57,236.1 liquidates it: the resting order goes, the position is closed at 57,236.1 and the
/// venue keeps what is left of the margin, 3,000 - 2,763.9 = 236.1: the account loses the
/// 3,000. The guard asked for a cut from 57,262.5 on, before that.
#[test]
fn a_leveraged_long_is_liquidated_at_the_liquidation_price_and_not_before() {
    let mut v = venue(every_8h(0));
    long_one_btc(&mut v, HOUR);
    let lp = v.margin(InstrumentId(0)).unwrap().liquidation_price;
    assert_eq!(lp, Some(Px(572_361)));
    // Risk's guard on the same position and margin finds the same price, and its own first.
    let settings = MarginSettings::new(20, btcusdt(10i128.pow(ACCOUNT_SCALE)), 8_000, 9_000, 4);
    let guard = Guard::new(settings.unwrap(), Qty(1));
    let mut pos = Position::default();
    pos.apply_fill(Side::Buy, Px(600_000), Qty(BTC), 0);
    assert_eq!(guard.liquidation_price(&pos, 3_000 * USDT), lp);
    let reduce = guard.reduce_price(&pos, 3_000 * USDT);
    assert_eq!(reduce, Some(Px(572_625)));
    assert!(reduce > lp);
    assert!(matches!(
        guard.assess(&pos, Px(572_625), 3_000 * USDT),
        GuardAction::Reduce { .. }
    ));

    let rest = send(&mut v, 2, Side::Buy, 500_000, BTC / 2, TimeInForce::Gtc);
    assert_eq!(rest, [ExecKind::Ack]);
    // Marks 57,262.5 (the guard's level) and 57,236.2: still open.
    assert!(book(&mut v, 2 * HOUR, 572_624, 572_626).is_empty());
    assert!(book(&mut v, 2 * HOUR + 1, 572_361, 572_363).is_empty());
    assert_eq!(v.account().positions, [Qty(BTC)]);
    let out = book(&mut v, 2 * HOUR + 2, 572_360, 572_362);
    let kinds: Vec<_> = out
        .iter()
        .map(|r| (r.client_id.0, r.kind, r.side))
        .collect();
    let liquidation = ExecKind::Liquidation {
        px: Px(572_361),
        qty: Qty(BTC),
        fee: 2_361_000,
    };
    assert_eq!(
        kinds,
        [
            (2, ExecKind::Expired, Side::Buy),
            (0, liquidation, Side::Sell)
        ]
    );
    assert_eq!(v.account().positions, [Qty(0)]);
    assert_eq!(v.resting(), 0);
    assert_eq!(wallet(&v), 7_000 * USDT);
    assert_eq!(v.counters.liquidations, 1);

    // The risk account, given the same reports, sees the position go and the margin lost.
    let mut reg = pulse_feeds::instrument::InstrumentRegistry::new();
    reg.add(
        pulse_feeds::instrument::Venue::Binance,
        "BTCUSDT",
        1,
        3,
        Px(1),
        Qty(1),
    )
    .unwrap();
    let mut account = Account::new(10_000 * 10i128.pow(ACCOUNT_SCALE), &reg);
    account.on_fill(0, Side::Buy, Px(600_000), Qty(BTC), 0);
    if let ExecKind::Liquidation { px, qty, fee } = liquidation {
        account.on_fill(0, Side::Sell, px, qty, fee);
    }
    account.on_mark(0, Px(572_361), Nanos(2 * HOUR + 2));
    assert_eq!(account.instrument(0).unwrap().position.qty, Qty(0));
    assert_eq!(account.equity(), 7_000 * 10i128.pow(ACCOUNT_SCALE));
}

/// A mark that gaps far past the liquidation price: the venue still closes at it, and the
/// account still loses exactly its margin (the venue's insurance fund takes the rest).
#[test]
fn a_gap_through_the_liquidation_price_loses_only_the_margin() {
    let mut v = venue(every_8h(0));
    long_one_btc(&mut v, HOUR);
    let out = book(&mut v, 2 * HOUR, 499_999, 500_001);
    assert_eq!(
        out.iter().map(|r| r.kind).collect::<Vec<_>>(),
        [ExecKind::Liquidation {
            px: Px(572_361),
            qty: Qty(BTC),
            fee: 2_361_000,
        }]
    );
}

/// Selling half at 61,000 releases half the margin (1,500) and pays the 500 of profit into
/// the wallet: 7,000 + 1,500 + 500. Long 0.5 at 60,000 with 1,500 is in tier 1 (0.40%,
/// cum 0): (1,500 - 30,000) / (0.5 * 0.004 - 0.5) = 57,228.91 -> 57,228.9.
#[test]
fn reducing_releases_margin_and_moves_the_liquidation_price() {
    let mut v = venue(every_8h(0));
    long_one_btc(&mut v, HOUR);
    book(&mut v, HOUR + 1, 610_000, 610_002);
    send(&mut v, 2, Side::Sell, 610_000, BTC / 2, TimeInForce::Ioc);
    assert_eq!(
        v.margin(InstrumentId(0)),
        Some(SimMargin {
            wallet_balance: 9_000 * USDT,
            isolated_margin: 1_500 * USDT,
            cost: 30_000 * USDT,
            liquidation_price: Some(Px(572_289)),
        })
    );
    // Closing the rest gives the whole margin back.
    send(&mut v, 3, Side::Sell, 610_000, BTC / 2, TimeInForce::Ioc);
    let m = v.margin(InstrumentId(0)).unwrap();
    assert_eq!(
        (m.wallet_balance, m.isolated_margin, m.liquidation_price),
        (11_000 * USDT, 0, None)
    );
}

/// 10,000 USDT at 20x: 3 BTC at 60,000 needs 9,000 of margin, 4 BTC 12,000 (refused); at
/// 125x, 1 BTC at 60,000 is in the 100x tier (refused).
#[test]
fn the_venue_refuses_what_the_margin_cannot_carry() {
    let mut v = venue(every_8h(0));
    book(&mut v, HOUR, 599_998, 600_000);
    let refused = [ExecKind::Rejected(VenueReject::Refused)];
    assert_eq!(
        send(&mut v, 1, Side::Buy, 600_000, 4 * BTC, TimeInForce::Ioc),
        refused
    );
    assert_eq!(
        send(&mut v, 2, Side::Buy, 600_000, 3 * BTC, TimeInForce::Ioc)[0],
        ExecKind::Ack
    );
    assert_eq!(wallet(&v), 1_000 * USDT);
    let mut hi = SimVenue::new(1, Fees::default())
        .with_derivatives(
            InstrumentId(0),
            DerivativesSim {
                leverage: 125,
                tiers: btcusdt(USDT),
                funding: every_8h(0),
                wallet_balance: 10_000 * USDT,
            },
        )
        .unwrap();
    book(&mut hi, HOUR, 599_998, 600_000);
    assert_eq!(
        send(&mut hi, 1, Side::Buy, 600_000, BTC, TimeInForce::Ioc),
        refused
    );
    assert!(SimVenue::new(1, Fees::default())
        .with_derivatives(
            InstrumentId(1),
            DerivativesSim {
                leverage: 20,
                tiers: btcusdt(USDT),
                funding: every_8h(0),
                wallet_balance: 0,
            },
        )
        .is_err());
}
