//! The single writer of a stream. An append is a bounds check, a copy into the mapped segment,
//! a CRC32C and two stores: no system call, no allocation. Segments come ready from the
//! service thread through a ring; retired ones go back through another for their final `msync`.
#![allow(unsafe_code)]

use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::Thread;

use rtrb::{Consumer, Producer, RingBuffer};

use crate::config::{JournalConfig, SyncMode};
use crate::descriptor::{
    align8, max_payload, segment_file_name, SegmentHeader, END_MARKER, END_MARKER_LEN, HEADER_LEN,
    LOCK_FILE, RECORD_HEADER_LEN, RESERVED_KIND_MIN,
};
use crate::error::{AppendError, JournalError};
use crate::fault::{fault_of, IoBudget, JournalFault};
use crate::op::Op;
use crate::recovery;
use crate::scan::{scan_stream, ProblemKind, Tail};
use crate::segment::{private_dir, Segment, PRIVATE_FILE};
use crate::service::{JournalService, Rollover, Worker};
use crate::shared::Shared;

/// Roll-overs the service may be behind before the appender retires segments itself.
const ROLLOVER_RING: usize = 64;

/// What the appender did, by kind. Plain counters: the appender's thread reads them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AppenderCounters {
    /// Records appended.
    pub records: u64,
    /// Their payload bytes.
    pub payload_bytes: u64,
    /// Segments closed with an end marker.
    pub rollovers: u64,
    /// Roll-overs with no prepared segment: created (or awaited) on the appender's thread.
    /// Slow, but nothing is lost.
    pub sync_fallbacks: u64,
    /// Retired segments the appender `msync`ed itself because the service was gone or behind.
    pub inline_retires: u64,
    /// Appends refused for a payload above the bound.
    pub refused_too_large: u64,
    /// Appends refused for a reserved type.
    pub refused_reserved_kind: u64,
    /// Appends refused for want of a segment.
    pub refused_no_segment: u64,
}

/// Appends records to one stream. `Send`: move it to the thread that writes; one per stream.
///
/// After a fault the appender keeps writing into the segment it has (and any already prepared
/// one), so what was handed in stays visible to readers; it creates no new segment, so once
/// those are full appends fail with [`AppendError::NoSegment`]. The engine stops trading on
/// [`Appender::fault`] (or on the service's [`crate::FaultFlag`]) anyway. Nothing is retried:
/// after a failed `msync` nobody `msync`s again.
///
/// Close it (or drop it) before [`JournalService::shutdown`], which then `msync`s everything it
/// committed.
pub struct Appender {
    active: Arc<Segment>,
    offset: u64,
    capacity: u64,
    max_payload: usize,
    next_seq: u64,
    ready: Consumer<Arc<Segment>>,
    rollovers: Producer<Rollover>,
    shared: Arc<Shared>,
    service: Thread,
    stream_dir: PathBuf,
    stream: String,
    segment_bytes: u64,
    sync: SyncMode,
    counters: AppenderCounters,
    /// Held (`flock`) while the appender lives: a second writer of the stream is refused.
    _lock: File,
}

