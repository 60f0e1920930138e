//! Cutting a stream back to its longest valid prefix. Two callers: `Appender::open`, which
//! only ever cuts a torn tail (zeroes the last append a crash left in part and removes
//! prepared segments never used), and [`recover`], the operator's repair, which first copies
//! every segment it changes and moves every later segment holding data to a side file
//! `<segment>.damaged-<n>` beside it: nothing is deleted. Idempotent, so a crash during
//! recovery is recovered by the next one; every step is one counted I/O operation.

use std::fs::{self, OpenOptions};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::descriptor::{segment_file_name, valid_stream_name};
use crate::error::{JournalError, Location};
use crate::fault::IoBudget;
use crate::op::Op;
use crate::scan::{scan_stream, Problem, StreamScan};
use crate::segment::{sync_dir, PRIVATE_FILE};
use crate::view::SegmentView;

/// What recovery found and did (or, for [`recovery_plan`], would do).
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
    /// Segment files removed after the prefix: prepared ones never used, all zeros.
    pub removed_segments: Vec<u64>,
    /// What [`recover`] set aside, segment by segment.
    pub moved: Vec<Moved>,
}

/// A segment [`recover`] changed or took out of the stream, and where its bytes went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Moved {
    /// The segment's index.
    pub segment: u64,
    /// The side file beside it: a copy of the whole segment as it was, so offsets in reports
    /// still point into it (for a segment after the prefix, the segment file itself, renamed).
    pub side_file: PathBuf,
    /// Bytes no longer in the stream: from the cut to the last non-zero byte, or the length
    /// of a segment taken out whole.
    pub bytes: u64,
}

/// Repairs `stream` in `dir`: keeps the longest valid prefix, and moves what follows it to
/// side files beside the segments (see [`Moved`]) before zeroing it or taking the segment out.
/// Nothing is deleted except prepared segments that were never used (all zeros). A stream
/// without problems is not written at all. Afterwards `verify` passes and the stream opens.
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
/// assert!(report.moved.is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn recover(dir: &Path, stream: &str) -> Result<RecoveryReport, JournalError> {
    check_stream(stream)?;
    let scan = scan_stream(&dir.join(stream), stream, &mut |_| {})?;
    apply(&scan, &IoBudget::new(None), Mode::SetAside)
}

/// What [`recover`] would do to `stream` in `dir`, without writing anything.
pub fn recovery_plan(dir: &Path, stream: &str) -> Result<RecoveryReport, JournalError> {
    check_stream(stream)?;
    let scan = scan_stream(&dir.join(stream), stream, &mut |_| {})?;
    apply(&scan, &IoBudget::new(None), Mode::Plan)
}

/// How [`apply`] treats what it cuts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// `Appender::open` after a torn tail: zero it, remove unused segments.
    CutTornTail,
    /// Report only.
    Plan,
    /// Copy or move to side files first.
    SetAside,
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

/// Carries out the repairs `scan` found (or, in [`Mode::Plan`], reports them).
pub(crate) fn apply(
    scan: &StreamScan,
    io: &IoBudget,
    mode: Mode,
) -> Result<RecoveryReport, JournalError> {
    let mut report = RecoveryReport {
        valid_records: scan.records,
        next_sequence: scan.next_sequence,
        last_sequence: scan.last.map(|p| p.sequence),
        truncated_at: scan.discarded_at,
        problem: scan.problem,
        zeroed_bytes: 0,
        resized_segments: Vec::new(),
        removed_segments: Vec::new(),
        moved: Vec::new(),
    };
    let set_aside = mode != Mode::CutTornTail;
    let write = mode != Mode::Plan;
    for repair in &scan.repairs {
        let path = scan.dir.join(segment_file_name(repair.index));
        let zeroed = repair.zero.map_or(0, |(from, to)| to - from);
        let file_len = fs::metadata(&path).map_or(0, |m| m.len());
        let cut_off = repair
            .resize
            .map_or(0, |capacity| file_len.saturating_sub(capacity));
        if set_aside {
            let side_file = side_file(&path)?;
            if write {
                copy_aside(&path, &side_file, io)?;
            }
            report.moved.push(Moved {
                segment: repair.index,
                side_file,
                bytes: zeroed + cut_off,
            });
        }
        if repair.resize.is_some() {
            report.resized_segments.push(repair.index);
        }
        report.zeroed_bytes += zeroed;
        if write {
            repair_segment(&path, repair.resize, repair.zero, io)?;
        }
    }
    // Highest first: a crash part way leaves a shorter run of consecutive segments.
    let mut remove = scan.remove.clone();
    remove.sort_unstable_by(|a, b| b.cmp(a));
    for index in remove {
        let path = scan.dir.join(segment_file_name(index));
        let holds = holds_data(&path)?;
        match holds {
            Some(bytes) if set_aside => {
                let side_file = side_file(&path)?;
                if write {
                    io.run(Op::Remove, &path, || fs::rename(&path, &side_file))?;
                }
                report.moved.push(Moved {
                    segment: index,
                    side_file,
                    bytes,
                });
            }
            _ => {
                if write {
                    io.run(Op::Remove, &path, || fs::remove_file(&path))?;
                }
                report.removed_segments.push(index);
            }
        }
    }
    report.moved.sort_by_key(|m| m.segment);
    let changed = !report.removed_segments.is_empty() || !report.moved.is_empty();
    if write && changed {
        io.run(Op::SyncDir, &scan.dir, || sync_dir(&scan.dir))?;
    }
    Ok(report)
}

fn repair_segment(
    path: &Path,
    resize: Option<u64>,
    zero: Option<(u64, u64)>,
    io: &IoBudget,
) -> Result<(), JournalError> {
    let file = io.run(Op::OpenFile, path, || {
        OpenOptions::new().read(true).write(true).open(path)
    })?;
    if let Some(capacity) = resize {
        io.run(Op::Resize, path, || file.set_len(capacity))?;
    }
    if let Some((from, to)) = zero {
        let zeros = vec![0; (to - from).min(1 << 20) as usize];
        io.run(Op::Write, path, || {
            let mut at = from;
            while at < to {
                let n = (to - at).min(zeros.len() as u64);
                file.write_all_at(&zeros[..n as usize], at)?;
                at += n;
            }
            Ok(())
        })?;
    }
    io.run(Op::SyncFile, path, || file.sync_all())
}

/// The first free `<segment>.damaged-<n>` beside `path`, from 1.
fn side_file(path: &Path) -> Result<PathBuf, JournalError> {
    let name = path
        .file_name()
        .map_or_else(Default::default, |n| n.to_string_lossy().into_owned());
    (1..)
        .map(|n| path.with_file_name(format!("{name}.damaged-{n}")))
        .find(|p| fs::symlink_metadata(p).is_err())
        .ok_or_else(|| JournalError::Config(format!("no free side file for {name}")))
}

/// Copies `from` to the new file `to` (mode 0600, never an existing one) and makes it durable.
fn copy_aside(from: &Path, to: &Path, io: &IoBudget) -> Result<(), JournalError> {
    io.run(Op::CreateFile, to, || {
        let mut src = fs::File::open(from)?;
        let mut dst = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(PRIVATE_FILE)
            .open(to)?;
        std::io::copy(&mut src, &mut dst)?;
        dst.sync_all()
    })
}

/// The bytes up to the last non-zero one of a segment file, if it holds any.
fn holds_data(path: &Path) -> Result<Option<u64>, JournalError> {
    let view = SegmentView::open(path).map_err(|e| JournalError::io(Op::OpenFile, path, e))?;
    Ok(view.nonzero_span(0, view.mapped()).map(|(_, until)| until))
}
