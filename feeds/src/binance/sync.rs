//! Keeping a local Binance book in sync, exactly per Binance's "How to manage a local order book
//! correctly" (spot, `data/binance_spot_how_to_manage_local_order_book.md`) and its USD-M futures
//! counterpart:
//!
//! 1. Buffer the diffs.
//! 2. Take a snapshot; if its `lastUpdateId` is below the first buffered `U`, wait for a newer one
//!    (Binance's step 4 is strict: even `lastUpdateId == U - 1`, which step 4 below would bridge).
//! 3. Drop the buffered diffs the snapshot already covers: spot `u <= lastUpdateId`, futures
//!    `u < lastUpdateId` (strictly).
//! 4. The first applied diff must bridge the snapshot: spot `U <= lastUpdateId + 1 <= u`, futures
//!    `U <= lastUpdateId <= u`.
//! 5. Then strict continuity: spot `U == previous u + 1`, futures `pu == previous u`. A diff that
//!    ends at or before the book's id (`u <= previous u`) is a duplicate and dropped.
//!
//! The real captures decide the spot boundary: in the 4-symbol capture every symbol has a diff
//! ending exactly at `lastUpdateId` (NKNUSDT's first), which must be dropped (`<=`), or the next
//! one would not bridge. Futures ids are not consecutive across events (`U != previous u + 1`),
//! only `pu` chains them. The futures capture's bridging diff strictly contains `lastUpdateId`,
//! so there the strict `<` and `U <= lastUpdateId` follow Binance's futures doc, not the data.
//!
//! A gap (or a crossed book reported by the book stage, or a full ring on a live feed) marks the
//! book stale and the procedure starts again from step 1 for this instrument only.
//!
//! The output is venue-neutral [`MdEvent`]s staged in an [`Outbox`].
use crate::stale::StaleRules;

use crate::binance::frame::LevelUpdate;
use crate::binance::market::BinanceMarket;
use crate::event::{EventMeta, LevelBatch, MdEvent, StaleReason};
use crate::levels::stage_levels;
use crate::metrics::MetricSink;
use crate::num::InstrumentId;
use crate::outbox::Outbox;
pub use crate::sync_counters::SyncCounters;

/// Pre-sync buffer bounds: about 30 s of BTCUSDT `depth@100ms`.
pub const PRESYNC_DIFFS: usize = 512;
pub const PRESYNC_LEVELS: usize = 16_384;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SyncState {
    AwaitingSnapshot,
    Synced {
        /// The book's update id: the snapshot's, then the last applied diff's.
        last_id: u64,
        /// Whether a diff has bridged the snapshot yet.
        bridged: bool,
        /// The `lastUpdateId` of the snapshot this sync started from.
        snapshot_id: u64,
    },
}

#[derive(Clone, Copy, Debug)]
struct BufferedDiff {
    first_id: u64,
    last_id: u64,
    prev_last_id: Option<u64>,
    start: usize,
    end: usize,
}

pub struct DepthSync {
    instrument: InstrumentId,
    market: BinanceMarket,
    state: SyncState,
    diffs: Vec<BufferedDiff>,
    levels: Vec<LevelUpdate>,
    pub counters: SyncCounters,
}

enum Verdict {
    Apply,
    /// Covered by the snapshot.
    Drop,
    /// Already applied.
    Duplicate,
    Gap,
}

impl DepthSync {
    /// A spot book's sync.
    pub fn new(instrument: InstrumentId) -> DepthSync {
        DepthSync::for_market(instrument, BinanceMarket::Spot)
    }

    pub fn for_market(instrument: InstrumentId, market: BinanceMarket) -> DepthSync {
        DepthSync {
            instrument,
            market,
            state: SyncState::AwaitingSnapshot,
            diffs: Vec::with_capacity(PRESYNC_DIFFS),
            levels: Vec::with_capacity(PRESYNC_LEVELS),
            counters: SyncCounters::default(),
        }
    }

    pub fn is_synced(&self) -> bool {
        matches!(self.state, SyncState::Synced { .. })
    }

