//! The book benchmarks' input and baseline, shared by `pulse-bench book` and the criterion bench
//! `book` (which includes this file with `#[path]`), so the two measure the same thing.
//!
//! The input is real: the bundled BTCUSDT capture's first REST snapshot and the levels of every
//! `depthUpdate` after it, in order, decoded once by Pulse's codec. The baseline is the book most
//! trading code keeps: an ordered map per side.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::Path;

use anyhow::{bail, Context, Result};
use pulse_engine::pipeline::BOOK_LEVELS_PER_SIDE;
use pulse_feeds::binance::codec::{BinanceCodec, Decoded, LevelUpdate};
use pulse_feeds::book::{BookSpec, L2Book, Level};
use pulse_feeds::capture::{CaptureReader, SourceKind};
use pulse_feeds::instrument::{InstrumentRegistry, Venue};
use pulse_feeds::num::{Px, Qty, Side};

const CAPTURE: &str = "../data/binance_spot_btcusdt_2024-08-08.cap.gz";
/// The touch `pulse replay` ends the capture with (bid, then ask; 2 and 8 decimals): the updates
/// are the real book's only if applying them ends there too.
const FINAL_TOUCH: [Level; 2] = [
    Level {
        px: Px(6_168_599),
        qty: Qty(100_870_000),
    },
    Level {
        px: Px(6_168_600),
        qty: Qty(229_327_000),
    },
];

pub struct BookUpdates {
    /// BTCUSDT's 0.01 at 2 decimals: one mantissa unit.
    pub tick: Px,
    /// The REST snapshot's levels, bids then asks.
    pub snapshot: Vec<LevelUpdate>,
    /// The levels of every diff after the snapshot, in order.
    pub updates: Vec<LevelUpdate>,
    /// How many of `updates` each diff holds, in order.
    pub diffs: Vec<usize>,
}

impl BookUpdates {
    /// The updates in the units a sample times: one level each, or (`per_diff`) one diff each.
    pub fn units(&self, per_diff: bool) -> Units<'_> {
        Units {
            rest: &self.updates,
            diffs: per_diff.then(|| self.diffs.iter()),
        }
    }
}

/// See [`BookUpdates::units`].
pub struct Units<'a> {
    rest: &'a [LevelUpdate],
    diffs: Option<std::slice::Iter<'a, usize>>,
}

impl<'a> Iterator for Units<'a> {
    type Item = &'a [LevelUpdate];

    fn next(&mut self) -> Option<&'a [LevelUpdate]> {
        let n = match &mut self.diffs {
            Some(diffs) => *diffs.next()?,
            None if self.rest.is_empty() => return None,
            None => 1,
        };
        let (unit, rest) = self.rest.split_at(n.min(self.rest.len()));
        self.rest = rest;
        Some(unit)
    }
}

pub fn load() -> Result<BookUpdates> {
    let tick = Px(1);
    let mut registry = InstrumentRegistry::new();
    let _ = registry.add(Venue::Binance, "BTCUSDT", 2, 8, tick, Qty(1));
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(CAPTURE);
    let mut reader =
        CaptureReader::open(&path).with_context(|| format!("opening {}", path.display()))?;
    let mut codec = BinanceCodec::new();
    let mut snapshot = None;
    // Every diff with its final update id: those received before the snapshot's response
    // count too, as in Binance's procedure (the sync buffers them).
    let mut diffs: Vec<(u64, Vec<LevelUpdate>)> = Vec::new();
    while let Some(record) = reader.next_record() {
        let record = match record {
            Ok(record) => record,
            Err(e) => bail!("reading {}: {e:?}", path.display()),
        };
        match record.kind {
            SourceKind::Rest { .. } if snapshot.is_none() => {
                if let Ok(Decoded::Snapshot { last_update_id, .. }) =
                    codec.decode_rest_depth(&registry, b"BTCUSDT", record.payload)
                {
                    snapshot = Some((last_update_id, codec.levels().to_vec()));
                }
            }
            SourceKind::Ws => {
                if let Ok(Decoded::Depth { last_id, .. }) =
                    codec.decode_ws(&registry, record.payload)
                {
                    diffs.push((last_id, codec.levels().to_vec()));
                }
            }
            _ => {}
        }
    }
    let (synced_at, snapshot) = snapshot.unwrap_or_default();
    // Diffs the snapshot already holds are skipped, as the sync does.
    let diffs: Vec<Vec<LevelUpdate>> = diffs
        .into_iter()
        .filter(|(last_id, _)| *last_id > synced_at)
        .map(|(_, levels)| levels)
        .collect();
    let lengths = diffs.iter().map(Vec::len).collect();
    let updates: Vec<LevelUpdate> = diffs.into_iter().flatten().collect();
    if snapshot.is_empty() || updates.is_empty() {
        bail!("{} holds no snapshot with diffs after it", path.display());
    }
    Ok(BookUpdates {
        tick,
        snapshot,
        updates,
        diffs: lengths,
    })
}

