//! Working orders: a fixed table (no allocation after start) keyed by client order id, with the
//! lifecycle New → Sent → Acked → PartiallyFilled → Filled | Cancelled | Rejected | Expired.
//! A report that does not fit the order's state is an illegal transition: refused and counted.

use pulse_feeds::num::{InstrumentId, Qty, Side};
use pulse_gateways::order::{ClientOrderId, ExecKind, ExecReport};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderState {
    Sent,
    Acked,
    PartiallyFilled,
    Filled,
    Cancelled,
    Rejected,
    Expired,
}

impl OrderState {
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            OrderState::Filled | OrderState::Cancelled | OrderState::Rejected | OrderState::Expired
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WorkingOrder {
    pub client_id: ClientOrderId,
    pub instrument: InstrumentId,
    pub side: Side,
    pub qty: Qty,
    pub leaves: Qty,
    pub state: OrderState,
    /// A cancel was sent and not yet answered. The order's quantity still counts as working.
    pub cancel_pending: bool,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OrderCounters {
    pub sent: u64,
    pub acked: u64,
    pub filled: u64,
    pub partially_filled: u64,
    pub expired: u64,
    pub cancelled: u64,
    /// Cancels the venue refused (the order was no longer working there).
    pub cancel_rejected: u64,
    pub rejected_by_venue: u64,
    pub illegal_transitions: u64,
    pub unknown_order_reports: u64,
}

pub struct OrderTable {
    slots: Vec<Option<WorkingOrder>>,
    pub counters: OrderCounters,
}

/// What a report did to its order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transition {
    Applied(OrderState),
    Illegal,
    UnknownOrder,
}

impl OrderTable {
    pub fn with_capacity(max_open: usize) -> OrderTable {
        OrderTable {
            slots: vec![None; max_open.max(1)],
            counters: OrderCounters::default(),
        }
    }

    /// Records a new order as sent; `false` if the table is full.
    pub fn insert(&mut self, order: WorkingOrder) -> bool {
        match self.slots.iter_mut().find(|s| s.is_none()) {
            Some(slot) => {
                *slot = Some(order);
                self.counters.sent += 1;
                true
            }
            None => false,
        }
    }

    /// Working quantity per side for one instrument.
    pub fn working(&self, instrument: InstrumentId) -> (Qty, Qty) {
        self.slots
            .iter()
            .flatten()
            .filter(|o| o.instrument == instrument)
            .fold((Qty(0), Qty(0)), |(b, s), o| match o.side {
                Side::Buy => (Qty(b.0 + o.leaves.0), s),
                Side::Sell => (b, Qty(s.0 + o.leaves.0)),
            })
    }

    /// The working order with this client id.
    pub fn get(&self, client_id: ClientOrderId) -> Option<&WorkingOrder> {
        self.slots
            .iter()
            .flatten()
            .find(|o| o.client_id == client_id)
    }

    /// Marks a cancel as sent; `false` when no such order is working.
    pub fn cancel_sent(&mut self, client_id: ClientOrderId) -> bool {
        match self
            .slots
            .iter_mut()
            .flatten()
            .find(|o| o.client_id == client_id)
        {
            Some(order) => {
                order.cancel_pending = true;
                true
            }
            None => false,
        }
    }

    pub fn open(&self) -> usize {
        self.slots.iter().flatten().count()
    }

    /// Applies a venue report; terminal orders leave the table.
    pub fn on_report(&mut self, report: &ExecReport) -> Transition {
        let Some(slot) = self
            .slots
            .iter_mut()
            .find(|s| s.is_some_and(|o| o.client_id == report.client_id))
        else {
            self.counters.unknown_order_reports += 1;
            return Transition::UnknownOrder;
        };
        let Some(order) = slot.as_mut() else {
            return Transition::UnknownOrder;
        };
        if report.kind == ExecKind::CancelRejected {
            // The venue no longer works the order: its own terminal report is on its way or
            // already applied. The order's state is the venue's to tell.
            order.cancel_pending = false;
            self.counters.cancel_rejected += 1;
            return Transition::Applied(order.state);
        }
        let next = match (order.state, report.kind) {
            (OrderState::Sent, ExecKind::Ack) => OrderState::Acked,
            (OrderState::Sent, ExecKind::Rejected(_)) => OrderState::Rejected,
            (OrderState::Acked | OrderState::PartiallyFilled, ExecKind::Fill { qty, .. })
                if qty.0 > 0 && qty.0 <= order.leaves.0 =>
            {
                if qty.0 == order.leaves.0 {
                    OrderState::Filled
                } else {
                    OrderState::PartiallyFilled
                }
            }
            (OrderState::Acked | OrderState::PartiallyFilled, ExecKind::Expired) => {
                OrderState::Expired
            }
            (OrderState::Acked | OrderState::PartiallyFilled, ExecKind::Cancelled)
                if order.cancel_pending =>
            {
                OrderState::Cancelled
            }
            _ => {
                self.counters.illegal_transitions += 1;
                return Transition::Illegal;
            }
        };
        if let ExecKind::Fill { qty, .. } = report.kind {
            order.leaves.0 -= qty.0;
        }
        order.state = next;
        match next {
            OrderState::Acked => self.counters.acked += 1,
            OrderState::PartiallyFilled => self.counters.partially_filled += 1,
            OrderState::Filled => self.counters.filled += 1,
            OrderState::Expired => self.counters.expired += 1,
            OrderState::Cancelled => self.counters.cancelled += 1,
            OrderState::Rejected => self.counters.rejected_by_venue += 1,
            OrderState::Sent => {}
        }
        if next.is_terminal() {
            *slot = None;
        }
        Transition::Applied(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pulse_feeds::event::EventMeta;
    use pulse_feeds::num::{Nanos, Px};
    use pulse_gateways::order::{Liquidity, VenueReject};

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

    fn fill(qty: i64) -> ExecKind {
        ExecKind::Fill {
            px: Px(10),
            qty: Qty(qty),
            fee: 0,
            liquidity: Liquidity::Taker,
            trade_id: 1,
        }
    }

    fn order(id: u64, qty: i64) -> WorkingOrder {
        WorkingOrder {
            client_id: ClientOrderId(id),
            instrument: InstrumentId(0),
            side: Side::Buy,
            qty: Qty(qty),
            leaves: Qty(qty),
            state: OrderState::Sent,
            cancel_pending: false,
        }
    }

    #[test]
    fn lifecycle_and_illegal_transitions() {
        let mut t = OrderTable::with_capacity(2);
        assert!(t.insert(order(1, 5)));
        assert!(t.insert(order(2, 5)));
        assert!(!t.insert(order(3, 5)), "table is full");
        assert_eq!(t.working(InstrumentId(0)), (Qty(10), Qty(0)));
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
        assert_eq!(t.working(InstrumentId(0)), (Qty(8), Qty(0)));
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
        assert_eq!(t.counters.illegal_transitions, 2);
        assert_eq!(t.counters.unknown_order_reports, 1);
    }

    #[test]
    fn cancel_needs_a_sent_cancel_and_a_refused_cancel_leaves_the_order_alone() {
        let mut t = OrderTable::with_capacity(4);
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
}
