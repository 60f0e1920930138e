use super::*;
use pulse_feeds::num::{InstrumentId, Nanos};

use crate::order::ClientOrderId;

fn venue_with_book() -> SimVenue {
    let mut v = SimVenue::new(
        1,
        Fees {
            maker_ppm: 200,
            taker_ppm: 1_000, // 10 bps
        },
    );
    let mut top = BookTop::empty(EventMeta::default(), BookState::Live);
    for (i, (px, qty)) in [(100, 5), (101, 3), (103, 10)].into_iter().enumerate() {
        top.asks[i] = Level {
            px: Px(px),
            qty: Qty(qty),
        };
    }
    for (i, (px, qty)) in [(99, 4), (98, 6)].into_iter().enumerate() {
        top.bids[i] = Level {
            px: Px(px),
            qty: Qty(qty),
        };
    }
    top.ask_levels = 3;
    top.bid_levels = 2;
    v.on_market(&MarketEvent::Book(top), |_| panic!("no resting orders"));
    v
}

fn order(id: u64, side: Side, px: i64, qty: i64) -> Order {
    Order {
        meta: EventMeta {
            recv_ts: Nanos(7),
            ..EventMeta::default()
        },
        client_id: ClientOrderId(id),
        instrument: InstrumentId(0),
        side,
        px: Px(px),
        qty: Qty(qty),
        tif: TimeInForce::Ioc,
    }
}

fn run(v: &mut SimVenue, o: Order) -> Vec<(ExecKind, i64)> {
    let mut out = Vec::new();
    v.execute(&Request::New(o), |r| out.push((r.kind, r.leaves.0)));
    out
}

fn fill(px: i64, qty: i64, fee: i128, trade_id: u64) -> ExecKind {
    ExecKind::Fill {
        px: Px(px),
        qty: Qty(qty),
        fee,
        liquidity: Liquidity::Taker,
        trade_id: trade_id.into(),
    }
}

#[test]
fn ioc_buy_walks_the_asks_up_to_its_limit_and_expires_the_rest() {
    let mut v = venue_with_book();
    // 10 at limit 101: 5 @ 100 and 3 @ 101; 103 is beyond the limit; 2 expire.
    // Fees: ceil(500 * 0.001) = 1, ceil(303 * 0.001) = 1.
    assert_eq!(
        run(&mut v, order(1, Side::Buy, 101, 10)),
        [
            (ExecKind::Ack, 10),
            (fill(100, 5, 1, 1), 5),
            (fill(101, 3, 1, 2), 2),
            (ExecKind::Expired, 0)
        ]
    );
    // The liquidity taken is gone until the next book update.
    assert_eq!(
        run(&mut v, order(2, Side::Buy, 103, 4)),
        [(ExecKind::Ack, 4), (fill(103, 4, 1, 3), 0)]
    );
    assert_eq!(
        v.counters,
        SimCounters {
            orders: 2,
            fills: 3,
            expired: 1,
            ..SimCounters::default()
        }
    );
}

#[test]
fn a_market_order_takes_every_visible_level_whatever_its_price_says() {
    let mut v = venue_with_book();
    // The asks are 5 @ 100, 3 @ 101, 10 @ 103: 20 at market takes all 18, 2 expire. Its
    // px (1, far below the book) is risk's business, not the venue's.
    let market = Order {
        tif: TimeInForce::Market,
        ..order(1, Side::Buy, 1, 20)
    };
    let out = run(&mut v, market);
    let filled: Vec<(i64, i64)> = out
        .iter()
        .filter_map(|(k, _)| match k {
            ExecKind::Fill { px, qty, .. } => Some((px.0, qty.0)),
            _ => None,
        })
        .collect();
    assert_eq!(filled, [(100, 5), (101, 3), (103, 10)]);
    assert_eq!(out.last(), Some(&(ExecKind::Expired, 0)));
    assert_eq!(v.account().positions[0], Qty(18));
    assert_eq!(v.resting(), 0, "a market order never rests");
}

#[test]
fn sell_hits_bids_and_a_non_crossing_order_only_expires() {
    let mut v = venue_with_book();
    assert_eq!(
        run(&mut v, order(1, Side::Sell, 98, 5)),
        [
            (ExecKind::Ack, 5),
            (fill(99, 4, 1, 1), 1),
            (fill(98, 1, 1, 2), 0)
        ]
    );
    assert_eq!(
        run(&mut v, order(2, Side::Sell, 120, 1)),
        [(ExecKind::Ack, 1), (ExecKind::Expired, 0)]
    );
}

