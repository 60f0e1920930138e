//! Cutting a stream back to its longest valid prefix: zero what follows the last valid record,
//! restore file lengths, remove later segments. Idempotent, so a crash during recovery is
//! recovered by the next one; every step is one counted I/O operation.

use std::fs::{self, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::Path;

use crate::descriptor::{segment_file_name, valid_stream_name};
use crate::error::{JournalError, Location};
use crate::fault::{IoBudget, Op};
use crate::scan::{scan_stream, Problem, StreamScan};
use crate::segment::sync_dir;

/// What recovery found and did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecoveryReport {
    /// Records in the kept prefix.
    pub valid_records: u64,
    /// The sequence the next append gets.
    pub next_sequence: u64,
    /// The last kept record's sequence.
    pub last_sequence: Option<u64>,
    /// Where the prefix ends, when something written after it was discarded (an unfinished
    /// append, a torn or corrupt record, later segments holding data).
    pub truncated_at: Option<Location>,
    /// The first problem found, before the repairs.
    pub problem: Option<Problem>,
    /// Bytes set back to zero.
    pub zeroed_bytes: u64,
    /// Kept segments whose file length was restored to their capacity.
    pub resized_segments: Vec<u64>,
    /// Segment files removed after the prefix, prepared-but-unused ones included.
    pub removed_segments: Vec<u64>,
}

/// Recovers `stream` in `dir` as [`crate::Appender::open`] does, without opening it for
/// writing: keeps the longest valid prefix, zeroes what follows it, removes later segments.
/// A stream without problems is not written at all.
///
/// ```
/// # let dir = tempfile::tempdir()?;
/// # let (mut appender, service) =
/// #     pulse_journal::Appender::open(pulse_journal::JournalConfig::new(dir.path(), "input"))?;
/// # appender.append(1, 0, b"x")?;
/// # drop(appender);
/// # service.shutdown()?;
/// let report = pulse_journal::recover(dir.path(), "input")?;
/// assert_eq!(report.valid_records, 1);
/// assert_eq!(report.truncated_at, None);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn recover(dir: &Path, stream: &str) -> Result<RecoveryReport, JournalError> {
    check_stream(stream)?;
    let scan = scan_stream(&dir.join(stream), stream, &mut |_| {})?;
    apply(&scan, &IoBudget::new(None))
}

pub(crate) fn check_stream(stream: &str) -> Result<(), JournalError> {
    if valid_stream_name(stream) {
        Ok(())
    } else {
        Err(JournalError::Config(format!(
            "{stream:?} is not a stream name"
        )))
    }
}

/// Carries out the repairs `scan` found.
pub(crate) fn apply(scan: &StreamScan, io: &IoBudget) -> Result<RecoveryReport, JournalError> {
    let mut report = RecoveryReport {
        valid_records: scan.records,
        next_sequence: scan.next_sequence,
        last_sequence: scan.last.map(|p| p.sequence),
        truncated_at: scan.discarded_at,
        problem: scan.problem,
        zeroed_bytes: 0,
        resized_segments: Vec::new(),
        removed_segments: Vec::new(),
    };
    for repair in &scan.repairs {
        let path = scan.dir.join(segment_file_name(repair.index));
        let file = io.run(Op::OpenFile, &path, || {
            OpenOptions::new().read(true).write(true).open(&path)
        })?;
        if let Some(capacity) = repair.resize {
            io.run(Op::Resize, &path, || file.set_len(capacity))?;
            report.resized_segments.push(repair.index);
        }
        if let Some((from, to)) = repair.zero {
            let zeros = vec![0; (to - from).min(1 << 20) as usize];
            io.run(Op::Write, &path, || {
                let mut at = from;
                while at < to {
                    let n = (to - at).min(zeros.len() as u64);
                    file.write_all_at(&zeros[..n as usize], at)?;
                    at += n;
                }
                Ok(())
            })?;
            report.zeroed_bytes += to - from;
        }
        io.run(Op::SyncFile, &path, || file.sync_all())?;
    }
    // Highest first: a crash part way leaves a shorter run of consecutive segments.
    let mut remove = scan.remove.clone();
    remove.sort_unstable_by(|a, b| b.cmp(a));
    for index in remove {
        let path = scan.dir.join(segment_file_name(index));
        io.run(Op::Remove, &path, || fs::remove_file(&path))?;
        report.removed_segments.push(index);
    }
    if !report.removed_segments.is_empty() {
        io.run(Op::SyncDir, &scan.dir, || sync_dir(&scan.dir))?;
    }
    Ok(report)
}
