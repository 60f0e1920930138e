//! The order model shared by risk and the gateways: what leaves the engine and what comes back.

use crate::event::EventMeta;
use crate::num::{InstrumentId, Nanos, Px, Qty, Side};
pub use crate::trade_id::{TradeId, TradeIdError};

/// Deterministic client order id: unique within a run, assigned by the order keeper.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClientOrderId(pub u64);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeInForce {
    /// Fill what crosses now, cancel the rest.
    Ioc,
    /// Fill what crosses now, rest the rest until filled or cancelled.
    Gtc,
    /// Rest only: refused if any of it would take liquidity on arrival (Binance `LIMIT_MAKER`).
    PostOnly,
    /// Fill all of it now or none of it: expires whole when the book cannot fill it all.
    Fok,
    /// A market order (Binance `MARKET`): takes what the visible book offers now at any
    /// price, the rest expires. Its `px` is the price risk checked it at (notional, collar);
    /// the venue ignores it.
    Market,
}

impl TimeInForce {
    /// Whether what does not fill on arrival stays on the book.
    pub fn rests(self) -> bool {
        !matches!(
            self,
            TimeInForce::Ioc | TimeInForce::Fok | TimeInForce::Market
        )
    }

    pub fn name(self) -> &'static str {
        match self {
            TimeInForce::Ioc => "ioc",
            TimeInForce::Gtc => "gtc",
            TimeInForce::PostOnly => "post_only",
            TimeInForce::Fok => "fok",
            TimeInForce::Market => "market",
        }
    }
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

/// An approved cancel of a working order on its way to a gateway; the same reference asks
/// for a working order's status ([`Request::Query`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CancelOrder {
    /// The market event the cancel was decided on.
    pub meta: EventMeta,
    /// The order to cancel.
    pub client_id: ClientOrderId,
    pub instrument: InstrumentId,
    pub side: Side,
}

/// Risk → gateway: what the gateway is asked to do. Cancel-replace is a cancel followed by a
/// new order, each approved on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request {
    New(Order),
    Cancel(CancelOrder),
    /// What became of an order whose outcome is unknown: answered with [`ExecKind::Status`].
    /// Never a resend: an order in doubt may be working.
    Query(CancelOrder),
}

impl Request {
    pub fn meta(&self) -> EventMeta {
        match self {
            Request::New(o) => o.meta,
            Request::Cancel(c) | Request::Query(c) => c.meta,
        }
    }
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
    /// A post-only order would have taken liquidity on arrival.
    WouldTake,
    /// The venue holds as many resting orders as it accepts from us.
    TooManyOrders,
    /// Refused by the venue for another reason (a filter, the account, the timestamp).
    Refused,
    /// Never sent: the gateway has no open, subscribed session to the venue.
    Unavailable,
    /// Never sent, or refused with 429: a request limit would be (or was) broken.
    RateLimited,
}

impl VenueReject {
    pub const ALL: [VenueReject; 8] = [
        VenueReject::NoMarket,
        VenueReject::UnknownInstrument,
        VenueReject::InvalidQuantity,
        VenueReject::WouldTake,
        VenueReject::TooManyOrders,
        VenueReject::Refused,
        VenueReject::Unavailable,
        VenueReject::RateLimited,
    ];

    /// Stable code, as journaled.
    pub fn code(self) -> u8 {
        self as u8
    }

    pub fn name(self) -> &'static str {
        match self {
            VenueReject::NoMarket => "no_market",
            VenueReject::UnknownInstrument => "unknown_instrument",
            VenueReject::InvalidQuantity => "invalid_quantity",
            VenueReject::WouldTake => "would_take",
            VenueReject::TooManyOrders => "too_many_orders",
            VenueReject::Refused => "refused",
            VenueReject::Unavailable => "unavailable",
            VenueReject::RateLimited => "rate_limited",
        }
    }
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
        /// The venue's id of the trade ([`TradeId::NONE`] when unknown).
        trade_id: TradeId,
    },
    /// The unfilled rest of an IOC order, cancelled.
    Expired,
    Rejected(VenueReject),
    /// A resting order, cancelled on request.
    Cancelled,
    /// A cancel the venue could not carry out: the order is no longer working there (filled,
    /// cancelled or never known). The order itself is unchanged by this report.
    CancelRejected,
    /// The gateway could not learn what became of a new order (a timeout, a 5xx, a dropped
    /// connection): it may or may not be working. Risk queries it; nothing is resent.
    OutcomeUnknown,
    /// The venue's answer to a query; `leaves` is what it still works.
    Status(OrderStatus),
    /// A derivatives venue settled funding on the instrument's position: `amount` is what the
    /// account paid, at the instrument's notional scale, negative when it received (longs pay
    /// when the rate is positive). Answers no order: `client_id` is 0, `side` the position's.
    Funding {
        amount: i128,
    },
    /// A derivatives venue liquidated the instrument's position: it was closed, `qty` at `px`
    /// on the report's `side`, and the venue kept `fee` (notional scale; Binance's
    /// liquidation clearance fee, the rest of the isolated margin). Moves the position like a
    /// fill; answers no order: `client_id` is 0.
    Liquidation {
        px: Px,
        qty: Qty,
        fee: i128,
    },
}

/// What a venue says of an order it was asked about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderStatus {
    /// Working, with the report's `leaves` left; its fills were reported on their own.
    Working,
    /// Done at the venue (filled, cancelled or expired); its fills were reported on their own.
    Done,
    /// The venue never had it: it did not arrive.
    NotFound,
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

/// One of our orders resting on the venue, as the venue reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenOrder {
    pub order: Order,
    pub leaves: Qty,
}

/// What the venue holds for the account: its net position per instrument (by index) and the
/// orders still working. What startup reconciliation compares the engine's books with.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VenueAccount {
    pub positions: Vec<Qty>,
    pub open: Vec<OpenOrder>,
}
