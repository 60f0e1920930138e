//! The orders a gateway tracks, in fixed slots.

use crate::order::{CancelOrder, Order};

/// Orders tracked at once (working or in flight). A new order beyond it is refused.
pub const MAX_TRACKED: usize = 256;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderState {
    /// Sent; no stream event or answer yet.
    Sent,
    /// The venue acknowledged it (stream `NEW` or a status answer): working.
    Working,
    /// Reported [`crate::order::ExecKind::OutcomeUnknown`]: risk will query it.
    InDoubt,
}

#[derive(Clone, Copy, Debug)]
pub struct Tracked {
    pub order: Order,
    pub state: OrderState,
    /// Filled quantity reported so far (lots).
    pub filled: i64,
    /// Quote notional of the reported fills (price × quantity mantissas).
    pub quote: i128,
}

impl Tracked {
    /// What is still to fill (lots): negative never, once the venue's fills are in.
    pub fn leaves(&self) -> i64 {
        self.order.qty.0 - self.filled
    }

    /// The reference a cancel or a status query of this order carries.
    pub fn about(&self) -> CancelOrder {
        CancelOrder {
            meta: self.order.meta,
            client_id: self.order.client_id,
            instrument: self.order.instrument,
            side: self.order.side,
        }
    }
}

/// The orders the gateway tracks, in fixed slots, with their client ids in a dense array of
/// their own: every message looks its order up by id, and scanning 256 ids (2 KiB) costs far
/// less than scanning 256 whole orders.
pub(super) struct OrderSlots {
    slots: Vec<Option<Tracked>>,
    /// The client id in each slot; 0 for a free one (0 is never one of ours).
    ids: Vec<u64>,
    len: usize,
}

impl OrderSlots {
    pub(super) fn new() -> OrderSlots {
        OrderSlots {
            slots: vec![None; MAX_TRACKED],
            ids: vec![0; MAX_TRACKED],
            len: 0,
        }
    }

    pub(super) fn find(&self, client_id: u64) -> Option<usize> {
        if client_id == 0 {
            return None;
        }
        self.ids.iter().position(|&id| id == client_id)
    }

    pub(super) fn get(&self, slot: usize) -> Option<Tracked> {
        self.slots.get(slot).copied().flatten()
    }

    pub(super) fn get_mut(&mut self, slot: usize) -> Option<&mut Tracked> {
        self.slots.get_mut(slot).and_then(Option::as_mut)
    }

    pub(super) fn is_full(&self) -> bool {
        self.len == MAX_TRACKED
    }

    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// The slot `t` went into; `None` when every slot is taken (or for client id 0, which
    /// marks a free slot).
    pub(super) fn insert(&mut self, t: Tracked) -> Option<usize> {
        if t.order.client_id.0 == 0 {
            return None;
        }
        let slot = self.ids.iter().position(|&id| id == 0)?;
        self.ids[slot] = t.order.client_id.0;
        self.slots[slot] = Some(t);
        self.len += 1;
        Some(slot)
    }

    pub(super) fn remove(&mut self, slot: usize) {
        if let Some(s) = self.slots.get_mut(slot) {
            if s.take().is_some() {
                self.ids[slot] = 0;
                self.len -= 1;
            }
        }
    }
}
