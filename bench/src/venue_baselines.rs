//! The baselines of `pulse-bench venues`: what the peers do with each venue's book messages. A
//! general JSON parser (`sonic-rs` or `serde_json`, the same serde structs for both) decodes the
//! frame, an ordered map per side (`BTreeMap`) holds the book, and the venue's checksum is
//! computed from the map's top levels as each venue's guide describes, so that the baseline does
//! the work Pulse does (decode, sync, apply, verify) and nothing more.
//!
//! Prices and sizes become integers at the instrument's scales through the same exact parser
//! Pulse uses (`parse_decimal`); Kraken v2 sends JSON numbers, which the baselines read as `f64`
//! and scale (exact for these magnitudes, as the checksum check proves). OKX's checksum hashes
//! the strings as sent, so that baseline keeps each level's two strings beside its integers,
//! as the peers do. Kraken v1's frames are heterogeneous arrays: decoded to each library's DOM.
//! Bybit's (no checksum: `u` continuity, as Pulse checks it) are in [`bybit`].
//! Coinbase Advanced Trade's are in [`coinbase_at`].

use std::collections::BTreeMap;

use pulse_feeds::book::Level;
use pulse_feeds::instrument::{InstrumentRegistry, Venue};
use pulse_feeds::num::{parse_decimal, Px, Qty};
use serde::de::IgnoredAny;
use serde::Deserialize;

mod bybit;
mod coinbase_at;

/// Which general-purpose parser a baseline runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lib {
    SonicRs,
    SerdeJson,
}

impl Lib {
    pub fn name(self) -> &'static str {
        match self {
            Lib::SonicRs => "sonic_rs+btreemap",
            Lib::SerdeJson => "serde_json+btreemap",
        }
    }

    fn parse<'a, T: Deserialize<'a>>(self, bytes: &'a [u8]) -> Option<T> {
        match self {
            Lib::SonicRs => sonic_rs::from_slice(bytes).ok(),
            Lib::SerdeJson => serde_json::from_slice(bytes).ok(),
        }
    }
}

/// A level of the baseline's book: its size, and (OKX) the strings it was sent as.
#[derive(Clone, Debug, Default)]
struct Entry {
    qty: i64,
    wire: Option<(Box<str>, Box<str>)>,
}

/// One instrument's book: bids by price descending (keys negated), asks ascending.
#[derive(Clone, Debug, Default)]
struct TreeBook {
    bids: BTreeMap<i64, Entry>,
    asks: BTreeMap<i64, Entry>,
    /// A checksum failed (or, Bybit, a delta did not follow): updates are ignored until the
    /// next snapshot (the venue's procedure: resubscribe that book), as Pulse does.
    stale: bool,
    /// Bybit: the last applied `u`; `None` until the first snapshot.
    last_u: Option<u64>,
}

impl TreeBook {
    fn side(&mut self, bid: bool) -> &mut BTreeMap<i64, Entry> {
        if bid {
            &mut self.bids
        } else {
            &mut self.asks
        }
    }

    fn apply(&mut self, bid: bool, px: i64, entry: Entry) {
        let key = if bid { -px } else { px };
        if entry.qty == 0 {
            self.side(bid).remove(&key);
        } else {
            self.side(bid).insert(key, entry);
        }
    }

    /// Keeps the best `depth` levels a side (Kraken sends no delete for a level pushed out).
    fn truncate(&mut self, depth: usize) {
        for side in [&mut self.bids, &mut self.asks] {
            while side.len() > depth {
                side.pop_last();
            }
        }
    }

    fn top(&self, n: usize) -> (Vec<Level>, Vec<Level>) {
        let level = |(k, e): (&i64, &Entry), sign: i64| Level {
            px: Px(k * sign),
            qty: Qty(e.qty),
        };
        (
            self.bids.iter().take(n).map(|l| level(l, -1)).collect(),
            self.asks.iter().take(n).map(|l| level(l, 1)).collect(),
        )
    }

