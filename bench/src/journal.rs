//! `journal`: per-append latency of a 64-byte payload (a 96-byte record) into Pulse's
//! memory-mapped journal, beside `std::fs::File::write` of the same 96-byte record (header
//! fields and CRC32C built the same way) to a file, measured in the same run. One appending
//! thread, each append timed on its own with `quanta`'s raw counter; the journal's service
//! thread runs on the layout's other core.
//!
//! `pulse_sync_order` is the same append followed by `make_durable` with `SyncMode::Order`:
//! what `[journal] sync = "order"` adds to each order (the service thread's `msync` of the
//! record's page, waited for by spinning). `pulse` is `sync = "none"`, where it returns at once.
//!
//! Both write into the system's temporary directory, in batches of `BATCH` records (two
//! journal segments: one roll-over into a segment the service prepared), each into a fresh
//! journal or file that is removed afterwards, so a run does not fill the disk. Opening,
//! waiting for the prepared segments and cleaning up are outside the timed calls.

use std::fs::{self, File};
use std::hint::black_box;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use hdrhistogram::Histogram;
use pulse_journal::{Appender, JournalConfig, JournalService, SyncMode};

use crate::journal_record::{record, PAYLOAD, RECORD};
use crate::report::Measured;

const SEGMENT_BYTES: u64 = 64 << 20;
/// Records per fresh journal or file: about two segments.
const BATCH: u64 = 2 * SEGMENT_BYTES / RECORD as u64 - 1_000;
/// Untimed appends before each measurement.
const WARMUP: u64 = 100_000;

fn scratch(tag: &str) -> PathBuf {
    std::env::temp_dir().join(format!("pulse-bench-journal-{tag}-{}", std::process::id()))
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("valid bounds")
}

/// Times each call of `append(i)` for `n` calls.
fn timed(
    clock: &quanta::Clock,
    n: u64,
    h: &mut Histogram<u64>,
    mut append: impl FnMut(u64) -> Result<()>,
) -> Result<()> {
    for i in 0..n {
        let start = clock.raw();
        append(i)?;
        let ns = clock.delta_as_nanos(start, clock.raw());
        let _ = h.record(ns.max(1));
    }
    Ok(())
}

/// A fresh journal with its segments prepared, opened on a helper thread on `service_core`:
/// the service thread inherits its creator's affinity, and must not share the measuring core
/// (in production it runs on a housekeeping core).
fn open_journal(
    dir: &Path,
    service_core: Option<usize>,
    sync: SyncMode,
) -> Result<(Appender, JournalService)> {
    std::thread::scope(|s| {
        s.spawn(|| {
            pin(service_core);
            open_here(dir, sync)
        })
        .join()
    })
    .unwrap_or_else(|_| bail!("opening the bench journal panicked"))
}

fn pin(core: Option<usize>) {
    if let Some(id) = core {
        core_affinity::set_for_current(core_affinity::CoreId { id });
    }
}

fn open_here(dir: &Path, sync: SyncMode) -> Result<(Appender, JournalService)> {
    let _ = fs::remove_dir_all(dir);
    let mut cfg = JournalConfig::new(dir, "bench");
    cfg.segment_bytes = SEGMENT_BYTES;
    cfg.sync = sync;
    let (appender, service) = Appender::open(cfg).context("opening the bench journal")?;
    let deadline = Instant::now() + Duration::from_secs(30);
    while service.status().segments_prepared < 2 {
        if Instant::now() > deadline {
            bail!("the journal service prepared no segments in 30 s");
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    Ok((appender, service))
}

fn pulse(
    duration: Duration,
    clock: &quanta::Clock,
    service_core: Option<usize>,
) -> Result<Measured> {
    let dir = scratch("pulse");
    let payload = [0x5Au8; PAYLOAD];
    let mut h = histogram();
    let (mut rollovers, mut fallbacks) = (0, 0);
    let end = Instant::now() + duration;
    let mut first = true;
    while first || Instant::now() < end {
        let (mut appender, service) = open_journal(&dir, service_core, SyncMode::None)?;
        let mut append = |i: u64| -> Result<()> {
            black_box(appender.append(1, i, black_box(&payload))?);
            Ok(())
        };
        if first {
            timed(clock, WARMUP, &mut histogram(), &mut append)?;
            first = false;
        }
        timed(clock, BATCH - WARMUP, &mut h, &mut append)?;
        let counters = appender.close();
        rollovers += counters.rollovers;
        fallbacks += counters.sync_fallbacks;
        service.shutdown().context("stopping the bench journal")?;
    }
    let _ = fs::remove_dir_all(&dir);
    Ok(Measured {
        name: "pulse",
        case: None,
        histogram: h,
        extra: vec![
            ("rollovers", rollovers as f64),
            ("sync_fallbacks", fallbacks as f64),
        ],
    })
}

/// Append and `make_durable` with `SyncMode::Order`, in one journal, for `duration`: each
/// call waits for an `msync`, so far fewer records than a segment holds.
fn pulse_sync_order(
    duration: Duration,
    clock: &quanta::Clock,
    service_core: Option<usize>,
) -> Result<Measured> {
    let dir = scratch("order");
    let payload = [0x5Au8; PAYLOAD];
    let mut h = histogram();
    let (mut appender, service) = open_journal(&dir, service_core, SyncMode::Order)?;
    let mut append = |i: u64| -> Result<()> {
        let seq = appender.append(1, i, black_box(&payload))?;
        appender.make_durable(seq)?;
        Ok(())
    };
    timed(clock, 100, &mut histogram(), &mut append)?;
    let end = Instant::now() + duration;
    let mut i = 0;
    while Instant::now() < end {
        timed(clock, 100, &mut h, |k| append(i + k))?;
        i += 100;
    }
    let msyncs = service.status().msyncs;
    drop(appender);
    service.shutdown().context("stopping the bench journal")?;
    let _ = fs::remove_dir_all(&dir);
    Ok(Measured {
        name: "pulse_sync_order",
        case: None,
        histogram: h,
        extra: vec![("msyncs", msyncs as f64)],
    })
}

fn file_write(duration: Duration, clock: &quanta::Clock) -> Result<Measured> {
    let path = scratch("file");
    let payload = [0x5Au8; PAYLOAD];
    let mut buf = [0u8; RECORD];
    let mut h = histogram();
    let end = Instant::now() + duration;
    let mut first = true;
    while first || Instant::now() < end {
        let mut file = File::create(&path).context("creating the bench file")?;
        let mut append = |i: u64| -> Result<()> {
            record(&mut buf, i, &payload);
            file.write_all(black_box(&buf))?;
            Ok(())
        };
        if first {
            timed(clock, WARMUP, &mut histogram(), &mut append)?;
            first = false;
        }
        timed(clock, BATCH - WARMUP, &mut h, &mut append)?;
        drop(file);
        fs::remove_file(&path).context("removing the bench file")?;
    }
    Ok(Measured {
        name: "file_write",
        case: None,
        histogram: h,
        extra: Vec::new(),
    })
}

/// The appending thread runs on `cores[0]`, the journal's service thread on `cores[1]`.
pub fn run(duration: Duration, cores: [Option<usize>; 2]) -> Result<Vec<Measured>> {
    pin(cores[0]);
    let clock = quanta::Clock::new();
    Ok(vec![
        pulse(duration, &clock, cores[1])?,
        pulse_sync_order(duration, &clock, cores[1])?,
        file_write(duration, &clock)?,
    ])
}
