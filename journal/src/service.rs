//! The service thread: everything slow the appender must never wait for. It keeps segments
//! prepared ahead (create, `posix_fallocate`, map, touch every page), `msync`s what was
//! committed every `sync_interval`, gives retired segments their final `msync` and unmaps them,
//! and keeps the pages ahead of the writer mapped writable. It parks between rounds; the
//! appender unparks it at roll-over and, with [`SyncMode::Order`], when it waits for a record
//! to be durable (then the service goes round without parking until it caught up).
//!
//! The periodic `msync` stops at the last whole page while the writer is busy: `msync`
//! write-protects the pages it cleans, and the writer's next store into a cleaned page would
//! take a page fault (and may wait for the write-back to finish). The page being written is
//! synced once the writer has been quiet for a whole interval, at roll-over and at shutdown.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::{self, JoinHandle, Thread};
use std::time::{Duration, Instant};

use rtrb::{Consumer, Producer};

use crate::config::{JournalConfig, SyncMode};
use crate::error::JournalError;
use crate::fault::{fault_of, FaultFlag, JournalFault};
use crate::op::Op;
use crate::recovery::RecoveryReport;
use crate::segment::{page_size, Segment};
use crate::shared::{Packed, Shared};

/// Bytes ahead of the writer kept mapped writable each round.
const LOOKAHEAD: u64 = 16 << 20;

/// A roll-over, from the appender to the service: `retired` gets its final `msync` and is
/// unmapped; `active` is the segment to `msync` from now on.
pub(crate) struct Rollover {
    pub(crate) retired: Arc<Segment>,
    pub(crate) active: Arc<Segment>,
    /// Sequence of the first record of `active`: every record before it is in a retired
    /// segment.
    pub(crate) first_sequence: u64,
}

/// What the service did so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServiceStatus {
    /// Every record below this sequence is `msync`ed (segments sealed before the journal was
    /// opened are taken as synced).
    pub synced_sequence: u64,
    /// Bytes of the active segment `msync`ed.
    pub synced_offset: u64,
    /// Segments created ahead of the writer.
    pub segments_prepared: u64,
    /// Successful `msync` calls.
    pub msyncs: u64,
    /// The sticky fault, if any.
    pub fault: Option<JournalFault>,
}

/// What the service did, at shutdown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServiceReport {
    /// Every record below this sequence is `msync`ed.
    pub synced_sequence: u64,
    /// The sequence the appender's next record would have got.
    pub committed_sequence: u64,
    /// Segments created ahead of the writer.
    pub segments_prepared: u64,
    /// Successful `msync` calls.
    pub msyncs: u64,
    /// I/O operations of the journal since open, by every thread (what `fail_io_at` counts).
    pub io_ops: u64,
    /// Whether the appender was still open: its later appends are not `msync`ed by anyone.
    pub appender_open: bool,
    /// The sticky fault, if any.
    pub fault: Option<JournalFault>,
}

/// Owns the service thread of one stream.
pub struct JournalService {
    thread: Option<JoinHandle<()>>,
    handle: Thread,
    shared: Arc<Shared>,
    recovery: RecoveryReport,
}

impl JournalService {
    pub(crate) fn spawn(
        worker: Worker,
        stream: &str,
        recovery: RecoveryReport,
    ) -> Result<Self, JournalError> {
        let shared = Arc::clone(&worker.shared);
        let dir = worker.stream_dir.clone();
        let thread = shared.io.run(Op::Spawn, &dir, || {
            thread::Builder::new()
                .name(format!("journal-{stream}"))
                .spawn(move || worker.run())
        })?;
        Ok(JournalService {
            handle: thread.thread().clone(),
            thread: Some(thread),
            shared,
            recovery,
        })
    }

    pub(crate) fn thread(&self) -> &Thread {
        &self.handle
    }

    /// What the service did so far.
    pub fn status(&self) -> ServiceStatus {
        let (synced_sequence, synced_offset) = self.shared.synced();
        ServiceStatus {
            synced_sequence,
            synced_offset,
            // Relaxed: monitoring figures.
            segments_prepared: self.shared.prepared.load(Ordering::Relaxed),
            msyncs: self.shared.msyncs.load(Ordering::Relaxed),
            fault: self.shared.fault.get(),
        }
    }

    /// A handle on the sticky fault for the engine's health monitor.
    pub fn fault_flag(&self) -> FaultFlag {
        self.shared.fault.clone()
    }

