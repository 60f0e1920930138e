//! Keeping a local OKX book, per OKX's v5 "Order book channel" procedure
//! (<https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-order-book-channel>):
//!
//! 1. After subscribing, the first push is `"action":"snapshot"` (400 levels a side for
//!    `books`); every later one is `"action":"update"`: set each level, size `"0"` deletes.
//!    `books5` and `bbo-tbt` pushes carry no `action`: each is the whole book of its depth.
//! 2. Where the pushes carry `seqId`/`prevSeqId`, an update's `prevSeqId` must equal the
//!    previous push's `seqId` (a snapshot's `prevSeqId` is `-1`). Two documented exceptions:
//!    `seqId == prevSeqId` is the "no change" message (nothing to apply, still in sync), and
//!    after maintenance OKX may reset the sequence: `seqId < prevSeqId`, accepted and counted
//!    (`sequence_resets`). Anything else is a gap.
//! 3. Each push's `checksum` is the signed CRC32 of the top 25 levels after applying it
//!    ([`checksum`](crate::okx::checksum)); 0 means absent (OKX deprecates the field in 2026).
//!
//! Real data decides where the document is silent: the bundled 2022 capture predates `seqId`
//! (no push carries it), so there the checksum alone guards the book, on snapshots as well as
//! updates (all 290 agree). The checksum is checked against the adapter's own copy before the
//! update reaches the book stage, so a book that fails it is never published: the update is
//! withheld and a `BookStale` (`Checksum`) staged instead.
//!
//! A gap or a mismatch marks that book stale; it waits for a new snapshot (a resubscription
//! live, the capture's next snapshot in replay). Updates meanwhile are dropped and counted.
use crate::stale::StaleRules;

use crate::event::{EventMeta, LevelBatch, MdEvent, StaleReason, LEVELS_PER_EVENT};
use crate::num::InstrumentId;
use crate::okx::checksum::TopBook;
use crate::okx::frame::{BookAction, OkxLevel};
use crate::outbox::Outbox;
use crate::sync_counters::SyncCounters;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SyncState {
    AwaitingSnapshot,
    Synced {
        /// The last push's `seqId`, where the venue sends one.
        seq: Option<i64>,
        /// The update id of the snapshot this sync started from (0 after a sequence reset:
        /// ids before and after it do not compare).
        snapshot_id: u64,
    },
}

/// One `books` push, as the sync rules need it (its levels apart).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BookPush {
    pub action: BookAction,
    pub seq_id: Option<i64>,
    pub prev_seq_id: Option<i64>,
    /// 0: absent.
    pub checksum: i32,
    /// Milliseconds.
    pub ts: u64,
}

impl BookPush {
    /// The id a commit carries: `seqId` where sent, else the venue's time in milliseconds.
    fn update_id(&self) -> u64 {
        match self.seq_id {
            // 0 too is no id: a ticker's update id is 0, and must never match a commit's.
            Some(seq) if seq > 0 => seq as u64,
            _ => self.ts,
        }
    }
}

pub struct BookSync {
    instrument: InstrumentId,
    state: SyncState,
    /// The book as wire strings, for the checksum.
    top: TopBook,
    /// Whether the book went stale on its own account (a gap, a mismatch, a crossed book, a
    /// full ring) since it last synced: a live session resubscribes it. A lost connection
    /// does not count: reconnecting subscribes every book again anyway.
    pub wants_snapshot: bool,
    pub counters: SyncCounters,
}

impl BookSync {
    pub fn new(instrument: InstrumentId) -> BookSync {
        BookSync {
            instrument,
            state: SyncState::AwaitingSnapshot,
            top: TopBook::new(),
            wants_snapshot: false,
            counters: SyncCounters::default(),
        }
    }

    pub fn is_synced(&self) -> bool {
        matches!(self.state, SyncState::Synced { .. })
    }

    pub fn instrument(&self) -> InstrumentId {
        self.instrument
    }

    /// The adapter's own copy of the book (wire strings).
    pub fn top(&self) -> &TopBook {
        &self.top
    }

    /// The largest number of events one push can stage.
    pub fn max_staged(max_levels_per_message: usize) -> usize {
        LevelBatch::events_for(max_levels_per_message) + 4
    }

    pub fn on_push(
        &mut self,
        meta: EventMeta,
        push: BookPush,
        levels: &[OkxLevel],
        out: &mut Outbox,
    ) {
        match push.action {
            BookAction::Snapshot | BookAction::Whole => self.on_snapshot(meta, push, levels, out),
            BookAction::Update => self.on_update(meta, push, levels, out),
        }
    }

