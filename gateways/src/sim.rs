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

use pulse_feeds::book::Level;
use pulse_feeds::event::{BookState, BookTop, EventMeta, MarketEvent, TradeEvent, TOP_DEPTH};
use pulse_feeds::num::{Px, Qty, Side};

use crate::order::{
    CancelOrder, ClientOrderId, ExecKind, ExecReport, Liquidity, Order, OrderStatus, Request,
    TimeInForce, VenueReject,
};
pub use crate::order::{OpenOrder, VenueAccount};

/// The most reports one request can produce: ack, one fill per visible level, expiry.
pub const MAX_REPORTS_PER_ORDER: usize = TOP_DEPTH + 2;
/// Resting orders the venue holds for us at once (all instruments).
pub const MAX_RESTING: usize = 64;
/// The most reports one market event can produce: one fill per resting order.
pub const MAX_REPORTS_PER_EVENT: usize = MAX_RESTING;

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
                if top.state != BookState::Live {
                    return;
                }
                for r in 0..self.resting.len() {
                    self.on_book_for(r, &mut emit);
                }
            }
            MarketEvent::Trade(trade) => {
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
            if let Some(p) = self.positions.get_mut(order.instrument.0 as usize) {
                *p += order.side.sign() * take;
            }
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
        if let Some(p) = self.positions.get_mut(rest.order.instrument.0 as usize) {
            *p += rest.order.side.sign() * qty;
        }
        let kind = fill_kind(
            &mut self.next_trade_id,
            &mut self.counters,
            rest.order.px,
            qty,
            self.fees.maker_ppm,
            Liquidity::Maker,
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
        trade_id,
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

#[cfg(test)]
mod tests {
    use super::*;
    use pulse_feeds::num::{InstrumentId, Nanos};

    use crate::order::ClientOrderId;

    fn venue_with_book() -> SimVenue {
        let mut v = SimVenue::new(
            1,
            Fees {
                maker_ppm: 200,
                taker_ppm: 1_000, // 10 bps
            },
        );
        let mut top = BookTop::empty(EventMeta::default(), BookState::Live);
        for (i, (px, qty)) in [(100, 5), (101, 3), (103, 10)].into_iter().enumerate() {
            top.asks[i] = Level {
                px: Px(px),
                qty: Qty(qty),
            };
        }
        for (i, (px, qty)) in [(99, 4), (98, 6)].into_iter().enumerate() {
            top.bids[i] = Level {
                px: Px(px),
                qty: Qty(qty),
            };
        }
        top.ask_levels = 3;
        top.bid_levels = 2;
        v.on_market(&MarketEvent::Book(top), |_| panic!("no resting orders"));
        v
    }

    fn order(id: u64, side: Side, px: i64, qty: i64) -> Order {
        Order {
            meta: EventMeta {
                recv_ts: Nanos(7),
                ..EventMeta::default()
            },
            client_id: ClientOrderId(id),
            instrument: InstrumentId(0),
            side,
            px: Px(px),
            qty: Qty(qty),
            tif: TimeInForce::Ioc,
        }
    }

    fn run(v: &mut SimVenue, o: Order) -> Vec<(ExecKind, i64)> {
        let mut out = Vec::new();
        v.execute(&Request::New(o), |r| out.push((r.kind, r.leaves.0)));
        out
    }

    fn fill(px: i64, qty: i64, fee: i128, trade_id: u64) -> ExecKind {
        ExecKind::Fill {
            px: Px(px),
            qty: Qty(qty),
            fee,
            liquidity: Liquidity::Taker,
            trade_id,
        }
    }

    #[test]
    fn ioc_buy_walks_the_asks_up_to_its_limit_and_expires_the_rest() {
        let mut v = venue_with_book();
        // 10 at limit 101: 5 @ 100 and 3 @ 101; 103 is beyond the limit; 2 expire.
        // Fees: ceil(500 * 0.001) = 1, ceil(303 * 0.001) = 1.
        assert_eq!(
            run(&mut v, order(1, Side::Buy, 101, 10)),
            [
                (ExecKind::Ack, 10),
                (fill(100, 5, 1, 1), 5),
                (fill(101, 3, 1, 2), 2),
                (ExecKind::Expired, 0)
            ]
        );
        // The liquidity taken is gone until the next book update.
        assert_eq!(
            run(&mut v, order(2, Side::Buy, 103, 4)),
            [(ExecKind::Ack, 4), (fill(103, 4, 1, 3), 0)]
        );
        assert_eq!(
            v.counters,
            SimCounters {
                orders: 2,
                fills: 3,
                expired: 1,
                ..SimCounters::default()
            }
        );
    }

    #[test]
    fn a_market_order_takes_every_visible_level_whatever_its_price_says() {
        let mut v = venue_with_book();
        // The asks are 5 @ 100, 3 @ 101, 10 @ 103: 20 at market takes all 18, 2 expire. Its
        // px (1, far below the book) is risk's business, not the venue's.
        let market = Order {
            tif: TimeInForce::Market,
            ..order(1, Side::Buy, 1, 20)
        };
        let out = run(&mut v, market);
        let filled: Vec<(i64, i64)> = out
            .iter()
            .filter_map(|(k, _)| match k {
                ExecKind::Fill { px, qty, .. } => Some((px.0, qty.0)),
                _ => None,
            })
            .collect();
        assert_eq!(filled, [(100, 5), (101, 3), (103, 10)]);
        assert_eq!(out.last(), Some(&(ExecKind::Expired, 0)));
        assert_eq!(v.account().positions[0], Qty(18));
        assert_eq!(v.resting(), 0, "a market order never rests");
    }

    #[test]
    fn sell_hits_bids_and_a_non_crossing_order_only_expires() {
        let mut v = venue_with_book();
        assert_eq!(
            run(&mut v, order(1, Side::Sell, 98, 5)),
            [
                (ExecKind::Ack, 5),
                (fill(99, 4, 1, 1), 1),
                (fill(98, 1, 1, 2), 0)
            ]
        );
        assert_eq!(
            run(&mut v, order(2, Side::Sell, 120, 1)),
            [(ExecKind::Ack, 1), (ExecKind::Expired, 0)]
        );
    }

    #[test]
    fn no_live_book_means_rejection() {
        let mut v = SimVenue::new(1, Fees::default());
        assert_eq!(
            run(&mut v, order(1, Side::Buy, 100, 1)),
            [(ExecKind::Rejected(VenueReject::NoMarket), 0)]
        );
        let mut o = order(2, Side::Buy, 100, 1);
        o.instrument = InstrumentId(3);
        assert_eq!(
            run(&mut v, o),
            [(ExecKind::Rejected(VenueReject::UnknownInstrument), 0)]
        );
        v.on_market(
            &MarketEvent::Book(BookTop::empty(EventMeta::default(), BookState::Stale)),
            |_| panic!("no resting orders"),
        );
        assert_eq!(
            run(&mut v, order(3, Side::Buy, 100, 1)),
            [(ExecKind::Rejected(VenueReject::NoMarket), 0)]
        );
    }

    fn gtc(id: u64, side: Side, px: i64, qty: i64) -> Order {
        Order {
            tif: TimeInForce::Gtc,
            ..order(id, side, px, qty)
        }
    }

    fn book(bids: &[(i64, i64)], asks: &[(i64, i64)], ts: u64) -> MarketEvent {
        let meta = EventMeta {
            recv_ts: Nanos(ts),
            ..EventMeta::default()
        };
        let mut top = BookTop::empty(meta, BookState::Live);
        for (i, &(px, qty)) in bids.iter().enumerate() {
            top.bids[i] = Level {
                px: Px(px),
                qty: Qty(qty),
            };
        }
        for (i, &(px, qty)) in asks.iter().enumerate() {
            top.asks[i] = Level {
                px: Px(px),
                qty: Qty(qty),
            };
        }
        top.bid_levels = bids.len() as u8;
        top.ask_levels = asks.len() as u8;
        MarketEvent::Book(top)
    }

    fn trade(aggressor: Side, px: i64, qty: i64, ts: u64) -> MarketEvent {
        MarketEvent::Trade(TradeEvent {
            meta: EventMeta {
                recv_ts: Nanos(ts),
                ..EventMeta::default()
            },
            trade_id: ts,
            px: Px(px),
            qty: Qty(qty),
            aggressor,
        })
    }

    /// (client id, kind, leaves, report time) of every report a market event produces.
    fn market(v: &mut SimVenue, e: MarketEvent) -> Vec<(u64, ExecKind, i64, u64)> {
        let mut out = Vec::new();
        v.on_market(&e, |r| {
            out.push((r.client_id.0, r.kind, r.leaves.0, r.ts.0))
        });
        out
    }

    fn maker(px: i64, qty: i64, fee: i128, trade_id: u64) -> ExecKind {
        ExecKind::Fill {
            px: Px(px),
            qty: Qty(qty),
            fee,
            liquidity: Liquidity::Maker,
            trade_id,
        }
    }

    #[test]
    fn a_resting_order_fills_only_after_the_queue_ahead_of_it_trades() {
        let mut v = venue_with_book(); // bids 99 x 4, 98 x 6
        assert_eq!(run(&mut v, gtc(1, Side::Buy, 99, 3)), [(ExecKind::Ack, 3)]);
        assert_eq!(
            v.resting_order(ClientOrderId(1)),
            Some((Qty(3), Some(Qty(4))))
        );
        // A buyer lifting the ask does not trade with bids.
        assert_eq!(market(&mut v, trade(Side::Buy, 100, 50, 10)), []);
        // Sellers hit 99: the first 4 are ahead of us, then 1 of ours fills (partial).
        assert_eq!(market(&mut v, trade(Side::Sell, 99, 3, 11)), []);
        assert_eq!(
            v.resting_order(ClientOrderId(1)),
            Some((Qty(3), Some(Qty(1))))
        );
        // 200 * 99 * 3 ppm... maker fee 2 bps: ceil(99 * 0.0002) = 1.
        assert_eq!(
            market(&mut v, trade(Side::Sell, 99, 2, 12)),
            [(1, maker(99, 1, 1, 1), 2, 12)]
        );
        assert_eq!(
            market(&mut v, trade(Side::Sell, 99, 5, 13)),
            [(1, maker(99, 2, 1, 2), 0, 13)]
        );
        assert_eq!(v.resting(), 0, "a filled order leaves the venue");
        assert_eq!((v.counters.fills, v.counters.maker_fills), (2, 2));
    }

    #[test]
    fn cancels_ahead_advance_the_queue_and_a_trade_through_fills_in_full() {
        let mut v = venue_with_book();
        run(&mut v, gtc(1, Side::Buy, 99, 3));
        // The level shrinks from 4 to 1: three were cancelled ahead of us.
        let shrunk = book(&[(99, 1 + 3), (98, 6)], &[(100, 5)], 20);
        assert_eq!(market(&mut v, shrunk), []);
        assert_eq!(v.resting_order(ClientOrderId(1)).unwrap().1, Some(Qty(4)));
        let shrunk = book(&[(99, 1), (98, 6)], &[(100, 5)], 21);
        assert_eq!(market(&mut v, shrunk), []);
        assert_eq!(v.resting_order(ClientOrderId(1)).unwrap().1, Some(Qty(1)));
        // Growth behind us changes nothing.
        let grown = book(&[(99, 9), (98, 6)], &[(100, 5)], 22);
        market(&mut v, grown);
        assert_eq!(v.resting_order(ClientOrderId(1)).unwrap().1, Some(Qty(1)));
        // A seller printing below our bid went through the whole level: all of ours fills.
        assert_eq!(
            market(&mut v, trade(Side::Sell, 98, 1, 23)),
            [(1, maker(99, 3, 1, 1), 0, 23)]
        );
    }

    #[test]
    fn the_opposite_side_moving_onto_a_resting_order_trades_with_it_as_maker() {
        let mut v = venue_with_book();
        // Sell 10 resting at 102: above the 101 ask, behind nothing at 102 (no level there).
        assert_eq!(
            run(&mut v, gtc(1, Side::Sell, 102, 10)),
            [(ExecKind::Ack, 10)]
        );
        assert_eq!(v.resting_order(ClientOrderId(1)).unwrap().1, Some(Qty(0)));
        // The bids jump to 102 x 4 and 101 x 2: 4 trade with us at our price.
        let up = book(&[(102, 4), (101, 2)], &[(103, 1)], 30);
        assert_eq!(market(&mut v, up), [(1, maker(102, 4, 1, 1), 6, 30)]);
        // And the liquidity taken is gone from the venue's view: an IOC sell finds 101 x 2 only.
        assert_eq!(
            run(&mut v, order(2, Side::Sell, 101, 3)),
            [
                (ExecKind::Ack, 3),
                (fill(101, 2, 1, 2), 1),
                (ExecKind::Expired, 0)
            ]
        );
    }

    #[test]
    fn gtc_takes_what_crosses_and_rests_the_rest_post_only_refuses_to_take() {
        let mut v = venue_with_book(); // asks 100 x 5, 101 x 3, 103 x 10
        assert_eq!(
            run(
                &mut v,
                Order {
                    tif: TimeInForce::PostOnly,
                    ..order(1, Side::Buy, 100, 1)
                }
            ),
            [(ExecKind::Rejected(VenueReject::WouldTake), 0)]
        );
        assert_eq!(
            run(
                &mut v,
                Order {
                    tif: TimeInForce::PostOnly,
                    ..order(2, Side::Buy, 99, 1)
                }
            ),
            [(ExecKind::Ack, 1)]
        );
        assert_eq!(
            run(&mut v, gtc(3, Side::Buy, 100, 7)),
            [(ExecKind::Ack, 7), (fill(100, 5, 1, 1), 2)]
        );
        assert_eq!(
            v.resting_order(ClientOrderId(3)),
            Some((Qty(2), Some(Qty(0))))
        );
        assert_eq!(v.resting(), 2);
        // The venue's side of the account: 5 bought, two orders working (1 and 2 left).
        let account = v.account();
        assert_eq!(account.positions, [Qty(5)]);
        let open: Vec<(u64, i64)> = account
            .open
            .iter()
            .map(|o| (o.order.client_id.0, o.leaves.0))
            .collect();
        assert_eq!(open, [(2, 1), (3, 2)]);
    }

    #[test]
    fn cancel_removes_a_resting_order_and_a_cancel_too_late_is_refused() {
        let mut v = venue_with_book();
        run(&mut v, gtc(1, Side::Buy, 97, 3));
        // 97 lies inside the visible bids (99, 98 ... only two levels: the whole side shows).
        assert_eq!(v.resting_order(ClientOrderId(1)).unwrap().1, Some(Qty(0)));
        let cancel = |id| {
            Request::Cancel(CancelOrder {
                meta: EventMeta {
                    recv_ts: Nanos(40),
                    ..EventMeta::default()
                },
                client_id: ClientOrderId(id),
                instrument: InstrumentId(0),
                side: Side::Buy,
            })
        };
        let mut out = Vec::new();
        v.execute(&cancel(1), |r| out.push((r.kind, r.leaves.0, r.ts.0)));
        v.execute(&cancel(1), |r| out.push((r.kind, r.leaves.0, r.ts.0)));
        assert_eq!(
            out,
            [
                (ExecKind::Cancelled, 0, 40),
                (ExecKind::CancelRejected, 0, 40)
            ]
        );
        assert_eq!(v.resting(), 0);
        assert_eq!((v.counters.cancels, v.counters.cancel_rejects), (1, 1));
        assert_eq!(market(&mut v, trade(Side::Sell, 90, 100, 41)), []);
    }

    #[test]
    fn a_price_beyond_the_visible_depth_has_no_fills_until_its_queue_is_known() {
        let mut v = venue_with_book();
        let deep: Vec<(i64, i64)> = (0..TOP_DEPTH as i64).map(|i| (99 - i, 1)).collect();
        market(&mut v, book(&deep, &[(100, 5)], 50));
        // 80 is below the tenth bid (90): its queue is unknown.
        run(&mut v, gtc(1, Side::Buy, 80, 2));
        assert_eq!(v.resting_order(ClientOrderId(1)).unwrap().1, None);
        assert_eq!(market(&mut v, trade(Side::Sell, 80, 5, 51)), []);
        // The level becomes visible with 3 ahead; then 4 trade there: 1 fills us.
        let near: Vec<(i64, i64)> = [(81, 1), (80, 3)].into_iter().collect();
        market(&mut v, book(&near, &[(100, 5)], 52));
        assert_eq!(v.resting_order(ClientOrderId(1)).unwrap().1, Some(Qty(3)));
        assert_eq!(
            market(&mut v, trade(Side::Sell, 80, 4, 53)),
            [(1, maker(80, 1, 1, 1), 1, 53)]
        );
    }

    #[test]
    fn fill_or_kill_fills_all_within_its_limit_or_nothing() {
        let mut v = venue_with_book(); // asks 100 x 5, 101 x 3, 103 x 10
        let fok = |id, qty| Order {
            tif: TimeInForce::Fok,
            ..order(id, Side::Buy, 101, qty)
        };
        assert_eq!(
            run(&mut v, fok(1, 9)),
            [(ExecKind::Ack, 9), (ExecKind::Expired, 0)],
            "8 within the limit: none of it"
        );
        assert_eq!(v.counters.fills, 0);
        assert_eq!(
            run(&mut v, fok(2, 8)),
            [
                (ExecKind::Ack, 8),
                (fill(100, 5, 1, 1), 3),
                (fill(101, 3, 1, 2), 0)
            ]
        );
        assert_eq!(v.resting(), 0, "a fill-or-kill never rests");
        assert_eq!(v.account().positions, [Qty(8)]);
    }

    #[test]
    fn a_lost_response_hides_the_ack_not_the_order_and_a_query_finds_it() {
        let mut v = venue_with_book().with_lost_responses(2);
        let query = |v: &mut SimVenue, id| {
            let mut out = Vec::new();
            v.execute(
                &Request::Query(CancelOrder {
                    meta: EventMeta::default(),
                    client_id: ClientOrderId(id),
                    instrument: InstrumentId(0),
                    side: Side::Buy,
                }),
                |r| out.push((r.kind, r.leaves.0)),
            );
            out
        };
        assert_eq!(run(&mut v, gtc(1, Side::Buy, 97, 3)), [(ExecKind::Ack, 3)]);
        // The second order's ack is lost; it rests all the same.
        assert_eq!(
            run(&mut v, gtc(2, Side::Buy, 96, 4)),
            [(ExecKind::OutcomeUnknown, 4)]
        );
        assert_eq!(v.resting(), 2);
        assert_eq!(
            query(&mut v, 2),
            [(ExecKind::Status(OrderStatus::Working), 4)]
        );
        // An IOC whose response is lost still trades; asked after, it is done.
        run(&mut v, order(3, Side::Buy, 100, 1));
        let lost = run(&mut v, order(4, Side::Buy, 100, 1));
        assert_eq!(lost[0], (ExecKind::OutcomeUnknown, 1));
        assert!(matches!(lost[1].0, ExecKind::Fill { .. }));
        assert_eq!(query(&mut v, 4), [(ExecKind::Status(OrderStatus::Done), 0)]);
        assert_eq!(
            query(&mut v, 99),
            [(ExecKind::Status(OrderStatus::NotFound), 0)]
        );
        assert_eq!((v.counters.dropped_responses, v.counters.queries), (2, 3));
    }

    #[test]
    fn the_same_inputs_give_the_same_fills() {
        let script = |v: &mut SimVenue| {
            let mut out = Vec::new();
            for (i, e) in [
                Request::New(gtc(1, Side::Buy, 99, 3)),
                Request::New(gtc(2, Side::Sell, 101, 2)),
                Request::New(order(3, Side::Buy, 101, 4)),
            ]
            .iter()
            .enumerate()
            {
                v.execute(e, |r| out.push(r));
                for m in [
                    trade(Side::Sell, 99, 2 + i as i64, 60 + i as u64),
                    trade(Side::Buy, 101, 1, 70 + i as u64),
                    book(&[(99, 1)], &[(101, 1)], 80 + i as u64),
                ] {
                    v.on_market(&m, |r| out.push(r));
                }
            }
            out
        };
        let (a, b) = (
            script(&mut venue_with_book()),
            script(&mut venue_with_book()),
        );
        assert!(a.len() >= 6, "{a:?}");
        assert_eq!(a, b);
    }
}
