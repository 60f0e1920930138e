//! The tracker without a venue: slots, doubt and the cumulative-fill guard.

use pulse_feeds::event::EventMeta;
use pulse_feeds::num::{InstrumentId, Nanos, Px, Qty, Side};

use super::{Inflight, InflightRequests, OrderState, OrderTracker, Reports};
use crate::order::{ClientOrderId, ExecKind, ExecReport, Order, TimeInForce};

fn order(id: u64) -> Order {
    Order {
        meta: EventMeta::default(),
        client_id: ClientOrderId(id),
        instrument: InstrumentId(0),
        side: Side::Buy,
        px: Px(100),
        qty: Qty(10),
        tif: TimeInForce::Gtc,
    }
}

fn tracker() -> (OrderTracker, rtrb::Consumer<ExecReport>) {
    let (tx, rx) = rtrb::RingBuffer::new(16);
    (OrderTracker::new(Reports::new(tx, 1)), rx)
}

#[test]
fn a_fill_is_reported_once_whichever_way_it_comes() {
    let (mut t, mut reports) = tracker();
    t.sent(&order(7));
    let slot = t.find(7).unwrap();
    // A status answer says 4 filled (for 400 quote): reported as one reconciled fill.
    assert!(t.fill_up_to(slot, 4, 400, Nanos(1)));
    let r = reports.pop().unwrap();
    assert!(matches!(
        r.kind,
        ExecKind::Fill {
            qty: Qty(4),
            px: Px(100),
            ..
        }
    ));
    // The stream then brings a trade of 6 that takes the total to 6: only 2 are new.
    let fill = t.trade(slot, 6, 100, 6).unwrap();
    assert_eq!((fill.qty, fill.leaves), (2, 4));
    // The same trade again: nothing.
    assert_eq!(t.trade(slot, 6, 100, 6), None);
    assert!(!t.fill_up_to(slot, 6, 600, Nanos(2)));
    // The rest fills: the order is no longer tracked once settled.
    let fill = t.trade(slot, 4, 100, 10).unwrap();
    assert_eq!(fill.leaves, 0);
    t.settle(slot, fill.leaves);
    assert_eq!(t.len(), 0);
    assert_eq!(t.reports.positions(), &[4]);
}

#[test]
fn only_an_order_still_sent_falls_in_doubt() {
    let (mut t, mut reports) = tracker();
    t.sent(&order(1));
    t.sent(&order(2));
    let (a, b) = (t.find(1).unwrap(), t.find(2).unwrap());
    t.acked(b, Nanos(1));
    assert_eq!(reports.pop().unwrap().kind, ExecKind::Ack);
    assert!(t.doubt(a, Nanos(2)));
    assert!(!t.doubt(a, Nanos(3)), "reported once");
    assert!(!t.doubt(b, Nanos(3)), "working: not in doubt");
    assert_eq!(reports.pop().unwrap().kind, ExecKind::OutcomeUnknown);
    assert!(reports.pop().is_err());
    assert_eq!(t.get(a).map(|o| o.state), Some(OrderState::InDoubt));
    // Client id 0 is never tracked.
    t.sent(&order(0));
    assert_eq!((t.len(), t.find(0)), (2, None));
}

#[test]
fn requests_time_out_oldest_first_and_the_fallback_survives_a_new_session() {
    let mut inflight = InflightRequests::<u8>::new();
    let at = |seq, sent, rest| Inflight {
        kind: b'p',
        client_id: seq,
        replaced: 0,
        rest,
        seq,
        sent: Nanos(sent),
    };
    inflight.push(at(1, 10, false));
    inflight.push(at(2, 50, true));
    inflight.push(at(3, 90, false));
    let timeout = Nanos(40);
    assert_eq!(
        inflight.take_expired(Nanos(60), timeout).map(|r| r.seq),
        Some(1)
    );
    assert!(inflight.take_expired(Nanos(60), timeout).is_none());
    inflight.keep_fallback();
    assert_eq!(inflight.take(|r| r.kind == b'p').map(|r| r.seq), Some(2));
    assert!(inflight.take(|_| true).is_none());
}