/// A book as most trading code keeps one: an ordered map per side, price to quantity.
#[derive(Default)]
pub struct TreeBook {
    pub bids: BTreeMap<i64, i64>,
    pub asks: BTreeMap<i64, i64>,
}

impl TreeBook {
    pub fn apply(&mut self, l: &LevelUpdate) {
        let side = match l.side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        };
        if l.qty.0 == 0 {
            side.remove(&l.px.0);
        } else {
            side.insert(l.px.0, l.qty.0);
        }
    }
}

fn fill<'a>(out: &mut [Level], levels: impl Iterator<Item = (&'a i64, &'a i64)>) -> usize {
    let mut n = 0;
    for (slot, l) in out.iter_mut().zip(levels) {
        *slot = level(l);
        n += 1;
    }
    n
}

fn level((&px, &qty): (&i64, &i64)) -> Level {
    Level {
        px: Px(px),
        qty: Qty(qty),
    }
}

/// What a strategy reads after an update: the touch and ten levels a side.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Read {
    pub bid: Option<Level>,
    pub ask: Option<Level>,
    pub bids: [Level; 10],
    pub asks: [Level; 10],
    pub depth: [usize; 2],
}

/// What the book benchmarks do to a book, so that one timing loop serves both.
pub trait BenchBook {
    /// Empties the book and applies `snapshot`.
    fn seed(&mut self, snapshot: &[LevelUpdate]);
    fn apply(&mut self, l: &LevelUpdate);
    fn best_bid(&self) -> Option<Level>;
    fn best_ask(&self) -> Option<Level>;
    /// The best `out.len()` levels of `side` into `out`; returns how many.
    fn top(&self, side: Side, out: &mut [Level]) -> usize;

    fn read(&self, out: &mut Read) {
        out.bid = self.best_bid();
        out.ask = self.best_ask();
        out.depth = [
            self.top(Side::Buy, &mut out.bids),
            self.top(Side::Sell, &mut out.asks),
        ];
    }
}

impl BenchBook for L2Book {
    fn seed(&mut self, snapshot: &[LevelUpdate]) {
        self.clear();
        snapshot.iter().for_each(|l| BenchBook::apply(self, l));
    }

    fn apply(&mut self, l: &LevelUpdate) {
        black_box(L2Book::apply(self, l.side, l.px, l.qty));
    }

    fn best_bid(&self) -> Option<Level> {
        L2Book::best_bid(self)
    }

    fn best_ask(&self) -> Option<Level> {
        L2Book::best_ask(self)
    }

    fn top(&self, side: Side, out: &mut [Level]) -> usize {
        L2Book::top(self, side, out)
    }
}

impl BenchBook for TreeBook {
    fn seed(&mut self, snapshot: &[LevelUpdate]) {
        self.bids.clear();
        self.asks.clear();
        snapshot.iter().for_each(|l| TreeBook::apply(self, l));
    }

    fn apply(&mut self, l: &LevelUpdate) {
        TreeBook::apply(self, l);
    }

    fn best_bid(&self) -> Option<Level> {
        self.bids.iter().next_back().map(level)
    }

    fn best_ask(&self) -> Option<Level> {
        self.asks.iter().next().map(level)
    }

    fn top(&self, side: Side, out: &mut [Level]) -> usize {
        match side {
            Side::Buy => fill(out, self.bids.iter().rev()),
            Side::Sell => fill(out, self.asks.iter()),
        }
    }
}

/// The ladder as the book stage builds it for this instrument.
pub fn ladder(u: &BookUpdates) -> L2Book {
    L2Book::new(BookSpec::new(u.tick, BOOK_LEVELS_PER_SIDE))
}

/// Both books must read the same after every update, and hold the same levels at the end.
pub fn check_agreement(u: &BookUpdates) -> Result<()> {
    let (mut pulse, mut tree) = (ladder(u), TreeBook::default());
    pulse.seed(&u.snapshot);
    tree.seed(&u.snapshot);
    let (mut a, mut b) = (Read::default(), Read::default());
    for (i, l) in u.updates.iter().enumerate() {
        BenchBook::apply(&mut pulse, l);
        BenchBook::apply(&mut tree, l);
        pulse.read(&mut a);
        tree.read(&mut b);
        if a != b {
            bail!("the books disagree after update {i} ({l:?}): {a:?} vs {b:?}");
        }
    }
    if [a.bid, a.ask] != FINAL_TOUCH.map(Some) {
        bail!(
            "the updates end at {:?} / {:?}, not at the replay's touch",
            a.bid,
            a.ask
        );
    }
    let tree_bids = tree.bids.iter().rev().map(level);
    let tree_asks = tree.asks.iter().map(level);
    if !pulse.levels(Side::Buy).eq(tree_bids) || !pulse.levels(Side::Sell).eq(tree_asks) {
        bail!("the books hold different levels after the last update");
    }
    Ok(())
}
