//! The on-disk format: one place for every offset, length and rule of a segment file, so the
//! writer, the reader, recovery and the tools cannot disagree (Agrona's `RecordDescriptor`).
//!
//! A stream lives in `DIR/<stream>/` as segment files `<index:010>.seg` (`0000000000.seg`,
//! `0000000001.seg`, ...), beside the writer's lock file [`LOCK_FILE`]. Every segment is
//! pre-allocated to its full capacity; the file length equals the `capacity` field of its
//! header. All integers are little endian.
//!
//! # Segment header (the first [`HEADER_LEN`] bytes)
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +---------------------------------------------------------------+
//! |                  Magic "PULSEJNL" (bytes 0..4                  |  0
//! |                  are the activation word)                     |  4
//! +---------------------------------------------------------------+
//! |                        Format version                         |  8
//! +---------------------------------------------------------------+
//! |                   Header length (always 64)                   | 12
//! +---------------------------------------------------------------+
//! |                         Segment index                         | 16
//! |                                                               | 20
//! +---------------------------------------------------------------+
//! |           First sequence (of the first record in it)          | 24
//! |                                                               | 28
//! +---------------------------------------------------------------+
//! |                   Capacity (the file length)                  | 32
//! |                                                               | 36
//! +---------------------------------------------------------------+
//! |          Stream name, up to 20 bytes, zero padded             | 40
//! |                              ...                              | 56
//! +---------------------------------------------------------------+
//! |                CRC32C of bytes 0..60 of the header            | 60
//! +---------------------------------------------------------------+
//! ```
//!
//! A segment is *prepared* (created, allocated and pre-faulted, all zeros) off the hot path and
//! *activated* by the writer at roll-over: it writes bytes 4..64, then stores the first four
//! bytes of the magic with a Release store. A zero activation word therefore means "not yet
//! activated", never a torn header.
//!
//! # Record (8-byte aligned, right after the header or the previous record)
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +---------------------------------------------------------------+
//! |  Commit word: record length incl. this header, 0 = unwritten  |  0
//! +-------------------------------+-------------------------------+
//! |             Type              |        Flags (always 0)       |  4
//! +-------------------------------+-------------------------------+
//! |                           Sequence                            |  8
//! |                                                               | 12
//! +---------------------------------------------------------------+
//! |           Timestamp (ns, the caller's logic time)             | 16
//! |                                                               | 20
//! +---------------------------------------------------------------+
//! |       CRC32C of bytes 4..24 of this header, then payload      | 24
//! +---------------------------------------------------------------+
//! |                      Reserved (always 0)                      | 28
//! +---------------------------------------------------------------+
//! |                      Payload ... then zero                    | 32
//! |                      padding to 8 bytes                       |
//! +---------------------------------------------------------------+
//! ```
//!
//! The commit word is written last with a Release store: a reader that Acquire-loads a
//! non-zero length sees the whole record. Sequences start at 0 and are contiguous across
//! segments. When a record does not fit, the writer closes the segment with an end marker
//! (type [`END_MARKER`], no payload, sequence = the next record's) and continues in the next
//! segment; it always keeps [`END_MARKER_LEN`] bytes free for it. Types from
//! [`RESERVED_KIND_MIN`] up are the journal's own.

use crate::error::Reason;

/// The file an appender holds `flock`ed in its stream directory: one writer per stream.
pub const LOCK_FILE: &str = "writer.lock";

/// "PULSEJNL": the first eight bytes of every segment.
pub const MAGIC: [u8; 8] = *b"PULSEJNL";
/// The format this crate writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// Length of the segment header; the first record starts here.
pub const HEADER_LEN: u64 = 64;

/// Offset of the magic; its first four bytes are the activation word.
pub const MAGIC_OFFSET: usize = 0;
/// Offset of the format version (`u32`).
pub const VERSION_OFFSET: usize = 8;
/// Offset of the header length (`u32`).
pub const HEADER_LENGTH_OFFSET: usize = 12;
/// Offset of the segment index (`u64`).
pub const SEGMENT_INDEX_OFFSET: usize = 16;
/// Offset of the first sequence (`u64`).
pub const FIRST_SEQUENCE_OFFSET: usize = 24;
/// Offset of the capacity (`u64`).
pub const CAPACITY_OFFSET: usize = 32;
/// Offset of the zero-padded stream name.
pub const STREAM_NAME_OFFSET: usize = 40;
/// Longest stream name: what fits between the capacity and the header CRC.
pub const STREAM_NAME_MAX: usize = 20;
/// Offset of the header CRC32C (`u32`), computed over bytes `0..HEADER_CRC_OFFSET`.
pub const HEADER_CRC_OFFSET: usize = 60;

