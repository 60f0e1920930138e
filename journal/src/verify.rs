//! The read-only tools: `verify`, `stats` and `streams`, what `pulse journal verify | stats`
//! print. None of them writes a byte.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use crate::descriptor::valid_stream_name;
use crate::error::{JournalError, Location};
use crate::op::Op;
use crate::recovery::check_stream;
use crate::scan::{scan_stream, Position, Problem};

/// What `verify` found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyReport {
    /// Activated segments in the valid prefix.
    pub segments: u64,
    /// Prepared segments never activated (the next open removes them).
    pub unused_segments: u64,
    /// Valid records.
    pub records: u64,
    /// Their payload bytes.
    pub payload_bytes: u64,
    /// The first valid record.
    pub first: Option<Position>,
    /// The last valid record.
    pub last: Option<Position>,
    /// The sequence the next append would get.
    pub next_sequence: u64,
    /// An unfinished append after the last record, as a writer killed mid-append leaves:
    /// not a problem (its append never returned), removed by the next open.
    pub pending: Option<Location>,
    /// The first problem: anything else than zeros (or one unfinished append) after the valid
    /// prefix, or a valid prefix that stops before the last segment holding data.
    pub problem: Option<Problem>,
}

impl VerifyReport {
    /// Whether the stream is sound: no problem other than an unwritten (or unfinished) tail.
    pub fn passed(&self) -> bool {
        self.problem.is_none()
    }
}

/// Checks every segment, record and CRC of `stream` in `dir` without writing anything.
///
/// Meant for a stream without a live writer in this process (after a crash, or from a tool);
/// from another process a live stream can be verified, with the last record possibly still
/// being written.
///
/// ```
/// # let dir = tempfile::tempdir()?;
/// let (mut appender, service) =
///     pulse_journal::Appender::open(pulse_journal::JournalConfig::new(dir.path(), "input"))?;
/// appender.append(1, 100, b"hello")?;
/// appender.close();
/// service.shutdown()?;
/// let report = pulse_journal::verify(dir.path(), "input")?;
/// assert!(report.passed());
/// assert_eq!((report.records, report.payload_bytes), (1, 5));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn verify(dir: &Path, stream: &str) -> Result<VerifyReport, JournalError> {
    check_stream(stream)?;
    let scan = scan_stream(&dir.join(stream), stream, &mut |_| {})?;
    Ok(VerifyReport {
        segments: scan.segments,
        unused_segments: scan.unused_segments,
        records: scan.records,
        payload_bytes: scan.payload_bytes,
        first: scan.first,
        last: scan.last,
        next_sequence: scan.next_sequence,
        pending: scan.pending,
        problem: scan.problem,
    })
}

/// Figures of a stream's valid prefix.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StreamStats {
    /// Activated segments.
    pub segments: u64,
    /// Records.
    pub records: u64,
    /// Payload bytes.
    pub payload_bytes: u64,
    /// First record's sequence and timestamp.
    pub first: Option<Position>,
    /// Last record's sequence and timestamp.
    pub last: Option<Position>,
    /// Records per type.
    pub records_by_kind: BTreeMap<u16, u64>,
    /// The first problem, as `verify` reports it.
    pub problem: Option<Problem>,
}

/// Counts the records of `stream` in `dir` (its valid prefix) by type.
pub fn stats(dir: &Path, stream: &str) -> Result<StreamStats, JournalError> {
    check_stream(stream)?;
    let mut by_kind = BTreeMap::new();
    let scan = scan_stream(&dir.join(stream), stream, &mut |r| {
        *by_kind.entry(r.kind).or_insert(0) += 1;
    })?;
    Ok(StreamStats {
        segments: scan.segments,
        records: scan.records,
        payload_bytes: scan.payload_bytes,
        first: scan.first,
        last: scan.last,
        records_by_kind: by_kind,
        problem: scan.problem,
    })
}

/// The streams present in `dir`: its subdirectories with a stream's name, sorted.
pub fn streams(dir: &Path) -> Result<Vec<String>, JournalError> {
    let entries = fs::read_dir(dir).map_err(|e| JournalError::io(Op::OpenFile, dir, e))?;
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| JournalError::io(Op::OpenFile, dir, e))?;
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        match entry.file_name().into_string() {
            Ok(name) if is_dir && valid_stream_name(&name) => names.push(name),
            _ => {}
        }
    }
    names.sort();
    Ok(names)
}
