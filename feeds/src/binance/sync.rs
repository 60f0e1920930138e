//! Keeping a local Binance book in sync, exactly per Binance's "How to manage a local order book
//! correctly" (data/docs in the shared folder):
//!
//! 1. Buffer the diffs.
//! 2. Take a snapshot; if its `lastUpdateId` is below the first buffered `U`, wait for a newer one.
//! 3. Drop buffered diffs with `u <= lastUpdateId`.
//! 4. The first applied diff must bridge the snapshot: `U <= lastUpdateId + 1 <= u`.
//! 5. Then strict continuity: `U == previous u + 1` (spot), `pu == previous u` (futures).
//!
//! A gap marks the book stale and the procedure starts again from step 1 for this instrument
//! only.
//!
//! The output is venue-neutral [`MdEvent`]s staged in an [`Outbox`].

use crate::binance::codec::LevelUpdate;
use crate::event::{EventMeta, MdEvent, StaleReason};
use crate::num::InstrumentId;
use crate::outbox::Outbox;

/// Pre-sync buffer bounds: about 30 s of BTCUSDT `depth@100ms`.
pub const PRESYNC_DIFFS: usize = 512;
pub const PRESYNC_LEVELS: usize = 16_384;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SyncState {
    AwaitingSnapshot,
    Synced { last_id: u64, bridged: bool },
}

#[derive(Clone, Copy, Debug)]
struct BufferedDiff {
    first_id: u64,
    last_id: u64,
    prev_last_id: Option<u64>,
    start: usize,
    end: usize,
}

/// Per-instrument counts, read by the summary and the replay report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SyncCounters {
    /// Diffs applied to the book.
    pub applied: u64,
    /// Diffs discarded as already covered by the snapshot (`u <= lastUpdateId`).
    pub dropped: u64,
    pub gaps: u64,
    /// Snapshots applied (the first sync included).
    pub snapshots: u64,
    /// Snapshots ignored because they were older than the first buffered diff.
    pub stale_snapshots: u64,
    /// Pre-sync buffer overflows.
    pub overflows: u64,
    /// The id of the last diff or snapshot applied.
    pub last_update_id: u64,
}

pub struct DepthSync {
    instrument: InstrumentId,
    state: SyncState,
    diffs: Vec<BufferedDiff>,
    levels: Vec<LevelUpdate>,
    pub counters: SyncCounters,
}

enum Verdict {
    Apply,
    Drop,
    Gap,
}

impl DepthSync {
    pub fn new(instrument: InstrumentId) -> DepthSync {
        DepthSync {
            instrument,
            state: SyncState::AwaitingSnapshot,
            diffs: Vec::with_capacity(PRESYNC_DIFFS),
            levels: Vec::with_capacity(PRESYNC_LEVELS),
            counters: SyncCounters::default(),
        }
    }

    pub fn is_synced(&self) -> bool {
        matches!(self.state, SyncState::Synced { .. })
    }

    /// The largest number of events one call can stage: size the [`Outbox`] with it.
    pub fn max_staged(max_levels_per_message: usize) -> usize {
        max_levels_per_message + PRESYNC_LEVELS + 2 * PRESYNC_DIFFS + 4
    }

    pub fn on_diff(
        &mut self,
        meta: EventMeta,
        first_id: u64,
        last_id: u64,
        prev_last_id: Option<u64>,
        levels: &[LevelUpdate],
        out: &mut Outbox,
    ) {
        let diff = BufferedDiff {
            first_id,
            last_id,
            prev_last_id,
            start: 0,
            end: levels.len(),
        };
        if self.is_synced() && self.process(meta, diff, levels, out) {
            return;
        }
        // Not synced, or this diff revealed a gap: it may start the next sequence, so keep it.
        self.buffer(meta, diff, levels, out);
    }

