//! Pre-trade risk and order keeping: every intent passes every check before it becomes an
//! order; fills come back here to positions and PnL.

pub mod checks;
pub mod orders;
pub mod position;
pub mod stage;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Why an intent was refused. Every rejection carries one and is counted by it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RejectReason {
    KillSwitch,
    UnknownInstrument,
    /// Zero or negative quantity or price.
    NotPositive,
    /// Quantity not a multiple of the lot size.
    LotSize,
    /// Price not a multiple of the tick size.
    TickSize,
    MaxOrderQty,
    MaxOrderNotional,
    /// Position plus working orders on that side would pass the limit.
    PositionLimit,
    /// The book is stale or crossed: no trading on it.
    BookNotLive,
    /// No reference price, or one older than `max_ref_age`.
    ReferenceStale,
    /// Limit price too far from the reference price.
    PriceCollar,
    /// No room to track one more working order.
    TooManyOrders,
    /// The ring to the next stage was full.
    RingFull,
    /// A cancel for an order that is not working (already filled, cancelled or never sent).
    UnknownOrder,
}

impl RejectReason {
    pub const ALL: [RejectReason; 14] = [
        RejectReason::KillSwitch,
        RejectReason::UnknownInstrument,
        RejectReason::NotPositive,
        RejectReason::LotSize,
        RejectReason::TickSize,
        RejectReason::MaxOrderQty,
        RejectReason::MaxOrderNotional,
        RejectReason::PositionLimit,
        RejectReason::BookNotLive,
        RejectReason::ReferenceStale,
        RejectReason::PriceCollar,
        RejectReason::TooManyOrders,
        RejectReason::RingFull,
        RejectReason::UnknownOrder,
    ];

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn name(self) -> &'static str {
        match self {
            RejectReason::KillSwitch => "kill_switch",
            RejectReason::UnknownInstrument => "unknown_instrument",
            RejectReason::NotPositive => "not_positive",
            RejectReason::LotSize => "lot_size",
            RejectReason::TickSize => "tick_size",
            RejectReason::MaxOrderQty => "max_order_qty",
            RejectReason::MaxOrderNotional => "max_order_notional",
            RejectReason::PositionLimit => "position_limit",
            RejectReason::BookNotLive => "book_not_live",
            RejectReason::ReferenceStale => "reference_stale",
            RejectReason::PriceCollar => "price_collar",
            RejectReason::TooManyOrders => "too_many_orders",
            RejectReason::RingFull => "ring_full",
            RejectReason::UnknownOrder => "unknown_order",
        }
    }
}

/// The kill switch: once engaged, risk approves nothing. Strategies cannot reach it; it is
/// engaged by the operator (signal, kill file) or at start by config.
#[derive(Clone, Debug, Default)]
pub struct KillSwitch(Arc<AtomicBool>);

impl KillSwitch {
    pub fn new(engaged: bool) -> KillSwitch {
        KillSwitch(Arc::new(AtomicBool::new(engaged)))
    }

    /// Release: the risk thread must see the flag promptly; nothing else is published with it.
    pub fn engage(&self) {
        self.0.store(true, Ordering::Release);
    }

    pub fn is_engaged(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }

    /// The flag itself, for `signal_hook::flag::register`.
    pub fn flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.0)
    }
}
