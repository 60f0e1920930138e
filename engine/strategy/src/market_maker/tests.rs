use super::*;
use pulse_core::event::Level;
use pulse_core::order::{ExecReport, Liquidity, VenueReject};

const BTC: InstrumentId = InstrumentId(0);

fn cfg() -> MarketMakerConfig {
    MarketMakerConfig {
        instrument: BTC,
        tick: Px(1),
        lot: Qty(1),
        order_qty: Qty(10),
        max_inventory: Qty(20),
        cooldown: Nanos(0),
        half_spread_ticks: 1,
        skew_ticks: 4,
        refresh_ticks: 1,
    }
}

fn book(bid: (i64, i64), ask: (i64, i64), ts: u64, state: BookState) -> MarketEvent {
    let meta = EventMeta {
        instrument: BTC,
        recv_ts: Nanos(ts),
        ..EventMeta::default()
    };
    let level = |(px, qty)| Level {
        px: Px(px),
        qty: Qty(qty),
    };
    MarketEvent::Book(BookTop::with_touch(meta, state, level(bid), level(ask)))
}

fn live(bid: (i64, i64), ask: (i64, i64), ts: u64) -> MarketEvent {
    book(bid, ask, ts, BookState::Live)
}

fn step(mm: &mut MarketMaker, e: MarketEvent) -> Vec<Intent> {
    let mut out = Intents::default();
    mm.on_event(&e, &mut out);
    out.iter().collect()
}

/// Accepts every new quote under client id = tag + 100.
fn accept_all(mm: &mut MarketMaker, intents: &[Intent]) {
    for i in intents {
        if let Intent::New(n) = i {
            mm.on_feedback(&Feedback::Accepted {
                instrument: BTC,
                tag: n.tag,
                client_id: ClientOrderId(u64::from(n.tag) + 100),
            });
        }
    }
}

fn new_px(intents: &[Intent]) -> Vec<(Side, i64, i64)> {
    intents
        .iter()
        .filter_map(|i| match i {
            Intent::New(n) => {
                assert_eq!(n.tif, TimeInForce::PostOnly);
                Some((n.side, n.px.0, n.qty.0))
            }
            Intent::Cancel(_) => None,
        })
        .collect()
}

fn fill(client: u64, side: Side, qty: i64, leaves: i64) -> Feedback {
    Feedback::Report(ExecReport {
        meta: EventMeta::default(),
        client_id: ClientOrderId(client),
        instrument: BTC,
        side,
        kind: ExecKind::Fill {
            px: Px(0),
            qty: Qty(qty),
            fee: 0,
            liquidity: Liquidity::Maker,
            trade_id: 1.into(),
        },
        leaves: Qty(leaves),
        ts: Nanos(0),
    })
}

#[test]
fn quotes_both_sides_around_the_micro_price() {
    let mut mm = MarketMaker::new(cfg());
    // Spread 100..110, balanced: micro 105, quotes 104 / 106.
    assert_eq!(
        new_px(&step(&mut mm, live((100, 5), (110, 5), 1))),
        [(Side::Buy, 104, 10), (Side::Sell, 106, 10)]
    );
    // Heavy bid (15 vs 5): micro = (100*5 + 110*15)/20 = 107.5 -> 106 / 109.
    let mut mm = MarketMaker::new(cfg());
    assert_eq!(
        new_px(&step(&mut mm, live((100, 15), (110, 5), 1))),
        [(Side::Buy, 106, 10), (Side::Sell, 109, 10)]
    );
    // A one-tick spread, micro 100.01: one tick of half spread puts the bid a tick behind.
    let mut mm = MarketMaker::new(cfg());
    assert_eq!(
        new_px(&step(&mut mm, live((100, 1), (101, 99), 1))),
        [(Side::Buy, 99, 10), (Side::Sell, 102, 10)]
    );
    // With none, both join the touch; micro on a tick (101) keeps ask above bid.
    let zero = MarketMakerConfig {
        half_spread_ticks: 0,
        ..cfg()
    };
    let mut mm = MarketMaker::new(zero);
    assert_eq!(
        new_px(&step(&mut mm, live((100, 1), (101, 99), 1))),
        [(Side::Buy, 100, 10), (Side::Sell, 101, 10)]
    );
    let mut mm = MarketMaker::new(zero);
    assert_eq!(
        new_px(&step(&mut mm, live((100, 5), (102, 5), 1))),
        [(Side::Buy, 101, 10), (Side::Sell, 102, 10)]
    );
}