    fn on_snapshot(
        &mut self,
        meta: EventMeta,
        push: BookPush,
        levels: &[OkxLevel],
        out: &mut Outbox,
    ) {
        if out.remaining() < LevelBatch::events_for(levels.len()) + 3 {
            self.go_stale(meta, StaleReason::RingFull, out);
            return;
        }
        self.top.clear();
        levels.iter().for_each(|l| self.top.apply(l));
        if !self.checksum_holds(push.checksum) {
            self.go_stale(meta, StaleReason::Checksum, out);
            self.state = SyncState::AwaitingSnapshot;
            return;
        }
        let update_id = push.update_id();
        let staged = out.push(MdEvent::BookReset { meta })
            && stage_levels(self.instrument, levels, out)
            && out.push(MdEvent::BookCommit { meta, update_id });
        debug_assert!(staged, "outbox room was checked above");
        let was_synced = self.is_synced();
        self.state = SyncState::Synced {
            seq: push.seq_id,
            snapshot_id: update_id,
        };
        self.wants_snapshot = false;
        if was_synced && push.action == BookAction::Whole {
            // `books5`/`bbo-tbt`: every push is whole; only the first after a stale mark syncs.
            self.counters.applied += 1;
        } else {
            if self.counters.snapshots > 0 && !was_synced {
                self.counters.resyncs += 1;
            }
            self.counters.snapshots += 1;
        }
        self.counters.last_update_id = update_id;
    }

    fn on_update(
        &mut self,
        meta: EventMeta,
        push: BookPush,
        levels: &[OkxLevel],
        out: &mut Outbox,
    ) {
        self.counters.diffs += 1;
        let SyncState::Synced { seq, snapshot_id } = self.state else {
            // Waiting for a snapshot: nothing to apply this to.
            self.counters.dropped += 1;
            return;
        };
        let mut reset = false;
        if let (Some(last), Some(seq_id), Some(prev)) = (seq, push.seq_id, push.prev_seq_id) {
            if prev != last {
                self.counters.gaps += 1;
                self.go_stale(meta, StaleReason::Gap, out);
                return;
            }
            if seq_id == prev && levels.is_empty() {
                // The "no change" message: still in sync, nothing to apply.
                self.counters.dropped += 1;
                if !self.checksum_holds(push.checksum) {
                    self.go_stale(meta, StaleReason::Checksum, out);
                }
                return;
            }
            reset = seq_id < prev;
        }
        if out.remaining() < LevelBatch::events_for(levels.len()) + 2 {
            self.go_stale(meta, StaleReason::RingFull, out);
            return;
        }
        levels.iter().for_each(|l| self.top.apply(l));
        if !self.checksum_holds(push.checksum) {
            self.go_stale(meta, StaleReason::Checksum, out);
            return;
        }
        let update_id = push.update_id();
        let staged = stage_levels(self.instrument, levels, out)
            && out.push(MdEvent::BookCommit { meta, update_id });
        debug_assert!(staged, "outbox room was checked above");
        if reset {
            self.counters.sequence_resets += 1;
        }
        self.state = SyncState::Synced {
            seq: push.seq_id.or(seq),
            snapshot_id: if reset { 0 } else { snapshot_id },
        };
        self.counters.applied += 1;
        self.counters.last_update_id = update_id;
    }

    /// Counts the check of `checksum` (0: absent, nothing checked) against the copy.
    fn checksum_holds(&mut self, checksum: i32) -> bool {
        if checksum == 0 {
            return true;
        }
        let holds = self.top.checksum() == checksum;
        if holds {
            self.counters.checksum_ok += 1;
        } else {
            self.counters.checksum_mismatch += 1;
        }
        holds
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

/// Stages `levels` in [`LevelBatch`]es; `false` if the outbox ran out of room.
fn stage_levels(instrument: InstrumentId, levels: &[OkxLevel], out: &mut Outbox) -> bool {
    levels.chunks(LEVELS_PER_EVENT).all(|chunk| {
        let mut batch = LevelBatch::new(instrument);
        for l in chunk {
            let _ = batch.push(l.side, l.px, l.qty);
        }
        out.push(batch.event())
    })
}

impl StaleRules for BookSync {
    fn synced_since(&self) -> Option<u64> {
        match self.state {
            SyncState::Synced { snapshot_id, .. } => Some(snapshot_id),
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
