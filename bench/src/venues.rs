//! `venues`: every venue's book and ticker messages from its bundled capture, decoded, synced,
//! checksummed and applied to the book, per message, by Pulse (the venue's adapter, the feed's
//! outbox and ring, the book stage's tick-indexed `L2Book`) and by the peers' usual shape
//! (`sonic-rs` or `serde_json` into serde structs, a `BTreeMap` per side, the venue's checksum
//! from the map: [`crate::venue_baselines`]), in the same run.
//!
//! Each pass plays the venue's whole capture in order from a fresh state (sequence numbers and
//! checksums only hold in order), every frame timed on its own with `quanta`'s raw counter: book
//! frames in one histogram, ticker frames in another; the other frames (subscription replies,
//! trades, heartbeats) are played untimed. Before anything is timed, one pass of each
//! implementation must end with the same top ten levels on every book, and the baselines must
//! reproduce the venue's checksums wherever Pulse does. The checksum's own cost is measured
//! apart: Pulse's per-update verification against the baseline's string-built one.

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use hdrhistogram::Histogram;
use pulse_engine::pipeline::BOOK_LEVELS_PER_SIDE;
use pulse_engine::replay_cmd::scan_instruments;
use pulse_feeds::book::{BookSpec, L2Book, Level};
use pulse_feeds::capture::{CaptureReader, SourceKind};
use pulse_feeds::event::{EventMeta, LevelBatch, MdEvent};
use pulse_feeds::instrument::{InstrumentRegistry, Venue};
use pulse_feeds::num::Side;
use pulse_feeds::outbox::Outbox;
use pulse_feeds::venue::MarketAdapter;
use pulse_feeds::venues::{self, AnyAdapter};

use crate::report::Measured;
use crate::venue_baselines::{Lib, TreeBaseline};

/// Untimed passes over a capture before each measurement.
const WARMUP_PASSES: usize = 2;

/// One venue's capture and how to tell its book and ticker frames.
struct Case {
    name: &'static str,
    capture: &'static str,
    venue: Venue,
    /// Kraken: the depth the capture subscribed (the book is truncated to it).
    depth: usize,
}

const CASES: [Case; 7] = [
    Case {
        name: "kraken-v1",
        capture: "kraken_v1_book1000_2021-04-17.cap",
        venue: Venue::KrakenV1,
        depth: 1000,
    },
    Case {
        name: "kraken",
        capture: "kraken_v2_book_generated.cap",
        venue: Venue::Kraken,
        depth: 10,
    },
    Case {
        name: "okx",
        capture: "okx_books_2022-05-13.cap",
        venue: Venue::Okx,
        depth: usize::MAX,
    },
    Case {
        name: "coinbase-exchange",
        capture: "coinbase_exchange_level2_2021-04-17.cap",
        venue: Venue::CoinbaseExchange,
        depth: usize::MAX,
    },
    Case {
        name: "coinbase",
        capture: "coinbase_at_generated.cap.gz",
        venue: Venue::Coinbase,
        depth: usize::MAX,
    },
    Case {
        name: "bybit-spot",
        capture: "bybit_spot_generated.cap",
        venue: Venue::BybitSpot,
        depth: usize::MAX,
    },
    Case {
        name: "bybit-linear",
        capture: "bybit_linear_generated.cap",
        venue: Venue::BybitLinear,
        depth: usize::MAX,
    },
];

/// The checksum cases' names, per venue that sends one.
const CHECKSUM_CASES: [(&str, &str); 3] = [
    ("kraken-v1", "kraken-v1 checksum"),
    ("kraken", "kraken checksum"),
    ("okx", "okx checksum"),
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Book,
    Ticker,
    Other,
}