    /// The touch, as a book stage reads it after every update.
    fn touch(&self) -> (Option<i64>, Option<i64>) {
        (
            self.bids.first_key_value().map(|(k, _)| -k),
            self.asks.first_key_value().map(|(k, _)| *k),
        )
    }
}

/// A venue's book messages through one general parser into `BTreeMap` books.
pub struct TreeBaseline {
    lib: Lib,
    venue: Venue,
    registry: InstrumentRegistry,
    books: Vec<TreeBook>,
    /// Kraken: the subscribed depth the book is truncated to.
    depth: usize,
    pub checksums_ok: u64,
    pub checksums_bad: u64,
    /// Frames the baseline could not decode (must stay 0 on the bundled captures).
    pub refused: u64,
    /// Keeps the touch observable, as a book stage would publish it.
    pub touches: i64,
    /// Coinbase Advanced Trade: the connection's last `sequence_num`.
    sequence: Option<u64>,
}

impl TreeBaseline {
    pub fn new(lib: Lib, venue: Venue, registry: &InstrumentRegistry, depth: usize) -> Self {
        TreeBaseline {
            lib,
            venue,
            registry: registry.clone(),
            books: vec![TreeBook::default(); registry.len()],
            depth,
            checksums_ok: 0,
            checksums_bad: 0,
            refused: 0,
            touches: 0,
            sequence: None,
        }
    }

    /// Whether the baseline takes frames that are neither book nor ticker frames: Coinbase
    /// Advanced Trade's, whose connection sequence numbers every message.
    pub fn takes_every_frame(&self) -> bool {
        self.venue == Venue::Coinbase
    }

    /// The top `n` levels a side of `symbol`'s book.
    pub fn top(&self, symbol: &str, n: usize) -> Option<(Vec<Level>, Vec<Level>)> {
        let id = self.registry.find(self.venue, symbol.as_bytes())?;
        Some(self.books[id.0 as usize].top(n))
    }

    /// The venue's checksum of `symbol`'s book as the peers compute it (Kraken's and OKX's),
    /// from the map's top levels and freshly formatted strings.
    pub fn checksum(&self, symbol: &str) -> Option<u32> {
        let id = self.registry.find(self.venue, symbol.as_bytes())?;
        let book = self.books.get(id.0 as usize)?;
        match self.venue {
            Venue::Kraken | Venue::KrakenV1 => Some(kraken_crc(book)),
            Venue::Okx => Some(okx_crc(book) as u32),
            _ => None,
        }
    }

    /// One received frame; book frames update the book, ticker frames are decoded.
    pub fn on_frame(&mut self, frame: &[u8]) {
        let ok = match self.venue {
            Venue::Kraken => self.kraken_v2(frame),
            Venue::KrakenV1 => self.kraken_v1(frame),
            Venue::Okx => self.okx(frame),
            Venue::CoinbaseExchange => self.coinbase(frame),
            Venue::BybitSpot | Venue::BybitLinear => self.bybit(frame),
            Venue::Coinbase => self.coinbase_at(frame),
            _ => None,
        };
        if ok.is_none() {
            self.refused += 1;
        }
    }

    fn scales(&self, symbol: &str) -> Option<(usize, u32, u32)> {
        let id = self.registry.find(self.venue, symbol.as_bytes())?;
        let inst = self.registry.get(id)?;
        Some((id.0 as usize, inst.price_scale, inst.qty_scale))
    }

    fn observe(&mut self, book: usize) {
        let (bid, ask) = self.books[book].touch();
        self.touches = self
            .touches
            .wrapping_add(bid.unwrap_or(0) ^ ask.unwrap_or(0));
    }

    fn count_checksum(&mut self, book: usize, ok: bool) {
        if ok {
            self.checksums_ok += 1;
        } else {
            self.checksums_bad += 1;
            self.books[book].stale = true;
        }
    }

