//! The simulated venue: fills orders against its own view of the book, the way a venue would.
//!
//! **Taking.** The crossing part of an order (IOC, or GTC on arrival) walks the opposite side
//! from the touch while the level price is within the limit, taking what each level shows;
//! what it takes is gone from the venue's view until the next book update replaces it (so two
//! orders cannot fill against the same liquidity). An IOC order's rest expires; a post-only
//! order that would take anything is refused whole.
//!
//! **Resting.** What a GTC or post-only order does not take rests at its price behind the
//! quantity the book showed there on arrival (its queue position). Resting orders are not in
//! the recorded market, so the venue infers their fills from it, the way hftbacktest's
//! risk-averse queue model does:
//! - a trade at our price by a taker on the other side first consumes the queue ahead of us,
//!   and only what is left of it fills us;
//! - a trade through our price (a seller below our bid, a buyer above our ask) means the whole
//!   level went: we fill in full;
//! - when the level shrinks below the queue ahead of us, the difference was cancelled ahead of
//!   us (the cautious assumption: cancels never come from behind us); when the level vanishes
//!   inside the visible depth, nobody is ahead any more;
//! - when the opposite side moves onto or through our price, the crossing quantity trades with
//!   us as maker.
//!
//! A price beyond the visible depth has an unknown queue: no fill at that price until the level
//! becomes visible and the queue is known.
//!
//! Fees are charged on notional at the maker or taker rate, rounded up to the notional scale
//! (never in our favour). Everything is deterministic given the sequence of calls.
//!
//! An instrument given [`DerivativesSim`] settings trades as a perpetual with isolated margin:
//! margin, funding and liquidation as [`derivatives`] describes.

use pulse_feeds::book::Level;
use pulse_feeds::event::{BookState, BookTop, EventMeta, MarketEvent, TradeEvent, TOP_DEPTH};
use pulse_feeds::num::{Px, Qty, Side};

use crate::order::{
    CancelOrder, ClientOrderId, ExecKind, ExecReport, Liquidity, Order, OrderStatus, Request,
    TimeInForce, TradeId, VenueReject,
};
pub use crate::order::{OpenOrder, VenueAccount};
use derivatives::Derivatives;
pub use derivatives::{DerivativesSim, Funding, FundingEvent, SimMargin};
use margin_events::book_fill;

/// The most reports one request can produce: ack, one fill per visible level, expiry.
pub const MAX_REPORTS_PER_ORDER: usize = TOP_DEPTH + 2;
/// Resting orders the venue holds for us at once (all instruments).
pub const MAX_RESTING: usize = 64;
/// The most reports one market event can produce: one fill (or, when a liquidation cancels
/// it, one expiry) per resting order, a funding settlement and a liquidation.
pub const MAX_REPORTS_PER_EVENT: usize = MAX_RESTING + 2;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SimCounters {
    pub orders: u64,
    pub fills: u64,
    /// Of `fills`, those of resting orders (maker).
    pub maker_fills: u64,
    pub rejects: u64,
    pub expired: u64,
    pub cancels: u64,
    pub cancel_rejects: u64,
    /// New-order responses dropped by the fault drill (the orders themselves went in).
    pub dropped_responses: u64,
    pub queries: u64,
    /// Funding settlements charged or paid (derivatives instruments).
    pub fundings: u64,
    pub liquidations: u64,
}

/// Orders the venue remembers having accepted, for queries about orders no longer resting.
const KNOWN_ORDERS: usize = 4096;

/// Maker and taker fees in parts per million of notional.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Fees {
    pub maker_ppm: i64,
    pub taker_ppm: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Resting {
    order: Order,
    leaves: i64,
    /// Quantity ahead of ours at our price; `None` while the price is beyond the visible depth.
    ahead: Option<i64>,
}

pub struct SimVenue {
    books: Vec<Option<BookTop>>,
    /// Net filled quantity per instrument: the venue's side of the account.
    positions: Vec<i64>,
    /// Fixed slots: no allocation after start.
    resting: Vec<Option<Resting>>,
    /// Ring of the last [`KNOWN_ORDERS`] client ids accepted.
    known: Vec<ClientOrderId>,
    next_known: usize,
    /// Fault drill: every Nth new order's response is lost (0: never).
    drop_response_every: u64,
    fees: Fees,
    next_trade_id: u64,
    /// Per instrument: its margin account when it trades as a perpetual.
    derivatives: Vec<Option<Derivatives>>,
    pub counters: SimCounters,
}

impl SimVenue {
    pub fn new(instruments: usize, fees: Fees) -> SimVenue {
        SimVenue {
            books: vec![None; instruments],
            positions: vec![0; instruments],
            resting: vec![None; MAX_RESTING],
            known: vec![ClientOrderId(0); KNOWN_ORDERS],
            next_known: 0,
            drop_response_every: 0,
            fees,
            next_trade_id: 1,
            derivatives: (0..instruments).map(|_| None).collect(),
            counters: SimCounters::default(),
        }
    }

