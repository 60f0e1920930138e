//! One read-only pass over a stream's segment files that finds the longest valid prefix, the
//! first problem after or inside it, and the repairs that would cut the stream back to that
//! prefix. `verify`, `stats`, `recover` and `Appender::open` are this pass plus a report or the
//! repairs.
//!
//! The rules, in stream order: segments are consecutive from the lowest index present; each is
//! activated with a valid header whose first sequence continues the previous segment's end
//! marker; records are valid and contiguous; an end marker leads to the next segment. The
//! prefix ends at the first segment that is missing or not activated, at a zero commit word, or
//! at the first invalid unit. What follows it must be zero, except an unfinished append: up to
//! one largest record's span of bytes right after a zero commit word in the last segment, which
//! a writer killed mid-append leaves (its append never returned, so nobody was told of it).
//!
//! Only one problem is a torn tail, which `Appender::open` may cut: a committed record at the
//! end of the valid prefix of the last segment holding data whose checksum fails, followed by
//! nothing but zeros (the pages of a last append that a kernel crash or a power cut wrote back
//! only in part). Anything else (a bad record with records after it, a bad header, a gap, a
//! wrong file length, bytes after an end marker) is corruption: it is reported and kept.

use std::fs;
use std::path::{Path, PathBuf};

use crate::descriptor::{
    align8, max_record_span, parse_segment_file_name, END_MARKER_LEN, HEADER_LEN, RECORD_ALIGN,
};
use crate::error::{JournalError, Location, Reason};
use crate::op::Op;
use crate::record::{read_header, read_unit, HeaderState, Record, Unit};
use crate::view::SegmentView;

/// Whether a problem looks like the end of a crash or like damage to data that was complete.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProblemKind {
    /// The last record of the last segment fails its checksum and only zeros follow: an append
    /// whose pages a crash wrote back in part. The next open cuts it.
    TornTail,
    /// Any other damage: the stream is refused for writing until `recover` moves it aside.
    Corruption,
}

/// The first thing wrong with a stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Torn tail or corruption in the middle.
    pub kind: ProblemKind,
    /// Where it is.
    pub at: Location,
    /// What is wrong there.
    pub reason: Reason,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.kind {
            ProblemKind::TornTail => "torn tail",
            ProblemKind::Corruption => "corruption",
        };
        write!(f, "{kind} at {}: {}", self.at, self.reason)
    }
}

/// The sequence and timestamp of a record, for first/last figures.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Position {
    /// The record's sequence.
    pub sequence: u64,
    /// The record's timestamp.
    pub timestamp: u64,
}

/// A segment file of the stream.
pub(crate) struct SegmentFile {
    pub(crate) index: u64,
    pub(crate) path: PathBuf,
}

/// The segment files in `stream_dir`, by index; other files are ignored.
pub(crate) fn list_segments(stream_dir: &Path) -> Result<Vec<SegmentFile>, JournalError> {
    let entries =
        fs::read_dir(stream_dir).map_err(|e| JournalError::io(Op::OpenFile, stream_dir, e))?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| JournalError::io(Op::OpenFile, stream_dir, e))?;
        let name = entry.file_name();
        if let Some(index) = name.to_str().and_then(parse_segment_file_name) {
            files.push(SegmentFile {
                index,
                path: entry.path(),
            });
        }
    }
    files.sort_by_key(|f| f.index);
    Ok(files)
}

/// How the valid prefix ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tail {
    /// No activated segment: the stream is empty.
    Empty,
    /// The last valid segment ends with its end marker; the next one is to be created.
    Sealed { index: u64 },
    /// The last valid segment has room: writing continues at `end`.
    Open {
        index: u64,
        end: u64,
        capacity: u64,
        first_sequence: u64,
    },
}

/// What recovery does to one kept segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Repair {
    pub(crate) index: u64,
    /// Restore the file length to the capacity.
    pub(crate) resize: Option<u64>,
    /// Zero these bytes.
    pub(crate) zero: Option<(u64, u64)>,
}

