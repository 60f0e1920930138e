//! The order model shared by risk and the gateways: what leaves the engine and what comes back.

use pulse_feeds::event::EventMeta;
use pulse_feeds::num::{InstrumentId, Nanos, Px, Qty, Side};

/// Deterministic client order id: unique within a run, assigned by the order keeper.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClientOrderId(pub u64);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeInForce {
    /// Fill what crosses now, cancel the rest.
    Ioc,
}

/// An approved order on its way to a gateway.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Order {
    /// The market event that led to this order: its time and ingress stamp.
    pub meta: EventMeta,
    pub client_id: ClientOrderId,
    pub instrument: InstrumentId,
    pub side: Side,
    /// Limit price.
    pub px: Px,
    pub qty: Qty,
    pub tif: TimeInForce,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Liquidity {
    Maker,
    Taker,
}

/// Why a venue refused an order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VenueReject {
    /// The venue has no usable book for the instrument (stale, crossed or never synced).
    NoMarket,
    UnknownInstrument,
    InvalidQuantity,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExecKind {
    Ack,
    Fill {
        px: Px,
        qty: Qty,
        /// Fee charged, at the instrument's notional scale (price scale + quantity scale).
        fee: i128,
        liquidity: Liquidity,
        trade_id: u64,
    },
    /// The unfilled rest of an IOC order, cancelled.
    Expired,
    Rejected(VenueReject),
}

/// Gateway → engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExecReport {
    /// The meta of the order this report answers, so latency stays attributable.
    pub meta: EventMeta,
    pub client_id: ClientOrderId,
    pub instrument: InstrumentId,
    pub side: Side,
    pub kind: ExecKind,
    /// Quantity still working after this report.
    pub leaves: Qty,
    /// Venue time of the report.
    pub ts: Nanos,
}
