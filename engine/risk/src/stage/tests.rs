use super::*;
use crate::account::ACCOUNT_SCALE;
use crate::limits::InstrumentLimits;
use crate::limits::PortfolioLimits;
use pulse_core::event::Level;
use pulse_core::event::{BookState, BookTop, EventMeta};
use pulse_core::instrument::Venue;
use pulse_core::intent::Origin;
use pulse_core::num::{Px, Qty, Side};
use pulse_core::order::{Liquidity, TimeInForce};

const BTC: InstrumentId = InstrumentId(0);

struct Rig {
    risk: RiskStage,
    kill: KillSwitch,
    market: rtrb::Producer<MarketEvent>,
    intents: rtrb::Producer<Intent>,
    reports: rtrb::Producer<ExecReport>,
    orders: rtrb::Consumer<Request>,
    feedback: rtrb::Consumer<Feedback>,
}

fn rig(max_auto_fills: u64) -> Rig {
    let mut reg = InstrumentRegistry::new();
    reg.add(Venue::Binance, "BTCUSDT", 2, 8, Px(1), Qty(1_000))
        .unwrap();
    let limits = InstrumentLimits {
        max_order_qty: Qty(1_000_000),
        max_order_notional: 10_000 * 10i128.pow(10),
        max_position: Qty(10_000_000),
        price_collar_bps: 100,
        max_ref_age: Nanos::from_millis(60_000),
    };
    let mut portfolio = PortfolioLimits::with_capital(100_000 * 10i128.pow(ACCOUNT_SCALE));
    portfolio.max_auto_fills = max_auto_fills;
    let kill = KillSwitch::new(false);
    let (market, market_rx) = rtrb::RingBuffer::new(64);
    let (intents, intents_rx) = rtrb::RingBuffer::new(64);
    let (reports, reports_rx) = rtrb::RingBuffer::new(64);
    let (orders_tx, orders) = rtrb::RingBuffer::new(64);
    let (feedback_tx, feedback) = rtrb::RingBuffer::new(64);
    let risk = RiskStage::new(
        RiskChecks::new(reg.clone(), vec![limits], portfolio),
        kill.clone(),
        &reg,
        RiskRings {
            market: market_rx,
            intents: intents_rx,
            reports: reports_rx,
            orders_out: orders_tx,
            feedback: feedback_tx,
        },
        LatencyProbe::detached(quanta::Clock::new()),
        7,
    );
    let mut rig = Rig {
        risk,
        kill,
        market,
        intents,
        reports,
        orders,
        feedback,
    };
    let meta = EventMeta {
        instrument: BTC,
        recv_ts: Nanos(1_000),
        ..EventMeta::default()
    };
    let level = |px| Level {
        px: Px(px),
        qty: Qty(1),
    };
    let top = BookTop::with_touch(meta, BookState::Live, level(6_000_000), level(6_000_002));
    rig.market.push(MarketEvent::Book(top)).unwrap();
    rig
}

fn intent(side: Side, px: i64, ts: u64) -> Intent {
    Intent::New(OrderIntent {
        meta: EventMeta {
            instrument: BTC,
            recv_ts: Nanos(ts),
            ..EventMeta::default()
        },
        instrument: BTC,
        side,
        px: Px(px),
        qty: Qty(10_000),
        tif: TimeInForce::Gtc,
        tag: ts as u32,
        confidence_bps: 10_000,
        vol_bps: 0,
        origin: Origin::Rule,
    })
}

fn report(id: ClientOrderId, kind: ExecKind, leaves: i64) -> ExecReport {
    ExecReport {
        meta: EventMeta::default(),
        client_id: id,
        instrument: BTC,
        side: Side::Buy,
        kind,
        leaves: Qty(leaves),
        ts: Nanos(0),
    }
}

fn drain<T>(c: &mut rtrb::Consumer<T>) -> Vec<T> {
    std::iter::from_fn(|| c.pop().ok()).collect()
}

#[test]
fn the_kill_switch_refuses_and_cancels_everything_within_one_poll() {
    let mut r = rig(10_000);
    for (n, px) in [5_990_000, 5_990_100, 5_990_200].into_iter().enumerate() {
        r.intents
            .push(intent(Side::Buy, px, 2_000 + n as u64))
            .unwrap();
    }
    r.risk.do_work(Nanos(0));
    let sent: Vec<ClientOrderId> = drain(&mut r.orders)
        .into_iter()
        .map(|req| match req {
            Request::New(o) => o.client_id,
            Request::Cancel(_) | Request::Query(_) => panic!("no cancel yet"),
        })
        .collect();
    // Client ids: epoch 7 in the high bits, then 1, 2, 3.
    assert_eq!(sent[0], ClientOrderId((7 << CLIENT_ID_BITS) | 1));
    assert_eq!(sent.len(), 3);
    for id in &sent {
        r.reports.push(report(*id, ExecKind::Ack, 10_000)).unwrap();
    }
    r.risk.do_work(Nanos(0));
    drain(&mut r.feedback);
    assert_eq!(r.risk.orders().open(), 3);

    // Engaged between two polls; an intent is waiting.
    r.kill.engage(crate::halt::HaltReason::Operator);
    r.intents.push(intent(Side::Buy, 5_990_300, 3_000)).unwrap();
    r.risk.do_work(Nanos(0));
    let out = drain(&mut r.orders);
    assert_eq!(out.len(), 3, "{out:?}");
    let cancelled: Vec<ClientOrderId> = out
        .iter()
        .map(|req| match req {
            Request::Cancel(c) => c.client_id,
            other => panic!("an order went out after the kill: {other:?}"),
        })
        .collect();
    assert_eq!(cancelled, sent);
    assert!(matches!(
        drain(&mut r.feedback)[..],
        [Feedback::Rejected {
            reason: RejectReason::KillSwitch,
            ..
        }]
    ));
    assert_eq!(r.risk.counters.kill_cancels, 3);
    // Nothing is cancelled twice on the next poll.
    r.risk.do_work(Nanos(0));
    assert!(drain(&mut r.orders).is_empty());
    for id in &sent {
        r.reports.push(report(*id, ExecKind::Cancelled, 0)).unwrap();
    }
    r.risk.do_work(Nanos(0));
    assert_eq!(r.risk.orders().open(), 0);
    assert_eq!(r.risk.orders().counters.cancelled, 3);

    // Only an explicit re-arm resumes.
    r.kill.rearm(crate::kill::Rearm {
        uid: 0,
        at_unix_ns: 0,
    });
    r.intents.push(intent(Side::Buy, 5_990_400, 4_000)).unwrap();
    r.risk.do_work(Nanos(0));
    assert!(matches!(drain(&mut r.orders)[..], [Request::New(_)]));
}