/// The result of the pass.
pub(crate) struct StreamScan {
    pub(crate) dir: PathBuf,
    pub(crate) segments: u64,
    pub(crate) unused_segments: u64,
    pub(crate) records: u64,
    pub(crate) payload_bytes: u64,
    pub(crate) first: Option<Position>,
    pub(crate) last: Option<Position>,
    pub(crate) next_sequence: u64,
    pub(crate) tail: Tail,
    /// An unfinished append after the last record (benign).
    pub(crate) pending: Option<Location>,
    pub(crate) problem: Option<Problem>,
    /// Where the prefix ends, when recovery will discard something written after it.
    pub(crate) discarded_at: Option<Location>,
    pub(crate) repairs: Vec<Repair>,
    /// Segment files after the prefix, to remove.
    pub(crate) remove: Vec<u64>,
}

impl StreamScan {
    fn note(&mut self, at: Location, reason: Reason) {
        self.note_kind(ProblemKind::Corruption, at, reason);
    }

    fn note_kind(&mut self, kind: ProblemKind, at: Location, reason: Reason) {
        if self.problem.is_none_or(|p| at < p.at) {
            self.problem = Some(Problem { kind, at, reason });
        }
    }

    fn repair(&mut self, index: u64, resize: Option<u64>, zero: Option<(u64, u64)>) {
        if resize.is_some() || zero.is_some() {
            self.repairs.push(Repair {
                index,
                resize,
                zero,
            });
        }
    }

    fn end_location(&self) -> Location {
        match self.tail {
            Tail::Empty => Location {
                segment: 0,
                offset: 0,
            },
            Tail::Sealed { index } => Location {
                segment: index + 1,
                offset: 0,
            },
            Tail::Open { index, end, .. } => Location {
                segment: index,
                offset: end,
            },
        }
    }
}

