//! Keeping one product's Coinbase Advanced Trade book, per the `level2` channel
//! (<https://docs.cdp.coinbase.com/advanced-trade/docs/ws-channels>):
//!
//! 1. After subscribing, the first `l2_data` event of a product is a `snapshot`: the whole
//!    book, every level from the touch to the far end. It replaces the local book.
//! 2. `update` events carry levels with their new absolute quantity; `"0"` deletes.
//! 3. No book sequence: the connection's `sequence_num` guards every book of the connection
//!    at once (the adapter's [`ConnectionSequence`](super::sequence::ConnectionSequence)). A
//!    break in it makes every book stale ([`ProductSync::invalidate`]) until its product's
//!    next snapshot, which a resubscription (`unsubscribe`, then `subscribe`) brings.
//!
//! Where the docs are silent: an update deleting a price the book does not hold is ignored and
//! counted ([`SyncCounters::absent_deletes`]); to know it, the sync keeps the prices each side
//! holds (at most [`SIDE_CAPACITY`]). A snapshot level of quantity `"0"` is left out, and a price
//! a snapshot names twice is kept once. Each commit's update id is the `sequence_num` of the
//! frame it came in.
//!
//! A snapshot's levels are handed to the book in the order its layout takes best, on each side:
//! the best level first, which places the book's window at the touch, then the others worst
//! first (bids ascending, asks descending), so that every level beyond the window lands at the
//! better end of its sorted overflow, where inserting moves nothing. In the venue's order (best
//! first) each far level would shift every one stored before it, quadratic in a book of 46,000
//! levels; worst first throughout, the window would follow the touch up from 0.01, re-centring
//! every few levels where they are sparse (`pulse-bench venues --case coinbase`: 21.6 ms at p99
//! for the 46,000-level message, against 6.4 ms for sonic-rs into a `BTreeMap`).
use crate::stale::StaleRules;

use crate::coinbase_at::codec::{BookKind, SIDE_CAPACITY};
use crate::event::{EventMeta, LevelBatch, MdEvent, StaleReason};
use crate::levels::{stage_levels, LevelUpdate};
use crate::num::{InstrumentId, Px, Side};
use crate::outbox::Outbox;
use crate::sync_counters::SyncCounters;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SyncState {
    AwaitingSnapshot,
    Synced {
        /// The `sequence_num` of the snapshot this sync started from.
        snapshot_seq: u64,
    },
}

/// One side's prices by rank (`px` for bids, `-px` for asks), ascending: the best last, so that
/// the changes near the touch move few entries. Preallocated.
struct Prices(Vec<i64>);

impl Prices {
    fn new() -> Prices {
        Prices(Vec::with_capacity(SIDE_CAPACITY))
    }

    /// Sets or deletes the price of `rank`; `Some(false)` when a delete found nothing, `None`
    /// when the side is full.
    fn apply(&mut self, rank: i64, delete: bool) -> Option<bool> {
        let at = self.0.partition_point(|r| *r < rank);
        let present = self.0.get(at) == Some(&rank);
        match (delete, present) {
            (true, true) => {
                self.0.remove(at);
            }
            (true, false) => return Some(false),
            (false, true) => {}
            (false, false) if self.0.len() == SIDE_CAPACITY => return None,
            (false, false) => self.0.insert(at, rank),
        }
        Some(true)
    }
}

/// A level's rank on its side: larger is better.
fn rank(l: &LevelUpdate) -> i64 {
    l.side.sign() * l.px.0
}

/// Orders a snapshot's levels bids then asks, each worst first, each price once; in place, no
/// allocation. The venue lists them bids then offers, each best first with no price twice:
/// then reversing each side is enough, and only another order is sorted.
fn worst_first(levels: &mut Vec<LevelUpdate>) {
    let venue_order = |a: &LevelUpdate, b: &LevelUpdate| {
        (a.side == Side::Sell, -rank(a)) < (b.side == Side::Sell, -rank(b))
    };
    if levels.windows(2).all(|w| venue_order(&w[0], &w[1])) {
        let bids = levels.partition_point(|l| l.side == Side::Buy);
        let (bid_levels, ask_levels) = levels.split_at_mut(bids);
        bid_levels.reverse();
        ask_levels.reverse();
        return;
    }
    levels.sort_unstable_by_key(|l| (l.side == Side::Sell, rank(l)));
    levels.dedup_by_key(|l| (l.side, l.px));
}

