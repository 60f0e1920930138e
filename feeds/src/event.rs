//! Events that cross rings. Fixed-size `Copy` types of integers: no heap, no strings, no floats.
//! Every event carries its ingress stamp so latency can be attributed per stage.

use crate::book::Level;
use crate::latency::Stamp;
use crate::num::{InstrumentId, Nanos, Px, Qty, Side};

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
/// `BookReset?`, then `Level`s, then `BookCommit`; the book publishes only at a commit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MdEvent {
    /// Clear the book: a snapshot follows.
    BookReset {
        meta: EventMeta,
    },
    /// Set one level; a zero quantity removes it.
    Level {
        instrument: InstrumentId,
        side: Side,
        px: Px,
        qty: Qty,
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
        match ring.peek() {
            Ok(event) if limit.is_none_or(|t| event.recv_ts() <= t) => {}
            _ => break,
        }
        if let Ok(event) = ring.pop() {
            apply(&event);
            n += 1;
        }
    }
    n
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