    pub fn on_snapshot(
        &mut self,
        meta: EventMeta,
        last_update_id: u64,
        levels: &[LevelUpdate],
        out: &mut Outbox,
    ) {
        if let Some(first) = self.diffs.first() {
            if last_update_id < first.first_id {
                self.counters.stale_snapshots += 1;
                return;
            }
        }
        if out.remaining() < levels.len() + 3 {
            self.go_stale(meta, StaleReason::RingFull, out);
            return;
        }
        let instrument = self.instrument;
        let staged = out.push(MdEvent::BookReset { meta })
            && levels.iter().all(|l| out.push(level_event(instrument, l)))
            && out.push(MdEvent::BookCommit {
                meta,
                update_id: last_update_id,
            });
        debug_assert!(staged, "outbox room was checked above");
        self.state = SyncState::Synced {
            last_id: last_update_id,
            bridged: false,
        };
        self.counters.snapshots += 1;
        self.counters.last_update_id = last_update_id;
        // Replay the buffer through the normal update procedure, stamped with the snapshot's
        // meta: those diffs become part of the book when the snapshot does.
        let mut consumed = self.diffs.len();
        for i in 0..self.diffs.len() {
            let diff = self.diffs[i];
            let levels = std::mem::take(&mut self.levels);
            let ok = self.process(meta, diff, &levels[diff.start..diff.end], out);
            self.levels = levels;
            if !ok {
                consumed = i;
                break;
            }
        }
        // What did not bridge stays buffered for the next snapshot, compacted in place.
        let keep_from = self
            .diffs
            .get(consumed)
            .map_or(self.levels.len(), |d| d.start);
        self.levels.drain(..keep_from);
        self.diffs.drain(..consumed);
        for d in &mut self.diffs {
            d.start -= keep_from;
            d.end -= keep_from;
        }
    }

    /// Applies, drops or rejects one diff; `false` on a gap (state is then AwaitingSnapshot).
    fn process(
        &mut self,
        meta: EventMeta,
        diff: BufferedDiff,
        levels: &[LevelUpdate],
        out: &mut Outbox,
    ) -> bool {
        let SyncState::Synced { last_id, bridged } = self.state else {
            return false;
        };
        let verdict = if diff.last_id <= last_id {
            Verdict::Drop
        } else if !bridged {
            if diff.first_id <= last_id + 1 {
                Verdict::Apply
            } else {
                Verdict::Gap
            }
        } else {
            let continuous = match diff.prev_last_id {
                Some(pu) => pu == last_id,
                None => diff.first_id == last_id + 1,
            };
            if continuous {
                Verdict::Apply
            } else {
                Verdict::Gap
            }
        };
        match verdict {
            Verdict::Drop => {
                self.counters.dropped += 1;
                true
            }
            Verdict::Gap => {
                self.counters.gaps += 1;
                self.go_stale(meta, StaleReason::Gap, out);
                false
            }
            Verdict::Apply => {
                if out.remaining() < levels.len() + 2 {
                    self.go_stale(meta, StaleReason::RingFull, out);
                    return false;
                }
                let instrument = self.instrument;
                let staged = levels.iter().all(|l| out.push(level_event(instrument, l)))
                    && out.push(MdEvent::BookCommit {
                        meta,
                        update_id: diff.last_id,
                    });
                debug_assert!(staged, "outbox room was checked above");
                self.state = SyncState::Synced {
                    last_id: diff.last_id,
                    bridged: true,
                };
                self.counters.applied += 1;
                self.counters.last_update_id = diff.last_id;
                true
            }
        }
    }

    fn buffer(
        &mut self,
        meta: EventMeta,
        diff: BufferedDiff,
        levels: &[LevelUpdate],
        out: &mut Outbox,
    ) {
        if self.diffs.len() == PRESYNC_DIFFS || self.levels.len() + levels.len() > PRESYNC_LEVELS {
            // Too far behind to ever bridge: start buffering afresh from this diff.
            self.diffs.clear();
            self.levels.clear();
            self.counters.overflows += 1;
            self.go_stale(meta, StaleReason::BufferOverflow, out);
            if levels.len() > PRESYNC_LEVELS {
                return;
            }
        }
        let start = self.levels.len();
        self.levels.extend_from_slice(levels);
        self.diffs.push(BufferedDiff {
            start,
            end: self.levels.len(),
            ..diff
        });
    }

    /// Marks the book stale (once: a book already awaiting a snapshot says nothing new).
    fn go_stale(&mut self, meta: EventMeta, reason: StaleReason, out: &mut Outbox) {
        if !self.is_synced() {
            return;
        }
        self.state = SyncState::AwaitingSnapshot;
        // Every batch check keeps one slot spare for this event (the `+ 2`/`+ 3` above).
        let _ = out.push(MdEvent::BookStale {
            meta: EventMeta {
                instrument: self.instrument,
                ..meta
            },
            reason,
        });
    }
}

fn level_event(instrument: InstrumentId, l: &LevelUpdate) -> MdEvent {
    MdEvent::Level {
        instrument,
        side: l.side,
        px: l.px,
        qty: l.qty,
    }
}
