//! Working orders: a fixed table (no allocation after start) keyed by client order id, with the
//! lifecycle New → Sent → Acked → PartiallyFilled → Filled | Cancelled | Rejected | Expired,
//! and Sent → Unknown when the gateway could not learn the outcome: an order in doubt still
//! counts as working (it may be) until the venue's answer to a query, or its own reports,
//! settle it. It is never resent.
//! A report that does not fit the order's state is an illegal transition: refused and counted.
//! A fill whose venue trade id was already applied is a duplicate: refused and counted, so a
//! venue that sends a fill twice cannot move a position twice.
//!
//! Per instrument the table keeps the working quantity of each side and the working notional,
//! updated with every change, so that the checks read them in O(1).

use pulse_core::num::{InstrumentId, Px, Qty, Side};
use pulse_core::order::{ClientOrderId, ExecKind, ExecReport, OrderStatus, TradeId};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderState {
    Sent,
    /// The gateway lost the answer to the order: queried, never resent.
    Unknown,
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
    pub px: Px,
    pub qty: Qty,
    pub leaves: Qty,
    pub state: OrderState,
    /// A cancel was sent and not yet answered. The order's quantity still counts as working.
    pub cancel_pending: bool,
    /// Its outcome is unknown and a query has gone out.
    pub queried: bool,
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
    /// Fills whose (instrument, venue trade id) was already applied.
    pub duplicate_fills: u64,
    /// Orders whose outcome the gateway could not learn.
    pub outcome_unknown: u64,
    /// Of those, the ones the venue said it never had.
    pub not_found: u64,
    /// Query answers about orders already settled by their own reports.
    pub late_status: u64,
}

/// Working orders of one instrument, summed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Working {
    pub buy: Qty,
    pub sell: Qty,
    /// Sum of leaves times limit price, at the instrument's notional scale.
    pub notional: i128,
    /// The buys' part of `notional`: the quote they reserve.
    pub buy_notional: i128,
    pub orders: usize,
}

/// Venue trade ids remembered for de-duplication (the most recent fills, all instruments).
pub const TRADE_IDS: usize = 256;

pub struct OrderTable {
    slots: Vec<Option<WorkingOrder>>,
    /// Orders in `slots`, kept with every insert and removal: the open-orders check reads it.
    open: usize,
    working: Vec<Working>,
    /// Ring of the last [`TRADE_IDS`] fills' (instrument, trade id).
    trade_ids: Vec<(InstrumentId, TradeId)>,
    next_trade_slot: usize,
    pub counters: OrderCounters,
}

/// What a report did to its order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transition {
    Applied(OrderState),
    Illegal,
    UnknownOrder,
    /// A fill already applied (same instrument and venue trade id).
    DuplicateFill,
}

impl OrderTable {
    pub fn with_capacity(max_open: usize, instruments: usize) -> OrderTable {
        OrderTable {
            slots: vec![None; max_open.max(1)],
            open: 0,
            working: vec![Working::default(); instruments],
            trade_ids: vec![(InstrumentId(u16::MAX), TradeId::NONE); TRADE_IDS],
            next_trade_slot: 0,
            counters: OrderCounters::default(),
        }
    }

    /// Whether [`OrderTable::insert`] would find a free slot.
    pub fn has_room(&self) -> bool {
        self.open < self.slots.len()
    }

    /// Records a new order as sent; `false` if the table is full.
    pub fn insert(&mut self, order: WorkingOrder) -> bool {
        match self.slots.iter_mut().find(|s| s.is_none()) {
            Some(slot) => {
                *slot = Some(order);
                self.open += 1;
                self.counters.sent += 1;
                if let Some(w) = self.working.get_mut(order.instrument.0 as usize) {
                    add_working(w, &order, 1);
                }
                true
            }
            None => false,
        }
    }

    /// The working orders of one instrument, summed.
    pub fn working(&self, instrument: InstrumentId) -> Working {
        self.working
            .get(instrument.0 as usize)
            .copied()
            .unwrap_or_default()
    }

    /// Whether an order equal to this one (instrument, side, price, quantity) is working and
    /// not being cancelled.
    pub fn has_working(&self, instrument: InstrumentId, side: Side, px: Px, qty: Qty) -> bool {
        self.slots.iter().flatten().any(|o| {
            !o.cancel_pending
                && o.instrument == instrument
                && o.side == side
                && o.px == px
                && o.qty == qty
        })
    }

    /// The first order in doubt that no query has gone out for yet.
    pub fn unqueried(&self) -> Option<&WorkingOrder> {
        self.slots
            .iter()
            .flatten()
            .find(|o| o.state == OrderState::Unknown && !o.queried)
    }

    /// Marks a query as sent for an order in doubt.
    pub fn query_sent(&mut self, client_id: ClientOrderId) {
        if let Some(o) = self
            .slots
            .iter_mut()
            .flatten()
            .find(|o| o.client_id == client_id)
        {
            o.queried = true;
        }
    }

