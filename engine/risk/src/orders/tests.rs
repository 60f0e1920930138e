use super::*;
use pulse_core::event::EventMeta;
use pulse_core::num::{Nanos, Px};
use pulse_core::order::{Liquidity, VenueReject};

fn report(id: u64, kind: ExecKind) -> ExecReport {
    ExecReport {
        meta: EventMeta::default(),
        client_id: ClientOrderId(id),
        instrument: InstrumentId(0),
        side: Side::Buy,
        kind,
        leaves: Qty(0),
        ts: Nanos(0),
    }
}

/// A fill with a new venue trade id each time.
fn fill(qty: i64) -> ExecKind {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    fill_id(qty, NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
}

fn fill_id(qty: i64, trade_id: u64) -> ExecKind {
    ExecKind::Fill {
        px: Px(10),
        qty: Qty(qty),
        fee: 0,
        liquidity: Liquidity::Taker,
        trade_id: trade_id.into(),
    }
}

fn order(id: u64, qty: i64) -> WorkingOrder {
    WorkingOrder {
        client_id: ClientOrderId(id),
        instrument: InstrumentId(0),
        side: Side::Buy,
        px: Px(7),
        qty: Qty(qty),
        leaves: Qty(qty),
        state: OrderState::Sent,
        cancel_pending: false,
        queried: false,
    }
}

fn sums(t: &OrderTable) -> (i64, i64, i128, usize) {
    let w = t.working(InstrumentId(0));
    (w.buy.0, w.sell.0, w.notional, w.orders)
}

#[test]
fn lifecycle_and_illegal_transitions() {
    let mut t = OrderTable::with_capacity(2, 1);
    assert!(t.insert(order(1, 5)));
    assert!(t.insert(order(2, 5)));
    assert!(!t.insert(order(3, 5)), "table is full");
    assert_eq!(sums(&t), (10, 0, 70, 2));
    assert_eq!(
        t.on_report(&report(1, fill(1))),
        Transition::Illegal,
        "fill before ack"
    );
    assert_eq!(
        t.on_report(&report(1, ExecKind::Ack)),
        Transition::Applied(OrderState::Acked)
    );
    assert_eq!(
        t.on_report(&report(1, fill(2))),
        Transition::Applied(OrderState::PartiallyFilled)
    );
    assert_eq!(
        t.on_report(&report(1, fill(4))),
        Transition::Illegal,
        "overfill"
    );
    assert_eq!(sums(&t), (8, 0, 56, 2));
    assert_eq!(
        t.on_report(&report(1, fill(3))),
        Transition::Applied(OrderState::Filled)
    );
    assert_eq!(
        t.on_report(&report(1, ExecKind::Expired)),
        Transition::UnknownOrder
    );
    assert_eq!(
        t.on_report(&report(2, ExecKind::Rejected(VenueReject::NoMarket))),
        Transition::Applied(OrderState::Rejected)
    );
    assert_eq!(t.open(), 0);
    assert_eq!(sums(&t), (0, 0, 0, 0));
    assert_eq!(t.counters.illegal_transitions, 2);
    assert_eq!(t.counters.unknown_order_reports, 1);
}

#[test]
fn an_order_in_doubt_is_queried_once_and_settled_by_the_answer() {
    let mut t = OrderTable::with_capacity(4, 1);
    for id in 1..=3 {
        t.insert(order(id, 5));
        assert_eq!(
            t.on_report(&report(id, ExecKind::OutcomeUnknown)),
            Transition::Applied(OrderState::Unknown)
        );
    }
    assert_eq!(
        sums(&t),
        (15, 0, 105, 3),
        "orders in doubt still count as working"
    );
    assert_eq!(t.unqueried().map(|o| o.client_id), Some(ClientOrderId(1)));
    t.query_sent(ClientOrderId(1));
    assert_eq!(t.unqueried().map(|o| o.client_id), Some(ClientOrderId(2)));
    // 1: working, with a fill of its own on the way.
    assert_eq!(
        t.on_report(&report(1, fill(2))),
        Transition::Applied(OrderState::PartiallyFilled)
    );
    assert_eq!(
        t.on_report(&report(1, ExecKind::Status(OrderStatus::Working))),
        Transition::Applied(OrderState::PartiallyFilled)
    );
    // 2: working, untouched; 3: never arrived.
    assert_eq!(
        t.on_report(&report(2, ExecKind::Status(OrderStatus::Working))),
        Transition::Applied(OrderState::Acked)
    );
    assert_eq!(
        t.on_report(&report(3, ExecKind::Status(OrderStatus::NotFound))),
        Transition::Applied(OrderState::Rejected)
    );
    // A second OutcomeUnknown is not a transition; a late status is counted apart.
    assert_eq!(
        t.on_report(&report(2, ExecKind::OutcomeUnknown)),
        Transition::Illegal
    );
    assert_eq!(
        t.on_report(&report(3, ExecKind::Status(OrderStatus::Done))),
        Transition::UnknownOrder
    );
    let c = t.counters;
    assert_eq!(
        (
            c.outcome_unknown,
            c.not_found,
            c.late_status,
            c.unknown_order_reports
        ),
        (3, 1, 1, 0)
    );
    assert_eq!(t.open(), 2);
}

#[test]
fn a_fill_seen_before_is_refused_even_on_another_order() {
    let mut t = OrderTable::with_capacity(4, 1);
    t.insert(order(1, 5));
    t.insert(order(2, 5));
    t.on_report(&report(1, ExecKind::Ack));
    t.on_report(&report(2, ExecKind::Ack));
    assert_eq!(
        t.on_report(&report(1, fill_id(2, 900))),
        Transition::Applied(OrderState::PartiallyFilled)
    );
    assert_eq!(
        t.on_report(&report(1, fill_id(2, 900))),
        Transition::DuplicateFill
    );
    assert_eq!(
        t.on_report(&report(2, fill_id(1, 900))),
        Transition::DuplicateFill
    );
    assert_eq!(t.get(ClientOrderId(1)).unwrap().leaves, Qty(3));
    assert_eq!(t.counters.duplicate_fills, 2);
    assert_eq!(sums(&t), (8, 0, 56, 2));
    assert!(t.has_working(InstrumentId(0), Side::Buy, Px(7), Qty(5)));
    t.cancel_sent(ClientOrderId(2));
    t.cancel_sent(ClientOrderId(1));
    assert!(!t.has_working(InstrumentId(0), Side::Buy, Px(7), Qty(5)));
    assert_eq!(t.uncancelled().count(), 0);
}

#[test]
fn cancel_needs_a_sent_cancel_and_a_refused_cancel_leaves_the_order_alone() {
    let mut t = OrderTable::with_capacity(4, 1);
    t.insert(order(1, 5));
    t.on_report(&report(1, ExecKind::Ack));
    assert_eq!(
        t.on_report(&report(1, ExecKind::Cancelled)),
        Transition::Illegal,
        "a cancel nobody asked for"
    );
    assert!(t.cancel_sent(ClientOrderId(1)));
    assert!(!t.cancel_sent(ClientOrderId(9)));
    assert!(t.get(ClientOrderId(1)).unwrap().cancel_pending);
    // Filled before the cancel arrived: the venue refuses the cancel.
    assert_eq!(
        t.on_report(&report(1, fill(2))),
        Transition::Applied(OrderState::PartiallyFilled)
    );
    assert_eq!(
        t.on_report(&report(1, ExecKind::CancelRejected)),
        Transition::Applied(OrderState::PartiallyFilled)
    );
    assert!(!t.get(ClientOrderId(1)).unwrap().cancel_pending);
    assert!(t.cancel_sent(ClientOrderId(1)));
    assert_eq!(
        t.on_report(&report(1, ExecKind::Cancelled)),
        Transition::Applied(OrderState::Cancelled)
    );
    assert_eq!(t.open(), 0);
    assert_eq!(
        (
            t.counters.cancelled,
            t.counters.cancel_rejected,
            t.counters.illegal_transitions
        ),
        (1, 1, 1)
    );
    assert_eq!(
        t.on_report(&report(1, ExecKind::CancelRejected)),
        Transition::UnknownOrder
    );
}
