//! Keeping a local Bybit book, per Bybit's v5 "Orderbook" stream
//! (<https://bybit-exchange.github.io/docs/v5/websocket/public/orderbook>):
//!
//! 1. After subscribing, the first push is `"type":"snapshot"`; later ones are `"delta"`: set
//!    each level, size `"0"` deletes. A snapshot at any time replaces the book (Bybit re-sends
//!    one when its service had a problem).
//! 2. `data.u` is the book's update id: a delta must carry the previous push's `u` plus one,
//!    anything else is a gap: the book goes stale and waits for a new snapshot (live, the
//!    adapter resubscribes that topic alone). `data.seq` is recorded, not checked (the docs
//!    give it no continuity rule).
//! 3. A snapshot with `u == 1` is a service restart: the book is overwritten from it, and the
//!    restart counted ([`SyncCounters::sequence_resets`]).
//! 4. Depth 1 (`orderbook.1`) pushes only snapshots; one with the same `u` as the last, sent
//!    when nothing changed for 3 s, says "no change" (nothing to apply, still in sync). Spot
//!    and linear follow the same rules (the docs list them together; only push rates differ).
//!
//! Where the docs are silent: a delta deleting a price the book does not hold is ignored and
//! counted ([`BookSync::absent_deletes`]); to know it, the sync keeps the prices each side
//! holds (at most [`SIDE_CAPACITY`]: Bybit's deepest book is 1000 a side).
use crate::stale::StaleRules;

use crate::bybit::codec::BookKind;
use crate::event::{EventMeta, LevelBatch, MdEvent, StaleReason};
use crate::levels::{stage_levels, LevelUpdate};
use crate::num::{InstrumentId, Px, Side};
use crate::outbox::Outbox;
use crate::sync_counters::SyncCounters;

/// Prices a side holds at most: above Bybit's deepest book (1000 a side).
pub const SIDE_CAPACITY: usize = 1_024;

/// One `orderbook` push, as the sync rules need it (its levels apart).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BookPush {
    pub kind: BookKind,
    pub depth: u16,
    pub update_id: u64,
    pub seq: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SyncState {
    AwaitingSnapshot,
    Synced {
        /// The last push's `u`.
        last_u: u64,
        /// The `u` of the snapshot this sync started from.
        snapshot_u: u64,
    },
}

/// The prices one side of the book holds, sorted ascending, preallocated.
struct Prices(Vec<Px>);

impl Prices {
    fn new() -> Prices {
        Prices(Vec::with_capacity(SIDE_CAPACITY))
    }

    /// Sets or deletes `px`; `Some(false)` when a delete found nothing, `None` when full.
    fn apply(&mut self, px: Px, delete: bool) -> Option<bool> {
        let at = self.0.partition_point(|p| *p < px);
        let present = self.0.get(at) == Some(&px);
        match (delete, present) {
            (true, true) => {
                self.0.remove(at);
            }
            (true, false) => return Some(false),
            (false, true) => {}
            (false, false) if self.0.len() == SIDE_CAPACITY => return None,
            (false, false) => self.0.insert(at, px),
        }
        Some(true)
    }
}

pub struct BookSync {
    instrument: InstrumentId,
    state: SyncState,
    bids: Prices,
    asks: Prices,
    /// The levels of the push being applied, absent deletes left out.
    staged: Vec<LevelUpdate>,
    /// Whether the book went stale on its own account (a gap, a crossed book, a full ring)
    /// since it last synced: a live session resubscribes it. A lost connection does not count:
    /// reconnecting subscribes every book again anyway.
    pub wants_snapshot: bool,
    /// Deletes of a price the book did not hold: ignored.
    pub absent_deletes: u64,
    /// The last push's `data.seq`.
    pub last_seq: u64,
    pub counters: SyncCounters,
}

impl BookSync {
    pub fn new(instrument: InstrumentId, max_levels_per_message: usize) -> BookSync {
        BookSync {
            instrument,
            state: SyncState::AwaitingSnapshot,
            bids: Prices::new(),
            asks: Prices::new(),
            staged: Vec::with_capacity(max_levels_per_message),
            wants_snapshot: false,
            absent_deletes: 0,
            last_seq: 0,
            counters: SyncCounters::default(),
        }
    }

    pub fn is_synced(&self) -> bool {
        matches!(self.state, SyncState::Synced { .. })
    }

    pub fn instrument(&self) -> InstrumentId {
        self.instrument
    }