    /// What recovery found and did when the journal was opened.
    pub fn recovery(&self) -> &RecoveryReport {
        &self.recovery
    }

    /// Stops the thread after a final `msync` of everything committed (close the appender
    /// first, or its later appends are left to the kernel's write-back), and reports.
    pub fn shutdown(mut self) -> Result<ServiceReport, JournalError> {
        let joined = self.stop();
        let (synced_sequence, _) = self.shared.synced();
        let report = ServiceReport {
            synced_sequence,
            committed_sequence: self.shared.committed().0,
            // Relaxed: monitoring figures; the join above ordered the worker's last updates.
            segments_prepared: self.shared.prepared.load(Ordering::Relaxed),
            msyncs: self.shared.msyncs.load(Ordering::Relaxed),
            io_ops: self.shared.io.ops(),
            // Acquire pairs with the appender's Release in its drop.
            appender_open: self.shared.appender_open.load(Ordering::Acquire),
            fault: self.shared.fault.get(),
        };
        joined.map(|()| report)
    }

    fn stop(&mut self) -> Result<(), JournalError> {
        let Some(thread) = self.thread.take() else {
            return Ok(());
        };
        // Release: the worker that sees `stop` sees everything this thread did before.
        self.shared.stop.store(true, Ordering::Release);
        thread.thread().unpark();
        thread.join().map_err(|_| JournalError::ServicePanicked)
    }
}

impl Drop for JournalService {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

/// Raises the fault if the service thread unwinds, so the appender never waits on it.
struct PanicGuard(Arc<Shared>);

impl Drop for PanicGuard {
    fn drop(&mut self) {
        if thread::panicking() {
            self.0.fault.raise(JournalFault {
                op: Op::ServicePanic,
                errno: 0,
                injected: false,
            });
        }
    }
}

/// The service thread's state.
pub(crate) struct Worker {
    shared: Arc<Shared>,
    ready: Producer<Arc<Segment>>,
    rollovers: Consumer<Rollover>,
    active: Arc<Segment>,
    active_first: u64,
    synced_to: u64,
    last_seen: Option<Packed>,
    previous: Option<(u64, Packed)>,
    stream_dir: PathBuf,
    segment_bytes: u64,
    ready_target: usize,
    sync_interval: Duration,
    mode: SyncMode,
    populate: bool,
    page: u64,
}

impl Worker {
    pub(crate) fn new(
        shared: Arc<Shared>,
        ready: Producer<Arc<Segment>>,
        rollovers: Consumer<Rollover>,
        active: Arc<Segment>,
        active_first: u64,
        cfg: &JournalConfig,
    ) -> Self {
        Worker {
            shared,
            ready,
            rollovers,
            active,
            active_first,
            synced_to: 0,
            last_seen: None,
            previous: None,
            stream_dir: cfg.stream_dir(),
            segment_bytes: cfg.segment_bytes,
            ready_target: cfg.ready_segments,
            sync_interval: cfg.sync_interval,
            mode: cfg.sync,
            populate: true,
            page: page_size(),
        }
    }

    fn run(mut self) {
        let _guard = PanicGuard(Arc::clone(&self.shared));
        let mut next_sync = Instant::now();
        loop {
            // Acquire pairs with `stop`'s Release in `JournalService::stop`.
            let stopping = self.shared.stop.load(Ordering::Acquire);
            // Acquire pairs with the appender's Release in its drop: its last commit is seen.
            let closed = !self.shared.appender_open.load(Ordering::Acquire);
            // Loaded before draining the roll-overs: every record below `seq` is then in a
            // segment drained below or in the range up to `pos`.
            let (seq, pos) = self.shared.committed();
            self.retire_rolled();
            let now = Instant::now();
            let due = now >= next_sync;
            // `Order`: a writer may be spinning in `make_durable` for what was committed.
            let wanted = self.mode == SyncMode::Order && seq != self.shared.durable();
            if stopping || closed || due || wanted {
                let full = stopping || closed || wanted || self.mode != SyncMode::None;
                self.sync(seq, pos, full);
                if due {
                    next_sync = now + self.sync_interval;
                }
            }
            if stopping {
                return;
            }
            // The new active segment first: preparing the next one takes much longer.
            self.populate_ahead(pos);
            self.prepare();
            let behind = self.mode == SyncMode::Order
                && self.shared.committed().0 != self.shared.durable()
                && self.shared.msync_allowed();
            if !behind {
                thread::park_timeout(next_sync.saturating_duration_since(Instant::now()));
            }
        }
    }

