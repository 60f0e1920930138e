//! What the appender and the service thread share: the committed position the appender
//! publishes after every append, the status the service publishes, the claim on the next
//! segment to create, the sticky fault and the I/O budget. All atomics; no locks.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::fault::{FaultFlag, IoBudget};

/// Bits of a packed position that hold the offset; the segment index's low bits sit above.
const OFFSET_BITS: u32 = 40;
const OFFSET_MASK: u64 = (1 << OFFSET_BITS) - 1;

/// A segment index and an offset in one word, so that a reader gets a consistent pair. Only
/// the index's low 24 bits are kept: enough to tell the active segment from its neighbours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Packed(u64);

impl Packed {
    pub(crate) fn new(segment: u64, offset: u64) -> Self {
        Packed(segment << OFFSET_BITS | (offset & OFFSET_MASK))
    }

    pub(crate) fn offset(self) -> u64 {
        self.0 & OFFSET_MASK
    }

    pub(crate) fn is_in(self, segment: u64) -> bool {
        self.0 >> OFFSET_BITS == segment & (u64::MAX >> OFFSET_BITS)
    }
}

#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) fault: FaultFlag,
    pub(crate) io: IoBudget,
    /// Where the last committed record ends.
    committed_pos: AtomicU64,
    /// The sequence the next record will get.
    committed_seq: AtomicU64,
    /// The lowest segment index nobody has claimed to create yet.
    pub(crate) next_create: AtomicU64,
    pub(crate) appender_open: AtomicBool,
    pub(crate) stop: AtomicBool,
    /// An `msync` failed: nobody `msync`s again, since a retry may report success for pages
    /// the kernel already gave up on.
    msync_failed: AtomicBool,
    synced_seq: AtomicU64,
    synced_pos: AtomicU64,
    pub(crate) prepared: AtomicU64,
    pub(crate) msyncs: AtomicU64,
}

impl Shared {
    pub(crate) fn new(io: IoBudget, active: u64, offset: u64, next_seq: u64) -> Self {
        Shared {
            fault: FaultFlag::default(),
            io,
            committed_pos: AtomicU64::new(Packed::new(active, offset).0),
            committed_seq: AtomicU64::new(next_seq),
            next_create: AtomicU64::new(active + 1),
            appender_open: AtomicBool::new(true),
            stop: AtomicBool::new(false),
            msync_failed: AtomicBool::new(false),
            synced_seq: AtomicU64::new(next_seq),
            synced_pos: AtomicU64::new(Packed::new(active, offset).0),
            prepared: AtomicU64::new(0),
            msyncs: AtomicU64::new(0),
        }
    }

    /// Called by the appender after each commit.
    #[inline]
    pub(crate) fn publish_commit(&self, segment: u64, offset: u64, next_seq: u64) {
        // Relaxed: ordered before the Release store of the sequence below, which is what the
        // service Acquires first.
        self.committed_pos
            .store(Packed::new(segment, offset).0, Ordering::Relaxed);
        // Release: a service that Acquires this sequence also sees the position stored above
        // (or a later one), the record bytes before it, and any roll-over pushed earlier.
        self.committed_seq.store(next_seq, Ordering::Release);
    }

    /// The next sequence and a position at or past the end of every record before it.
    pub(crate) fn committed(&self) -> (u64, Packed) {
        // Acquire pairs with `publish_commit`'s Release: the position loaded next is at least
        // the one published with this sequence.
        let seq = self.committed_seq.load(Ordering::Acquire);
        // Relaxed: ordered after the Acquire above; a newer position is fine.
        let pos = Packed(self.committed_pos.load(Ordering::Relaxed));
        (seq, pos)
    }

    pub(crate) fn msync_allowed(&self) -> bool {
        // Relaxed: the flag alone decides; the fault flag carries the error's details.
        !self.msync_failed.load(Ordering::Relaxed)
    }

    pub(crate) fn forbid_msync(&self) {
        // Relaxed: see `msync_allowed`.
        self.msync_failed.store(true, Ordering::Relaxed);
    }

    pub(crate) fn publish_synced(&self, seq: u64, pos: Packed) {
        // Relaxed: a status figure for monitoring.
        self.synced_pos.store(pos.0, Ordering::Relaxed);
        // Release: pairs with `durable`'s Acquire; a waiter that sees the sequence is told
        // after the `msync` that made it so returned.
        self.synced_seq.store(seq, Ordering::Release);
    }

    /// Every record below this sequence is `msync`ed: what `make_durable` spins on.
    #[inline]
    pub(crate) fn durable(&self) -> u64 {
        // Acquire pairs with `publish_synced`'s Release.
        self.synced_seq.load(Ordering::Acquire)
    }

    pub(crate) fn synced(&self) -> (u64, u64) {
        // Relaxed: status figures for monitoring, each meaningful alone.
        let seq = self.synced_seq.load(Ordering::Relaxed);
        let offset = Packed(self.synced_pos.load(Ordering::Relaxed)).offset();
        (seq, offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_pack_index_and_offset() {
        let p = Packed::new(5, 4 << 30);
        assert_eq!(p.offset(), 4 << 30);
        assert!(p.is_in(5));
        assert!(!p.is_in(6));
        assert!(Packed::new(1 << 24 | 3, 8).is_in(3));
    }
}