/// Length of a record header; the payload starts here.
pub const RECORD_HEADER_LEN: u64 = 32;
/// Offset of the commit word (`u32`): the record length, unpadded, 0 while unwritten.
pub const LENGTH_OFFSET: usize = 0;
/// Offset of the record type (`u16`).
pub const TYPE_OFFSET: usize = 4;
/// Offset of the flags (`u16`), reserved, always 0.
pub const FLAGS_OFFSET: usize = 6;
/// Offset of the sequence (`u64`).
pub const SEQUENCE_OFFSET: usize = 8;
/// Offset of the timestamp (`u64`).
pub const TIMESTAMP_OFFSET: usize = 16;
/// Offset of the record CRC32C (`u32`).
pub const CRC_OFFSET: usize = 24;
/// Offset of the reserved word (`u32`), always 0.
pub const RESERVED_OFFSET: usize = 28;
/// Records start, and are padded to, this alignment.
pub const RECORD_ALIGN: u64 = 8;

/// The type of the end-of-segment marker.
pub const END_MARKER: u16 = 0xFFFF;
/// Length of the end-of-segment marker: a header without payload.
pub const END_MARKER_LEN: u64 = RECORD_HEADER_LEN;
/// Types from here up are reserved for the journal; an appender refuses them.
pub const RESERVED_KIND_MIN: u16 = 0xFF00;

/// Smallest segment: 64 KiB.
pub const MIN_SEGMENT_BYTES: u64 = 64 * 1024;
/// Largest segment: 4 GiB, so that the largest record length fits the `u32` commit word.
pub const MAX_SEGMENT_BYTES: u64 = 4 * 1024 * 1024 * 1024;
/// Segment sizes are multiples of this (the usual page size).
pub const SEGMENT_GRANULE: u64 = 4096;

/// Rounds `n` up to the record alignment.
pub const fn align8(n: u64) -> u64 {
    (n + RECORD_ALIGN - 1) & !(RECORD_ALIGN - 1)
}

/// Largest payload a segment of `capacity` bytes accepts: a quarter of the segment, less the
/// record header. The bound keeps the space a roll-over wastes small and lets a reader reject a
/// length word that could never have been written.
pub const fn max_payload(capacity: u64) -> u64 {
    capacity / 4 - RECORD_HEADER_LEN
}

/// Span of the largest record a segment of `capacity` bytes can hold, padding included: an
/// unfinished append can leave non-zero bytes only this far past the last committed record.
pub const fn max_record_span(capacity: u64) -> u64 {
    align8(RECORD_HEADER_LEN + max_payload(capacity))
}

/// Whether `capacity` is a segment size this format allows.
pub const fn valid_capacity(capacity: u64) -> bool {
    capacity >= MIN_SEGMENT_BYTES
        && capacity <= MAX_SEGMENT_BYTES
        && capacity.is_multiple_of(SEGMENT_GRANULE)
}

