//! Appending a 64-byte payload, a 96-byte record with its 32-byte header, to durable storage's
//! front door, per call:
//!
//! - `pulse_mmap_journal`: `Appender::append` into Pulse's memory-mapped journal (64 MiB
//!   segments prepared by its service thread; no system call per append).
//! - `std_file_write`: the same 96 bytes, header fields and CRC32C built the same way, written
//!   with `File::write_all` (one `write(2)` per record into the page cache).
//!
//! Both write into files in the system's temporary directory, replaced (untimed) after about
//! two segments' worth of records (one roll-over each), removed at the end; only the appends
//! are timed.
//!
//! ```sh
//! cargo bench -p pulse-bench --bench journal
//! ```
#![forbid(unsafe_code)]

use std::fs::{self, File};
use std::hint::black_box;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use pulse_journal::{Appender, JournalConfig, JournalService};

#[path = "../src/journal_record.rs"]
mod journal_record;

use journal_record::{record, PAYLOAD, RECORD};

const SEGMENT_BYTES: u64 = 64 << 20;
const BATCH: u64 = 2 * SEGMENT_BYTES / RECORD as u64 - 1_000;

fn scratch(tag: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "pulse-criterion-journal-{tag}-{}",
        std::process::id()
    ))
}

fn open_journal(dir: &Path) -> (Appender, JournalService) {
    let _ = fs::remove_dir_all(dir);
    let mut cfg = JournalConfig::new(dir, "bench");
    cfg.segment_bytes = SEGMENT_BYTES;
    let (appender, service) = Appender::open(cfg).expect("the bench journal opens");
    let deadline = Instant::now() + Duration::from_secs(30);
    while service.status().segments_prepared < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
    (appender, service)
}

fn append_64_byte_payload(c: &mut Criterion) {
    let payload = [0x5Au8; PAYLOAD];
    let mut group = c.benchmark_group("append_64B_payload_96B_record");
    group.throughput(Throughput::Elements(1));
    group.sample_size(30);
    group.measurement_time(Duration::from_secs(4));

    // One journal serves many samples and is replaced, untimed, once it holds `BATCH` records:
    // no sample pays for a cold start.
    let dir = scratch("pulse");
    let mut journal: Option<(Appender, JournalService)> = None;
    let mut written = 0;
    group.bench_function("pulse_mmap_journal", |b| {
        b.iter_custom(|iters| {
            let mut timed = Duration::ZERO;
            let mut left = iters;
            while left > 0 {
                if written >= BATCH {
                    if let Some((appender, service)) = journal.take() {
                        drop(appender);
                        service.shutdown().expect("the service stops");
                    }
                }
                let (appender, _) = journal.get_or_insert_with(|| {
                    written = 0;
                    open_journal(&dir)
                });
                let n = left.min(BATCH - written);
                let start = Instant::now();
                for i in 0..n {
                    black_box(appender.append(1, i, black_box(&payload)).expect("appends"));
                }
                timed += start.elapsed();
                written += n;
                left -= n;
            }
            timed
        })
    });
    if let Some((appender, service)) = journal.take() {
        drop(appender);
        service.shutdown().expect("the service stops");
    }
    let _ = fs::remove_dir_all(&dir);

    let path = scratch("file");
    let mut file: Option<File> = None;
    let mut written = 0;
    group.bench_function("std_file_write", |b| {
        b.iter_custom(|iters| {
            let mut buf = [0u8; RECORD];
            let mut timed = Duration::ZERO;
            let mut left = iters;
            while left > 0 {
                if written >= BATCH {
                    file = None;
                }
                let f = file.get_or_insert_with(|| {
                    written = 0;
                    File::create(&path).expect("the bench file")
                });
                let n = left.min(BATCH - written);
                let start = Instant::now();
                for i in 0..n {
                    record(&mut buf, i, &payload);
                    f.write_all(black_box(&buf)).expect("writes");
                }
                timed += start.elapsed();
                written += n;
                left -= n;
            }
            timed
        })
    });
    drop(file);
    let _ = fs::remove_file(&path);
    group.finish();
}

criterion_group!(benches, append_64_byte_payload);
criterion_main!(benches);