    /// The prices the book holds on `side`, best first.
    pub fn prices(&self, side: Side) -> impl Iterator<Item = Px> + '_ {
        let (prices, best_first): (&Prices, bool) = match side {
            Side::Buy => (&self.bids, false),
            Side::Sell => (&self.asks, true),
        };
        let n = prices.0.len();
        (0..n).map(move |i| prices.0[if best_first { i } else { n - 1 - i }])
    }

    /// The largest number of events one push can stage.
    pub fn max_staged(max_levels_per_message: usize) -> usize {
        LevelBatch::events_for(max_levels_per_message) + 4
    }

    pub fn on_push(
        &mut self,
        meta: EventMeta,
        push: BookPush,
        levels: &[LevelUpdate],
        out: &mut Outbox,
    ) {
        self.last_seq = push.seq;
        match push.kind {
            BookKind::Snapshot => self.on_snapshot(meta, push, levels, out),
            BookKind::Delta => self.on_delta(meta, push, levels, out),
        }
    }

    fn on_snapshot(
        &mut self,
        meta: EventMeta,
        push: BookPush,
        levels: &[LevelUpdate],
        out: &mut Outbox,
    ) {
        let u = push.update_id;
        if let SyncState::Synced { last_u, .. } = self.state {
            if u == last_u && u != 1 {
                // Depth 1's "no change" snapshot, repeated after 3 s: nothing to apply.
                self.counters.dropped += 1;
                return;
            }
        }
        if out.remaining() < LevelBatch::events_for(levels.len()) + 3 {
            self.go_stale(meta, StaleReason::RingFull, out);
            return;
        }
        self.bids.0.clear();
        self.asks.0.clear();
        if !self.take(levels) {
            self.go_stale(meta, StaleReason::BufferOverflow, out);
            self.state = SyncState::AwaitingSnapshot;
            return;
        }
        let staged = out.push(MdEvent::BookReset { meta })
            && stage_levels(self.instrument, &self.staged, out)
            && out.push(MdEvent::BookCommit { meta, update_id: u });
        debug_assert!(staged, "outbox room was checked above");
        let was_synced = self.is_synced();
        if u == 1 && self.counters.snapshots > 0 {
            self.counters.sequence_resets += 1;
        }
        if was_synced && push.depth == 1 {
            // Depth 1 pushes only snapshots: each is an update of the one-level book.
            self.counters.applied += 1;
        } else {
            if self.counters.snapshots > 0 && !was_synced {
                self.counters.resyncs += 1;
            }
            self.counters.snapshots += 1;
        }
        self.state = SyncState::Synced {
            last_u: u,
            snapshot_u: u,
        };
        self.wants_snapshot = false;
        self.counters.last_update_id = u;
    }

    fn on_delta(
        &mut self,
        meta: EventMeta,
        push: BookPush,
        levels: &[LevelUpdate],
        out: &mut Outbox,
    ) {
        self.counters.diffs += 1;
        let SyncState::Synced { last_u, snapshot_u } = self.state else {
            // Waiting for a snapshot: nothing to apply this to.
            self.counters.dropped += 1;
            return;
        };
        if last_u.checked_add(1) != Some(push.update_id) {
            self.counters.gaps += 1;
            self.go_stale(meta, StaleReason::Gap, out);
            return;
        }
        if out.remaining() < LevelBatch::events_for(levels.len()) + 2 {
            self.go_stale(meta, StaleReason::RingFull, out);
            return;
        }
        if !self.take(levels) {
            self.go_stale(meta, StaleReason::BufferOverflow, out);
            return;
        }
        let update_id = push.update_id;
        let staged = stage_levels(self.instrument, &self.staged, out)
            && out.push(MdEvent::BookCommit { meta, update_id });
        debug_assert!(staged, "outbox room was checked above");
        self.state = SyncState::Synced {
            last_u: update_id,
            snapshot_u,
        };
        self.counters.applied += 1;
        self.counters.last_update_id = update_id;
    }

    /// Applies `levels` to the price sets and gathers those to stage in `staged`; `false`
    /// when a side would hold more than [`SIDE_CAPACITY`] prices.
    fn take(&mut self, levels: &[LevelUpdate]) -> bool {
        self.staged.clear();
        for l in levels {
            let side = match l.side {
                Side::Buy => &mut self.bids,
                Side::Sell => &mut self.asks,
            };
            match side.apply(l.px, l.qty.0 == 0) {
                None => return false,
                Some(false) => self.absent_deletes += 1,
                Some(true) => self.staged.push(*l),
            }
        }
        true
    }

    /// Marks the book stale (once: a book already awaiting a snapshot says nothing new).
    fn go_stale(&mut self, meta: EventMeta, reason: StaleReason, out: &mut Outbox) {
        if !self.is_synced() {
            return;
        }
        self.state = SyncState::AwaitingSnapshot;
        self.wants_snapshot = reason != StaleReason::Disconnected;
        // Every room check keeps one slot spare for this event (the `+ 2`/`+ 3` above).
        let _ = out.push(MdEvent::BookStale {
            meta: EventMeta {
                instrument: self.instrument,
                ..meta
            },
            reason,
        });
    }
}

impl StaleRules for BookSync {
    fn synced_since(&self) -> Option<u64> {
        match self.state {
            SyncState::Synced { snapshot_u, .. } => Some(snapshot_u),
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
