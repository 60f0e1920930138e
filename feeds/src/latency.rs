//! Latency attribution: every event carries the TSC stamp taken when its input entered the
//! engine; each stage records `now - ingress` when it has finished with the event, so the summary
//! shows how long it took to get from the wire to the end of each stage.
//!
//! Stamps are for measurement only and never feed logic, so replay stays deterministic.

use hdrhistogram::Histogram;

/// A raw TSC reading from [`quanta::Clock::raw`]; convert with [`LatencyProbe`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stamp(pub u64);

/// Per-stage latency histogram, written only by the stage that owns it.
pub struct LatencyProbe {
    clock: quanta::Clock,
    histogram: Histogram<u64>,
    out_of_range: u64,
}

/// Highest latency the histograms hold: 10 s. Larger samples are clamped and counted.
const MAX_TRACKABLE_NS: u64 = 10_000_000_000;

impl LatencyProbe {
    pub fn new(clock: quanta::Clock) -> LatencyProbe {
        // Allocated here, once: recording into a fixed-range histogram never allocates.
        let histogram = Histogram::new_with_bounds(1, MAX_TRACKABLE_NS, 3)
            .expect("static histogram bounds are valid");
        LatencyProbe {
            clock,
            histogram,
            out_of_range: 0,
        }
    }

    /// Takes an ingress stamp. Used only at the edge, where input enters the engine.
    pub fn stamp(&self) -> Stamp {
        Stamp(self.clock.raw())
    }

    /// Records the time from `ingress` until now.
    pub fn record_since(&mut self, ingress: Stamp) {
        let ns = self
            .clock
            .delta_as_nanos(ingress.0, self.clock.raw())
            .max(1);
        if self.histogram.record(ns.min(MAX_TRACKABLE_NS)).is_err() || ns > MAX_TRACKABLE_NS {
            self.out_of_range += 1;
        }
    }

    pub fn histogram(&self) -> &Histogram<u64> {
        &self.histogram
    }

    pub fn out_of_range(&self) -> u64 {
        self.out_of_range
    }
}