    fn kraken_v2(&mut self, frame: &[u8]) -> Option<()> {
        let scale = |v: f64, s: u32| (v * 10f64.powi(s as i32)).round() as i64;
        if frame.starts_with(br#"{"channel":"ticker""#) {
            let msg: KrakenV2<'_, KrakenV2Ticker<'_>> = self.lib.parse(frame)?;
            for t in msg.data {
                let (_, ps, qs) = self.scales(t.symbol)?;
                let touch = scale(t.bid, ps) ^ scale(t.bid_qty, qs) ^ scale(t.ask, ps);
                self.touches = self.touches.wrapping_add(touch ^ scale(t.ask_qty, qs));
            }
            return Some(());
        }
        let msg: KrakenV2<'_, KrakenV2Book<'_>> = self.lib.parse(frame)?;
        for b in msg.data {
            let (n, ps, qs) = self.scales(b.symbol)?;
            if msg.kind == "snapshot" {
                self.books[n] = TreeBook::default();
            } else if self.books[n].stale {
                continue;
            }
            for (bid, levels) in [(true, &b.bids), (false, &b.asks)] {
                for l in levels {
                    let entry = Entry {
                        qty: scale(l.qty, qs),
                        wire: None,
                    };
                    self.books[n].apply(bid, scale(l.price, ps), entry);
                }
            }
            self.books[n].truncate(self.depth);
            let ok = kraken_crc(&self.books[n]) == b.checksum;
            self.count_checksum(n, ok);
            self.observe(n);
        }
        Some(())
    }

    fn kraken_v1(&mut self, frame: &[u8]) -> Option<()> {
        let items: Vec<Dom> = match self.lib {
            Lib::SonicRs => sonic_rs::from_slice::<Vec<sonic_rs::Value>>(frame)
                .ok()?
                .into_iter()
                .map(Dom::Sonic)
                .collect(),
            Lib::SerdeJson => serde_json::from_slice::<Vec<serde_json::Value>>(frame)
                .ok()?
                .into_iter()
                .map(Dom::Serde)
                .collect(),
        };
        // [id, {book}, ({book},) "book-N", "PAIR"]; anything else (events) is an object.
        let symbol = items.last()?.as_str()?.to_owned();
        let (n, ps, qs) = self.scales(&symbol)?;
        let snapshot = items.get(1)?.levels("as").is_some();
        if self.books[n].stale && !snapshot {
            return Some(());
        }
        let mut checksum = None;
        for part in &items[1..items.len().saturating_sub(2)] {
            for (key, bid, snapshot) in [
                ("as", false, true),
                ("bs", true, true),
                ("a", false, false),
                ("b", true, false),
            ] {
                let Some(levels) = part.levels(key) else {
                    continue;
                };
                if snapshot && !bid {
                    self.books[n] = TreeBook::default();
                }
                for (px, qty) in levels {
                    let px = parse_decimal(px.as_bytes(), ps).ok()?;
                    let qty = parse_decimal(qty.as_bytes(), qs).ok()?;
                    self.books[n].apply(bid, px, Entry { qty, wire: None });
                }
            }
            if let Some(c) = part.string("c") {
                checksum = c.parse::<u32>().ok();
            }
        }
        self.books[n].truncate(self.depth);
        if let Some(c) = checksum {
            let ok = kraken_crc(&self.books[n]) == c;
            self.count_checksum(n, ok);
        }
        self.observe(n);
        Some(())
    }

