//! `book`: per-update latency of applying the real depth updates of the bundled BTCUSDT capture
//! (its snapshot, then every level of every diff after it) to Pulse's tick-indexed `L2Book`,
//! laid out as the book stage lays it out, beside a `BTreeMap` book (both in `book_updates`,
//! shared with the criterion bench `book`). Two cases: the update alone (`apply`), and the update
//! followed by what a strategy reads after it, the best bid and ask and ten levels a side
//! (`apply_read`); and, as the book stage works, a whole depth diff applied and then read
//! (`diff`: 16 levels at the median), where the clock's own cost (`clock_floor`, about 10 ns
//! here, in every sample) no longer dwarfs a level's. The two books are checked against each
//! other after every update before anything is timed. One thread; each update (or diff) is
//! timed on its own with `quanta`'s raw counter, and every pass over the updates starts again
//! from the snapshot (re-seeded untimed).

use std::hint::black_box;
use std::time::{Duration, Instant};

use anyhow::Result;
use hdrhistogram::Histogram;

use crate::book_updates::{self, BenchBook, BookUpdates, Read, TreeBook};
use crate::report::Measured;

/// Untimed passes over the updates before each measurement.
const WARMUP_PASSES: usize = 3;

/// Applies the updates pass after pass for `duration` (at least one pass), timing each.
fn measure(
    book: &mut impl BenchBook,
    u: &BookUpdates,
    read: bool,
    duration: Duration,
    clock: &quanta::Clock,
) -> Histogram<u64> {
    let mut histogram = Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("valid bounds");
    for _ in 0..WARMUP_PASSES {
        pass(book, u, read, clock, None);
    }
    let end = Instant::now() + duration;
    loop {
        pass(book, u, read, clock, Some(&mut histogram));
        if Instant::now() >= end {
            return histogram;
        }
    }
}

/// Applies the diffs pass after pass for `duration` (at least one pass), timing each diff with
/// the read after it.
fn measure_diffs(
    book: &mut impl BenchBook,
    u: &BookUpdates,
    duration: Duration,
    clock: &quanta::Clock,
) -> Histogram<u64> {
    let mut histogram = Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("valid bounds");
    let mut out = Read::default();
    let mut pass = |histogram: Option<&mut Histogram<u64>>| {
        book.seed(&u.snapshot);
        let mut histogram = histogram;
        let mut rest = &u.updates[..];
        for &n in &u.diffs {
            let (diff, tail) = rest.split_at(n.min(rest.len()));
            rest = tail;
            let start = clock.raw();
            for l in diff {
                book.apply(black_box(l));
            }
            book.read(&mut out);
            black_box(&out);
            let ns = clock.delta_as_nanos(start, clock.raw());
            if let Some(h) = histogram.as_deref_mut() {
                let _ = h.record(ns.max(1));
            }
        }
    };
    for _ in 0..WARMUP_PASSES {
        pass(None);
    }
    let end = Instant::now() + duration;
    loop {
        pass(Some(&mut histogram));
        if Instant::now() >= end {
            return histogram;
        }
    }
}

/// Two clock reads around nothing: the floor every sample here carries.
fn clock_floor(duration: Duration, clock: &quanta::Clock) -> Histogram<u64> {
    let mut histogram = Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("valid bounds");
    let end = Instant::now() + duration;
    while Instant::now() < end {
        for _ in 0..10_000 {
            let start = clock.raw();
            black_box(());
            let _ = histogram.record(clock.delta_as_nanos(start, clock.raw()).max(1));
        }
    }
    histogram
}

/// One pass from the snapshot: each update (and, with `read`, the reads after it) timed alone.
fn pass(
    book: &mut impl BenchBook,
    u: &BookUpdates,
    read: bool,
    clock: &quanta::Clock,
    mut histogram: Option<&mut Histogram<u64>>,
) {
    let mut out = Read::default();
    book.seed(&u.snapshot);
    for l in &u.updates {
        let start = clock.raw();
        book.apply(black_box(l));
        if read {
            book.read(&mut out);
            black_box(&out);
        }
        let ns = clock.delta_as_nanos(start, clock.raw());
        if let Some(h) = histogram.as_deref_mut() {
            let _ = h.record(ns.max(1));
        }
    }
}

pub fn run(duration: Duration, core: Option<usize>) -> Result<Vec<Measured>> {
    if let Some(id) = core {
        core_affinity::set_for_current(core_affinity::CoreId { id });
    }
    let u = book_updates::load()?;
    book_updates::check_agreement(&u)?;
    let clock = quanta::Clock::new();
    let updates = u.updates.len() as f64;
    let mut results = Vec::new();
    for (case, read) in [("apply", false), ("apply_read", true)] {
        let histogram = measure(&mut book_updates::ladder(&u), &u, read, duration, &clock);
        results.push(Measured {
            name: "pulse",
            case: Some(case),
            histogram,
            extra: vec![("updates", updates)],
        });
        let histogram = measure(&mut TreeBook::default(), &u, read, duration, &clock);
        results.push(Measured {
            name: "btreemap",
            case: Some(case),
            histogram,
            extra: vec![("updates", updates)],
        });
    }
    let diffs = u.diffs.len() as f64;
    let histogram = measure_diffs(&mut book_updates::ladder(&u), &u, duration, &clock);
    results.push(Measured {
        name: "pulse",
        case: Some("diff"),
        histogram,
        extra: vec![("diffs", diffs)],
    });
    let histogram = measure_diffs(&mut TreeBook::default(), &u, duration, &clock);
    results.push(Measured {
        name: "btreemap",
        case: Some("diff"),
        histogram,
        extra: vec![("diffs", diffs)],
    });
    results.push(Measured {
        name: "clock_floor",
        case: Some("empty"),
        histogram: clock_floor(duration, &clock),
        extra: Vec::new(),
    });
    Ok(results)
}
