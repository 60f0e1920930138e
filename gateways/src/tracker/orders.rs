//! The orders a gateway tracks and what it reports of them: acks, doubt, and fills guarded by
//! cumulative quantity, so that no fill is reported twice whichever way (stream, status
//! answer) the venue tells of it.

use pulse_feeds::num::{Nanos, Px, Qty};

use super::reports::Reports;
use super::slots::{OrderSlots, OrderState, Tracked};
use crate::order::{ExecKind, Liquidity, OpenOrder, Order, Request, TradeId};

/// Cancels and queries that wait for the session or the limits, at most.
const MAX_WAITING: usize = super::inflight::MAX_INFLIGHT;

/// The tracked orders, the cancels and queries waiting to go, and the reports out.
pub struct OrderTracker {
    slots: OrderSlots,
    /// Cancels and queries waiting for the session or the limits, oldest first.
    waiting: Vec<Request>,
    pub reports: Reports,
}

/// A new fill past what was reported: its quantity and what still works.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NewFill {
    pub order: Order,
    pub qty: i64,
    pub leaves: i64,
}

impl OrderTracker {
    pub fn new(reports: Reports) -> OrderTracker {
        OrderTracker {
            slots: OrderSlots::new(),
            waiting: Vec::with_capacity(MAX_WAITING),
            reports,
        }
    }

    /// Takes the orders the venue works for us at start, so that their reports are
    /// recognised. Orders with another client's id (0) are not ours.
    pub fn adopt(&mut self, open: &[OpenOrder]) {
        for o in open.iter().filter(|o| o.order.client_id.0 != 0) {
            let filled = o.order.qty.0 - o.leaves.0;
            let adopted = self.slots.insert(Tracked {
                order: o.order,
                state: OrderState::Working,
                filled,
                quote: i128::from(filled) * i128::from(o.order.px.0),
            });
            if adopted.is_none() {
                return;
            }
        }
    }

    /// Tracks an order just sent (the caller checked [`OrderTracker::is_full`]).
    pub fn sent(&mut self, order: &Order) {
        let _ = self.slots.insert(Tracked {
            order: *order,
            state: OrderState::Sent,
            filled: 0,
            quote: 0,
        });
    }

    pub fn find(&self, client_id: u64) -> Option<usize> {
        self.slots.find(client_id)
    }

    pub fn get(&self, slot: usize) -> Option<Tracked> {
        self.slots.get(slot)
    }

    /// The tracked order with this client id.
    pub fn by_id(&self, client_id: u64) -> Option<Tracked> {
        self.find(client_id).and_then(|s| self.slots.get(s))
    }

    pub fn set_state(&mut self, slot: usize, state: OrderState) {
        if let Some(t) = self.slots.get_mut(slot) {
            t.state = state;
        }
    }

    pub fn remove(&mut self, slot: usize) {
        self.slots.remove(slot);
    }

    pub fn is_full(&self) -> bool {
        self.slots.is_full()
    }

    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Every slot index, free or not, for a walk over the tracked orders.
    pub fn all_slots(&self) -> std::ops::Range<usize> {
        0..super::slots::MAX_TRACKED
    }

    pub fn emit(&mut self, order: &Order, kind: ExecKind, leaves: i64, ts: Nanos) {
        self.reports.emit(order, kind, leaves, ts);
    }

    /// Queues a cancel or query to go when the session and the limits allow.
    pub fn wait(&mut self, request: Request) {
        if self.waiting.len() < MAX_WAITING {
            self.waiting.push(request);
        }
    }

    pub fn has_waiting(&self) -> bool {
        !self.waiting.is_empty()
    }

    /// The oldest waiting cancel or query.
    pub fn first_waiting(&self) -> Option<Request> {
        self.waiting.first().copied()
    }

    pub fn pop_waiting(&mut self) {
        if !self.waiting.is_empty() {
            self.waiting.remove(0);
        }
    }

    /// A new order's outcome is unknown: tell risk, which will query it. `true` when it was
    /// reported (only an order still `Sent` can fall in doubt).
    pub fn doubt(&mut self, slot: usize, ts: Nanos) -> bool {
        let Some(t) = self.slots.get_mut(slot) else {
            return false;
        };
        if t.state != OrderState::Sent {
            return false;
        }
        t.state = OrderState::InDoubt;
        let (order, leaves) = (t.order, t.leaves());
        self.reports
            .emit(&order, ExecKind::OutcomeUnknown, leaves, ts);
        true
    }

    /// The venue has the order: working, reported as an ack.
    pub fn acked(&mut self, slot: usize, ts: Nanos) {
        if let Some(t) = self.slots.get_mut(slot) {
            t.state = OrderState::Working;
            let (order, leaves) = (t.order, t.leaves());
            self.reports.emit(&order, ExecKind::Ack, leaves, ts);
        }
    }

    /// Reports the fill that brings the order's reported quantity up to `executed`
    /// (cumulative), at the average price of the quote difference, if anything is missing.
    /// The fee of such a reconciled fill is not known: reported as zero. `true` when a fill
    /// was reported.
    pub fn fill_up_to(&mut self, slot: usize, executed: i64, quote: i128, ts: Nanos) -> bool {
        let Some(t) = self.slots.get_mut(slot) else {
            return false;
        };
        let missing = executed - t.filled;
        if missing <= 0 {
            return false;
        }
        let quote_missing = quote - t.quote;
        let px = Px((quote_missing / i128::from(missing)) as i64);
        t.filled = executed;
        t.quote = quote;
        let (order, leaves) = (t.order, t.order.qty.0 - executed);
        let fill = ExecKind::Fill {
            px,
            qty: Qty(missing),
            fee: 0,
            liquidity: Liquidity::Taker,
            trade_id: TradeId::NONE,
        };
        self.reports.emit(&order, fill, leaves, ts);
        if leaves <= 0 {
            self.slots.remove(slot);
        }
        true
    }

    /// A trade of `qty` at `px` that brings the order's cumulative filled quantity to `cum`:
    /// the part not reported yet (a reconciled fill may have covered some, or the venue sent
    /// it twice), or `None` when all of it was. The caller reports it, then calls
    /// [`OrderTracker::settle`].
    pub fn trade(&mut self, slot: usize, qty: i64, px: i64, cum: i64) -> Option<NewFill> {
        let t = self.slots.get_mut(slot)?;
        if cum <= t.filled {
            return None;
        }
        let new = qty.min(cum - t.filled);
        t.filled = cum;
        t.quote += i128::from(px) * i128::from(new);
        Some(NewFill {
            order: t.order,
            qty: new,
            leaves: t.order.qty.0 - cum,
        })
    }

    /// Stops tracking the order once nothing of it is left.
    pub fn settle(&mut self, slot: usize, leaves: i64) {
        if leaves <= 0 {
            self.slots.remove(slot);
        }
    }
}