impl Appender {
    /// Opens the stream for appending: creates its directory (mode 0700), cuts a torn tail (the
    /// last append of the last segment, written back in part by a crash: see
    /// [`crate::ProblemKind::TornTail`]) and removes prepared segments never used, continues
    /// its sequence, and starts the service thread.
    ///
    /// Any other damage is [`JournalError::Corrupt`], naming the segment file and offset, and
    /// no byte of the stream is changed: [`crate::recover`] moves the damaged rest aside.
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// use pulse_journal::{Appender, JournalConfig};
    ///
    /// let (mut appender, service) = Appender::open(JournalConfig::new(dir.path(), "output"))?;
    /// assert_eq!(appender.append(7, 1_000, b"decision")?, 0);
    /// assert_eq!(appender.next_sequence(), 1);
    /// appender.close();
    /// let report = service.shutdown()?;
    /// assert_eq!(report.synced_sequence, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open(cfg: JournalConfig) -> Result<(Appender, JournalService), JournalError> {
        cfg.validate()?;
        let stream_dir = cfg.stream_dir();
        let io = IoBudget::new(cfg.fail_io_at);
        io.run(Op::CreateDir, &stream_dir, || private_dir(&stream_dir))?;
        let lock = lock_stream(&stream_dir, &io)?;
        let scan = scan_stream(&stream_dir, &cfg.stream, &mut |_| {})?;
        if let Some(p) = scan.problem.filter(|p| p.kind == ProblemKind::Corruption) {
            return Err(JournalError::Corrupt {
                path: stream_dir.join(segment_file_name(p.at.segment)),
                segment: p.at.segment,
                offset: p.at.offset,
                reason: p.reason,
            });
        }
        let recovery = recovery::apply(&scan, &io, recovery::Mode::CutTornTail)?;
        let next_seq = scan.next_sequence;
        let fresh = |index: u64| -> Result<(Segment, u64), JournalError> {
            let segment = Segment::create(&stream_dir, index, cfg.segment_bytes, &io)?;
            let header = SegmentHeader::new(&cfg.stream, index, next_seq, cfg.segment_bytes);
            // SAFETY: just created and shared with nobody: this thread is its only writer.
            unsafe { segment.activate(&header) };
            Ok((segment, next_seq))
        };
        let ((active, first_seq), offset) = match scan.tail {
            Tail::Open {
                index,
                end,
                capacity,
                first_sequence,
            } => {
                let path = stream_dir.join(segment_file_name(index));
                let segment = Segment::open_existing(&path, index, capacity, end, &io)?;
                ((segment, first_sequence), end)
            }
            Tail::Sealed { index } => (fresh(index + 1)?, HEADER_LEN),
            Tail::Empty => (fresh(0)?, HEADER_LEN),
        };
        let active = Arc::new(active);
        let shared = Arc::new(Shared::new(io, active.index(), offset, next_seq));
        let (ready_tx, ready_rx) = RingBuffer::new(cfg.ready_segments.max(1));
        let (roll_tx, roll_rx) = RingBuffer::new(ROLLOVER_RING);
        let worker = Worker::new(
            Arc::clone(&shared),
            ready_tx,
            roll_rx,
            Arc::clone(&active),
            first_seq,
            &cfg,
        );
        let service = JournalService::spawn(worker, &cfg.stream, recovery)?;
        let capacity = active.capacity();
        let appender = Appender {
            active,
            offset,
            capacity,
            max_payload: max_payload(capacity.min(cfg.segment_bytes)) as usize,
            next_seq,
            ready: ready_rx,
            rollovers: roll_tx,
            service: service.thread().clone(),
            shared,
            stream_dir,
            stream: cfg.stream,
            segment_bytes: cfg.segment_bytes,
            sync: cfg.sync,
            counters: AppenderCounters::default(),
            _lock: lock,
        };
        Ok((appender, service))
    }

    /// Appends one record and returns its sequence.
    #[inline]
    pub fn append(
        &mut self,
        kind: u16,
        timestamp: u64,
        payload: &[u8],
    ) -> Result<u64, AppendError> {
        self.append_with(kind, timestamp, payload.len(), |buf| {
            buf.copy_from_slice(payload)
        })
    }

    /// Appends a record of `len` payload bytes that `fill` writes in place, straight into the
    /// mapped segment (no intermediate buffer), and returns its sequence. `fill` gets exactly
    /// `len` bytes, zeroed only if never written before; if it panics, nothing is committed.
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let (mut appender, service) =
    /// #     pulse_journal::Appender::open(pulse_journal::JournalConfig::new(dir.path(), "input"))?;
    /// let ingress_ns = 1_723_100_000_000_000_000u64;
    /// let seq = appender.append_with(1, ingress_ns, 12, |buf| {
    ///     buf[..8].copy_from_slice(&ingress_ns.to_le_bytes());
    ///     buf[8..].copy_from_slice(b"bid!");
    /// })?;
    /// assert_eq!(seq, 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn append_with(
        &mut self,
        kind: u16,
        timestamp: u64,
        len: usize,
        fill: impl FnOnce(&mut [u8]),
    ) -> Result<u64, AppendError> {
        if kind >= RESERVED_KIND_MIN {
            self.counters.refused_reserved_kind += 1;
            return Err(AppendError::ReservedKind(kind));
        }
        if len > self.max_payload {
            self.counters.refused_too_large += 1;
            return Err(AppendError::TooLarge {
                len,
                max: self.max_payload,
            });
        }
        let span = align8(RECORD_HEADER_LEN + len as u64);
        if self.offset + span + END_MARKER_LEN > self.capacity {
            if let Err(e) = self.roll() {
                self.counters.refused_no_segment += 1;
                return Err(e);
            }
        }
        let sequence = self.next_seq;
        // SAFETY: this appender is the active segment's only writer; `offset` is 8-aligned and
        // past every committed record; the check above (or the roll-over, into a segment whose
        // capacity bounds `max_payload`) keeps `offset + span + END_MARKER_LEN <= capacity`.
        unsafe {
            self.active
                .write_record(self.offset, kind, sequence, timestamp, len, fill);
        }
        self.offset += span;
        // Wrapping: a hostile segment could start the sequence anywhere.
        self.next_seq = self.next_seq.wrapping_add(1);
        self.counters.records += 1;
        self.counters.payload_bytes += len as u64;
        self.shared
            .publish_commit(self.active.index(), self.offset, self.next_seq);
        Ok(sequence)
    }

    /// With [`SyncMode::Order`], returns once record `sequence` (and every one before it) is
    /// `msync`ed; with any other mode at once. The service thread does the `msync`: this thread
    /// only wakes it (a futex wake when it is parked, which never blocks) and spins on the
    /// durable sequence it publishes, so it makes no blocking system call. Fails with
    /// [`AppendError::NotDurable`] when the journal faults (or its service stops) first; a
    /// disk that never answers keeps it spinning, as it would keep an `fdatasync` waiting.
    #[inline]
    pub fn make_durable(&self, sequence: u64) -> Result<(), AppendError> {
        if self.sync != SyncMode::Order {
            return Ok(());
        }
        self.service.unpark();
        loop {
            if self.shared.durable() > sequence {
                return Ok(());
            }
            // Acquire pairs with `JournalService::stop`'s Release.
            if self.shared.fault.is_set() || self.shared.stop.load(Ordering::Acquire) {
                return Err(AppendError::NotDurable);
            }
            std::hint::spin_loop();
        }
    }

    /// The sequence the next record will get.
    pub fn next_sequence(&self) -> u64 {
        self.next_seq
    }

    /// What this appender did so far.
    pub fn counters(&self) -> AppenderCounters {
        self.counters
    }

    /// The sticky fault of this journal (set by the appender or the service), if any.
    pub fn fault(&self) -> Option<JournalFault> {
        self.shared.fault.get()
    }

    /// Stops appending and tells the service, whose [`JournalService::shutdown`] then
    /// `msync`s everything committed. The same as dropping it, with the final counters.
    pub fn close(self) -> AppenderCounters {
        self.counters
    }

    /// Closes the active segment with an end marker and continues in the next one.
    #[cold]
    fn roll(&mut self) -> Result<(), AppendError> {
        let index = self.active.index() + 1;
        let next = self.next_segment(index)?;
        // SAFETY: the only writer; room for the end marker is always kept at `offset`.
        unsafe {
            self.active
                .write_record(self.offset, END_MARKER, self.next_seq, 0, 0, |_| {});
        }
        let header = SegmentHeader::new(&self.stream, index, self.next_seq, next.capacity());
        // SAFETY: `next` was prepared for this appender (or created by it) and is written by
        // nobody else; it is not activated yet.
        unsafe { next.activate(&header) };
        let retired = std::mem::replace(&mut self.active, Arc::clone(&next));
        self.offset = HEADER_LEN;
        self.capacity = next.capacity();
        self.counters.rollovers += 1;
        self.shared
            .publish_commit(index, self.offset, self.next_seq);
        let rollover = Rollover {
            retired,
            active: next,
            first_sequence: self.next_seq,
        };
        if self.rollovers.is_abandoned() {
            self.retire_here(rollover);
        } else if let Err(rtrb::PushError::Full(rollover)) = self.rollovers.push(rollover) {
            self.retire_here(rollover);
        }
        self.service.unpark();
        Ok(())
    }

    /// The segment to continue in: a prepared one, or one created here (counted).
    fn next_segment(&mut self, index: u64) -> Result<Arc<Segment>, AppendError> {
        let mut waited = false;
        loop {
            if let Ok(segment) = self.ready.pop() {
                self.counters.sync_fallbacks += u64::from(waited);
                debug_assert_eq!(segment.index(), index, "segments are prepared in order");
                return if segment.index() == index {
                    Ok(segment)
                } else {
                    Err(AppendError::NoSegment)
                };
            }
            if self.shared.fault.is_set() {
                return Err(AppendError::NoSegment);
            }
            // AcqRel on success: claims `index` against the service's claim of the same index.
            // Acquire on failure: the service's claim happened, so its push will be seen.
            let claimed = self.shared.next_create.compare_exchange(
                index,
                index + 1,
                Ordering::AcqRel,
                Ordering::Acquire,
            );
            if claimed.is_ok() {
                self.counters.sync_fallbacks += 1;
                let created =
                    Segment::create(&self.stream_dir, index, self.segment_bytes, &self.shared.io);
                return match created {
                    Ok(segment) => Ok(Arc::new(segment)),
                    Err(e) => {
                        if let Some(fault) = fault_of(&e) {
                            self.shared.fault.raise(fault);
                        }
                        Err(AppendError::NoSegment)
                    }
                };
            }
            // The service claimed it and is preparing it right now: as fast as doing it here.
            waited = true;
            std::thread::yield_now();
        }
    }

    /// Retires a segment without the service: `msync`s it here (unless an `msync` failed
    /// before) and unmaps it.
    #[cold]
    fn retire_here(&mut self, rollover: Rollover) {
        self.counters.inline_retires += 1;
        let segment = rollover.retired;
        if !self.shared.msync_allowed() {
            return;
        }
        let flushed = self.shared.io.run(Op::Msync, segment.path(), || {
            segment.flush(0, segment.capacity())
        });
        if let Err(e) = flushed {
            self.shared.forbid_msync();
            if let Some(fault) = fault_of(&e) {
                self.shared.fault.raise(fault);
            }
        }
    }
}

/// Takes the stream's writer lock, which the kernel releases when the process dies.
fn lock_stream(stream_dir: &std::path::Path, io: &IoBudget) -> Result<File, JournalError> {
    let path = stream_dir.join(LOCK_FILE);
    let file = io.run(Op::OpenFile, &path, || {
        OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(PRIVATE_FILE)
            .open(&path)
    })?;
    // SAFETY: a plain system call on an open descriptor; it reads no memory of ours.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc != 0 {
        return Err(JournalError::InUse { path });
    }
    Ok(file)
}

impl Drop for Appender {
    fn drop(&mut self) {
        // Release: the service that sees the appender gone also sees its last commit.
        self.shared.appender_open.store(false, Ordering::Release);
        self.service.unpark();
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn handles_move_between_threads() {
        fn send<T: Send>() {}
        fn shared<T: Send + Sync>() {}
        send::<super::Appender>();
        send::<crate::JournalService>();
        send::<crate::JournalReader>();
        shared::<crate::FaultFlag>();
    }
}
