//! What strategies ask for, and what risk tells them back.

use pulse_feeds::event::EventMeta;
use pulse_feeds::num::{InstrumentId, Px, Qty, Side};
use pulse_gateways::order::{ExecReport, TimeInForce};

use crate::risk::RejectReason;

/// Strategy → risk: an order the strategy would like to send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderIntent {
    /// The market event this decision was made on.
    pub meta: EventMeta,
    pub instrument: InstrumentId,
    pub side: Side,
    /// Limit price.
    pub px: Px,
    pub qty: Qty,
    pub tif: TimeInForce,
}

/// Risk → strategy: the venue's reports on approved orders, and risk's own rejections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Feedback {
    Report(ExecReport),
    Rejected {
        instrument: InstrumentId,
        reason: RejectReason,
    },
}
