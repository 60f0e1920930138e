//! Timing one operation at a time, and the floor every such sample carries: two reads of the
//! TSC around nothing, reported beside the scenarios whose operations take tens of nanoseconds.

use std::hint::black_box;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use crate::report::Measured;

/// Calls between two looks at the time left.
const BATCH: usize = 4_096;

/// Calls `once` for `duration` (after an untimed warm-up), each call timed on its own.
pub fn each(duration: Duration, clock: &quanta::Clock, mut once: impl FnMut()) -> Histogram<u64> {
    let mut h = Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("valid bounds");
    for _ in 0..BATCH * 16 {
        once();
    }
    let end = Instant::now() + duration;
    while Instant::now() < end {
        for _ in 0..BATCH {
            let start = clock.raw();
            once();
            let _ = h.record(clock.delta_as_nanos(start, clock.raw()).max(1));
        }
    }
    h
}

/// [`each`] for a call of a hundred microseconds or more (a cold-path recomputation): a
/// warm-up of 16 calls, then calls timed one by one until `duration` has passed and at least
/// `min` were timed.
pub fn each_slow(
    duration: Duration,
    min: u64,
    clock: &quanta::Clock,
    mut once: impl FnMut(),
) -> Histogram<u64> {
    let mut h = Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("valid bounds");
    for _ in 0..16 {
        once();
    }
    let end = Instant::now() + duration;
    while Instant::now() < end || h.len() < min {
        let start = clock.raw();
        once();
        let _ = h.record(clock.delta_as_nanos(start, clock.raw()).max(1));
    }
    h
}

/// The `clock_floor` row: an empty timed region.
pub fn clock_floor(duration: Duration, clock: &quanta::Clock) -> Measured {
    Measured {
        name: "clock_floor",
        case: Some("empty"),
        histogram: each(duration, clock, || black_box(())),
        extra: Vec::new(),
    }
}