    /// Fault drill: the response to every `n`th new order is lost (the order itself goes in
    /// and trades as usual), as a timeout or a 5xx after the venue accepted it would lose it:
    /// the gateway reports [`ExecKind::OutcomeUnknown`] instead of the ack or the rejection.
    pub fn with_lost_responses(mut self, n: u64) -> SimVenue {
        self.drop_response_every = n;
        self
    }

    /// The account as the venue sees it: positions and open orders.
    pub fn account(&self) -> VenueAccount {
        VenueAccount {
            positions: self.positions.iter().map(|&q| Qty(q)).collect(),
            open: self
                .resting
                .iter()
                .flatten()
                .map(|r| OpenOrder {
                    order: r.order,
                    leaves: Qty(r.leaves),
                })
                .collect(),
        }
    }

    /// Orders resting on the venue now.
    pub fn resting(&self) -> usize {
        self.resting.iter().flatten().count()
    }

    /// Leaves quantity and queue ahead of a resting order, if it rests.
    pub fn resting_order(
        &self,
        client_id: crate::order::ClientOrderId,
    ) -> Option<(Qty, Option<Qty>)> {
        self.resting
            .iter()
            .flatten()
            .find(|r| r.order.client_id == client_id)
            .map(|r| (Qty(r.leaves), r.ahead.map(Qty)))
    }

    /// Applies a market event to the venue's view, handing `emit` the fills it gives resting
    /// orders (at most [`MAX_REPORTS_PER_EVENT`], one per resting order).
    pub fn on_market(&mut self, event: &MarketEvent, mut emit: impl FnMut(ExecReport)) {
        match event {
            MarketEvent::Book(top) => {
                let i = top.meta.instrument.0 as usize;
                let Some(slot) = self.books.get_mut(i) else {
                    return;
                };
                *slot = Some(*top);
                let mark = top.mid().filter(|_| top.state == BookState::Live);
                self.on_derivatives(i, top.meta, mark, &mut emit);
                if top.state != BookState::Live {
                    return;
                }
                for r in 0..self.resting.len() {
                    self.on_book_for(r, &mut emit);
                }
            }
            MarketEvent::Trade(trade) => {
                let i = trade.meta.instrument.0 as usize;
                self.on_derivatives(i, trade.meta, None, &mut emit);
                for r in 0..self.resting.len() {
                    self.on_trade_for(r, trade, &mut emit);
                }
            }
        }
    }

    /// Carries out one request, handing each report to `emit` (at most
    /// [`MAX_REPORTS_PER_ORDER`]).
    pub fn execute(&mut self, request: &Request, emit: impl FnMut(ExecReport)) {
        match request {
            Request::New(order) => self.place(order, emit),
            Request::Cancel(cancel) => self.cancel(cancel, emit),
            Request::Query(query) => self.query(query, emit),
        }
    }

    /// Answers a query: working (with its leaves) while it rests, done once it has ended, not
    /// found when it never arrived (or was rejected, which leaves nothing to query).
    fn query(&mut self, query: &CancelOrder, mut emit: impl FnMut(ExecReport)) {
        self.counters.queries += 1;
        let id = query.client_id;
        let resting = self
            .resting
            .iter()
            .flatten()
            .find(|r| r.order.client_id == id);
        let (status, leaves) = match resting {
            Some(r) => (OrderStatus::Working, r.leaves),
            None if id.0 != 0 && self.known.contains(&id) => (OrderStatus::Done, 0),
            None => (OrderStatus::NotFound, 0),
        };
        emit(ExecReport {
            meta: query.meta,
            client_id: id,
            instrument: query.instrument,
            side: query.side,
            kind: ExecKind::Status(status),
            leaves: Qty(leaves),
            ts: query.meta.recv_ts,
        });
    }

