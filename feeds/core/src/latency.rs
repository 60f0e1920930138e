//! Latency attribution: every event carries the TSC stamp taken when its input entered the
//! engine; each stage records `now - ingress` when it has finished with the event, so monitoring
//! and the summary show how long it took to get from the wire to the end of each stage.
//!
//! A stage does not keep its histogram: it pushes each sample through an SPSC ring to a
//! [`LatencyCollector`] owned by the metrics thread, which records it into an `hdrhistogram` and
//! publishes percentiles (DESIGN.md, "Metrics and health"). A push is a slot write and a release
//! store; a full ring drops the sample and counts it, so the hot path never waits for the
//! metrics thread.
//!
//! Stamps are for measurement only and never feed logic, so replay stays deterministic.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use hdrhistogram::Histogram;

/// A raw TSC reading from [`quanta::Clock::raw`]; convert with [`LatencyProbe`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stamp(pub u64);

/// Highest latency the histograms hold: 10 s. Larger samples are clamped and counted.
pub const MAX_TRACKABLE_NS: u64 = 10_000_000_000;

/// Samples a stage may have in flight to the metrics thread. At a million events a second and
/// a metrics thread draining every millisecond, a thousand are in flight at a time.
pub const SAMPLE_RING: usize = 1 << 16;

/// The stage's end: takes stamps and sends samples.
pub struct LatencyProbe {
    clock: quanta::Clock,
    /// Raw clock ticks per nanosecond, to date a stamp back ([`LatencyProbe::stamp_back`]).
    ticks_per_ns: f64,
    samples: Option<rtrb::Producer<u64>>,
    /// Samples lost to a full ring, published for the collector (written only by this probe).
    dropped: Arc<AtomicU64>,
}

/// The metrics thread's end: drains one stage's samples into its histogram.
pub struct LatencyCollector {
    samples: rtrb::Consumer<u64>,
    histogram: Histogram<u64>,
    out_of_range: u64,
    dropped: Arc<AtomicU64>,
}

/// The clock's raw ticks per nanosecond (its scaling is linear).
fn ticks_per_ns(clock: &quanta::Clock) -> f64 {
    const SPAN: u64 = 1 << 40;
    let ns = clock.delta_as_nanos(0, SPAN);
    if ns == 0 {
        1.0
    } else {
        SPAN as f64 / ns as f64
    }
}

/// A probe and the collector its samples go to, joined by a ring of `capacity` samples.
pub fn channel(clock: quanta::Clock, capacity: usize) -> (LatencyProbe, LatencyCollector) {
    let (tx, rx) = rtrb::RingBuffer::new(capacity);
    let dropped = Arc::new(AtomicU64::new(0));
    // Allocated here, once: recording into a fixed-range histogram never allocates.
    let histogram = Histogram::new_with_bounds(1, MAX_TRACKABLE_NS, 3)
        .expect("static histogram bounds are valid");
    (
        LatencyProbe {
            ticks_per_ns: ticks_per_ns(&clock),
            clock,
            samples: Some(tx),
            dropped: Arc::clone(&dropped),
        },
        LatencyCollector {
            samples: rx,
            histogram,
            out_of_range: 0,
            dropped,
        },
    )
}

impl LatencyProbe {
    /// A probe whose samples go nowhere: for stages driven by tests and tools that do not
    /// measure latency. It still takes stamps.
    pub fn detached(clock: quanta::Clock) -> LatencyProbe {
        LatencyProbe {
            ticks_per_ns: ticks_per_ns(&clock),
            clock,
            samples: None,
            dropped: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Takes an ingress stamp. Used only at the edge, where input enters the engine.
    pub fn stamp(&self) -> Stamp {
        Stamp(self.clock.raw())
    }

    /// A stamp `late` before now: for input that was due earlier than it was read (a paced
    /// replay running behind), so its latency counts from when it should have arrived and a
    /// slow engine cannot hide its own queue (coordinated omission).
    pub fn stamp_back(&self, late: crate::num::Nanos) -> Stamp {
        let ticks = (late.0 as f64 * self.ticks_per_ns) as u64;
        Stamp(self.clock.raw().saturating_sub(ticks))
    }

    /// Sends the time from `ingress` until now to the collector.
    pub fn record_since(&mut self, ingress: Stamp) {
        let Some(samples) = self.samples.as_mut() else {
            return;
        };
        let ns = self.clock.delta_as_nanos(ingress.0, self.clock.raw());
        if samples.push(ns).is_err() {
            // Relaxed: a monotonic tally with one writer; readers only need some recent value.
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl LatencyCollector {
    /// Records every sample waiting in the ring; returns how many.
    pub fn drain(&mut self) -> usize {
        let mut n = 0;
        while let Ok(ns) = self.samples.pop() {
            let ns = ns.max(1);
            if self.histogram.record(ns.min(MAX_TRACKABLE_NS)).is_err() || ns > MAX_TRACKABLE_NS {
                self.out_of_range += 1;
            }
            n += 1;
        }
        n
    }

    pub fn histogram(&self) -> &Histogram<u64> {
        &self.histogram
    }

    /// Samples above [`MAX_TRACKABLE_NS`], recorded as that.
    pub fn out_of_range(&self) -> u64 {
        self.out_of_range
    }

    /// Samples the stage could not send because the ring was full.
    pub fn dropped(&self) -> u64 {
        // Relaxed: see `LatencyProbe::record_since`.
        self.dropped.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::num::Nanos;

    #[test]
    fn a_stamp_dated_back_counts_the_time_it_was_late() {
        let (mut probe, mut collector) = channel(quanta::Clock::new(), 16);
        probe.record_since(probe.stamp_back(Nanos(5_000_000)));
        probe.record_since(probe.stamp());
        collector.drain();
        let h = collector.histogram();
        assert_eq!(h.len(), 2);
        // 5 ms late, plus whatever the two calls took (well under the 5 ms in any case).
        assert!(h.max() >= 4_990_000 && h.max() < 50_000_000, "{}", h.max());
        assert!(h.min() < 1_000_000, "{}", h.min());
    }
}
