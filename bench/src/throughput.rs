//! `throughput`: sustained messages per second through one feed thread. `pulse` runs the whole
//! engine single-threaded (decode, book, the book-imbalance strategy, risk, the simulated
//! venue) over the bundled BTCUSDT capture (41,249 messages) as fast as it goes, pass after
//! pass: that is saturation, every message waiting for the one before it. `serde_json` decodes
//! the same capture's `depthUpdate` and `bookTicker` frames into the same structs, and nothing
//! more (no book, no strategy): the rate a serde-based handler could not pass. Each sample is
//! one pass, as nanoseconds per message; `msgs_per_s` is the mean rate.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use hdrhistogram::Histogram;
use pulse_engine::pipeline::HotStage;
use pulse_engine::runtime;
use pulse_feeds::instrument::{InstrumentRegistry, Venue};
use pulse_feeds::num::{Px, Qty};

use crate::baselines::{Decoder, SerdeJson};
use crate::report::Measured;

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("valid bounds")
}

fn engine(duration: Duration) -> Result<Measured> {
    let cfg = crate::bundled::config("imbalance.toml", false)?;
    let mut h = histogram();
    let (mut messages, mut spent) = (0u64, Duration::ZERO);
    let end = Instant::now() + duration;
    loop {
        let outcome = runtime::run(&cfg).context("the engine failed")?;
        let lines: u64 = outcome
            .stages()
            .map(|s| match s {
                HotStage::Feed(f) => f.counters.lines,
                _ => 0,
            })
            .sum();
        messages += lines;
        spent += outcome.elapsed;
        let _ = h.record((outcome.elapsed.as_nanos() as u64 / lines.max(1)).max(1));
        if Instant::now() >= end {
            break;
        }
    }
    Ok(Measured {
        name: "pulse",
        case: Some("engine"),
        histogram: h,
        extra: vec![(
            "msgs_per_s",
            messages as f64 / spent.as_secs_f64().max(1e-9),
        )],
    })
}

fn serde_decode(duration: Duration) -> Result<Measured> {
    let mut registry = InstrumentRegistry::new();
    let _ = registry.add(Venue::Binance, "BTCUSDT", 2, 8, Px(1), Qty(1));
    let frames = crate::capture_frames::ws_frames()?;
    let mut decoder = SerdeJson::default();
    let mut h = histogram();
    let (mut messages, mut spent) = (0u64, Duration::ZERO);
    let end = Instant::now() + duration;
    loop {
        let start = Instant::now();
        for frame in &frames {
            if decoder.depth(&registry, frame).is_none() {
                std::hint::black_box(decoder.ticker(&registry, frame));
            }
        }
        let took = start.elapsed();
        messages += frames.len() as u64;
        spent += took;
        let _ = h.record((took.as_nanos() as u64 / frames.len().max(1) as u64).max(1));
        if Instant::now() >= end {
            break;
        }
    }
    Ok(Measured {
        name: "serde_json",
        case: Some("decode_only"),
        histogram: h,
        extra: vec![(
            "msgs_per_s",
            messages as f64 / spent.as_secs_f64().max(1e-9),
        )],
    })
}

pub fn run(duration: Duration, core: Option<usize>) -> Result<Vec<Measured>> {
    if let Some(id) = core {
        core_affinity::set_for_current(core_affinity::CoreId { id });
    }
    Ok(vec![engine(duration)?, serde_decode(duration)?])
}