    fn place(&mut self, order: &Order, mut emit: impl FnMut(ExecReport)) {
        self.counters.orders += 1;
        let lost = self.drop_response_every > 0
            && self
                .counters
                .orders
                .is_multiple_of(self.drop_response_every);
        let report = |kind, leaves| ExecReport {
            meta: order.meta,
            client_id: order.client_id,
            instrument: order.instrument,
            side: order.side,
            kind,
            leaves,
            ts: order.meta.recv_ts,
        };
        let free_slot = self.resting.iter().position(Option::is_none);
        let reject = match self.books.get(order.instrument.0 as usize) {
            None => Some(VenueReject::UnknownInstrument),
            Some(None) => Some(VenueReject::NoMarket),
            Some(Some(top)) if top.state != BookState::Live => Some(VenueReject::NoMarket),
            Some(Some(_)) if order.qty.0 <= 0 => Some(VenueReject::InvalidQuantity),
            Some(Some(top))
                if order.tif == TimeInForce::PostOnly
                    && crossing(top, order.side, order.px) > 0 =>
            {
                Some(VenueReject::WouldTake)
            }
            Some(Some(_)) if order.tif.rests() && free_slot.is_none() => {
                Some(VenueReject::TooManyOrders)
            }
            Some(Some(_)) if self.margin_refuses(order) => Some(VenueReject::Refused),
            Some(Some(_)) => None,
        };
        if lost {
            self.counters.dropped_responses += 1;
            emit(report(ExecKind::OutcomeUnknown, order.qty));
        }
        if let Some(reason) = reject {
            self.counters.rejects += 1;
            if !lost {
                emit(report(ExecKind::Rejected(reason), Qty(0)));
            }
            return;
        }
        self.known[self.next_known] = order.client_id;
        self.next_known = (self.next_known + 1) % KNOWN_ORDERS;
        if !lost {
            emit(report(ExecKind::Ack, order.qty));
        }
        let Some(Some(top)) = self.books.get_mut(order.instrument.0 as usize) else {
            return;
        };
        if order.tif == TimeInForce::Fok && crossing(top, order.side, order.px) < order.qty.0 {
            // Fill-or-kill against less than its quantity within its limit: expires whole.
            self.counters.expired += 1;
            emit(report(ExecKind::Expired, Qty(0)));
            return;
        }
        let (levels, count) = match order.side {
            Side::Buy => (&mut top.asks, top.ask_levels as usize),
            Side::Sell => (&mut top.bids, top.bid_levels as usize),
        };
        let mut leaves = order.qty.0;
        for level in levels[..count].iter_mut() {
            let in_limit =
                order.tif == TimeInForce::Market || crosses(order.side, order.px, level.px);
            if leaves == 0 || !in_limit {
                break;
            }
            let take = leaves.min(level.qty.0);
            if take == 0 {
                continue;
            }
            level.qty.0 -= take;
            leaves -= take;
            let fill = fill_kind(
                &mut self.next_trade_id,
                &mut self.counters,
                level.px,
                take,
                self.fees.taker_ppm,
                Liquidity::Taker,
            );
            book_fill(
                &mut self.positions,
                &mut self.derivatives,
                order.instrument,
                order.side,
                &fill,
            );
            emit(report(fill, Qty(leaves)));
        }
        if leaves == 0 {
            return;
        }
        match (order.tif.rests(), free_slot) {
            (true, Some(slot)) => {
                let ahead = queue_at(top, order.side, order.px);
                self.resting[slot] = Some(Resting {
                    order: *order,
                    leaves,
                    ahead,
                });
            }
            _ => {
                self.counters.expired += 1;
                emit(report(ExecKind::Expired, Qty(0)));
            }
        }
    }

    fn cancel(&mut self, cancel: &CancelOrder, mut emit: impl FnMut(ExecReport)) {
        let slot = self
            .resting
            .iter_mut()
            .find(|s| s.is_some_and(|r| r.order.client_id == cancel.client_id));
        let kind = match slot {
            Some(slot) => {
                *slot = None;
                self.counters.cancels += 1;
                ExecKind::Cancelled
            }
            None => {
                self.counters.cancel_rejects += 1;
                ExecKind::CancelRejected
            }
        };
        emit(ExecReport {
            meta: cancel.meta,
            client_id: cancel.client_id,
            instrument: cancel.instrument,
            side: cancel.side,
            kind,
            leaves: Qty(0),
            ts: cancel.meta.recv_ts,
        });
    }

    /// A book update seen by resting order `r`: the opposite side may now cross it, and the
    /// queue ahead of it may have shrunk.
    fn on_book_for(&mut self, r: usize, emit: &mut impl FnMut(ExecReport)) {
        let Some(mut rest) = self.resting[r] else {
            return;
        };
        let Some(Some(top)) = self.books.get_mut(rest.order.instrument.0 as usize) else {
            return;
        };
        let (side, px) = (rest.order.side, rest.order.px);
        let (levels, count) = match side {
            Side::Buy => (&mut top.asks, top.ask_levels as usize),
            Side::Sell => (&mut top.bids, top.bid_levels as usize),
        };
        let mut take = 0;
        for level in levels[..count].iter_mut() {
            if take == rest.leaves || !crosses(side, px, level.px) {
                break;
            }
            let t = (rest.leaves - take).min(level.qty.0);
            level.qty.0 -= t;
            take += t;
        }
        let meta = top.meta;
        rest.ahead = match (queue_at(top, side, px), rest.ahead) {
            (Some(now), Some(before)) => Some(now.min(before)),
            (now, None) => now,
            (None, before) => before,
        };
        self.resting[r] = Some(rest);
        if take > 0 {
            self.maker_fill(r, meta, take, emit);
        }
    }

