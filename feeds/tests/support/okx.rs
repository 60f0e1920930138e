//! OKX test helpers: the bundled capture's instruments, the feed and book stages driven inline
//! over capture bytes, and an independent rebuild for generated streams (a `BTreeMap` of wire
//! strings and a bitwise CRC32 of its own, no Pulse code) that writes each push's checksum.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::Cursor;
use std::path::PathBuf;

use pulse_feeds::book_stage::BookStage;
use pulse_feeds::capture::CaptureReader;
use pulse_feeds::clock::ReplayTime;
use pulse_feeds::event::{BookState, MarketEvent};
use pulse_feeds::instrument::{InstrumentRegistry, Venue};
use pulse_feeds::latency::LatencyProbe;
use pulse_feeds::log::DistinctLog;
use pulse_feeds::num::{InstrumentId, Nanos, Px, Qty};
use pulse_feeds::replay::CaptureFeed;
use pulse_feeds::stage::Stage;
use pulse_feeds::sync_counters::SyncCounters;

pub fn capture_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data/okx_books_2022-05-13.cap")
}

pub fn capture_text() -> String {
    std::fs::read_to_string(capture_path()).expect("the bundled OKX capture reads")
}

/// The capture's instruments, ids 0, 1, 2. Scales are the most decimals each one's strings show
/// in the capture (prices: 1, 3, 1; sizes: 0, 0, 8), so every string is exact; a tick of one
/// mantissa unit.
pub fn registry() -> InstrumentRegistry {
    let mut registry = InstrumentRegistry::new();
    for (symbol, ps, qs) in [
        ("BTC-USD-220527", 1, 0),
        ("UNI-USD-SWAP", 3, 0),
        ("BTC-USDT", 1, 8),
    ] {
        registry
            .add(Venue::Okx, symbol, ps, qs, Px(1), Qty(1))
            .expect("distinct instruments");
    }
    registry
}

/// What a replay left: the stages, and what the book published.
pub struct Run {
    pub feed: CaptureFeed,
    pub book: BookStage,
    pub live_tops: u64,
    pub trades: u64,
}

impl Run {
    pub fn sync(&self, i: u16) -> SyncCounters {
        *self
            .feed
            .sync_counters(InstrumentId(i))
            .expect("an OKX instrument")
    }

    pub fn state(&self, i: usize) -> BookState {
        self.book.state(i).expect("a book")
    }
}

/// Replays capture `text` through the feed and book stages inline, checking every live top
/// published is uncrossed.
pub fn replay(text: &str, registry: &InstrumentRegistry) -> Run {
    let reader = CaptureReader::from_reader(Box::new(Cursor::new(text.as_bytes().to_vec())));
    let clock = quanta::Clock::new();
    let (md_tx, md_rx) = rtrb::RingBuffer::new(4096);
    let (out_tx, mut out_rx) = rtrb::RingBuffer::new(1024);
    let (control_tx, control_rx) = rtrb::RingBuffer::new(64);
    let mut feed = CaptureFeed::new(
        reader,
        registry.clone(),
        md_tx,
        ReplayTime::default(),
        LatencyProbe::detached(clock.clone()),
        DistinctLog::new("feed", None),
    )
    .with_control(control_rx);
    let mut book = BookStage::new(
        registry,
        1024,
        md_rx,
        vec![out_tx],
        LatencyProbe::detached(clock),
    )
    .with_control(control_tx);
    let (mut live_tops, mut trades) = (0, 0);
    loop {
        let work = feed.do_work(Nanos(0)) + book.do_work(Nanos(0));
        while let Ok(event) = out_rx.pop() {
            match event {
                MarketEvent::Book(top) if top.state == BookState::Live => {
                    live_tops += 1;
                    if let (Some(bid), Some(ask)) = (top.best_bid(), top.best_ask()) {
                        assert!(bid.px < ask.px, "a live book crossed: {top:?}");
                    }
                }
                MarketEvent::Book(_) => {}
                MarketEvent::Trade(_) => trades += 1,
            }
        }
        if work == 0 && feed.intake_done() {
            break;
        }
    }
    Run {
        feed,
        book,
        live_tops,
        trades,
    }
}

/// CRC32 (IEEE, reflected, polynomial 0xEDB88320), bit by bit: independent of the crate the
/// adapter uses.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A reference OKX book of one instrument: wire strings keyed by exact price, for writing
/// generated pushes with the checksum OKX would send.
#[derive(Default)]
pub struct RefBook {
    /// Price in thousandths -> (price string, size string).
    bids: BTreeMap<i64, (String, String)>,
    asks: BTreeMap<i64, (String, String)>,
}

fn milli(px: &str) -> i64 {
    (px.parse::<f64>().expect("a test price") * 1000.0).round() as i64
}

impl RefBook {
    pub fn apply(&mut self, bids: &[(&str, &str)], asks: &[(&str, &str)]) {
        for (side, levels) in [(&mut self.bids, bids), (&mut self.asks, asks)] {
            for (px, sz) in levels {
                if sz.parse::<f64>() == Ok(0.0) {
                    side.remove(&milli(px));
                } else {
                    side.insert(milli(px), (px.to_string(), sz.to_string()));
                }
            }
        }
    }

    /// OKX's check string: top 25 interleaved bid, ask, as strings.
    pub fn check_string(&self) -> String {
        let bids: Vec<_> = self.bids.values().rev().take(25).collect();
        let asks: Vec<_> = self.asks.values().take(25).collect();
        let mut parts = Vec::new();
        for i in 0..25 {
            for side in [&bids, &asks] {
                if let Some((px, sz)) = side.get(i) {
                    parts.push(format!("{px}:{sz}"));
                }
            }
        }
        parts.join(":")
    }

    pub fn checksum(&self) -> i32 {
        crc32(self.check_string().as_bytes()) as i32
    }
}

/// One `books` push as a capture line at `ts` (ns), with `seq` = (seqId, prevSeqId) if any.
#[allow(clippy::too_many_arguments)]
pub fn books_line(
    ts: u64,
    channel: &str,
    inst_id: &str,
    action: Option<&str>,
    bids: &[(&str, &str)],
    asks: &[(&str, &str)],
    seq: Option<(i64, i64)>,
    checksum: i32,
) -> String {
    let levels = |side: &[(&str, &str)]| {
        side.iter()
            .map(|(px, sz)| format!(r#"["{px}","{sz}","0","1"]"#))
            .collect::<Vec<_>>()
            .join(",")
    };
    let action = action.map_or(String::new(), |a| format!(r#","action":"{a}""#));
    let seq = seq.map_or(String::new(), |(s, p)| {
        format!(r#","seqId":{s},"prevSeqId":{p}"#)
    });
    format!(
        "{ts}\tokx:ws\t{{\"arg\":{{\"channel\":\"{channel}\",\"instId\":\"{inst_id}\"}}{action},\"data\":[{{\"asks\":[{}],\"bids\":[{}],\"ts\":\"{}\",\"checksum\":{checksum}{seq}}}]}}\n",
        levels(asks),
        levels(bids),
        ts / 1_000_000,
    )
}
