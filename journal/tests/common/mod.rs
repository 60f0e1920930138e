//! Helpers shared by the integration tests: unique temporary directories, deterministic
//! payloads, small-segment configurations and a full read of a stream.
// Each test crate uses its own subset of these helpers.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use pulse_journal::{Appender, JournalConfig, JournalReader};

/// A directory under the system's temporary directory, removed when dropped.
pub fn temp_dir(tag: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("pulse-journal-{tag}-"))
        .tempdir_in(std::env::temp_dir())
        .expect("a temporary directory")
}

/// SplitMix64: a tiny deterministic generator for payloads and sizes.
pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The bytes of a payload of `len` bytes derived from `seed`.
pub fn bytes(seed: u64, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| mix(seed.wrapping_mul(1 << 20) ^ (i as u64 / 8)).to_le_bytes()[i % 8])
        .collect()
}

/// The payload the crash and fault writers append as record `seq`: its size (below `max`)
/// and its bytes both follow from the sequence, so a reader can check any record alone.
pub fn payload_for(seq: u64, max: usize) -> Vec<u8> {
    bytes(seq, (mix(seq.wrapping_mul(31)) % max as u64) as usize)
}

/// 64 KiB segments, two prepared ahead, frequent `msync`.
pub fn small_config(dir: &Path, stream: &str) -> JournalConfig {
    let mut cfg = JournalConfig::new(dir, stream);
    cfg.segment_bytes = 64 * 1024;
    cfg.ready_segments = 2;
    cfg.sync_interval = Duration::from_millis(2);
    cfg
}

/// A record read back, owned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owned {
    pub kind: u16,
    pub sequence: u64,
    pub timestamp: u64,
    pub payload: Vec<u8>,
    pub segment: u64,
    pub offset: u64,
}

/// Every committed record of the stream, through the reader; panics on a reader error.
pub fn read_all(dir: &Path, stream: &str) -> Vec<Owned> {
    let mut reader = JournalReader::open(dir, stream).expect("the stream opens");
    let mut out = Vec::new();
    while let Some(r) = reader.next().expect("every record reads back") {
        out.push(Owned {
            kind: r.kind,
            sequence: r.sequence,
            timestamp: r.timestamp,
            payload: r.payload.to_vec(),
            segment: r.segment,
            offset: r.offset,
        });
    }
    out
}

/// A stream of `n` records of 100 bytes (136 with header and padding) in 64 KiB segments;
/// returns the first segment's path.
pub fn hundred_byte_records(dir: &Path, stream: &str, n: u64) -> PathBuf {
    let (mut appender, service) = Appender::open(small_config(dir, stream)).expect("opens");
    for i in 0..n {
        appender.append(1, i, &[i as u8; 100]).expect("appends");
    }
    drop(appender);
    service.shutdown().expect("stops");
    dir.join(stream).join("0000000000.seg")
}