#[test]
fn inventory_skews_the_quotes_and_caps_the_side_that_adds_to_it() {
    let mut mm = MarketMaker::new(cfg());
    let first = step(&mut mm, live((100, 5), (110, 5), 1));
    accept_all(&mut mm, &first);
    // The bid (client 101) fills in full: long 10 of 20, reservation 105 - 4 * 10/20 = 103.
    mm.on_feedback(&fill(101, Side::Buy, 10, 0));
    assert_eq!(mm.position(), Qty(10));
    let next = step(&mut mm, live((100, 5), (110, 5), 2));
    // Bid re-quoted at 102 (10 of room left); the ask (106) moves to 104: cancel + replace.
    assert_eq!(new_px(&next), [(Side::Buy, 102, 10), (Side::Sell, 104, 10)]);
    assert_eq!(
        next.iter()
            .filter(|i| matches!(i, Intent::Cancel(c) if c.client_id == ClientOrderId(102)))
            .count(),
        1
    );
    assert_eq!(mm.counters.replaces, 1);
    accept_all(&mut mm, &next);
    // Long 20 = max (the new bid, client 103, filled): no bid at all; the ask moves to 102.
    mm.on_feedback(&fill(103, Side::Buy, 10, 0));
    let full = step(&mut mm, live((100, 5), (110, 5), 3));
    assert_eq!(new_px(&full), [(Side::Sell, 102, 10)]);
    assert!(mm.counters.inventory_capped >= 1);
}

#[test]
fn a_quote_is_left_alone_until_its_target_moves_enough() {
    let mut mm = MarketMaker::new(MarketMakerConfig {
        refresh_ticks: 3,
        ..cfg()
    });
    let first = step(&mut mm, live((100, 5), (110, 5), 1));
    accept_all(&mut mm, &first);
    // Targets move by 2 ticks: nothing.
    assert!(step(&mut mm, live((102, 5), (112, 5), 2)).is_empty());
    // By 3: both sides cancel and replace.
    let moved = step(&mut mm, live((103, 5), (113, 5), 3));
    assert_eq!(
        new_px(&moved),
        [(Side::Buy, 107, 10), (Side::Sell, 109, 10)]
    );
    assert_eq!(moved.len(), 4);
}

#[test]
fn a_stale_book_pulls_every_quote() {
    let mut mm = MarketMaker::new(cfg());
    let first = step(&mut mm, live((100, 5), (110, 5), 1));
    accept_all(&mut mm, &first);
    let pulled = step(&mut mm, book((100, 5), (110, 5), 2, BookState::Stale));
    assert_eq!(pulled.len(), 2);
    assert!(pulled.iter().all(|i| matches!(i, Intent::Cancel(_))));
    assert_eq!(mm.counters.pulled_stale, 2);
    // Until the cancels are answered, nothing new while stale, nothing twice.
    assert!(step(&mut mm, book((100, 5), (110, 5), 3, BookState::Stale)).is_empty());
    for client in [101, 102] {
        mm.on_feedback(&Feedback::Report(ExecReport {
            meta: EventMeta::default(),
            client_id: ClientOrderId(client),
            instrument: BTC,
            side: Side::Buy,
            kind: ExecKind::Cancelled,
            leaves: Qty(0),
            ts: Nanos(0),
        }));
    }
    assert_eq!(mm.working(), 0);
}

#[test]
fn a_refused_quote_waits_before_it_is_tried_again() {
    let mut mm = MarketMaker::new(cfg());
    let first = step(&mut mm, live((100, 5), (110, 5), 1_000));
    for i in &first {
        mm.on_feedback(&Feedback::Rejected {
            instrument: BTC,
            tag: i.tag(),
            reason: RejectReason::KillSwitch,
        });
    }
    assert_eq!((mm.working(), mm.counters.rejected), (0, 2));
    assert!(step(&mut mm, live((100, 5), (110, 5), 500_000_000)).is_empty());
    assert_eq!(
        step(&mut mm, live((100, 5), (110, 5), 1_000_001_000)).len(),
        2
    );
}

#[test]
fn a_venue_rejection_or_a_cancel_ends_the_quote() {
    let mut mm = MarketMaker::new(cfg());
    let first = step(&mut mm, live((100, 5), (110, 5), 1));
    accept_all(&mut mm, &first);
    mm.on_feedback(&Feedback::Report(ExecReport {
        meta: EventMeta::default(),
        client_id: ClientOrderId(101),
        instrument: BTC,
        side: Side::Buy,
        kind: ExecKind::Rejected(VenueReject::WouldTake),
        leaves: Qty(0),
        ts: Nanos(0),
    }));
    assert_eq!(mm.live_quote(Side::Buy), None);
    assert_eq!(mm.live_quote(Side::Sell), Some((Px(106), Qty(10))));
    // A partial fill keeps the quote with its leaves.
    mm.on_feedback(&fill(102, Side::Sell, 4, 6));
    assert_eq!(mm.live_quote(Side::Sell), Some((Px(106), Qty(6))));
    assert_eq!(mm.position(), Qty(-4));
}
