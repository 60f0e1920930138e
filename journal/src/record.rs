//! Reading a segment's header, and one unit at an offset of a segment (a record, the end
//! marker, or nothing yet), fully validated. The reader, `verify`, `recover` and `stats` all go
//! through here, so they agree on what a valid segment and record are.
#![allow(unsafe_code)]

use crate::descriptor::{
    align8, get_u16, get_u32, get_u64, max_payload, record_crc, SegmentHeader, CRC_OFFSET,
    END_MARKER, END_MARKER_LEN, FLAGS_OFFSET, HEADER_LEN, RECORD_HEADER_LEN, RESERVED_KIND_MIN,
    RESERVED_OFFSET, SEQUENCE_OFFSET, TIMESTAMP_OFFSET, TYPE_OFFSET,
};
use crate::error::Reason;
use crate::view::SegmentView;

/// One committed record, borrowed from the mapping it was read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record<'a> {
    /// The caller's record type.
    pub kind: u16,
    /// Position in the stream, from 0, contiguous across segments.
    pub sequence: u64,
    /// The caller's timestamp (ns, logic time).
    pub timestamp: u64,
    /// The payload, exactly as appended.
    pub payload: &'a [u8],
    /// Index of the segment holding the record.
    pub segment: u64,
    /// Byte offset of the record in its segment file.
    pub offset: u64,
}

/// What is at an offset of a segment.
pub(crate) enum Unit<'a> {
    /// A zero commit word: nothing committed here yet.
    Unwritten,
    /// A valid record spanning `span` bytes, padding included.
    Record { record: Record<'a>, span: u64 },
    /// The end-of-segment marker: the stream continues in the next segment, at the sequence
    /// that was expected here.
    End,
}

/// Reads and validates the unit at `off` of segment `segment` (of `capacity` bytes), which
/// must carry sequence `expected` (the end marker: the next record's).
pub(crate) fn read_unit<'a>(
    view: &'a SegmentView,
    segment: u64,
    off: u64,
    capacity: u64,
    expected: u64,
) -> Result<Unit<'a>, Reason> {
    let avail = view.mapped().min(capacity);
    let len = match off.checked_add(4) {
        Some(end) if end <= avail => view.load_u32(off).ok_or(Reason::Truncated)?,
        _ if avail < capacity => return Err(Reason::Truncated),
        _ => return Err(Reason::PastSegmentEnd(0)),
    };
    if len == 0 {
        return Ok(Unit::Unwritten);
    }
    let len64 = u64::from(len);
    if len64 < RECORD_HEADER_LEN {
        return Err(Reason::LengthTooSmall(len));
    }
    if len64 - RECORD_HEADER_LEN > max_payload(capacity) {
        return Err(Reason::LengthTooLarge(len));
    }
    let span = align8(len64);
    if off + span > capacity {
        return Err(Reason::PastSegmentEnd(len));
    }
    if off + span > avail {
        return Err(Reason::Truncated);
    }
    // SAFETY: the commit word at `off` was loaded non-zero above, publishing the `span` bytes
    // the writer wrote before it; committed records are never written again.
    let bytes = unsafe { view.published(off, span) }.ok_or(Reason::Truncated)?;
    let (header, rest) = bytes.split_at(RECORD_HEADER_LEN as usize);
    let header: &[u8; RECORD_HEADER_LEN as usize] =
        header.try_into().map_err(|_| Reason::Truncated)?;
    let (payload, padding) = rest.split_at((len64 - RECORD_HEADER_LEN) as usize);
    let stored = get_u32(header, CRC_OFFSET);
    let computed = record_crc(header, payload);
    if stored != computed {
        return Err(Reason::Checksum { stored, computed });
    }
    let kind = get_u16(header, TYPE_OFFSET);
    let flags = get_u16(header, FLAGS_OFFSET);
    if flags != 0 {
        return Err(Reason::NonZeroFlags(flags));
    }
    let reserved = get_u32(header, RESERVED_OFFSET);
    if reserved != 0 {
        return Err(Reason::NonZeroReserved(reserved));
    }
    if padding.iter().any(|&b| b != 0) {
        return Err(Reason::NonZeroPadding);
    }
    let sequence = get_u64(header, SEQUENCE_OFFSET);
    if sequence != expected {
        return Err(Reason::WrongSequence {
            expected,
            found: sequence,
        });
    }
    if kind == END_MARKER {
        if len64 != END_MARKER_LEN {
            return Err(Reason::BadEndMarker(len));
        }
        return Ok(Unit::End);
    }
    if kind >= RESERVED_KIND_MIN {
        return Err(Reason::ReservedKind(kind));
    }
    // A writer always leaves room for the end marker after a record.
    if off + span + END_MARKER_LEN > capacity {
        return Err(Reason::PastSegmentEnd(len));
    }
    Ok(Unit::Record {
        record: Record {
            kind,
            sequence,
            timestamp: get_u64(header, TIMESTAMP_OFFSET),
            payload,
            segment,
            offset: off,
        },
        span,
    })
}

/// What the first bytes of a segment file say.
pub(crate) enum HeaderState {
    /// The activation word is zero: prepared (or being prepared) but never used.
    Unactivated,
    /// A valid header of this stream and index.
    Valid(SegmentHeader),
    /// Activated but not a valid header here.
    Invalid(Reason),
}

/// Reads the header of segment `index` of `stream`, as a reader of a live journal does: the
/// activation word first, the rest only once it is non-zero.
pub(crate) fn read_header(view: &SegmentView, index: u64, stream: &str) -> HeaderState {
    match view.load_u32(0) {
        Some(0) => HeaderState::Unactivated,
        None if view.nonzero_span(0, view.mapped()).is_none() => HeaderState::Unactivated,
        None => HeaderState::Invalid(Reason::HeaderTruncated(view.file_len())),
        Some(_) => {
            // SAFETY: the activation word was loaded non-zero, publishing the header bytes the
            // writer stored before it; an activated header is never written again.
            let Some(bytes) = (unsafe { view.published(0, HEADER_LEN) }) else {
                return HeaderState::Invalid(Reason::HeaderTruncated(view.file_len()));
            };
            let Ok(bytes) = <&[u8; HEADER_LEN as usize]>::try_from(bytes) else {
                return HeaderState::Invalid(Reason::HeaderTruncated(view.file_len()));
            };
            match SegmentHeader::decode(bytes) {
                Err(reason) => HeaderState::Invalid(reason),
                Ok(h) if h.index != index => {
                    HeaderState::Invalid(Reason::WrongSegmentIndex(h.index))
                }
                Ok(h) if h.stream() != stream.as_bytes() => {
                    HeaderState::Invalid(Reason::WrongStream)
                }
                Ok(h) => HeaderState::Valid(h),
            }
        }
    }
}
