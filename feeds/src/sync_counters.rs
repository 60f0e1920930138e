//! Per-instrument book sync counts: what every venue's sync rules report (messages, diffs
//! applied and dropped, gaps, snapshots, resyncs), read by the summary, the replay report and
//! the metrics, whichever venue keeps the book.

use crate::counters::BookCounter;
use crate::metrics::{MetricLabel, MetricSink, Report};
use crate::num::InstrumentId;

/// Per-instrument counts, read by the summary and the replay report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SyncCounters {
    /// Messages decoded for this instrument: diffs, snapshots, trades and tickers.
    pub messages: u64,
    /// Diffs received, whatever became of them (the live feed's per-stream watchdog reads it).
    pub diffs: u64,
    /// Diffs applied to the book.
    pub applied: u64,
    /// Diffs discarded as already covered by the snapshot (spot `u <= lastUpdateId`, futures
    /// `u < lastUpdateId`); OKX: updates while the book waits for a snapshot, and the "no
    /// change" messages (nothing to apply).
    pub dropped: u64,
    /// Diffs after the bridge that end at or before the book's id: received twice.
    pub duplicates: u64,
    /// Diffs that broke continuity (or did not bridge the snapshot): the book went stale.
    pub gaps: u64,
    /// Snapshots applied (the first sync included).
    pub snapshots: u64,
    /// Snapshots applied after the book had been synced and gone stale.
    pub resyncs: u64,
    /// Snapshots ignored because they were older than the first buffered diff.
    pub stale_snapshots: u64,
    /// Snapshots ignored because the book was in sync already.
    pub redundant_snapshots: u64,
    /// Resync requests (a crossed book) that marked the book stale.
    pub resync_requests: u64,
    /// Resync requests ignored: the book was already awaiting a snapshot, or had been rebuilt
    /// since the crossed commit.
    pub outdated_requests: u64,
    /// Pre-sync buffer overflows.
    pub overflows: u64,
    /// Venue checksums the rebuilt book reproduced (Kraken, OKX: every snapshot and update that
    /// carries one).
    pub checksum_ok: u64,
    /// Venue checksums the rebuilt book did not reproduce: each marked the book stale.
    pub checksum_mismatch: u64,
    /// The id of the last diff or snapshot applied.
    pub last_update_id: u64,
    /// Sequence restarts the venue announced (OKX `seqId` below `prevSeqId`), accepted.
    pub sequence_resets: u64,
    /// Deletes of a price the book did not hold, ignored (Coinbase Advanced Trade: its sync
    /// keeps the prices each book holds, so it knows).
    pub absent_deletes: u64,
}

impl SyncCounters {
    /// Counts a resync request of the book stage: acted on (`acted`), or found out of date.
    /// Returns `acted`.
    pub fn count_request(&mut self, acted: bool) -> bool {
        if acted {
            self.resync_requests += 1;
        } else {
            self.outdated_requests += 1;
        }
        acted
    }
}

/// Reports the sync counters every depth-synced instrument has, whichever feed keeps them.
pub fn report_sync(instrument: InstrumentId, k: &SyncCounters, out: MetricSink<'_>) {
    let label = MetricLabel::Instrument(instrument);
    out(BookCounter::DiffsApplied.count(label, k.applied));
    out(BookCounter::DiffsDropped.count(label, k.dropped));
    out(BookCounter::Gaps.count(label, k.gaps));
    out(BookCounter::Resyncs.count(label, k.resyncs));
    out(BookCounter::Snapshots.count(label, k.snapshots));
}