    fn okx(&mut self, frame: &[u8]) -> Option<()> {
        let msg: OkxPush<'_> = self.lib.parse(frame)?;
        let Some(arg) = msg.arg else {
            return Some(()); // an event: subscribe replies
        };
        let Some(data) = msg.data else {
            return Some(());
        };
        let Some((n, ps, qs)) = self.scales(arg.inst_id) else {
            return Some(()); // not a configured instrument
        };
        match arg.channel {
            "books" | "books5" | "bbo-tbt" => {
                for d in data {
                    if msg.action == Some("snapshot") {
                        self.books[n] = TreeBook::default();
                    } else if self.books[n].stale {
                        continue;
                    }
                    for (bid, levels) in [(true, &d.bids), (false, &d.asks)] {
                        for l in levels {
                            let px = parse_decimal(l.0.as_bytes(), ps).ok()?;
                            let qty = parse_decimal(l.1.as_bytes(), qs).ok()?;
                            let wire = Some((l.0.into(), l.1.into()));
                            self.books[n].apply(bid, px, Entry { qty, wire });
                        }
                    }
                    if let Some(c) = d.checksum {
                        let ok = okx_crc(&self.books[n]) == c;
                        self.count_checksum(n, ok);
                    }
                    self.observe(n);
                }
            }
            "tickers" => {
                for d in data {
                    let bid = parse_decimal(d.bid_px?.as_bytes(), ps).ok()?;
                    let bid_qty = parse_decimal(d.bid_sz?.as_bytes(), qs).ok()?;
                    let ask = parse_decimal(d.ask_px?.as_bytes(), ps).ok()?;
                    let ask_qty = parse_decimal(d.ask_sz?.as_bytes(), qs).ok()?;
                    self.touches = self.touches.wrapping_add(bid ^ bid_qty ^ ask ^ ask_qty);
                }
            }
            _ => {}
        }
        Some(())
    }

    fn coinbase(&mut self, frame: &[u8]) -> Option<()> {
        let msg: CoinbaseMsg<'_> = self.lib.parse(frame)?;
        let Some(symbol) = msg.product_id else {
            return Some(());
        };
        let Some((n, ps, qs)) = self.scales(symbol) else {
            return Some(());
        };
        match msg.kind {
            "snapshot" => {
                self.books[n] = TreeBook::default();
                for (bid, levels) in [(true, &msg.bids), (false, &msg.asks)] {
                    for (px, qty) in levels.iter().flatten() {
                        let px = parse_decimal(px.as_bytes(), ps).ok()?;
                        let qty = parse_decimal(qty.as_bytes(), qs).ok()?;
                        self.books[n].apply(bid, px, Entry { qty, wire: None });
                    }
                }
                self.observe(n);
            }
            "l2update" => {
                for (side, px, qty) in msg.changes.iter().flatten() {
                    let px = parse_decimal(px.as_bytes(), ps).ok()?;
                    let qty = parse_decimal(qty.as_bytes(), qs).ok()?;
                    self.books[n].apply(*side == "buy", px, Entry { qty, wire: None });
                }
                self.observe(n);
            }
            "ticker" => {
                let bid = parse_decimal(msg.best_bid?.as_bytes(), ps).ok()?;
                let ask = parse_decimal(msg.best_ask?.as_bytes(), ps).ok()?;
                self.touches = self.touches.wrapping_add(bid ^ ask);
            }
            _ => {}
        }
        Some(())
    }
}

/// Kraken's CRC32: the top 10 asks ascending then bids descending, each price and size at the
/// pair's precision with the point and leading zeros removed: the integer mantissa's digits.
fn kraken_crc(book: &TreeBook) -> u32 {
    let mut text = String::with_capacity(512);
    let mut put = |k: i64, e: &Entry| {
        use std::fmt::Write as _;
        let _ = write!(text, "{}{}", k.abs(), e.qty);
    };
    book.asks.iter().take(10).for_each(|(k, e)| put(*k, e));
    book.bids.iter().take(10).for_each(|(k, e)| put(*k, e));
    crc32fast::hash(text.as_bytes())
}

/// OKX's CRC32, signed: up to 25 levels, bid then ask interleaved, `price:size` as sent, joined
/// by `:`.
fn okx_crc(book: &TreeBook) -> i32 {
    let mut parts: Vec<&str> = Vec::with_capacity(100);
    let mut bids = book.bids.values();
    let mut asks = book.asks.values();
    for _ in 0..25 {
        for side in [&mut bids, &mut asks] {
            if let Some((px, qty)) = side.next().and_then(|e| e.wire.as_ref()) {
                parts.push(px);
                parts.push(qty);
            }
        }
    }
    crc32fast::hash(parts.join(":").as_bytes()) as i32
}

