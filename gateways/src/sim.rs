//! The simulated venue: fills orders against its own view of the book, the way a venue would.
//!
//! An IOC limit order walks the opposite side from the touch while the level price is within
//! the limit, taking what each level shows; what it takes is gone from the venue's view until
//! the next book update replaces it (so two orders cannot fill against the same liquidity).
//! Fees are charged on notional, rounded up to the notional scale (never in our favour).

use pulse_feeds::book::Level;
use pulse_feeds::event::{BookState, BookTop, MarketEvent};
use pulse_feeds::num::{Qty, Side};

use crate::order::{ExecKind, ExecReport, Liquidity, Order, VenueReject};

/// The most reports one order can produce: ack, one fill per visible level, expiry.
pub const MAX_REPORTS_PER_ORDER: usize = pulse_feeds::event::TOP_DEPTH + 2;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SimCounters {
    pub orders: u64,
    pub fills: u64,
    pub rejects: u64,
    pub expired: u64,
}

pub struct SimVenue {
    books: Vec<Option<BookTop>>,
    taker_fee_ppm: i64,
    next_trade_id: u64,
    pub counters: SimCounters,
}

impl SimVenue {
    pub fn new(instruments: usize, taker_fee_ppm: i64) -> SimVenue {
        SimVenue {
            books: vec![None; instruments],
            taker_fee_ppm,
            next_trade_id: 1,
            counters: SimCounters::default(),
        }
    }

    pub fn on_market(&mut self, event: &MarketEvent) {
        if let MarketEvent::Book(top) = event {
            if let Some(slot) = self.books.get_mut(top.meta.instrument.0 as usize) {
                *slot = Some(*top);
            }
        }
    }

    /// Executes one order, handing each report to `emit` (at most [`MAX_REPORTS_PER_ORDER`]).
    pub fn execute(&mut self, order: &Order, mut emit: impl FnMut(ExecReport)) {
        self.counters.orders += 1;
        let report = |kind, leaves| ExecReport {
            meta: order.meta,
            client_id: order.client_id,
            instrument: order.instrument,
            side: order.side,
            kind,
            leaves,
            ts: order.meta.recv_ts,
        };
        let reject = match self.books.get(order.instrument.0 as usize) {
            None => Some(VenueReject::UnknownInstrument),
            Some(None) => Some(VenueReject::NoMarket),
            Some(Some(top)) if top.state != BookState::Live => Some(VenueReject::NoMarket),
            Some(Some(_)) if order.qty.0 <= 0 => Some(VenueReject::InvalidQuantity),
            Some(Some(_)) => None,
        };
        if let Some(reason) = reject {
            self.counters.rejects += 1;
            emit(report(ExecKind::Rejected(reason), Qty(0)));
            return;
        }
        emit(report(ExecKind::Ack, order.qty));
        let Some(Some(top)) = self.books.get_mut(order.instrument.0 as usize) else {
            return;
        };
        let (levels, count) = match order.side {
            Side::Buy => (&mut top.asks, top.ask_levels as usize),
            Side::Sell => (&mut top.bids, top.bid_levels as usize),
        };
        let crosses = |level: &Level| match order.side {
            Side::Buy => level.px <= order.px,
            Side::Sell => level.px >= order.px,
        };
        let mut leaves = order.qty.0;
        for level in levels[..count].iter_mut() {
            if leaves == 0 || !crosses(level) {
                break;
            }
            let take = leaves.min(level.qty.0);
            if take == 0 {
                continue;
            }
            level.qty.0 -= take;
            leaves -= take;
            let notional = level.px.0 as i128 * take as i128;
            let fee = (notional * self.taker_fee_ppm as i128 + 999_999) / 1_000_000;
            let trade_id = self.next_trade_id;
            self.next_trade_id += 1;
            self.counters.fills += 1;
            emit(report(
                ExecKind::Fill {
                    px: level.px,
                    qty: Qty(take),
                    fee,
                    liquidity: Liquidity::Taker,
                    trade_id,
                },
                Qty(leaves),
            ));
        }
        if leaves > 0 {
            self.counters.expired += 1;
            emit(report(ExecKind::Expired, Qty(0)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pulse_feeds::event::EventMeta;
    use pulse_feeds::num::{InstrumentId, Nanos, Px};

    use crate::order::{ClientOrderId, TimeInForce};

    fn venue_with_book() -> SimVenue {
        let mut v = SimVenue::new(1, 1_000); // 10 bps
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
        v.on_market(&MarketEvent::Book(top));
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
        v.execute(&o, |r| out.push((r.kind, r.leaves.0)));
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
                rejects: 0,
                expired: 1
            }
        );
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
        let mut v = SimVenue::new(1, 0);
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
        v.on_market(&MarketEvent::Book(BookTop::empty(
            EventMeta::default(),
            BookState::Stale,
        )));
        assert_eq!(
            run(&mut v, order(3, Side::Buy, 100, 1)),
            [(ExecKind::Rejected(VenueReject::NoMarket), 0)]
        );
    }
}