pub struct ProductSync {
    instrument: InstrumentId,
    state: SyncState,
    bids: Prices,
    asks: Prices,
    /// Whether the book went stale on its own account (a connection gap, a crossed book, a
    /// full ring) since it last synced: a live session resubscribes it. A lost connection does
    /// not count: reconnecting subscribes every book again anyway.
    pub wants_snapshot: bool,
    pub counters: SyncCounters,
}

impl ProductSync {
    pub fn new(instrument: InstrumentId) -> ProductSync {
        ProductSync {
            instrument,
            state: SyncState::AwaitingSnapshot,
            bids: Prices::new(),
            asks: Prices::new(),
            wants_snapshot: false,
            counters: SyncCounters::default(),
        }
    }

    pub fn instrument(&self) -> InstrumentId {
        self.instrument
    }

    pub fn is_synced(&self) -> bool {
        matches!(self.state, SyncState::Synced { .. })
    }

    /// How many prices the book holds on `side`.
    pub fn depth(&self, side: Side) -> usize {
        match side {
            Side::Buy => self.bids.0.len(),
            Side::Sell => self.asks.0.len(),
        }
    }

    /// The prices the book holds on `side`, best first.
    pub fn prices(&self, side: Side) -> impl Iterator<Item = Px> + '_ {
        let prices = match side {
            Side::Buy => &self.bids,
            Side::Sell => &self.asks,
        };
        let sign = side.sign();
        prices.0.iter().rev().map(move |r| Px(r * sign))
    }

    /// Room an outbox needs for one event of `levels` levels: a reset, the levels, a commit
    /// and a stale mark.
    pub fn max_staged(levels: usize) -> usize {
        LevelBatch::events_for(levels) + 3
    }

    /// Applies one `l2_data` event of this product that came in the frame numbered `seq`.
    /// `scratch` is the adapter's buffer for the levels to stage.
    pub fn on_event(
        &mut self,
        meta: EventMeta,
        kind: BookKind,
        seq: u64,
        levels: &[LevelUpdate],
        scratch: &mut Vec<LevelUpdate>,
        out: &mut Outbox,
    ) {
        match kind {
            BookKind::Snapshot => self.on_snapshot(meta, seq, levels, scratch, out),
            BookKind::Update => self.on_update(meta, seq, levels, scratch, out),
        }
    }

    fn on_snapshot(
        &mut self,
        meta: EventMeta,
        seq: u64,
        levels: &[LevelUpdate],
        scratch: &mut Vec<LevelUpdate>,
        out: &mut Outbox,
    ) {
        if out.remaining() < ProductSync::max_staged(levels.len()) {
            self.go_stale(meta, StaleReason::RingFull, out);
            return;
        }
        scratch.clear();
        scratch.extend(levels.iter().filter(|l| l.qty.0 > 0));
        worst_first(scratch);
        let bids = scratch.partition_point(|l| l.side == Side::Buy);
        if bids > SIDE_CAPACITY || scratch.len() - bids > SIDE_CAPACITY {
            self.go_stale(meta, StaleReason::BufferOverflow, out);
            self.state = SyncState::AwaitingSnapshot;
            return;
        }
        self.bids.0.clear();
        self.bids.0.extend(scratch[..bids].iter().map(rank));
        self.asks.0.clear();
        // Asks sorted worst first are ascending in rank already.
        self.asks.0.extend(scratch[bids..].iter().map(rank));
        // The best of each side to its front (see the module docs); an empty side stays.
        let (bid_levels, ask_levels) = scratch.split_at_mut(bids);
        for side in [bid_levels, ask_levels] {
            if !side.is_empty() {
                side.rotate_right(1);
            }
        }
        let staged = out.push(MdEvent::BookReset { meta })
            && stage_levels(self.instrument, scratch, out)
            && out.push(MdEvent::BookCommit {
                meta,
                update_id: seq,
            });
        debug_assert!(staged, "outbox room was checked above");
        if self.counters.snapshots > 0 && !self.is_synced() {
            self.counters.resyncs += 1;
        }
        self.counters.snapshots += 1;
        self.counters.last_update_id = seq;
        self.state = SyncState::Synced { snapshot_seq: seq };
        self.wants_snapshot = false;
    }

    fn on_update(
        &mut self,
        meta: EventMeta,
        seq: u64,
        levels: &[LevelUpdate],
        scratch: &mut Vec<LevelUpdate>,
        out: &mut Outbox,
    ) {
        self.counters.diffs += 1;
        if !self.is_synced() {
            // Before the first snapshot, or stale and waiting for the next.
            self.counters.dropped += 1;
            return;
        }
        if out.remaining() < ProductSync::max_staged(levels.len()) {
            self.go_stale(meta, StaleReason::RingFull, out);
            return;
        }
        scratch.clear();
        for l in levels {
            let side = match l.side {
                Side::Buy => &mut self.bids,
                Side::Sell => &mut self.asks,
            };
            match side.apply(rank(l), l.qty.0 == 0) {
                None => {
                    self.go_stale(meta, StaleReason::BufferOverflow, out);
                    return;
                }
                Some(false) => self.counters.absent_deletes += 1,
                Some(true) => scratch.push(*l),
            }
        }
        let staged = stage_levels(self.instrument, scratch, out)
            && out.push(MdEvent::BookCommit {
                meta,
                update_id: seq,
            });
        debug_assert!(staged, "outbox room was checked above");
        self.counters.applied += 1;
        self.counters.last_update_id = seq;
    }

    /// The connection's sequence broke: whatever this book was, it may have missed an event,
    /// its snapshot included. Counted as a gap of this book; it wants a new snapshot even when
    /// it was already waiting for one (the one on its way may be what was lost).
    pub fn invalidate(&mut self, meta: EventMeta, out: &mut Outbox) {
        self.counters.gaps += 1;
        self.go_stale(meta, StaleReason::Gap, out);
        self.wants_snapshot = true;
    }

    /// A new connection (its `sequence_num` started again): the book waits for the snapshot
    /// the new subscription brings, without a resubscription of its own.
    pub fn restart(&mut self, meta: EventMeta, out: &mut Outbox) {
        self.counters.sequence_resets += 1;
        self.go_stale(meta, StaleReason::Disconnected, out);
    }

    /// Marks the book stale (once: a book already awaiting a snapshot says nothing new).
    fn go_stale(&mut self, meta: EventMeta, reason: StaleReason, out: &mut Outbox) {
        if !self.is_synced() {
            return;
        }
        self.state = SyncState::AwaitingSnapshot;
        self.wants_snapshot = reason != StaleReason::Disconnected;
        // Every room check keeps one slot spare for this event; the adapter's capacity holds
        // one per book beyond the largest frame for the marks of a connection gap.
        let _ = out.push(MdEvent::BookStale {
            meta: EventMeta {
                instrument: self.instrument,
                ..meta
            },
            reason,
        });
    }
}

impl StaleRules for ProductSync {
    fn synced_since(&self) -> Option<u64> {
        match self.state {
            SyncState::Synced { snapshot_seq, .. } => Some(snapshot_seq),
            SyncState::AwaitingSnapshot => None,
        }
    }

    fn mark_stale(&mut self, meta: EventMeta, reason: StaleReason, out: &mut Outbox) {
        self.go_stale(meta, reason, out);
    }

    fn counters_mut(&mut self) -> &mut SyncCounters {
        &mut self.counters
    }
}
