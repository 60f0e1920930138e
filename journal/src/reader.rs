//! Reading a stream in order, from its first segment, while it may still be written: a zero
//! commit word means "nothing yet, call again"; an end marker leads to the next segment file,
//! waited for until it exists and is activated. Segments are mapped read-only.
#![allow(unsafe_code)]

use std::io;
use std::path::{Path, PathBuf};

use crate::descriptor::{segment_file_name, HEADER_LEN, RECORD_HEADER_LEN};
use crate::error::{JournalError, Reason};
use crate::op::Op;
use crate::record::{read_header, read_unit, HeaderState, Record, Unit};
use crate::recovery::check_stream;
use crate::scan::list_segments;
use crate::view::SegmentView;

/// A read-only cursor over one stream, for dumps and for tailing a live journal.
///
/// ```
/// # let dir = tempfile::tempdir()?;
/// use pulse_journal::{Appender, JournalConfig, JournalReader};
///
/// let (mut appender, _service) = Appender::open(JournalConfig::new(dir.path(), "input"))?;
/// let mut reader = JournalReader::open(dir.path(), "input")?;
/// assert!(reader.next()?.is_none()); // nothing committed yet
/// appender.append(3, 42, b"tick")?;
/// let record = reader.next()?.expect("committed");
/// assert_eq!((record.kind, record.sequence, record.timestamp), (3, 0, 42));
/// assert_eq!(record.payload, b"tick");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct JournalReader {
    stream_dir: PathBuf,
    stream: String,
    index: u64,
    offset: u64,
    current: Option<Current>,
    expected: Option<u64>,
}

struct Current {
    view: SegmentView,
    capacity: u64,
}

/// Where the cursor is going next.
enum Step {
    Wait,
    NextSegment,
    Found {
        kind: u16,
        sequence: u64,
        timestamp: u64,
        len: u64,
        span: u64,
    },
}

impl JournalReader {
    /// A cursor at the first record of `stream` in `dir` (whose directory must exist).
    pub fn open(dir: &Path, stream: &str) -> Result<JournalReader, JournalError> {
        check_stream(stream)?;
        let stream_dir = dir.join(stream);
        let index = list_segments(&stream_dir)?.first().map_or(0, |f| f.index);
        Ok(JournalReader {
            stream_dir,
            stream: stream.to_string(),
            index,
            offset: HEADER_LEN,
            current: None,
            expected: None,
        })
    }

    /// The sequence of the record the next call returns, once the first segment was read.
    pub fn next_sequence(&self) -> Option<u64> {
        self.expected
    }

    /// The next committed record, or `Ok(None)` when none is committed yet (call again later).
    /// A record that fails validation is an error naming its segment and offset; the cursor
    /// stays there.
    #[allow(clippy::should_implement_trait)] // lends from `self`, unlike `Iterator::next`
    pub fn next(&mut self) -> Result<Option<Record<'_>>, JournalError> {
        let (kind, sequence, timestamp, len, span) = loop {
            match self.step()? {
                Step::Wait => return Ok(None),
                Step::NextSegment => {
                    self.index += 1;
                    self.offset = HEADER_LEN;
                    self.current = None;
                }
                Step::Found {
                    kind,
                    sequence,
                    timestamp,
                    len,
                    span,
                } => break (kind, sequence, timestamp, len, span),
            }
        };
        let offset = self.offset;
        self.offset += span;
        self.expected = Some(sequence.wrapping_add(1));
        let current = self.current.as_ref().ok_or(JournalError::Corrupt {
            path: self.path(),
            segment: self.index,
            offset,
            reason: Reason::Truncated,
        })?;
        // SAFETY: `step` validated this record behind its non-zero commit word; committed
        // records are never written again.
        let payload = unsafe { current.view.published(offset + RECORD_HEADER_LEN, len) };
        let payload = payload.ok_or(JournalError::Corrupt {
            path: self.path(),
            segment: self.index,
            offset,
            reason: Reason::Truncated,
        })?;
        Ok(Some(Record {
            kind,
            sequence,
            timestamp,
            payload,
            segment: self.index,
            offset,
        }))
    }

    fn path(&self) -> PathBuf {
        self.stream_dir.join(segment_file_name(self.index))
    }

    fn corrupt(&self, offset: u64, reason: Reason) -> JournalError {
        JournalError::Corrupt {
            path: self.path(),
            segment: self.index,
            offset,
            reason,
        }
    }

    fn step(&mut self) -> Result<Step, JournalError> {
        if self.current.is_none() && !self.attach()? {
            return Ok(Step::Wait);
        }
        let Some(current) = &self.current else {
            return Ok(Step::Wait);
        };
        let expected = self.expected.unwrap_or(0);
        match read_unit(
            &current.view,
            self.index,
            self.offset,
            current.capacity,
            expected,
        ) {
            Ok(Unit::Unwritten) => Ok(Step::Wait),
            Ok(Unit::End) => Ok(Step::NextSegment),
            Ok(Unit::Record { record, span }) => Ok(Step::Found {
                kind: record.kind,
                sequence: record.sequence,
                timestamp: record.timestamp,
                len: record.payload.len() as u64,
                span,
            }),
            Err(reason) => Err(self.corrupt(self.offset, reason)),
        }
    }

    /// Maps the current segment once it exists and is activated.
    fn attach(&mut self) -> Result<bool, JournalError> {
        let path = self.path();
        let view = match SegmentView::open(&path) {
            Ok(view) => view,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(JournalError::io(Op::OpenFile, path, e)),
        };
        let header = match read_header(&view, self.index, &self.stream) {
            HeaderState::Unactivated => return Ok(false),
            HeaderState::Invalid(reason) => return Err(self.corrupt(0, reason)),
            HeaderState::Valid(header) => header,
        };
        match self.expected {
            Some(expected) if header.first_sequence != expected => {
                return Err(self.corrupt(
                    0,
                    Reason::WrongFirstSequence {
                        expected,
                        found: header.first_sequence,
                    },
                ));
            }
            Some(_) => {}
            None => self.expected = Some(header.first_sequence),
        }
        // An activated segment was fully allocated first: a shorter one was cut.
        if view.file_len() < header.capacity {
            return Err(self.corrupt(
                view.file_len(),
                Reason::FileLength {
                    expected: header.capacity,
                    found: view.file_len(),
                },
            ));
        }
        self.current = Some(Current {
            view,
            capacity: header.capacity,
        });
        Ok(true)
    }
}