#[test]
fn no_live_book_means_rejection() {
    let mut v = SimVenue::new(1, Fees::default());
    assert_eq!(
        run(&mut v, order(1, Side::Buy, 100, 1)),
        [(ExecKind::Rejected(VenueReject::NoMarket), 0)]
    );
    let mut o = order(2, Side::Buy, 100, 1);
    o.instrument = InstrumentId(3);
    assert_eq!(
        run(&mut v, o),
        [(ExecKind::Rejected(VenueReject::UnknownInstrument), 0)]
    );
    v.on_market(
        &MarketEvent::Book(BookTop::empty(EventMeta::default(), BookState::Stale)),
        |_| panic!("no resting orders"),
    );
    assert_eq!(
        run(&mut v, order(3, Side::Buy, 100, 1)),
        [(ExecKind::Rejected(VenueReject::NoMarket), 0)]
    );
}

fn gtc(id: u64, side: Side, px: i64, qty: i64) -> Order {
    Order {
        tif: TimeInForce::Gtc,
        ..order(id, side, px, qty)
    }
}

fn book(bids: &[(i64, i64)], asks: &[(i64, i64)], ts: u64) -> MarketEvent {
    let meta = EventMeta {
        recv_ts: Nanos(ts),
        ..EventMeta::default()
    };
    let mut top = BookTop::empty(meta, BookState::Live);
    for (i, &(px, qty)) in bids.iter().enumerate() {
        top.bids[i] = Level {
            px: Px(px),
            qty: Qty(qty),
        };
    }
    for (i, &(px, qty)) in asks.iter().enumerate() {
        top.asks[i] = Level {
            px: Px(px),
            qty: Qty(qty),
        };
    }
    top.bid_levels = bids.len() as u8;
    top.ask_levels = asks.len() as u8;
    MarketEvent::Book(top)
}

fn trade(aggressor: Side, px: i64, qty: i64, ts: u64) -> MarketEvent {
    MarketEvent::Trade(TradeEvent {
        meta: EventMeta {
            recv_ts: Nanos(ts),
            ..EventMeta::default()
        },
        trade_id: ts,
        px: Px(px),
        qty: Qty(qty),
        aggressor,
    })
}

/// (client id, kind, leaves, report time) of every report a market event produces.
fn market(v: &mut SimVenue, e: MarketEvent) -> Vec<(u64, ExecKind, i64, u64)> {
    let mut out = Vec::new();
    v.on_market(&e, |r| {
        out.push((r.client_id.0, r.kind, r.leaves.0, r.ts.0))
    });
    out
}

fn maker(px: i64, qty: i64, fee: i128, trade_id: u64) -> ExecKind {
    ExecKind::Fill {
        px: Px(px),
        qty: Qty(qty),
        fee,
        liquidity: Liquidity::Maker,
        trade_id: trade_id.into(),
    }
}

#[test]
fn a_resting_order_fills_only_after_the_queue_ahead_of_it_trades() {
    let mut v = venue_with_book(); // bids 99 x 4, 98 x 6
    assert_eq!(run(&mut v, gtc(1, Side::Buy, 99, 3)), [(ExecKind::Ack, 3)]);
    assert_eq!(
        v.resting_order(ClientOrderId(1)),
        Some((Qty(3), Some(Qty(4))))
    );
    // A buyer lifting the ask does not trade with bids.
    assert_eq!(market(&mut v, trade(Side::Buy, 100, 50, 10)), []);
    // Sellers hit 99: the first 4 are ahead of us, then 1 of ours fills (partial).
    assert_eq!(market(&mut v, trade(Side::Sell, 99, 3, 11)), []);
    assert_eq!(
        v.resting_order(ClientOrderId(1)),
        Some((Qty(3), Some(Qty(1))))
    );
    // 200 * 99 * 3 ppm... maker fee 2 bps: ceil(99 * 0.0002) = 1.
    assert_eq!(
        market(&mut v, trade(Side::Sell, 99, 2, 12)),
        [(1, maker(99, 1, 1, 1), 2, 12)]
    );
    assert_eq!(
        market(&mut v, trade(Side::Sell, 99, 5, 13)),
        [(1, maker(99, 2, 1, 2), 0, 13)]
    );
    assert_eq!(v.resting(), 0, "a filled order leaves the venue");
    assert_eq!((v.counters.fills, v.counters.maker_fills), (2, 2));
}

