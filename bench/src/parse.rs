//! `parse`: per-message decode latency of real Binance `depthUpdate` and `bookTicker` frames
//! (the first few hundred of each in the bundled capture), for Pulse's `BinanceCodec::decode_ws`
//! beside `serde_json`, `sonic-rs` and simd-json's value API decoding the same bytes into the
//! same integers (the decoders of the criterion bench `parse`, shared in `baselines`). Every
//! baseline is checked against Pulse on every frame before anything is timed. One thread; each
//! message is timed on its own with `quanta`'s raw counter, frames taken round-robin.

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use hdrhistogram::Histogram;
use pulse_feeds::binance::codec::{BinanceCodec, Decoded};
use pulse_feeds::capture::{CaptureReader, SourceKind};
use pulse_feeds::instrument::{InstrumentRegistry, Venue};
use pulse_feeds::num::{Px, Qty};

use crate::baselines::{Decoder, Pulse, SerdeJson, SimdJsonValue, SonicRs};
use crate::report::Measured;

const FRAMES: usize = 300;
/// Untimed passes over the frames before each measurement.
const WARMUP_PASSES: usize = 20;
const CAPTURE: &str = "../data/binance_spot_btcusdt_2024-08-08.cap.gz";

struct Frames {
    registry: InstrumentRegistry,
    depth: Vec<Vec<u8>>,
    ticker: Vec<Vec<u8>>,
}

fn frames() -> Result<Frames> {
    let mut registry = InstrumentRegistry::new();
    let _ = registry.add(Venue::Binance, "BTCUSDT", 2, 8, Px(1), Qty(1));
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(CAPTURE);
    let mut reader =
        CaptureReader::open(&path).with_context(|| format!("opening {}", path.display()))?;
    let mut codec = BinanceCodec::new();
    let (mut depth, mut ticker) = (Vec::new(), Vec::new());
    while depth.len() < FRAMES || ticker.len() < FRAMES {
        let Some(record) = reader.next_record() else {
            bail!(
                "{} has fewer than {FRAMES} depthUpdate and bookTicker frames",
                path.display()
            );
        };
        let record = match record {
            Ok(record) => record,
            Err(e) => bail!("reading {}: {e:?}", path.display()),
        };
        if let SourceKind::Rest { .. } = record.kind {
            continue;
        }
        match codec.decode_ws(&registry, record.payload) {
            Ok(Decoded::Depth { .. }) if depth.len() < FRAMES => {
                depth.push(record.payload.to_vec())
            }
            Ok(Decoded::Ticker { .. }) if ticker.len() < FRAMES => {
                ticker.push(record.payload.to_vec())
            }
            _ => {}
        }
    }
    Ok(Frames {
        registry,
        depth,
        ticker,
    })
}

const NAMES: [&str; 4] = ["pulse", "serde_json", "sonic_rs", "simd_json_value"];

fn decoders() -> [Box<dyn Decoder>; 4] {
    [
        Box::new(Pulse::new()),
        Box::<SerdeJson>::default(),
        Box::<SonicRs>::default(),
        Box::new(SimdJsonValue::new()),
    ]
}

/// Every baseline must produce exactly what Pulse produces, on every frame.
fn check_agreement(f: &Frames) -> Result<()> {
    let [mut pulse, others @ ..] = decoders();
    let mut others: Vec<_> = NAMES[1..].iter().zip(others).collect();
    for (i, frame) in f.depth.iter().enumerate() {
        let expected = pulse
            .depth(&f.registry, frame)
            .with_context(|| format!("pulse does not decode depthUpdate frame {i}"))?;
        for (name, decoder) in &mut others {
            let got = decoder.depth(&f.registry, frame);
            if got != Some(expected) || decoder.levels() != pulse.levels() {
                bail!(
                    "{name} disagrees with pulse on depthUpdate frame {i}: {got:?} vs {expected:?} \
                     ({} vs {} levels)",
                    decoder.levels().len(),
                    pulse.levels().len()
                );
            }
        }
    }
    for (i, frame) in f.ticker.iter().enumerate() {
        let expected = pulse
            .ticker(&f.registry, frame)
            .with_context(|| format!("pulse does not decode bookTicker frame {i}"))?;
        for (name, decoder) in &mut others {
            let got = decoder.ticker(&f.registry, frame);
            if got != Some(expected) {
                bail!(
                    "{name} disagrees with pulse on bookTicker frame {i}: {got:?} vs {expected:?}"
                );
            }
        }
    }
    Ok(())
}

/// Decodes `frames` round-robin for `duration`, timing each message on its own.
fn measure(
    frames: &[Vec<u8>],
    duration: Duration,
    clock: &quanta::Clock,
    mut decode: impl FnMut(&[u8]),
) -> Histogram<u64> {
    let mut histogram = Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("valid bounds");
    for _ in 0..WARMUP_PASSES {
        frames.iter().for_each(|frame| decode(black_box(frame)));
    }
    let end = Instant::now() + duration;
    while Instant::now() < end {
        for frame in frames {
            let start = clock.raw();
            decode(black_box(frame));
            let ns = clock.delta_as_nanos(start, clock.raw());
            let _ = histogram.record(ns.max(1));
        }
    }
    histogram
}

pub fn run(duration: Duration, core: Option<usize>) -> Result<Vec<Measured>> {
    if let Some(id) = core {
        core_affinity::set_for_current(core_affinity::CoreId { id });
    }
    let f = frames()?;
    check_agreement(&f)?;
    let clock = quanta::Clock::new();
    let r = &f.registry;
    let mut results = Vec::new();
    for (name, mut decoder) in NAMES.into_iter().zip(decoders()) {
        let histogram = measure(&f.depth, duration, &clock, |frame| {
            black_box(decoder.depth(r, frame));
            black_box(decoder.levels());
        });
        results.push(Measured {
            name,
            case: Some("depthUpdate"),
            histogram,
            extra: Vec::new(),
        });
    }
    for (name, mut decoder) in NAMES.into_iter().zip(decoders()) {
        let histogram = measure(&f.ticker, duration, &clock, |frame| {
            black_box(decoder.ticker(r, frame));
        });
        results.push(Measured {
            name,
            case: Some("bookTicker"),
            histogram,
            extra: Vec::new(),
        });
    }
    Ok(results)
}