fn classify(venue: Venue, frame: &[u8]) -> Class {
    let has = |needle: &[u8]| frame.windows(needle.len()).any(|w| w == needle);
    let (book, ticker) = match venue {
        Venue::Kraken => (
            frame.starts_with(br#"{"channel":"book""#),
            frame.starts_with(br#"{"channel":"ticker""#),
        ),
        Venue::KrakenV1 => (frame.starts_with(b"[") && has(b"\"book-"), false),
        Venue::Okx => (
            has(br#""channel":"books"#) && has(br#""data""#),
            has(br#""channel":"tickers""#) && has(br#""data""#),
        ),
        Venue::CoinbaseExchange => (
            frame.starts_with(br#"{"type":"l2update""#)
                || frame.starts_with(br#"{"type":"snapshot""#),
            frame.starts_with(br#"{"type":"ticker""#),
        ),
        Venue::BybitSpot | Venue::BybitLinear => (
            frame.starts_with(br#"{"topic":"orderbook."#),
            frame.starts_with(br#"{"topic":"tickers."#),
        ),
        Venue::Coinbase => (
            frame.starts_with(br#"{"channel":"l2_data""#),
            frame.starts_with(br#"{"channel":"ticker""#),
        ),
        _ => (false, false),
    };
    match (book, ticker) {
        (true, _) => Class::Book,
        (_, true) => Class::Ticker,
        _ => Class::Other,
    }
}

struct Frames {
    registry: InstrumentRegistry,
    frames: Vec<(Class, Vec<u8>)>,
}

fn frames(case: &Case) -> Result<Frames> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../data")
        .join(case.capture);
    let registry = scan_instruments(&path)?;
    let mut reader =
        CaptureReader::open(&path).with_context(|| format!("opening {}", path.display()))?;
    let mut frames = Vec::new();
    while let Some(record) = reader.next_record() {
        let record = record.map_err(|e| anyhow::anyhow!("reading {}: {e:?}", path.display()))?;
        if record.kind == SourceKind::Ws && record.venue == case.venue.name().as_bytes() {
            let class = classify(case.venue, record.payload);
            frames.push((class, record.payload.to_vec()));
        }
    }
    Ok(Frames { registry, frames })
}

/// Pulse's path: the venue's adapter, the feed's outbox drained into a ring, and the book
/// stage's work on each event (levels applied, a reset cleared, the touch read at a commit).
struct PulsePath {
    adapter: AnyAdapter,
    outbox: Outbox,
    tx: rtrb::Producer<MdEvent>,
    rx: rtrb::Consumer<MdEvent>,
    books: Vec<L2Book>,
    touches: i64,
}

impl PulsePath {
    fn new_adapter(venue: Venue, registry: &InstrumentRegistry) -> Result<AnyAdapter> {
        venues::builtin(registry)
            .into_iter()
            .find(|a| a.get().source() == venue.name())
            .with_context(|| format!("no built-in adapter for {}", venue.name()))
    }

    fn new(venue: Venue, registry: &InstrumentRegistry) -> Result<PulsePath> {
        let adapter = PulsePath::new_adapter(venue, registry)?;
        let capacity = adapter.get().outbox_capacity();
        let (tx, rx) = rtrb::RingBuffer::new(capacity.next_power_of_two());
        let books = registry
            .iter()
            .map(|i| {
                let levels = BOOK_LEVELS_PER_SIDE.max(i.venue.whole_book_levels());
                L2Book::new(BookSpec::new(i.tick, levels))
            })
            .collect();
        Ok(PulsePath {
            adapter,
            outbox: Outbox::with_capacity(capacity),
            tx,
            rx,
            books,
            touches: 0,
        })
    }

    /// A fresh adapter over the same books, cleared: a pass from the capture's start.
    fn restart(&mut self, venue: Venue, registry: &InstrumentRegistry) -> Result<()> {
        let fresh = PulsePath::new_adapter(venue, registry)?;
        self.adapter = fresh;
        while self.rx.pop().is_ok() {}
        self.books.iter_mut().for_each(L2Book::clear);
        Ok(())
    }

    #[inline]
    fn on_frame(&mut self, frame: &[u8]) {
        let meta = EventMeta {
            instrument: Default::default(),
            recv_ts: Default::default(),
            ingress: Default::default(),
        };
        let _ = self
            .adapter
            .on_frame(SourceKind::Ws, frame, meta, &mut self.outbox);
        while !self.outbox.is_drained() {
            self.outbox.drain_into(&mut self.tx);
            while let Ok(event) = self.rx.pop() {
                self.on_event(&event);
            }
        }
    }

    #[inline]
    fn on_event(&mut self, event: &MdEvent) {
        match *event {
            MdEvent::Levels { .. } => {
                if let Some((id, _, levels)) = LevelBatch::read(event) {
                    if let Some(book) = self.books.get_mut(id.0 as usize) {
                        for (side, px, qty) in levels {
                            book.apply(side, px, qty);
                        }
                    }
                }
            }
            MdEvent::BookReset { meta } => {
                if let Some(book) = self.books.get_mut(meta.instrument.0 as usize) {
                    book.clear();
                }
            }
            MdEvent::BookCommit { meta, .. } => {
                if let Some(book) = self.books.get(meta.instrument.0 as usize) {
                    let px = |l: Option<Level>| l.map_or(0, |l| l.px.0);
                    self.touches = self
                        .touches
                        .wrapping_add(px(book.best_bid()) ^ px(book.best_ask()));
                }
            }
            MdEvent::Ticker(t) => {
                self.touches = self.touches.wrapping_add(t.bid.px.0 ^ t.ask.qty.0);
            }
            _ => {}
        }
    }

    fn top(&self, registry: &InstrumentRegistry, symbol: &str) -> (Vec<Level>, Vec<Level>) {
        let id = registry.find(registry_venue(registry), symbol.as_bytes());
        let book = &self.books[id.map_or(0, |i| i.0 as usize)];
        let mut bids = [Level::default(); 10];
        let mut asks = [Level::default(); 10];
        let nb = book.top(Side::Buy, &mut bids);
        let na = book.top(Side::Sell, &mut asks);
        (bids[..nb].to_vec(), asks[..na].to_vec())
    }

    fn checksums(&self, registry: &InstrumentRegistry) -> (u64, u64) {
        registry
            .iter()
            .filter_map(|i| self.adapter.get().sync_counters(i.id))
            .fold((0, 0), |(ok, bad), c| {
                (ok + c.checksum_ok, bad + c.checksum_mismatch)
            })
    }
}

/// The venue of a single-venue registry.
fn registry_venue(registry: &InstrumentRegistry) -> Venue {
    registry.iter().next().map_or(Venue::Binance, |i| i.venue)
}

/// One pass of Pulse and of each baseline; their books must agree at the end.
fn check_agreement(case: &Case, f: &Frames) -> Result<()> {
    let mut pulse = PulsePath::new(case.venue, &f.registry)?;
    for (_, frame) in &f.frames {
        pulse.on_frame(frame);
    }
    let (ok, bad) = pulse.checksums(&f.registry);
    for lib in [Lib::SonicRs, Lib::SerdeJson] {
        let mut tree = TreeBaseline::new(lib, case.venue, &f.registry, case.depth);
        for (class, frame) in &f.frames {
            if *class != Class::Other || tree.takes_every_frame() {
                tree.on_frame(frame);
            }
        }
        if tree.refused > 0 {
            bail!(
                "{}: {} refused {} frames",
                case.name,
                lib.name(),
                tree.refused
            );
        }
        if (tree.checksums_ok, tree.checksums_bad) != (ok, bad) {
            bail!(
                "{}: {} reproduced {} checksums ({} mismatched), pulse {ok} ({bad})",
                case.name,
                lib.name(),
                tree.checksums_ok,
                tree.checksums_bad
            );
        }
        for inst in f.registry.iter() {
            let theirs = tree.top(&inst.symbol, 10).context("a baseline book")?;
            if theirs != pulse.top(&f.registry, &inst.symbol) {
                bail!(
                    "{}: {} ends {} with another book than pulse",
                    case.name,
                    lib.name(),
                    inst.symbol
                );
            }
        }
    }
    Ok(())
}

/// The checksum's own cost, where the venue sends one (Kraken, OKX): each book's checksum as
/// the book stands at the end of the capture, computed over and over, by Pulse (its kept
/// texts, or wire strings, hashed once) and by the peers' way (the map's top levels, strings
/// formatted or joined, then hashed). Both must give the same value first.
fn checksum_cost(
    case: &Case,
    f: &Frames,
    duration: Duration,
    clock: &quanta::Clock,
) -> Result<Option<[Histogram<u64>; 2]>> {
    if !matches!(case.venue, Venue::Kraken | Venue::KrakenV1 | Venue::Okx) {
        return Ok(None);
    }
    let mut pulse = PulsePath::new(case.venue, &f.registry)?;
    let mut tree = TreeBaseline::new(Lib::SonicRs, case.venue, &f.registry, case.depth);
    for (class, frame) in &f.frames {
        pulse.on_frame(frame);
        if *class != Class::Other {
            tree.on_frame(frame);
        }
    }
    let ours = |id| match (pulse.adapter.kraken(), pulse.adapter.okx()) {
        (Some(k), _) => k.sync(id).map(|s| s.checksum()),
        (_, Some(o)) => o.sync(id).map(|s| s.top().checksum() as u32),
        _ => None,
    };
    let mut books = Vec::new();
    for inst in f.registry.iter() {
        let (Some(a), Some(b)) = (ours(inst.id), tree.checksum(&inst.symbol)) else {
            continue;
        };
        if a != b {
            bail!(
                "{}: {} checksums {a} here, {b} in the baseline",
                case.name,
                inst.symbol
            );
        }
        books.push((inst.id, inst.symbol.clone()));
    }
    let new = || Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("valid bounds");
    let mut h = [new(), new()];
    let end = Instant::now() + duration;
    while Instant::now() < end {
        for (id, symbol) in &books {
            let start = clock.raw();
            black_box(ours(black_box(*id)));
            let mid = clock.raw();
            black_box(tree.checksum(black_box(symbol)));
            let stop = clock.raw();
            h[0].record(clock.delta_as_nanos(start, mid).max(1)).ok();
            h[1].record(clock.delta_as_nanos(mid, stop).max(1)).ok();
        }
    }
    Ok(Some(h))
}

/// Plays `frames` from a fresh state pass after pass for `duration`, timing each book and
/// ticker frame on its own. `fresh` makes each pass's state, given the last pass's to recycle
/// what a running engine keeps across a resync (Pulse's preallocated books, cleared, as a
/// `BookReset` clears them): a new allocation each pass would time page faults no running
/// engine takes.
fn measure<S>(
    frames: &[(Class, Vec<u8>)],
    duration: Duration,
    clock: &quanta::Clock,
    mut fresh: impl FnMut(Option<S>) -> S,
    mut play: impl FnMut(&mut S, Class, &[u8]),
) -> [Histogram<u64>; 2] {
    let new = || Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("valid bounds");
    let mut histograms = [new(), new()];
    let mut last = None;
    for _ in 0..WARMUP_PASSES {
        let mut state = fresh(last.take());
        for (class, frame) in frames {
            play(&mut state, *class, black_box(frame));
        }
        last = Some(state);
    }
    let end = Instant::now() + duration;
    while Instant::now() < end {
        let mut state = fresh(last.take());
        for (class, frame) in frames {
            let start = clock.raw();
            play(&mut state, *class, black_box(frame));
            let ns = clock.delta_as_nanos(start, clock.raw());
            match class {
                Class::Book => histograms[0].record(ns.max(1)).ok(),
                Class::Ticker => histograms[1].record(ns.max(1)).ok(),
                Class::Other => None,
            };
        }
        last = Some(black_box(state));
    }
    histograms
}

fn push(results: &mut Vec<Measured>, name: &'static str, case: &Case, h: [Histogram<u64>; 2]) {
    let [book, ticker] = h;
    let cases: [(&'static str, &'static str); CASES.len()] = [
        ("kraken-v1 book", "kraken-v1 ticker"),
        ("kraken book", "kraken ticker"),
        ("okx books", "okx tickers"),
        ("coinbase-exchange level2", "coinbase-exchange ticker"),
        ("coinbase level2", "coinbase ticker"),
        ("bybit-spot orderbook", "bybit-spot tickers"),
        ("bybit-linear orderbook", "bybit-linear tickers"),
    ];
    let n = CASES.iter().position(|c| c.name == case.name).unwrap_or(0);
    results.push(Measured {
        name,
        case: Some(cases[n].0),
        histogram: book,
        extra: Vec::new(),
    });
    if !ticker.is_empty() {
        results.push(Measured {
            name,
            case: Some(cases[n].1),
            histogram: ticker,
            extra: Vec::new(),
        });
    }
}

/// Every venue, or only `only` (`VENUE`, or `VENUE/pulse` for Pulse alone).
pub fn run(duration: Duration, core: Option<usize>, only: Option<&str>) -> Result<Vec<Measured>> {
    if let Some(id) = core {
        core_affinity::set_for_current(core_affinity::CoreId { id });
    }
    let (only, pulse_alone) = match only.map(|o| o.split_once('/').unwrap_or((o, ""))) {
        Some((venue, "pulse")) => (Some(venue), true),
        Some((venue, "")) => (Some(venue), false),
        Some((_, other)) => bail!("--case VENUE or VENUE/pulse, not /{other}"),
        None => (None, false),
    };
    if let Some(name) = only.filter(|n| CASES.iter().all(|c| c.name != *n)) {
        let known: Vec<&str> = CASES.iter().map(|c| c.name).collect();
        bail!("no venue {name}: {}", known.join(", "));
    }
    let clock = quanta::Clock::new();
    let mut results = Vec::new();
    for case in CASES.iter().filter(|c| only.is_none_or(|n| n == c.name)) {
        let f = frames(case)?;
        check_agreement(case, &f)?;
        let h = measure(
            &f.frames,
            duration,
            &clock,
            |old: Option<PulsePath>| match old {
                Some(mut p) => {
                    p.restart(case.venue, &f.registry).expect("checked above");
                    p
                }
                None => PulsePath::new(case.venue, &f.registry).expect("checked above"),
            },
            |p, _, frame| p.on_frame(frame),
        );
        push(&mut results, "pulse", case, h);
        if pulse_alone {
            continue;
        }
        if let Some([ours, theirs]) = checksum_cost(case, &f, duration / 4, &clock)? {
            let name = CHECKSUM_CASES
                .iter()
                .find(|(venue, _)| *venue == case.name)
                .map_or("checksum", |(_, n)| n);
            for (lib, histogram) in [("pulse", ours), ("sonic_rs+btreemap", theirs)] {
                results.push(Measured {
                    name: lib,
                    case: Some(name),
                    histogram,
                    extra: Vec::new(),
                });
            }
        }
        for lib in [Lib::SonicRs, Lib::SerdeJson] {
            let h = measure(
                &f.frames,
                duration,
                &clock,
                |_| TreeBaseline::new(lib, case.venue, &f.registry, case.depth),
                |t, class, frame| {
                    if class != Class::Other || t.takes_every_frame() {
                        t.on_frame(frame)
                    }
                },
            );
            push(&mut results, lib.name(), case, h);
        }
    }
    Ok(results)
}