#[test]
fn cancels_ahead_advance_the_queue_and_a_trade_through_fills_in_full() {
    let mut v = venue_with_book();
    run(&mut v, gtc(1, Side::Buy, 99, 3));
    // The level shrinks from 4 to 1: three were cancelled ahead of us.
    let shrunk = book(&[(99, 1 + 3), (98, 6)], &[(100, 5)], 20);
    assert_eq!(market(&mut v, shrunk), []);
    assert_eq!(v.resting_order(ClientOrderId(1)).unwrap().1, Some(Qty(4)));
    let shrunk = book(&[(99, 1), (98, 6)], &[(100, 5)], 21);
    assert_eq!(market(&mut v, shrunk), []);
    assert_eq!(v.resting_order(ClientOrderId(1)).unwrap().1, Some(Qty(1)));
    // Growth behind us changes nothing.
    let grown = book(&[(99, 9), (98, 6)], &[(100, 5)], 22);
    market(&mut v, grown);
    assert_eq!(v.resting_order(ClientOrderId(1)).unwrap().1, Some(Qty(1)));
    // A seller printing below our bid went through the whole level: all of ours fills.
    assert_eq!(
        market(&mut v, trade(Side::Sell, 98, 1, 23)),
        [(1, maker(99, 3, 1, 1), 0, 23)]
    );
}

#[test]
fn the_opposite_side_moving_onto_a_resting_order_trades_with_it_as_maker() {
    let mut v = venue_with_book();
    // Sell 10 resting at 102: above the 101 ask, behind nothing at 102 (no level there).
    assert_eq!(
        run(&mut v, gtc(1, Side::Sell, 102, 10)),
        [(ExecKind::Ack, 10)]
    );
    assert_eq!(v.resting_order(ClientOrderId(1)).unwrap().1, Some(Qty(0)));
    // The bids jump to 102 x 4 and 101 x 2: 4 trade with us at our price.
    let up = book(&[(102, 4), (101, 2)], &[(103, 1)], 30);
    assert_eq!(market(&mut v, up), [(1, maker(102, 4, 1, 1), 6, 30)]);
    // And the liquidity taken is gone from the venue's view: an IOC sell finds 101 x 2 only.
    assert_eq!(
        run(&mut v, order(2, Side::Sell, 101, 3)),
        [
            (ExecKind::Ack, 3),
            (fill(101, 2, 1, 2), 1),
            (ExecKind::Expired, 0)
        ]
    );
}

#[test]
fn gtc_takes_what_crosses_and_rests_the_rest_post_only_refuses_to_take() {
    let mut v = venue_with_book(); // asks 100 x 5, 101 x 3, 103 x 10
    assert_eq!(
        run(
            &mut v,
            Order {
                tif: TimeInForce::PostOnly,
                ..order(1, Side::Buy, 100, 1)
            }
        ),
        [(ExecKind::Rejected(VenueReject::WouldTake), 0)]
    );
    assert_eq!(
        run(
            &mut v,
            Order {
                tif: TimeInForce::PostOnly,
                ..order(2, Side::Buy, 99, 1)
            }
        ),
        [(ExecKind::Ack, 1)]
    );
    assert_eq!(
        run(&mut v, gtc(3, Side::Buy, 100, 7)),
        [(ExecKind::Ack, 7), (fill(100, 5, 1, 1), 2)]
    );
    assert_eq!(
        v.resting_order(ClientOrderId(3)),
        Some((Qty(2), Some(Qty(0))))
    );
    assert_eq!(v.resting(), 2);
    // The venue's side of the account: 5 bought, two orders working (1 and 2 left).
    let account = v.account();
    assert_eq!(account.positions, [Qty(5)]);
    let open: Vec<(u64, i64)> = account
        .open
        .iter()
        .map(|o| (o.order.client_id.0, o.leaves.0))
        .collect();
    assert_eq!(open, [(2, 1), (3, 2)]);
}

#[test]
fn cancel_removes_a_resting_order_and_a_cancel_too_late_is_refused() {
    let mut v = venue_with_book();
    run(&mut v, gtc(1, Side::Buy, 97, 3));
    // 97 lies inside the visible bids (99, 98 ... only two levels: the whole side shows).
    assert_eq!(v.resting_order(ClientOrderId(1)).unwrap().1, Some(Qty(0)));
    let cancel = |id| {
        Request::Cancel(CancelOrder {
            meta: EventMeta {
                recv_ts: Nanos(40),
                ..EventMeta::default()
            },
            client_id: ClientOrderId(id),
            instrument: InstrumentId(0),
            side: Side::Buy,
        })
    };
    let mut out = Vec::new();
    v.execute(&cancel(1), |r| out.push((r.kind, r.leaves.0, r.ts.0)));
    v.execute(&cancel(1), |r| out.push((r.kind, r.leaves.0, r.ts.0)));
    assert_eq!(
        out,
        [
            (ExecKind::Cancelled, 0, 40),
            (ExecKind::CancelRejected, 0, 40)
        ]
    );
    assert_eq!(v.resting(), 0);
    assert_eq!((v.counters.cancels, v.counters.cancel_rejects), (1, 1));
    assert_eq!(market(&mut v, trade(Side::Sell, 90, 100, 41)), []);
}

