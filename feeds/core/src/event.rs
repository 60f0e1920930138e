//! Events that cross rings. Fixed-size `Copy` types of integers: no heap, no strings, no floats.
//! Every event carries its ingress stamp so latency can be attributed per stage.

use crate::latency::Stamp;
use crate::num::{InstrumentId, Nanos, Px, Qty, Side};

/// One price level: the total quantity resting at a price.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Level {
    pub px: Px,
    pub qty: Qty,
}

/// One decoded price level of a venue's depth diff or snapshot, in the venue's order: a
/// quantity of 0 deletes the level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LevelUpdate {
    pub side: Side,
    pub px: Px,
    pub qty: Qty,
}

/// Where and when an input entered the engine.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EventMeta {
    pub instrument: InstrumentId,
    /// Wall-clock receive time (recorded time on replay): the time logic sees.
    pub recv_ts: Nanos,
    /// TSC stamp at ingress, for latency measurement only.
    pub ingress: Stamp,
}

/// Why a feed gave up on a book until it resyncs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StaleReason {
    /// An update id gap: updates were missed.
    Gap,
    /// Updates arrived faster than the pre-sync buffer could hold.
    BufferOverflow,
    /// The ring towards the book was full.
    RingFull,
    /// The book stage found the rebuilt book crossed and asked for a resync.
    Crossed,
    /// The live session to the venue closed or reopened: updates may have been missed.
    Disconnected,
    /// The venue's checksum of the book disagreed with the rebuilt book (Kraken's CRC32 of the
    /// top ten levels, OKX's of the top 25).
    Checksum,
}

/// Book → feed, on the control ring: resync this instrument's book from a new snapshot. Sent
/// when a commit leaves the book crossed, which no venue book ever is: an update was missed or
/// misapplied, and only a new snapshot can repair it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResyncRequest {
    pub instrument: InstrumentId,
    /// The commit that left the book crossed. The feed ignores the request if the book has
    /// since been rebuilt from a snapshot newer than this (the request is then out of date).
    pub update_id: u64,
}

/// Feed → book: venue-neutral book operations plus trades and venue tickers. A book batch is
/// `BookReset?`, then `Levels` batches, then `BookCommit`; the book publishes only at a commit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MdEvent {
    /// Clear the book: a snapshot follows.
    BookReset {
        meta: EventMeta,
    },
    /// Set up to [`LEVELS_PER_EVENT`] levels, in order; a zero quantity removes one. Built
    /// and read through [`LevelBatch`]; the fields are flat so that the tag shares their
    /// first word and the slot stays the ticker's size.
    Levels {
        instrument: InstrumentId,
        len: u8,
        /// Bit `i` set: level `i` is an ask.
        asks: u8,
        px: [Px; LEVELS_PER_EVENT],
        qty: [Qty; LEVELS_PER_EVENT],
    },
    /// The levels since the last commit form a consistent book as of `update_id`.
    BookCommit {
        meta: EventMeta,
        update_id: u64,
    },
    /// The book can no longer be trusted; it stays stale until the next reset and commit.
    BookStale {
        meta: EventMeta,
        reason: StaleReason,
    },
    Trade(TradeEvent),
    /// The venue's own best bid/ask as of `update_id`: a check on the rebuilt book.
    Ticker(TickerEvent),
}

/// Levels one [`MdEvent::Levels`] carries at most: four fill the slot the largest event (a
/// ticker) needs anyway, so a depth diff crosses the ring in a quarter of the events a level
/// each would take, at no cost in slot size.
pub const LEVELS_PER_EVENT: usize = 4;

/// Up to [`LEVELS_PER_EVENT`] price levels of one instrument's book, in the venue's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LevelBatch {
    pub instrument: InstrumentId,
    len: u8,
    /// Bit `i` set: level `i` is an ask.
    asks: u8,
    px: [Px; LEVELS_PER_EVENT],
    qty: [Qty; LEVELS_PER_EVENT],
}

impl LevelBatch {
    pub fn new(instrument: InstrumentId) -> LevelBatch {
        LevelBatch {
            instrument,
            len: 0,
            asks: 0,
            px: [Px(0); LEVELS_PER_EVENT],
            qty: [Qty(0); LEVELS_PER_EVENT],
        }
    }