    fn flush(&mut self, segment: &Segment, from: u64, to: u64) -> bool {
        let flushed = self
            .shared
            .io
            .run(Op::Msync, segment.path(), || segment.flush(from, to));
        match flushed {
            Ok(()) => {
                // Relaxed: a monitoring count.
                self.shared.msyncs.fetch_add(1, Ordering::Relaxed);
                true
            }
            Err(e) => {
                self.fail(&e);
                self.shared.forbid_msync();
                false
            }
        }
    }

    fn fail(&self, e: &JournalError) {
        if let Some(fault) = fault_of(e) {
            self.shared.fault.raise(fault);
        }
    }

    /// Final `msync` of each retired segment; the new active one is synced from now on.
    fn retire_rolled(&mut self) {
        while let Ok(rollover) = self.rollovers.pop() {
            if self.shared.msync_allowed() {
                let from = if Arc::ptr_eq(&rollover.retired, &self.active) {
                    self.synced_to / self.page * self.page
                } else {
                    0
                };
                let retired = &rollover.retired;
                if self.flush(retired, from, retired.capacity()) {
                    // Every record before the new segment is on disk.
                    let durable = rollover.first_sequence.max(self.shared.durable());
                    self.shared
                        .publish_synced(durable, Packed::new(rollover.active.index(), 0));
                }
            }
            self.active = rollover.active;
            self.active_first = rollover.first_sequence;
            self.synced_to = 0;
            self.last_seen = None;
            self.previous = None;
        }
    }

    /// `msync`s the active segment up to the last whole page before `pos` (all of it when
    /// `full` or when the writer was quiet since the last round) and publishes what is durable.
    fn sync(&mut self, seq: u64, pos: Packed, full: bool) {
        let active = Arc::clone(&self.active);
        if !self.shared.msync_allowed() || !pos.is_in(active.index()) {
            return;
        }
        let end = pos.offset();
        let quiet = self.last_seen == Some(pos);
        self.last_seen = Some(pos);
        let target = if full || quiet {
            end
        } else {
            end / self.page * self.page
        };
        if target > self.synced_to {
            if !self.flush(&active, self.synced_to / self.page * self.page, target) {
                return;
            }
            self.synced_to = target;
        }
        let durable = match self.previous {
            _ if self.synced_to >= end => seq,
            Some((s, p)) if p.is_in(active.index()) && p.offset() <= self.synced_to => {
                s.max(self.active_first)
            }
            _ => self.active_first,
        };
        self.previous = Some((seq, pos));
        let durable = durable.max(self.shared.synced().0);
        self.shared
            .publish_synced(durable, Packed::new(active.index(), self.synced_to));
    }

    /// Creates segments until `ready_segments` wait in the ring.
    fn prepare(&mut self) {
        let capacity = self.ready.buffer().capacity();
        while capacity - self.ready.slots() < self.ready_target
            && self.ready.slots() > 0
            && !self.ready.is_abandoned()
            && !self.shared.fault.is_set()
        {
            // Acquire: sees the appender's claim, if it made one.
            let index = self.shared.next_create.load(Ordering::Acquire);
            // AcqRel: the claim orders against the appender's compare-exchange on the same
            // word; on failure (Relaxed) the loop reloads.
            let claimed = self.shared.next_create.compare_exchange(
                index,
                index + 1,
                Ordering::AcqRel,
                Ordering::Relaxed,
            );
            if claimed.is_err() {
                continue;
            }
            match Segment::create(&self.stream_dir, index, self.segment_bytes, &self.shared.io) {
                Ok(segment) => {
                    // Relaxed: a monitoring count.
                    self.shared.prepared.fetch_add(1, Ordering::Relaxed);
                    if self.ready.push(Arc::new(segment)).is_err() {
                        return;
                    }
                }
                Err(e) => {
                    self.fail(&e);
                    return;
                }
            }
        }
    }

    /// Re-establishes writable mappings of the pages just ahead of the writer: the kernel's
    /// write-back of the pre-faulted pages write-protects them again.
    fn populate_ahead(&mut self, pos: Packed) {
        if !self.populate || !pos.is_in(self.active.index()) {
            return;
        }
        let from = (pos.offset() / self.page + 1) * self.page;
        let to = (from + LOOKAHEAD).min(self.active.capacity());
        if from < to && self.active.populate(from, to).is_err() {
            // Older kernels lack MADV_POPULATE_WRITE: the writer may then take minor faults.
            self.populate = false;
        }
    }
}