/// Whether `name` can name a stream: 1 to [`STREAM_NAME_MAX`] bytes of `[A-Za-z0-9_-]`, so it
/// fits the header and is a plain directory name.
pub fn valid_stream_name(name: &str) -> bool {
    (1..=STREAM_NAME_MAX).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// File name of segment `index`: ten decimal digits and `.seg`.
pub fn segment_file_name(index: u64) -> String {
    format!("{index:010}.seg")
}

/// The index in a segment file name, or `None` for any other file.
pub fn parse_segment_file_name(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(".seg")?;
    if digits.len() != 10 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The fields of a segment header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SegmentHeader {
    /// Position of the segment in its stream, as in its file name.
    pub index: u64,
    /// Sequence of the first record in the segment.
    pub first_sequence: u64,
    /// Length of the segment file.
    pub capacity: u64,
    stream: [u8; STREAM_NAME_MAX],
}

impl SegmentHeader {
    /// A header for `stream`, which must be a [`valid_stream_name`].
    pub fn new(stream: &str, index: u64, first_sequence: u64, capacity: u64) -> Self {
        let mut name = [0; STREAM_NAME_MAX];
        let len = stream.len().min(STREAM_NAME_MAX);
        name[..len].copy_from_slice(&stream.as_bytes()[..len]);
        SegmentHeader {
            index,
            first_sequence,
            capacity,
            stream: name,
        }
    }

    /// The stream name, without its zero padding.
    pub fn stream(&self) -> &[u8] {
        let len = self
            .stream
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(STREAM_NAME_MAX);
        &self.stream[..len]
    }

    /// The header bytes, CRC included.
    pub fn encode(&self) -> [u8; HEADER_LEN as usize] {
        let mut b = [0; HEADER_LEN as usize];
        b[MAGIC_OFFSET..MAGIC_OFFSET + 8].copy_from_slice(&MAGIC);
        put_u32(&mut b, VERSION_OFFSET, FORMAT_VERSION);
        put_u32(&mut b, HEADER_LENGTH_OFFSET, HEADER_LEN as u32);
        put_u64(&mut b, SEGMENT_INDEX_OFFSET, self.index);
        put_u64(&mut b, FIRST_SEQUENCE_OFFSET, self.first_sequence);
        put_u64(&mut b, CAPACITY_OFFSET, self.capacity);
        b[STREAM_NAME_OFFSET..STREAM_NAME_OFFSET + STREAM_NAME_MAX].copy_from_slice(&self.stream);
        let crc = crc32c::crc32c(&b[..HEADER_CRC_OFFSET]);
        put_u32(&mut b, HEADER_CRC_OFFSET, crc);
        b
    }

    /// Parses and checks a header: magic, version, length, CRC and a valid capacity. Whether
    /// it belongs where it was found (index, stream, sequence) is the caller's question.
    pub fn decode(b: &[u8; HEADER_LEN as usize]) -> Result<Self, Reason> {
        if b[MAGIC_OFFSET..MAGIC_OFFSET + 8] != MAGIC {
            return Err(Reason::BadMagic);
        }
        let version = get_u32(b, VERSION_OFFSET);
        if version != FORMAT_VERSION {
            return Err(Reason::UnsupportedVersion(version));
        }
        let header_len = get_u32(b, HEADER_LENGTH_OFFSET);
        if u64::from(header_len) != HEADER_LEN {
            return Err(Reason::BadHeaderLength(header_len));
        }
        let stored = get_u32(b, HEADER_CRC_OFFSET);
        let computed = crc32c::crc32c(&b[..HEADER_CRC_OFFSET]);
        if stored != computed {
            return Err(Reason::HeaderChecksum { stored, computed });
        }
        let capacity = get_u64(b, CAPACITY_OFFSET);
        if !valid_capacity(capacity) {
            return Err(Reason::BadCapacity(capacity));
        }
        let mut stream = [0; STREAM_NAME_MAX];
        stream.copy_from_slice(&b[STREAM_NAME_OFFSET..STREAM_NAME_OFFSET + STREAM_NAME_MAX]);
        Ok(SegmentHeader {
            index: get_u64(b, SEGMENT_INDEX_OFFSET),
            first_sequence: get_u64(b, FIRST_SEQUENCE_OFFSET),
            capacity,
            stream,
        })
    }
}

/// CRC32C of a record: bytes `TYPE_OFFSET..CRC_OFFSET` of its header (type, flags, sequence,
/// timestamp), then its payload.
pub fn record_crc(header: &[u8; RECORD_HEADER_LEN as usize], payload: &[u8]) -> u32 {
    let crc = crc32c::crc32c(&header[TYPE_OFFSET..CRC_OFFSET]);
    crc32c::crc32c_append(crc, payload)
}

pub(crate) fn get_u16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

pub(crate) fn get_u32(b: &[u8], at: usize) -> u32 {
    let mut w = [0; 4];
    w.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(w)
}

pub(crate) fn get_u64(b: &[u8], at: usize) -> u64 {
    let mut w = [0; 8];
    w.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(w)
}

pub(crate) fn put_u16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_le_bytes());
}

pub(crate) fn put_u32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

pub(crate) fn put_u64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips_and_every_byte_is_checked() {
        let h = SegmentHeader::new("input", 7, 1234, 1 << 20);
        let bytes = h.encode();
        assert_eq!(&bytes[..8], b"PULSEJNL");
        let back = SegmentHeader::decode(&bytes).expect("valid");
        assert_eq!(back, h);
        assert_eq!(back.stream(), b"input");
        for i in 0..bytes.len() {
            let mut bad = bytes;
            bad[i] ^= 0x40;
            assert!(
                SegmentHeader::decode(&bad).is_err(),
                "flip at {i} went unseen"
            );
        }
    }

    #[test]
    fn segment_names_are_ten_digits() {
        assert_eq!(segment_file_name(42), "0000000042.seg");
        assert_eq!(parse_segment_file_name("0000000042.seg"), Some(42));
        assert_eq!(parse_segment_file_name("42.seg"), None);
        assert_eq!(parse_segment_file_name("000000004x.seg"), None);
        assert_eq!(parse_segment_file_name("0000000042.seg.tmp"), None);
    }

    #[test]
    fn bounds_follow_the_capacity() {
        assert_eq!(align8(33), 40);
        assert_eq!(align8(32), 32);
        assert_eq!(max_payload(MIN_SEGMENT_BYTES), 16 * 1024 - 32);
        assert!(valid_capacity(MIN_SEGMENT_BYTES));
        assert!(!valid_capacity(MIN_SEGMENT_BYTES + 1));
        assert!(!valid_capacity(MAX_SEGMENT_BYTES + SEGMENT_GRANULE));
        assert!(valid_stream_name("input"));
        assert!(!valid_stream_name(""));
        assert!(!valid_stream_name("../x"));
        assert!(!valid_stream_name("a_name_longer_than_20"));
    }
}
