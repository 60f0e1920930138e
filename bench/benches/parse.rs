//! Decoding Binance frames into exact integers, per message, beside general-purpose parsers
//! decoding the same bytes into the same integers (issue 3).
//!
//! The frames are real: the first few hundred `depthUpdate` and `bookTicker` frames of the
//! bundled capture, read once. For `depthUpdate` every variant decodes the levels into the same
//! `LevelUpdate`s and applies them to a book seeded from the capture's REST snapshot:
//!
//! - `pulse`: `BinanceCodec::decode_ws` (the fixed-layout scanner, which reads Binance's frames
//!   once, straight into integers; the tape for anything else) + `L2Book`.
//! - `pulse_tape`: `BinanceCodec::decode_ws_tape` (simd-json's tape, walked straight into
//!   integers: the path before the scanner) + the same `L2Book`.
//! - `serde_json`, `sonic_rs`: serde structs borrowing the decimal strings, converted with
//!   `parse_decimal`, into an identical `L2Book`.
//! - `simd_json_value`: simd-json's borrowed value tree (buffers reused), then the same.
//! - `sonic_rs_btreemap`: the fastest general parser into a `BTreeMap` book, what the peers do.
//!
//! `bookTicker` has no book: each variant decodes the four decimals and the update id. Every
//! variant is checked against `pulse` on every frame before anything is timed.
//!
//! ```sh
//! cargo bench -p pulse-bench --bench parse
//! ```
#![forbid(unsafe_code)]

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use pulse_feeds::binance::codec::{BinanceCodec, Decoded, LevelUpdate};
use pulse_feeds::book::{BookSpec, L2Book};
use pulse_feeds::capture::{CaptureReader, SourceKind};
use pulse_feeds::instrument::{InstrumentRegistry, Venue};
use pulse_feeds::num::{Px, Qty, Side};

#[path = "../src/baselines.rs"]
mod baselines;
/// Only its `TreeBook` is used here; the rest serves the `book` benches.
#[path = "../src/book_updates.rs"]
#[allow(dead_code)]
mod book_updates;

use baselines::{Decoder, Pulse, SerdeJson, SimdJsonValue, SonicRs};
use book_updates::TreeBook;

const FRAMES: usize = 300;
const BOOK_LEVELS: usize = 8192;

struct Fixture {
    registry: InstrumentRegistry,
    /// The REST snapshot's levels, bids then asks.
    snapshot: Vec<LevelUpdate>,
    depth: Vec<Vec<u8>>,
    ticker: Vec<Vec<u8>>,
}

fn fixture() -> Fixture {
    let mut registry = InstrumentRegistry::new();
    let _ = registry.add(Venue::Binance, "BTCUSDT", 2, 8, Px(1), Qty(1));
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../data/binance_spot_btcusdt_2024-08-08.cap.gz");
    let mut reader = CaptureReader::open(&path).expect("the bundled capture opens");
    let mut codec = BinanceCodec::new();
    let (mut snapshot, mut depth, mut ticker) = (Vec::new(), Vec::new(), Vec::new());
    while depth.len() < FRAMES || ticker.len() < FRAMES {
        let record = reader
            .next_record()
            .expect("enough frames")
            .expect("well-formed capture");
        match record.kind {
            SourceKind::Rest { .. } => {
                codec
                    .decode_rest_depth(&registry, b"BTCUSDT", record.payload)
                    .expect("the snapshot decodes");
                snapshot = codec.levels().to_vec();
            }
            // Diffs after the snapshot, as a synced book receives them.
            _ if snapshot.is_empty() => {}
            _ => match codec.decode_ws(&registry, record.payload) {
                Ok(Decoded::Depth { .. }) if depth.len() < FRAMES => {
                    depth.push(record.payload.to_vec())
                }
                Ok(Decoded::Ticker { .. }) if ticker.len() < FRAMES => {
                    ticker.push(record.payload.to_vec())
                }
                _ => {}
            },
        }
    }
    Fixture {
        registry,
        snapshot,
        depth,
        ticker,
    }
}

fn seeded_book(snapshot: &[LevelUpdate]) -> L2Book {
    let mut book = L2Book::new(BookSpec::new(Px(1), BOOK_LEVELS));
    for l in snapshot {
        book.apply(l.side, l.px, l.qty);
    }
    book
}

fn seeded_tree(snapshot: &[LevelUpdate]) -> TreeBook {
    let mut book = TreeBook::default();
    snapshot.iter().for_each(|l| book.apply(l));
    book
}