    /// Working orders with no cancel sent, in table order.
    pub fn uncancelled(&self) -> impl Iterator<Item = &WorkingOrder> {
        self.slots.iter().flatten().filter(|o| !o.cancel_pending)
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
        self.open
    }

    /// Applies a venue report; terminal orders leave the table.
    pub fn on_report(&mut self, report: &ExecReport) -> Transition {
        let Some(slot) = self
            .slots
            .iter_mut()
            .find(|s| s.is_some_and(|o| o.client_id == report.client_id))
        else {
            if matches!(report.kind, ExecKind::Status(_)) {
                // The order's own reports settled it while the query was on its way.
                self.counters.late_status += 1;
            } else {
                self.counters.unknown_order_reports += 1;
            }
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
        if let ExecKind::Fill { trade_id, .. } = report.kind {
            let key = (order.instrument, trade_id);
            if self.trade_ids.contains(&key) {
                self.counters.duplicate_fills += 1;
                return Transition::DuplicateFill;
            }
        }
        // What the order's own fills say it is, once the venue confirms it exists.
        let live = if order.leaves == order.qty {
            OrderState::Acked
        } else {
            OrderState::PartiallyFilled
        };
        let next = match (order.state, report.kind) {
            (OrderState::Sent | OrderState::Unknown, ExecKind::Ack) => OrderState::Acked,
            (OrderState::Sent | OrderState::Unknown, ExecKind::Rejected(_)) => OrderState::Rejected,
            (OrderState::Sent, ExecKind::OutcomeUnknown) => OrderState::Unknown,
            (OrderState::Unknown, ExecKind::Status(OrderStatus::Working)) => live,
            (
                OrderState::Acked | OrderState::PartiallyFilled,
                ExecKind::Status(OrderStatus::Working),
            ) => order.state,
            // Ended at the venue without more fills reported: the rest went.
            (OrderState::Unknown, ExecKind::Status(OrderStatus::Done)) => OrderState::Expired,
            (OrderState::Unknown, ExecKind::Status(OrderStatus::NotFound)) => {
                self.counters.not_found += 1;
                OrderState::Rejected
            }
            (
                OrderState::Acked | OrderState::PartiallyFilled | OrderState::Unknown,
                ExecKind::Fill { qty, .. },
            ) if qty.0 > 0 && qty.0 <= order.leaves.0 => {
                if qty.0 == order.leaves.0 {
                    OrderState::Filled
                } else {
                    OrderState::PartiallyFilled
                }
            }
            (
                OrderState::Acked | OrderState::PartiallyFilled | OrderState::Unknown,
                ExecKind::Expired,
            ) => OrderState::Expired,
            (
                OrderState::Acked | OrderState::PartiallyFilled | OrderState::Unknown,
                ExecKind::Cancelled,
            ) if order.cancel_pending => OrderState::Cancelled,
            _ => {
                self.counters.illegal_transitions += 1;
                return Transition::Illegal;
            }
        };
        let before = *order;
        if let ExecKind::Fill { qty, trade_id, .. } = report.kind {
            order.leaves.0 -= qty.0;
            self.trade_ids[self.next_trade_slot] = (order.instrument, trade_id);
            self.next_trade_slot = (self.next_trade_slot + 1) % TRADE_IDS;
        }
        order.state = next;
        let after = *order;
        if let Some(w) = self.working.get_mut(order.instrument.0 as usize) {
            add_working(w, &before, -1);
            if !next.is_terminal() {
                add_working(w, &after, 1);
            }
        }
        match (report.kind, next) {
            (ExecKind::Status(_), _) => {}
            (ExecKind::OutcomeUnknown, _) => self.counters.outcome_unknown += 1,
            (_, OrderState::Acked) => self.counters.acked += 1,
            (_, OrderState::PartiallyFilled) => self.counters.partially_filled += 1,
            (_, OrderState::Filled) => self.counters.filled += 1,
            (_, OrderState::Expired) => self.counters.expired += 1,
            (_, OrderState::Cancelled) => self.counters.cancelled += 1,
            (_, OrderState::Rejected) => self.counters.rejected_by_venue += 1,
            (_, OrderState::Sent | OrderState::Unknown) => {}
        }
        if next.is_terminal() {
            *slot = None;
            self.open -= 1;
        }
        Transition::Applied(next)
    }
}

/// Adds (`sign` 1) or takes away (-1) an order's leaves from its instrument's sums.
fn add_working(w: &mut Working, order: &WorkingOrder, sign: i64) {
    let leaves = sign * order.leaves.0;
    match order.side {
        Side::Buy => w.buy.0 += leaves,
        Side::Sell => w.sell.0 += leaves,
    }
    let notional = i128::from(leaves) * i128::from(order.px.0);
    w.notional += notional;
    if order.side == Side::Buy {
        w.buy_notional += notional;
    }
    w.orders = w.orders.wrapping_add_signed(sign as isize);
}

#[cfg(test)]
mod tests;