    /// Not in sync and diffs buffered: a snapshot fetched now can bridge them.
    pub fn needs_snapshot(&self) -> bool {
        !self.is_synced() && !self.diffs.is_empty()
    }

    pub fn instrument(&self) -> InstrumentId {
        self.instrument
    }

    pub fn market(&self) -> BinanceMarket {
        self.market
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
        self.counters.diffs += 1;
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
        if self.is_synced() {
            self.counters.redundant_snapshots += 1;
            return;
        }
        if let Some(first) = self.diffs.first() {
            if last_update_id < first.first_id {
                self.counters.stale_snapshots += 1;
                return;
            }
        }
        if out.remaining() < LevelBatch::events_for(levels.len()) + 3 {
            self.go_stale(meta, StaleReason::RingFull, out);
            return;
        }
        let instrument = self.instrument;
        let staged = out.push(MdEvent::BookReset { meta })
            && stage_levels(instrument, levels, out)
            && out.push(MdEvent::BookCommit {
                meta,
                update_id: last_update_id,
            });
        debug_assert!(staged, "outbox room was checked above");
        self.state = SyncState::Synced {
            last_id: last_update_id,
            bridged: false,
            snapshot_id: last_update_id,
        };
        if self.counters.snapshots > 0 {
            // Synced before and awaiting a snapshot now: it went stale in between.
            self.counters.resyncs += 1;
        }
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

    /// What the update procedure says about `diff` given the book's id (see the module docs).
    fn verdict(&self, last_id: u64, bridged: bool, diff: &BufferedDiff) -> Verdict {
        let (first, last) = (diff.first_id, diff.last_id);
        if bridged {
            let continuous = match self.market {
                BinanceMarket::Spot => last_id.checked_add(1) == Some(first),
                BinanceMarket::UsdmFutures => diff.prev_last_id == Some(last_id),
            };
            return if last <= last_id {
                Verdict::Duplicate
            } else if continuous {
                Verdict::Apply
            } else {
                Verdict::Gap
            };
        }
        // Saturating is exact here: at `u64::MAX` every `U` is within `lastUpdateId + 1`.
        let (covered, bridges) = match self.market {
            BinanceMarket::Spot => (last <= last_id, first <= last_id.saturating_add(1)),
            BinanceMarket::UsdmFutures => (last < last_id, first <= last_id),
        };
        if covered {
            Verdict::Drop
        } else if bridges {
            Verdict::Apply
        } else {
            Verdict::Gap
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
        let SyncState::Synced {
            last_id,
            bridged,
            snapshot_id,
        } = self.state
        else {
            return false;
        };
        match self.verdict(last_id, bridged, &diff) {
            Verdict::Drop => {
                self.counters.dropped += 1;
                true
            }
            Verdict::Duplicate => {
                self.counters.duplicates += 1;
                true
            }
            Verdict::Gap => {
                self.counters.gaps += 1;
                self.go_stale(meta, StaleReason::Gap, out);
                false
            }
            Verdict::Apply => {
                if out.remaining() < LevelBatch::events_for(levels.len()) + 2 {
                    self.go_stale(meta, StaleReason::RingFull, out);
                    return false;
                }
                let instrument = self.instrument;
                let staged = stage_levels(instrument, levels, out)
                    && out.push(MdEvent::BookCommit {
                        meta,
                        update_id: diff.last_id,
                    });
                debug_assert!(staged, "outbox room was checked above");
                self.state = SyncState::Synced {
                    last_id: diff.last_id,
                    bridged: true,
                    snapshot_id,
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

/// Stages `levels` in [`LevelBatch`]es; `false` if the outbox ran out of room.
/// Reports the sync counters every depth-synced instrument has, whichever feed keeps them.
pub fn report_sync(sync: &DepthSync, out: MetricSink<'_>) {
    crate::sync_counters::report_sync(sync.instrument(), &sync.counters, out);
}

#[cfg(test)]
mod tests;

impl StaleRules for DepthSync {
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
