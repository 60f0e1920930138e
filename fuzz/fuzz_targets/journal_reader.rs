//! One journal segment file of arbitrary bytes: `verify`, the reader and `recover` over it.
//! Never a panic; the reader agrees with `verify` on a sound stream, `recover` keeps what
//! `verify` counted, and a recovered stream verifies. When the header claims a small capacity
//! the file is also tried padded with zeros to it, the way segments are pre-allocated.
#![no_main]

use std::fs;
use std::path::Path;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use pulse_journal::descriptor::{segment_file_name, CAPACITY_OFFSET, HEADER_LEN};
use pulse_journal::{recover, verify, JournalReader};

const STREAM: &str = "input";
/// Records read at most per run: a valid segment of 1 MiB holds fewer.
const MAX_READS: usize = 40_000;
/// Largest claimed capacity worth padding a file to, or recovering (which restores it).
const SMALL: u64 = 1 << 20;

/// A scratch directory, in memory when `/dev/shm` exists: recovery `fsync`s, which on a disk
/// would bound the fuzzer to a few hundred runs a second.
fn dir() -> &'static Path {
    static DIR: OnceLock<std::path::PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let shm = Path::new("/dev/shm");
        let base = if shm.is_dir() {
            shm.to_path_buf()
        } else {
            std::env::temp_dir()
        };
        base.join(format!("pulse-fuzz-journal-{}", std::process::id()))
    })
}

fn check(data: &[u8], recover_too: bool) {
    let stream_dir = dir().join(STREAM);
    fs::create_dir_all(&stream_dir).expect("a scratch directory");
    fs::write(stream_dir.join(segment_file_name(0)), data).expect("the segment is written");

    let report = verify(dir(), STREAM).expect("verify reads a readable directory");
    let mut reader = JournalReader::open(dir(), STREAM).expect("the stream directory exists");
    let mut read = 0u64;
    let ended_cleanly = loop {
        match reader.next() {
            Ok(Some(record)) => {
                assert_eq!(record.segment, 0);
                read += 1;
            }
            Ok(None) => break true,
            Err(_) => break false,
        }
        if read as usize >= MAX_READS {
            break true;
        }
    };
    assert!(read <= report.records, "the reader read past what verify counted");
    if report.passed() {
        assert!(ended_cleanly && read == report.records, "{report:?}, read {read}");
    }
    if recover_too {
        let recovered = recover(dir(), STREAM).expect("recovery of a scratch directory");
        assert_eq!(recovered.valid_records, report.records);
        let after = verify(dir(), STREAM).expect("verify after recovery");
        assert!(after.passed(), "{after:?}");
        assert_eq!(after.records, report.records);
    }
    // Nothing is left behind, even after the last run.
    fs::remove_dir_all(dir()).expect("the scratch directory is removed");
}

fuzz_target!(|data: &[u8]| {
    let claimed = data
        .get(CAPACITY_OFFSET..CAPACITY_OFFSET + 8)
        .and_then(|b| b.try_into().ok())
        .map_or(0, u64::from_le_bytes);
    check(data, claimed <= SMALL);
    if claimed <= SMALL && claimed > data.len() as u64 && data.len() as u64 >= HEADER_LEN {
        let mut padded = data.to_vec();
        padded.resize(claimed as usize, 0);
        check(&padded, true);
    }
});
