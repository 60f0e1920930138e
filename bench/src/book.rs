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
use crate::sample;

/// Untimed passes over the updates before each measurement.
const WARMUP_PASSES: usize = 3;

/// What one sample times.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Unit {
    /// One level update.
    Update,
    /// One level update and the reads after it.
    UpdateRead,
    /// A whole diff's levels and the reads after them, as the book stage works per commit.
    Diff,
}

/// Applies the updates pass after pass for `duration` (at least one pass), timing each unit.
fn measure(
    book: &mut impl BenchBook,
    u: &BookUpdates,
    unit: Unit,
    duration: Duration,
    clock: &quanta::Clock,
) -> Histogram<u64> {
    let mut histogram = Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("valid bounds");
    for _ in 0..WARMUP_PASSES {
        pass(book, u, unit, clock, None);
    }
    let end = Instant::now() + duration;
    loop {
        pass(book, u, unit, clock, Some(&mut histogram));
        if Instant::now() >= end {
            return histogram;
        }
    }
}

/// One pass from the snapshot, each unit timed alone.
fn pass(
    book: &mut impl BenchBook,
    u: &BookUpdates,
    unit: Unit,
    clock: &quanta::Clock,
    mut histogram: Option<&mut Histogram<u64>>,
) {
    let mut out = Read::default();
    book.seed(&u.snapshot);
    for timed in u.units(unit == Unit::Diff) {
        let start = clock.raw();
        for l in timed {
            book.apply(black_box(l));
        }
        if unit != Unit::Update {
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
    let diffs = u.diffs.len() as f64;
    for (case, unit, count) in [
        ("apply", Unit::Update, ("updates", updates)),
        ("apply_read", Unit::UpdateRead, ("updates", updates)),
        ("diff", Unit::Diff, ("diffs", diffs)),
    ] {
        let histogram = measure(&mut book_updates::ladder(&u), &u, unit, duration, &clock);
        results.push(Measured {
            name: "pulse",
            case: Some(case),
            histogram,
            extra: vec![count],
        });
        let histogram = measure(&mut TreeBook::default(), &u, unit, duration, &clock);
        results.push(Measured {
            name: "btreemap",
            case: Some(case),
            histogram,
            extra: vec![count],
        });
    }
    results.push(sample::clock_floor(duration, &clock));
    Ok(results)
}