    /// Adds a level; `false` (and nothing added) when the batch is full.
    #[must_use]
    pub fn push(&mut self, side: Side, px: Px, qty: Qty) -> bool {
        let i = self.len as usize;
        if i == LEVELS_PER_EVENT {
            return false;
        }
        self.px[i] = px;
        self.qty[i] = qty;
        self.asks |= u8::from(side == Side::Sell) << i;
        self.len += 1;
        true
    }

    /// Events needed for `levels` levels.
    pub fn events_for(levels: usize) -> usize {
        levels.div_ceil(LEVELS_PER_EVENT)
    }

    /// The event that carries this batch.
    pub fn event(self) -> MdEvent {
        MdEvent::Levels {
            instrument: self.instrument,
            len: self.len,
            asks: self.asks,
            px: self.px,
            qty: self.qty,
        }
    }

    /// The instrument, the count and the levels of a batch event, read where the event lies
    /// (the book stage reads them in the ring). A length above [`LEVELS_PER_EVENT`] is taken
    /// as the maximum.
    #[inline]
    #[allow(clippy::type_complexity)]
    pub fn read(
        event: &MdEvent,
    ) -> Option<(
        InstrumentId,
        usize,
        impl Iterator<Item = (Side, Px, Qty)> + '_,
    )> {
        match event {
            MdEvent::Levels {
                instrument,
                len,
                asks,
                px,
                qty,
            } => {
                let n = (*len as usize).min(LEVELS_PER_EVENT);
                let asks = *asks;
                let level = move |i: usize| (side_of(asks, i), px[i], qty[i]);
                Some((*instrument, n, (0..n).map(level)))
            }
            _ => None,
        }
    }
}

/// The side of level `i` of a batch whose asks are the bits `asks`.
#[inline]
fn side_of(asks: u8, i: usize) -> Side {
    if asks & (1 << i) != 0 {
        Side::Sell
    } else {
        Side::Buy
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TradeEvent {
    pub meta: EventMeta,
    pub trade_id: u64,
    pub px: Px,
    pub qty: Qty,
    /// The side of the taker: `Sell` when the buyer was the maker.
    pub aggressor: Side,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TickerEvent {
    pub meta: EventMeta,
    pub update_id: u64,
    pub bid: Level,
    pub ask: Level,
}

/// How many levels per side a [`BookTop`] carries downstream.
pub const TOP_DEPTH: usize = 10;

/// Whether a book may be traded on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BookState {
    Live,
    /// Not synced (before the first snapshot, or after a gap until the resync completes).
    Stale,
    /// Best bid at or above best ask at a commit since the last reset: never traded on, and
    /// stays so until the feed resyncs the book from a new snapshot.
    Crossed,
}

/// Book → strategy, risk and gateway: the top of one instrument's book after a commit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BookTop {
    pub meta: EventMeta,
    pub update_id: u64,
    pub state: BookState,
    pub bid_levels: u8,
    pub ask_levels: u8,
    pub bids: [Level; TOP_DEPTH],
    pub asks: [Level; TOP_DEPTH],
}

impl BookTop {
    pub fn empty(meta: EventMeta, state: BookState) -> BookTop {
        BookTop {
            meta,
            update_id: 0,
            state,
            bid_levels: 0,
            ask_levels: 0,
            bids: [Level::default(); TOP_DEPTH],
            asks: [Level::default(); TOP_DEPTH],
        }
    }

    /// A book of one level a side: the touch.
    pub fn with_touch(meta: EventMeta, state: BookState, bid: Level, ask: Level) -> BookTop {
        let mut top = BookTop::empty(meta, state);
        top.bids[0] = bid;
        top.asks[0] = ask;
        (top.bid_levels, top.ask_levels) = (1, 1);
        top
    }

    pub fn bids(&self) -> &[Level] {
        &self.bids[..self.bid_levels as usize]
    }

    pub fn asks(&self) -> &[Level] {
        &self.asks[..self.ask_levels as usize]
    }

    pub fn best_bid(&self) -> Option<Level> {
        self.bids().first().copied()
    }

    pub fn best_ask(&self) -> Option<Level> {
        self.asks().first().copied()
    }

    /// Mid price, rounded down to the price scale; `None` unless both sides are present.
    pub fn mid(&self) -> Option<Px> {
        let (bid, ask) = (self.best_bid()?, self.best_ask()?);
        Some(Px(bid.px.0 + (ask.px.0 - bid.px.0) / 2))
    }
}

/// Book → downstream stages. The size difference between variants is deliberate: ring slots
/// are fixed-size `Copy` values, and boxing the book top would allocate on the hot path.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarketEvent {
    Book(BookTop),
    Trade(TradeEvent),
}