#[derive(Deserialize)]
struct KrakenV2<'a, T> {
    #[allow(dead_code)]
    channel: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    data: Vec<T>,
}

#[derive(Deserialize)]
struct KrakenV2Book<'a> {
    symbol: &'a str,
    #[serde(default)]
    bids: Vec<KrakenV2Level>,
    #[serde(default)]
    asks: Vec<KrakenV2Level>,
    #[serde(default)]
    checksum: u32,
    #[serde(default)]
    #[allow(dead_code)]
    timestamp: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct KrakenV2Level {
    price: f64,
    qty: f64,
}

#[derive(Deserialize)]
struct KrakenV2Ticker<'a> {
    symbol: &'a str,
    bid: f64,
    bid_qty: f64,
    ask: f64,
    ask_qty: f64,
}

#[derive(Deserialize)]
struct OkxPush<'a> {
    #[serde(borrow)]
    arg: Option<OkxArg<'a>>,
    action: Option<&'a str>,
    #[serde(borrow)]
    data: Option<Vec<OkxData<'a>>>,
}

#[derive(Deserialize)]
struct OkxArg<'a> {
    channel: &'a str,
    #[serde(rename = "instId")]
    inst_id: &'a str,
}

#[derive(Deserialize)]
struct OkxData<'a> {
    #[serde(borrow, default)]
    bids: Vec<(&'a str, &'a str, IgnoredAny, IgnoredAny)>,
    #[serde(borrow, default)]
    asks: Vec<(&'a str, &'a str, IgnoredAny, IgnoredAny)>,
    checksum: Option<i32>,
    #[serde(rename = "bidPx")]
    bid_px: Option<&'a str>,
    #[serde(rename = "bidSz")]
    bid_sz: Option<&'a str>,
    #[serde(rename = "askPx")]
    ask_px: Option<&'a str>,
    #[serde(rename = "askSz")]
    ask_sz: Option<&'a str>,
}

#[derive(Deserialize)]
struct CoinbaseMsg<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    product_id: Option<&'a str>,
    #[serde(borrow)]
    bids: Option<Vec<(&'a str, &'a str)>>,
    #[serde(borrow)]
    asks: Option<Vec<(&'a str, &'a str)>>,
    #[serde(borrow)]
    changes: Option<Vec<(&'a str, &'a str, &'a str)>>,
    best_bid: Option<&'a str>,
    best_ask: Option<&'a str>,
}

/// A Kraken v1 frame's element in either library's DOM.
enum Dom {
    Sonic(sonic_rs::Value),
    Serde(serde_json::Value),
}

impl Dom {
    fn as_str(&self) -> Option<&str> {
        match self {
            Dom::Sonic(v) => sonic_rs::JsonValueTrait::as_str(v),
            Dom::Serde(v) => v.as_str(),
        }
    }

    fn string(&self, key: &str) -> Option<&str> {
        match self {
            Dom::Sonic(v) => sonic_rs::JsonValueTrait::get(v, key)
                .and_then(|v| sonic_rs::JsonValueTrait::as_str(v)),
            Dom::Serde(v) => v.get(key)?.as_str(),
        }
    }

    /// The `[price, volume, time(, "r")]` entries under `key`, as (price, volume).
    fn levels(&self, key: &str) -> Option<Vec<(&str, &str)>> {
        use sonic_rs::{JsonContainerTrait as _, JsonValueTrait as _};
        match self {
            Dom::Sonic(v) => {
                let list = v.get(key)?.as_array()?;
                list.iter()
                    .map(|l| Some((l.get(0)?.as_str()?, l.get(1)?.as_str()?)))
                    .collect()
            }
            Dom::Serde(v) => {
                let list = v.get(key)?.as_array()?;
                list.iter()
                    .map(|l| Some((l.get(0)?.as_str()?, l.get(1)?.as_str()?)))
                    .collect()
            }
        }
    }
}