/// Scans `stream` in `stream_dir`, calling `visit` for every record of the valid prefix.
pub(crate) fn scan_stream(
    stream_dir: &Path,
    stream: &str,
    visit: &mut dyn FnMut(&Record<'_>),
) -> Result<StreamScan, JournalError> {
    let files = list_segments(stream_dir)?;
    let mut s = StreamScan {
        dir: stream_dir.to_path_buf(),
        segments: 0,
        unused_segments: 0,
        records: 0,
        payload_bytes: 0,
        first: None,
        last: None,
        next_sequence: 0,
        tail: Tail::Empty,
        pending: None,
        problem: None,
        discarded_at: None,
        repairs: Vec::new(),
        remove: Vec::new(),
    };
    // Segments that hold anything: a problem before one of them is corruption in the middle.
    let mut data_segments = Vec::new();
    let mut next_index = files.first().map_or(0, |f| f.index);
    let mut ended = false;
    for file in &files {
        let view = SegmentView::open(&file.path)
            .map_err(|e| JournalError::io(Op::OpenFile, &file.path, e))?;
        let gap = (!ended && file.index != next_index).then_some(next_index);
        ended |= gap.is_some();
        let header = read_header(&view, file.index, stream);
        let unused = matches!(header, HeaderState::Unactivated);
        let header = match header {
            HeaderState::Valid(h) if !ended => match s.tail {
                Tail::Sealed { .. } if h.first_sequence != s.next_sequence => {
                    HeaderState::Invalid(Reason::WrongFirstSequence {
                        expected: s.next_sequence,
                        found: h.first_sequence,
                    })
                }
                _ => HeaderState::Valid(h),
            },
            other => other,
        };
        let h = match header {
            HeaderState::Valid(h) if !ended => h,
            _ if unused => {
                // Prepared and never used: the stream ends before it (or ended already).
                ended = true;
                s.unused_segments += 1;
                s.remove.push(file.index);
                if let Some((from, until)) = view.nonzero_span(HEADER_LEN, view.mapped()) {
                    data_segments.push(file.index);
                    s.note(loc(file.index, from), Reason::Garbage { until });
                }
                continue;
            }
            header => {
                let (at, reason) = match (gap, header) {
                    (Some(missing), _) => (loc(missing, 0), Reason::MissingSegment(missing)),
                    (None, HeaderState::Invalid(reason)) if !ended => (loc(file.index, 0), reason),
                    _ => (loc(file.index, 0), Reason::AfterEnd),
                };
                ended = true;
                data_segments.push(file.index);
                s.remove.push(file.index);
                s.note(at, reason);
                s.discarded_at.get_or_insert(s.end_location());
                continue;
            }
        };
        data_segments.push(file.index);
        s.segments += 1;
        if s.tail == Tail::Empty {
            s.next_sequence = h.first_sequence;
        }
        let capacity = h.capacity;
        let resize = (view.file_len() != capacity).then_some(capacity);
        if resize.is_some() {
            let found = view.file_len();
            s.note(
                loc(file.index, found.min(capacity)),
                Reason::FileLength {
                    expected: capacity,
                    found,
                },
            );
        }
        let mut off = HEADER_LEN;
        let stop = loop {
            match read_unit(&view, file.index, off, capacity, s.next_sequence) {
                Ok(Unit::Record { record, span }) => {
                    visit(&record);
                    let pos = Position {
                        sequence: record.sequence,
                        timestamp: record.timestamp,
                    };
                    s.first.get_or_insert(pos);
                    s.last = Some(pos);
                    s.records += 1;
                    s.payload_bytes += record.payload.len() as u64;
                    s.next_sequence = s.next_sequence.wrapping_add(1);
                    off += span;
                }
                Ok(Unit::End) => break None,
                Ok(Unit::Unwritten) => break Some(None),
                Err(reason) => break Some(Some(reason)),
            }
        };
        let Some(bad) = stop else {
            // Sealed: nothing may follow the end marker in this segment.
            let after = off + END_MARKER_LEN;
            let garbage = view.nonzero_span(after, capacity);
            if let Some((from, until)) = garbage {
                s.note(loc(file.index, from), Reason::Garbage { until });
            }
            s.repair(file.index, resize, garbage.map(|(_, until)| (after, until)));
            s.tail = Tail::Sealed { index: file.index };
            next_index = file.index + 1;
            continue;
        };
        ended = true;
        s.tail = Tail::Open {
            index: file.index,
            end: off,
            capacity,
            first_sequence: h.first_sequence,
        };
        let garbage = view.nonzero_span(off, capacity);
        match (bad, garbage) {
            (Some(reason), _) => {
                let kind = if torn_record(&view, off, capacity, reason) {
                    ProblemKind::TornTail
                } else {
                    ProblemKind::Corruption
                };
                s.note_kind(kind, loc(file.index, off), reason);
                s.discarded_at = Some(loc(file.index, off));
            }
            (None, Some((_, until))) if until <= off + max_record_span(capacity) => {
                let next = s.next_sequence.wrapping_add(1);
                if let Some(at) = committed_after(&view, file.index, off, until, capacity, next) {
                    s.note(
                        loc(file.index, off),
                        Reason::ZeroCommitWord { next_record: at },
                    );
                } else {
                    s.pending = Some(loc(file.index, off));
                }
                s.discarded_at = Some(loc(file.index, off));
            }
            (None, Some((from, until))) => {
                s.note(loc(file.index, from), Reason::Garbage { until });
                s.discarded_at = Some(loc(file.index, off));
            }
            (None, None) => {}
        }
        s.repair(file.index, resize, garbage.map(|(_, until)| (off, until)));
    }
    if let Some(p) = &mut s.problem {
        if data_segments.iter().any(|&i| i > p.at.segment) {
            p.kind = ProblemKind::Corruption;
        }
    }
    Ok(s)
}

/// Whether the invalid record at `off` is a torn last append: its length is plausible (so its
/// commit word, written last with one aligned store, is whole), its checksum fails, and nothing
/// but zeros follows the span it claims.
fn torn_record(view: &SegmentView, off: u64, capacity: u64, reason: Reason) -> bool {
    let Reason::Checksum { .. } = reason else {
        return false;
    };
    let Some(len) = view.load_u32(off) else {
        return false;
    };
    view.nonzero_span(off + align8(u64::from(len)), capacity)
        .is_none()
}

/// The offset of a committed record with sequence `next` after a zero commit word at `off`, if
/// any: then the zero word is damage to a record that had been committed, not an unfinished
/// append (a writer never writes past the record it has not committed yet).
fn committed_after(
    view: &SegmentView,
    segment: u64,
    off: u64,
    until: u64,
    capacity: u64,
    next: u64,
) -> Option<u64> {
    (off + RECORD_ALIGN..until)
        .step_by(RECORD_ALIGN as usize)
        .find(|&at| {
            matches!(
                read_unit(view, segment, at, capacity, next),
                Ok(Unit::Record { .. } | Unit::End)
            )
        })
}

fn loc(segment: u64, offset: u64) -> Location {
    Location { segment, offset }
}
