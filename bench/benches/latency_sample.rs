//! What measuring costs the hot path: recording one latency sample, per call.
//!
//! - `pulse_probe`: `LatencyProbe::record_since`, what every stage calls per event: one TSC
//!   read, the delta, and a push onto the SPSC ring to the metrics thread (drained between
//!   iterations batches by the collector, as the metrics thread does).
//! - `hdrhistogram_record`: the same TSC read and delta recorded straight into an
//!   `hdrhistogram` owned by the stage, what the stages did before the metrics thread.
//! - `tsc_read`: the TSC read alone, the floor of any measurement.
//!
//! ```sh
//! cargo bench -p pulse-bench --bench latency_sample
//! ```
#![forbid(unsafe_code)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use hdrhistogram::Histogram;
use pulse_feeds::latency::{self, Stamp, MAX_TRACKABLE_NS, SAMPLE_RING};

fn latency_sample(c: &mut Criterion) {
    let clock = quanta::Clock::new();
    let mut group = c.benchmark_group("latency_sample");

    let (mut probe, mut collector) = latency::channel(clock.clone(), SAMPLE_RING);
    let ingress = probe.stamp();
    let mut calls = 0u32;
    group.bench_function("pulse_probe", |b| {
        b.iter(|| {
            probe.record_since(black_box(ingress));
            calls += 1;
            // The metrics thread drains every millisecond; here every 4,096 samples, so the ring
            // never fills and every sample takes the push path.
            if calls & 4095 == 0 {
                collector.drain();
            }
        })
    });

    let mut histogram = Histogram::<u64>::new_with_bounds(1, MAX_TRACKABLE_NS, 3).unwrap();
    let start = Stamp(clock.raw());
    group.bench_function("hdrhistogram_record", |b| {
        b.iter(|| {
            let ns = clock.delta_as_nanos(black_box(start).0, clock.raw()).max(1);
            let _ = histogram.record(ns.min(MAX_TRACKABLE_NS));
        })
    });

    group.bench_function("tsc_read", |b| b.iter(|| black_box(clock.raw())));
    group.finish();
    assert_eq!(collector.dropped(), 0, "the ring never filled");
}

criterion_group!(benches, latency_sample);
criterion_main!(benches);