/// Every variant must produce what `pulse` produces, frame by frame, and end with the same book.
fn check_agreement(f: &Fixture) {
    let mut pulse = Pulse::new();
    let mut pulse_book = seeded_book(&f.snapshot);
    let mut tree = seeded_tree(&f.snapshot);
    let others: [(&str, Box<dyn Decoder>); 4] = [
        ("pulse_tape", Box::new(Pulse::tape())),
        ("serde_json", Box::<SerdeJson>::default()),
        ("sonic_rs", Box::<SonicRs>::default()),
        ("simd_json_value", Box::new(SimdJsonValue::new())),
    ];
    let mut others = others.map(|(name, d)| (name, d, seeded_book(&f.snapshot)));
    for frame in &f.depth {
        let expected = pulse.depth(&f.registry, frame).expect("pulse decodes");
        for l in pulse.levels() {
            pulse_book.apply(l.side, l.px, l.qty);
            tree.apply(l);
        }
        for (name, decoder, book) in &mut others {
            assert_eq!(decoder.depth(&f.registry, frame), Some(expected), "{name}");
            assert_eq!(decoder.levels(), pulse.levels(), "{name}");
            for l in decoder.levels() {
                book.apply(l.side, l.px, l.qty);
            }
        }
    }
    for (name, _, book) in &others {
        for side in [Side::Buy, Side::Sell] {
            assert!(book.levels(side).eq(pulse_book.levels(side)), "{name}");
        }
    }
    let tree_bids = tree.bids.iter().rev().map(|(&px, &qty)| (px, qty));
    assert!(tree_bids.eq(pulse_book.levels(Side::Buy).map(|l| (l.px.0, l.qty.0))));
    let tree_asks = tree.asks.iter().map(|(&px, &qty)| (px, qty));
    assert!(tree_asks.eq(pulse_book.levels(Side::Sell).map(|l| (l.px.0, l.qty.0))));
    for frame in &f.ticker {
        let expected = pulse.ticker(&f.registry, frame).expect("pulse decodes");
        for (name, decoder, _) in &mut others {
            assert_eq!(decoder.ticker(&f.registry, frame), Some(expected), "{name}");
        }
    }
}

fn depth_into_l2book(c: &mut Criterion, f: &Fixture, name: &str, mut decoder: impl Decoder) {
    let mut group = c.benchmark_group("parse/depthUpdate");
    group.throughput(Throughput::Elements(f.depth.len() as u64));
    group.bench_function(name, |b| {
        b.iter_batched_ref(
            || seeded_book(&f.snapshot),
            |book| {
                for frame in &f.depth {
                    black_box(decoder.depth(&f.registry, black_box(frame)));
                    for l in decoder.levels() {
                        black_box(book.apply(l.side, l.px, l.qty));
                    }
                }
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

fn depth(c: &mut Criterion) {
    let f = fixture();
    check_agreement(&f);
    depth_into_l2book(c, &f, "pulse", Pulse::new());
    depth_into_l2book(c, &f, "pulse_tape", Pulse::tape());
    depth_into_l2book(c, &f, "serde_json", SerdeJson::default());
    depth_into_l2book(c, &f, "sonic_rs", SonicRs::default());
    depth_into_l2book(c, &f, "simd_json_value", SimdJsonValue::new());

    let mut group = c.benchmark_group("parse/depthUpdate");
    group.throughput(Throughput::Elements(f.depth.len() as u64));
    let mut sonic = SonicRs::default();
    group.bench_function("sonic_rs_btreemap", |b| {
        b.iter_batched_ref(
            || seeded_tree(&f.snapshot),
            |book| {
                for frame in &f.depth {
                    black_box(sonic.depth(&f.registry, black_box(frame)));
                    sonic.levels().iter().for_each(|l| book.apply(l));
                }
            },
            BatchSize::LargeInput,
        )
    });
    // Decoding alone, to split the figures above into decode and book.
    for (name, mut pulse) in [
        ("pulse_decode_only", Pulse::new()),
        ("pulse_tape_decode_only", Pulse::tape()),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                for frame in &f.depth {
                    black_box(pulse.depth(&f.registry, black_box(frame)));
                }
            })
        });
    }
    group.bench_function("sonic_rs_decode_only", |b| {
        b.iter(|| {
            for frame in &f.depth {
                black_box(sonic.depth(&f.registry, black_box(frame)));
            }
        })
    });
    group.finish();
}

fn ticker_bench(c: &mut Criterion, f: &Fixture, name: &str, mut decoder: impl Decoder) {
    let mut group = c.benchmark_group("parse/bookTicker");
    group.throughput(Throughput::Elements(f.ticker.len() as u64));
    group.bench_function(name, |b| {
        b.iter(|| {
            for frame in &f.ticker {
                black_box(decoder.ticker(&f.registry, black_box(frame)));
            }
        })
    });
    group.finish();
}

fn ticker(c: &mut Criterion) {
    let f = fixture();
    ticker_bench(c, &f, "pulse", Pulse::new());
    ticker_bench(c, &f, "pulse_tape", Pulse::tape());
    ticker_bench(c, &f, "serde_json", SerdeJson::default());
    ticker_bench(c, &f, "sonic_rs", SonicRs::default());
    ticker_bench(c, &f, "simd_json_value", SimdJsonValue::new());
}

criterion_group!(benches, depth, ticker);
criterion_main!(benches);