    /// A trade seen by resting order `r`.
    fn on_trade_for(&mut self, r: usize, trade: &TradeEvent, emit: &mut impl FnMut(ExecReport)) {
        let Some(mut rest) = self.resting[r] else {
            return;
        };
        let (side, px) = (rest.order.side, rest.order.px);
        // Only a taker on the other side trades with resting orders on ours.
        if rest.order.instrument != trade.meta.instrument || trade.aggressor == side {
            return;
        }
        let through = match side {
            Side::Buy => trade.px.0 < px.0,
            Side::Sell => trade.px.0 > px.0,
        };
        let take = if through {
            rest.leaves
        } else if trade.px == px {
            match rest.ahead {
                Some(ahead) => {
                    let left = (trade.qty.0 - ahead).max(0);
                    rest.ahead = Some((ahead - trade.qty.0).max(0));
                    left.min(rest.leaves)
                }
                None => 0,
            }
        } else {
            0
        };
        self.resting[r] = Some(rest);
        if take > 0 {
            self.maker_fill(r, trade.meta, take, emit);
        }
    }

    fn maker_fill(
        &mut self,
        r: usize,
        meta: EventMeta,
        qty: i64,
        emit: &mut impl FnMut(ExecReport),
    ) {
        let Some(rest) = self.resting[r].as_mut() else {
            return;
        };
        rest.leaves -= qty;
        let kind = fill_kind(
            &mut self.next_trade_id,
            &mut self.counters,
            rest.order.px,
            qty,
            self.fees.maker_ppm,
            Liquidity::Maker,
        );
        book_fill(
            &mut self.positions,
            &mut self.derivatives,
            rest.order.instrument,
            rest.order.side,
            &kind,
        );
        self.counters.maker_fills += 1;
        emit(ExecReport {
            meta,
            client_id: rest.order.client_id,
            instrument: rest.order.instrument,
            side: rest.order.side,
            kind,
            leaves: Qty(rest.leaves),
            ts: meta.recv_ts,
        });
        if rest.leaves == 0 {
            self.resting[r] = None;
        }
    }
}

/// Whether an order on `side` limited at `limit` trades with a level at `level`.
fn crosses(side: Side, limit: Px, level: Px) -> bool {
    match side {
        Side::Buy => level <= limit,
        Side::Sell => level >= limit,
    }
}

/// Quantity on the opposite side that an order at `limit` would take on arrival.
fn crossing(top: &BookTop, side: Side, limit: Px) -> i64 {
    let levels = match side {
        Side::Buy => top.asks(),
        Side::Sell => top.bids(),
    };
    levels
        .iter()
        .take_while(|l| crosses(side, limit, l.px))
        .map(|l| l.qty.0)
        .sum()
}

/// The quantity resting at `px` on `side` as far as the book shows: the level's quantity; zero
/// when the price is better than the best or inside the visible levels without a level there;
/// `None` when it lies beyond the visible depth.
fn queue_at(top: &BookTop, side: Side, px: Px) -> Option<i64> {
    let levels: &[Level] = match side {
        Side::Buy => top.bids(),
        Side::Sell => top.asks(),
    };
    // "Worse" than a level: further from the touch on this side.
    let worse = |a: Px, b: Px| match side {
        Side::Buy => a < b,
        Side::Sell => a > b,
    };
    if let Some(level) = levels.iter().find(|l| l.px == px) {
        return Some(level.qty.0);
    }
    match levels.last() {
        Some(last) if worse(px, last.px) && levels.len() == TOP_DEPTH => None,
        _ => Some(0),
    }
}

fn fill_kind(
    next_trade_id: &mut u64,
    counters: &mut SimCounters,
    px: Px,
    qty: i64,
    fee_ppm: i64,
    liquidity: Liquidity,
) -> ExecKind {
    let trade_id = *next_trade_id;
    *next_trade_id += 1;
    counters.fills += 1;
    ExecKind::Fill {
        px,
        qty: Qty(qty),
        fee: fee_on(px.0 as i128 * qty as i128, fee_ppm),
        liquidity,
        trade_id: TradeId::from_u64(trade_id),
    }
}

/// `notional * ppm / 1e6`, rounded up (toward +inf: a rebate is rounded down in size).
fn fee_on(notional: i128, ppm: i64) -> i128 {
    let x = notional * ppm as i128;
    let q = x / 1_000_000;
    if x % 1_000_000 > 0 {
        q + 1
    } else {
        q
    }
}

pub mod derivatives;
mod margin_events;
pub mod tape;

#[cfg(test)]
mod tests;