impl MarketEvent {
    /// When the input behind this event was received: the time logic orders events by.
    pub fn recv_ts(&self) -> Nanos {
        match self {
            MarketEvent::Book(top) => top.meta.recv_ts,
            MarketEvent::Trade(trade) => trade.meta.recv_ts,
        }
    }
}

/// Applies market events from `ring` in order, at most `budget`, stopping before the first one
/// received after `limit` (`None`: no limit). A stage that acts on an order first applies the
/// market only up to the order's trigger this way, so a fast replay never decides or fills on
/// the future. Returns how many were applied.
pub fn drain_market_until(
    ring: &mut rtrb::Consumer<MarketEvent>,
    limit: Option<Nanos>,
    budget: usize,
    mut apply: impl FnMut(&MarketEvent),
) -> usize {
    let mut n = 0;
    while n < budget {
        // Applied where it lies in the ring: a book top is a few hundred bytes, and popping
        // it would copy it out first.
        match ring.peek() {
            Ok(event) if limit.is_none_or(|t| event.recv_ts() <= t) => apply(event),
            _ => break,
        }
        consume_one(ring);
        n += 1;
    }
    n
}

/// Frees the slot at the front of `ring` without copying its value out.
#[inline]
fn consume_one<T>(ring: &mut rtrb::Consumer<T>) {
    if let Ok(chunk) = ring.read_chunk(1) {
        chunk.commit_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trade_at(ts: u64) -> MarketEvent {
        MarketEvent::Trade(TradeEvent {
            meta: EventMeta {
                recv_ts: Nanos(ts),
                ..EventMeta::default()
            },
            trade_id: ts,
            px: Px(1),
            qty: Qty(1),
            aggressor: Side::Buy,
        })
    }

    #[test]
    fn a_level_batch_keeps_order_and_sides_and_fits_the_ticker_slot() {
        let mut batch = LevelBatch::new(InstrumentId(3));
        let levels = [
            (Side::Sell, Px(11), Qty(0)),
            (Side::Buy, Px(10), Qty(2)),
            (Side::Sell, Px(12), Qty(5)),
            (Side::Buy, Px(9), Qty(1)),
        ];
        let event = batch.event();
        let (_, n, read) = LevelBatch::read(&event).expect("a batch");
        assert_eq!((n, read.count()), (0, 0), "empty");
        for (side, px, qty) in levels {
            assert!(batch.push(side, px, qty));
        }
        assert!(!batch.push(Side::Buy, Px(8), Qty(1)), "a fifth level");
        let event = batch.event();
        let (instrument, n, read) = LevelBatch::read(&event).expect("a batch");
        assert_eq!((instrument, n), (InstrumentId(3), 4));
        assert_eq!(
            read.collect::<Vec<_>>(),
            levels,
            "through the ring, in order"
        );
        let reset = MdEvent::BookReset {
            meta: EventMeta::default(),
        };
        assert!(LevelBatch::read(&reset).is_none());
        assert_eq!([0, 1, 4, 5, 9].map(LevelBatch::events_for), [0, 1, 1, 2, 3]);
        // Four levels cost no slot size: the ticker sets it.
        assert_eq!(
            std::mem::size_of::<MdEvent>(),
            std::mem::size_of::<TickerEvent>() + 8
        );
    }

    #[test]
    fn draining_stops_at_the_limit_and_the_budget() {
        let (mut tx, mut rx) = rtrb::RingBuffer::new(8);
        for ts in [10, 20, 20, 30, 40] {
            tx.push(trade_at(ts)).unwrap();
        }
        let mut seen = Vec::new();
        let n = drain_market_until(&mut rx, Some(Nanos(20)), 8, |e| seen.push(e.recv_ts().0));
        assert_eq!(
            (n, seen.as_slice()),
            (3, &[10, 20, 20][..]),
            "later events wait"
        );
        let n = drain_market_until(&mut rx, None, 1, |e| seen.push(e.recv_ts().0));
        assert_eq!(
            (n, seen.last()),
            (1, Some(&30)),
            "the budget bounds one call"
        );
        assert_eq!(drain_market_until(&mut rx, Some(Nanos(39)), 8, |_| {}), 0);
        assert_eq!(drain_market_until(&mut rx, None, 8, |_| {}), 1);
    }
}