#[test]
fn duplicate_fills_move_nothing_and_the_fill_pause_lasts_until_a_rearm() {
    let mut r = rig(2);
    r.intents.push(intent(Side::Buy, 6_000_002, 2_000)).unwrap();
    r.risk.do_work(Nanos(0));
    let Some(Request::New(order)) = drain(&mut r.orders).pop() else {
        panic!("no order");
    };
    let fill = |trade_id: u64, qty, leaves| {
        report(
            order.client_id,
            ExecKind::Fill {
                px: Px(6_000_002),
                qty: Qty(qty),
                fee: 0,
                liquidity: Liquidity::Taker,
                trade_id: trade_id.into(),
            },
            leaves,
        )
    };
    r.reports
        .push(report(order.client_id, ExecKind::Ack, 10_000))
        .unwrap();
    r.reports.push(fill(41, 4_000, 6_000)).unwrap();
    r.reports.push(fill(41, 4_000, 6_000)).unwrap();
    r.reports.push(fill(42, 6_000, 0)).unwrap();
    r.risk.do_work(Nanos(0));
    let position = r.risk.account().instrument(0).unwrap().position;
    assert_eq!((position.qty, position.fills), (Qty(10_000), 2));
    assert_eq!(r.risk.orders().counters.duplicate_fills, 1);
    let reports = drain(&mut r.feedback)
        .into_iter()
        .filter(|f| matches!(f, Feedback::Report(_)))
        .count();
    assert_eq!(reports, 3, "the duplicate does not reach the strategy");
    // Two fills: paused.
    r.intents
        .push(intent(Side::Sell, 6_000_000, 3_000))
        .unwrap();
    r.risk.do_work(Nanos(0));
    assert!(matches!(
        drain(&mut r.feedback)[..],
        [Feedback::Rejected {
            reason: RejectReason::FillsPaused,
            ..
        }]
    ));
    r.kill.rearm(crate::kill::Rearm {
        uid: 0,
        at_unix_ns: 0,
    });
    r.intents
        .push(intent(Side::Sell, 6_000_000, 3_001))
        .unwrap();
    r.risk.do_work(Nanos(0));
    assert!(matches!(
        drain(&mut r.feedback)[..],
        [Feedback::Accepted { .. }]
    ));
}

/// A derivatives venue's funding and liquidation answer no order: they reach the account (and
/// the strategy) straight away. Long 0.0001 BTC at 60,000.02 (cost 60,000,020,000 at the
/// notional scale); funding of 123 paid; liquidated at 59,000 with 77 kept by the venue:
/// realized 59,000,000,000 - 60,000,020,000 - 123 = -1,000,020,123, fees 77.
#[test]
fn funding_and_liquidation_go_straight_to_the_account() {
    let mut r = rig(100);
    r.intents.push(intent(Side::Buy, 6_000_002, 2_000)).unwrap();
    r.risk.do_work(Nanos(0));
    let Some(Request::New(order)) = drain(&mut r.orders).pop() else {
        panic!("no order");
    };
    r.reports
        .push(report(order.client_id, ExecKind::Ack, 10_000))
        .unwrap();
    r.reports
        .push(report(
            order.client_id,
            ExecKind::Fill {
                px: Px(6_000_002),
                qty: Qty(10_000),
                fee: 0,
                liquidity: Liquidity::Taker,
                trade_id: 1.into(),
            },
            0,
        ))
        .unwrap();
    r.reports
        .push(report(
            ClientOrderId(0),
            ExecKind::Funding { amount: 123 },
            0,
        ))
        .unwrap();
    let liquidation = ExecKind::Liquidation {
        px: Px(5_900_000),
        qty: Qty(10_000),
        fee: 77,
    };
    r.reports
        .push(ExecReport {
            side: Side::Sell,
            ..report(ClientOrderId(0), liquidation, 0)
        })
        .unwrap();
    r.risk.do_work(Nanos(0));
    let p = r.risk.account().instrument(0).unwrap().position;
    assert_eq!(
        (p.qty, p.realized, p.funding, p.fees),
        (Qty(0), -1_000_020_123, 123, 77)
    );
    assert_eq!(r.risk.orders().counters.unknown_order_reports, 0);
    let reports = drain(&mut r.feedback)
        .into_iter()
        .filter(|f| matches!(f, Feedback::Report(_)))
        .count();
    assert_eq!(reports, 4);
}