#[test]
fn a_price_beyond_the_visible_depth_has_no_fills_until_its_queue_is_known() {
    let mut v = venue_with_book();
    let deep: Vec<(i64, i64)> = (0..TOP_DEPTH as i64).map(|i| (99 - i, 1)).collect();
    market(&mut v, book(&deep, &[(100, 5)], 50));
    // 80 is below the tenth bid (90): its queue is unknown.
    run(&mut v, gtc(1, Side::Buy, 80, 2));
    assert_eq!(v.resting_order(ClientOrderId(1)).unwrap().1, None);
    assert_eq!(market(&mut v, trade(Side::Sell, 80, 5, 51)), []);
    // The level becomes visible with 3 ahead; then 4 trade there: 1 fills us.
    let near: Vec<(i64, i64)> = [(81, 1), (80, 3)].into_iter().collect();
    market(&mut v, book(&near, &[(100, 5)], 52));
    assert_eq!(v.resting_order(ClientOrderId(1)).unwrap().1, Some(Qty(3)));
    assert_eq!(
        market(&mut v, trade(Side::Sell, 80, 4, 53)),
        [(1, maker(80, 1, 1, 1), 1, 53)]
    );
}

#[test]
fn fill_or_kill_fills_all_within_its_limit_or_nothing() {
    let mut v = venue_with_book(); // asks 100 x 5, 101 x 3, 103 x 10
    let fok = |id, qty| Order {
        tif: TimeInForce::Fok,
        ..order(id, Side::Buy, 101, qty)
    };
    assert_eq!(
        run(&mut v, fok(1, 9)),
        [(ExecKind::Ack, 9), (ExecKind::Expired, 0)],
        "8 within the limit: none of it"
    );
    assert_eq!(v.counters.fills, 0);
    assert_eq!(
        run(&mut v, fok(2, 8)),
        [
            (ExecKind::Ack, 8),
            (fill(100, 5, 1, 1), 3),
            (fill(101, 3, 1, 2), 0)
        ]
    );
    assert_eq!(v.resting(), 0, "a fill-or-kill never rests");
    assert_eq!(v.account().positions, [Qty(8)]);
}

#[test]
fn a_lost_response_hides_the_ack_not_the_order_and_a_query_finds_it() {
    let mut v = venue_with_book().with_lost_responses(2);
    let query = |v: &mut SimVenue, id| {
        let mut out = Vec::new();
        v.execute(
            &Request::Query(CancelOrder {
                meta: EventMeta::default(),
                client_id: ClientOrderId(id),
                instrument: InstrumentId(0),
                side: Side::Buy,
            }),
            |r| out.push((r.kind, r.leaves.0)),
        );
        out
    };
    assert_eq!(run(&mut v, gtc(1, Side::Buy, 97, 3)), [(ExecKind::Ack, 3)]);
    // The second order's ack is lost; it rests all the same.
    assert_eq!(
        run(&mut v, gtc(2, Side::Buy, 96, 4)),
        [(ExecKind::OutcomeUnknown, 4)]
    );
    assert_eq!(v.resting(), 2);
    assert_eq!(
        query(&mut v, 2),
        [(ExecKind::Status(OrderStatus::Working), 4)]
    );
    // An IOC whose response is lost still trades; asked after, it is done.
    run(&mut v, order(3, Side::Buy, 100, 1));
    let lost = run(&mut v, order(4, Side::Buy, 100, 1));
    assert_eq!(lost[0], (ExecKind::OutcomeUnknown, 1));
    assert!(matches!(lost[1].0, ExecKind::Fill { .. }));
    assert_eq!(query(&mut v, 4), [(ExecKind::Status(OrderStatus::Done), 0)]);
    assert_eq!(
        query(&mut v, 99),
        [(ExecKind::Status(OrderStatus::NotFound), 0)]
    );
    assert_eq!((v.counters.dropped_responses, v.counters.queries), (2, 3));
}

#[test]
fn the_same_inputs_give_the_same_fills() {
    let script = |v: &mut SimVenue| {
        let mut out = Vec::new();
        for (i, e) in [
            Request::New(gtc(1, Side::Buy, 99, 3)),
            Request::New(gtc(2, Side::Sell, 101, 2)),
            Request::New(order(3, Side::Buy, 101, 4)),
        ]
        .iter()
        .enumerate()
        {
            v.execute(e, |r| out.push(r));
            for m in [
                trade(Side::Sell, 99, 2 + i as i64, 60 + i as u64),
                trade(Side::Buy, 101, 1, 70 + i as u64),
                book(&[(99, 1)], &[(101, 1)], 80 + i as u64),
            ] {
                v.on_market(&m, |r| out.push(r));
            }
        }
        out
    };
    let (a, b) = (
        script(&mut venue_with_book()),
        script(&mut venue_with_book()),
    );
    assert!(a.len() >= 6, "{a:?}");
    assert_eq!(a, b);
}
