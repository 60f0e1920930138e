//! What can go wrong: start-up and tool errors ([`JournalError`], with the file and offset),
//! the hot path's small `Copy` refusals ([`AppendError`]), and why bytes on disk are not a valid
//! journal ([`Reason`]).

use std::io;
use std::path::PathBuf;

use crate::op::Op;

/// An error of opening, reading, verifying or recovering a journal.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// The configuration cannot describe a journal.
    #[error("invalid journal config: {0}")]
    Config(String),
    /// An operating-system call failed (or was made to fail by `fail_io_at`).
    #[error("{op} {}: {source}", path.display())]
    Io {
        /// What was being done.
        op: Op,
        /// The file or directory it was done to.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// The bytes of a segment are not a valid journal at this point.
    #[error("{}: segment {segment} offset {offset}: {reason}", path.display())]
    Corrupt {
        /// The segment file.
        path: PathBuf,
        /// Its index.
        segment: u64,
        /// Byte offset in the file.
        offset: u64,
        /// What is wrong there.
        reason: Reason,
    },
    /// Another appender holds the stream's writer lock.
    #[error("{}: the stream already has a writer", path.display())]
    InUse {
        /// The lock file.
        path: PathBuf,
    },
    /// The journal's service thread panicked; its work (msync, segment preparation) stopped.
    #[error("the journal service thread panicked")]
    ServicePanicked,
}

impl JournalError {
    pub(crate) fn io(op: Op, path: impl Into<PathBuf>, source: io::Error) -> Self {
        JournalError::Io {
            op,
            path: path.into(),
            source,
        }
    }
}

/// Why an append wrote nothing. Counted in [`crate::AppenderCounters`]; never a panic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AppendError {
    /// The payload is larger than the journal's bound (a quarter of a segment, less a header).
    #[error("payload of {len} bytes is larger than the journal's maximum of {max}")]
    TooLarge {
        /// The payload length asked for.
        len: usize,
        /// The largest payload this journal accepts.
        max: usize,
    },
    /// The type is one of the journal's own (from `RESERVED_KIND_MIN` up).
    #[error("record type {0:#06x} is reserved for the journal")]
    ReservedKind(u16),
    /// The record needs a new segment and none could be had: the journal is faulted.
    #[error("no segment to roll over into (the journal is faulted)")]
    NoSegment,
    /// The record was appended but could not be made durable: the journal is faulted (or its
    /// service stopped) before its `msync`.
    #[error("the record could not be made durable (the journal is faulted)")]
    NotDurable,
}

/// Where in a stream: a segment index and a byte offset in its file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    /// Segment index.
    pub segment: u64,
    /// Byte offset in the segment file.
    pub offset: u64,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "segment {} offset {}", self.segment, self.offset)
    }
}

/// Why the bytes at some location are not a valid journal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Reason {
    /// The file is too short to hold a segment header.
    #[error("file of {0} bytes is too short for a segment header")]
    HeaderTruncated(u64),
    /// The header does not start with `PULSEJNL`.
    #[error("bad magic")]
    BadMagic,
    /// A format version this crate does not read.
    #[error("unsupported format version {0}")]
    UnsupportedVersion(u32),
    /// The header length field is not 64.
    #[error("bad header length {0}")]
    BadHeaderLength(u32),
    /// The header CRC does not match its bytes.
    #[error("header checksum {stored:#010x}, computed {computed:#010x}")]
    HeaderChecksum {
        /// CRC in the header.
        stored: u32,
        /// CRC of the header bytes.
        computed: u32,
    },
    /// A capacity the format does not allow.
    #[error("bad capacity {0}")]
    BadCapacity(u64),
    /// The header names another segment index than its file name.
    #[error("header says segment {0}")]
    WrongSegmentIndex(u64),
    /// The header names another stream than its directory.
    #[error("header names another stream")]
    WrongStream,
    /// The segment does not start where the previous one ended.
    #[error("first sequence {found}, expected {expected}")]
    WrongFirstSequence {
        /// The previous segment's end marker's sequence.
        expected: u64,
        /// The header's.
        found: u64,
    },
    /// The file length differs from the header's capacity.
    #[error("file is {found} bytes, the header says {expected}")]
    FileLength {
        /// The header's capacity.
        expected: u64,
        /// The file's length.
        found: u64,
    },
    /// An activated segment after the end of the stream.
    #[error("segment holds data after the end of the stream")]
    AfterEnd,
    /// A segment is missing between two present ones.
    #[error("segment {0} is missing")]
    MissingSegment(u64),
    /// A record length shorter than a record header.
    #[error("record length {0} is shorter than a record header")]
    LengthTooSmall(u32),
    /// A record length above the segment's bound.
    #[error("record length {0} is above the segment's bound")]
    LengthTooLarge(u32),
    /// A record that would leave no room for the end marker.
    #[error("record of length {0} runs past the end of the segment")]
    PastSegmentEnd(u32),
    /// The file ends inside this record.
    #[error("the file ends inside the record")]
    Truncated,
    /// Non-zero reserved flags.
    #[error("non-zero flags {0:#06x}")]
    NonZeroFlags(u16),
    /// Non-zero reserved word.
    #[error("non-zero reserved word {0:#010x}")]
    NonZeroReserved(u32),
    /// A reserved type that is not the end marker.
    #[error("reserved record type {0:#06x}")]
    ReservedKind(u16),
    /// The record CRC does not match its bytes.
    #[error("record checksum {stored:#010x}, computed {computed:#010x}")]
    Checksum {
        /// CRC in the record.
        stored: u32,
        /// CRC of the record bytes.
        computed: u32,
    },
    /// A sequence that does not continue the previous record's.
    #[error("sequence {found}, expected {expected}")]
    WrongSequence {
        /// The previous record's sequence plus one.
        expected: u64,
        /// The record's.
        found: u64,
    },
    /// An end marker with a payload.
    #[error("end marker of length {0}")]
    BadEndMarker(u32),
    /// Non-zero bytes in a record's padding.
    #[error("non-zero padding")]
    NonZeroPadding,
    /// A zero commit word with a committed record after it: damage, not an unfinished append.
    #[error("zero commit word before the committed record at offset {next_record}")]
    ZeroCommitWord {
        /// Offset of the committed record that follows.
        next_record: u64,
    },
    /// Non-zero bytes where nothing was ever written.
    #[error("non-zero bytes where nothing was written, up to offset {until}")]
    Garbage {
        /// One past the last non-zero byte.
        until: u64,
    },
}
