//! The loopback harness of the in-band venue tests (a directory module, so cargo does not
//! build it as a test): a venue's case, one live run against `pulse venue`'s server through
//! faults, and the checks on its outcome.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use pulse_engine::config::{LiveSourceConfig, LiveSync};
use pulse_feeds::clock::Clock;
use pulse_feeds::event::{BookState, MarketEvent};
use pulse_feeds::instrument::{InstrumentRegistry, Venue};
use pulse_feeds::num::{parse_decimal, InstrumentId, Nanos, Px, Qty, Side};
use pulse_feeds::stage::Stage;
use pulse_feeds::sync_counters::SyncCounters;
use pulse_feeds::venue::MarketAdapter;
use pulse_feeds::venues::VenueLiveFeed;
use pulse_feeds::ws::session::CloseReason;
use pulse_testex::{Fault, Protocol, Venue as LocalVenue, VenueConfig};
use serde_json::Value;

use crate::support;

/// One venue's case: its capture, the instruments at the capture's scales, the pace.
pub struct Case {
    pub protocol: Protocol,
    pub venue: Venue,
    pub capture: &'static str,
    /// Symbol, price scale, quantity scale.
    pub instruments: &'static [(&'static str, u32, u32)],
    pub speed_milli: u64,
    /// Levels a side compared with the venue's book (what the feed keeps exactly).
    pub depth: usize,
    /// The depth the live source subscribes its books at.
    pub subscribe_depth: u32,
}

pub const OKX: Case = Case {
    protocol: Protocol::Okx,
    venue: Venue::Okx,
    capture: "data/okx_books_2022-05-13.cap",
    instruments: &[
        ("BTC-USD-220527", 1, 0),
        ("UNI-USD-SWAP", 3, 0),
        ("BTC-USDT", 1, 8),
    ],
    speed_milli: 5_000,
    depth: 25,
    subscribe_depth: 400,
};

pub const KRAKEN: Case = Case {
    protocol: Protocol::Kraken,
    venue: Venue::Kraken,
    capture: "data/kraken_v2_book_generated.cap",
    instruments: &[("BTC/USD", 1, 8), ("ETH/USD", 2, 8), ("MATIC/USD", 4, 8)],
    speed_milli: 250,
    depth: 10,
    subscribe_depth: 10,
};

/// Bybit spot's books at depth 50 (the capture's XRPUSDT is at 200, another topic): BTCUSDT
/// has a lost delta in the recording, ETHUSDT a service restart (`u == 1`).
pub const BYBIT_SPOT: Case = Case {
    protocol: Protocol::BybitSpot,
    venue: Venue::BybitSpot,
    capture: "data/bybit_spot_generated.cap",
    instruments: &[("BTCUSDT", 2, 6), ("ETHUSDT", 2, 5)],
    speed_milli: 1_000,
    depth: 50,
    subscribe_depth: 50,
};

/// Bybit spot's XRPUSDT, the capture's one book at depth 200 (with a delete of a price it
/// does not hold).
pub const BYBIT_SPOT_200: Case = Case {
    instruments: &[("XRPUSDT", 4, 2)],
    depth: 200,
    subscribe_depth: 200,
    ..BYBIT_SPOT
};

/// Bybit linear's BTCUSDT at depth 50 (the capture's ETHUSDT is at 200 and SOLUSDT at 1):
/// the docs' snapshot and delta, which do not chain (a gap in the recording), then generated
/// deltas; played 20 times faster (SOLUSDT's repeated snapshots are 3 s apart).
pub const BYBIT_LINEAR: Case = Case {
    protocol: Protocol::BybitLinear,
    venue: Venue::BybitLinear,
    capture: "data/bybit_linear_generated.cap",
    instruments: &[("BTCUSDT", 2, 3)],
    speed_milli: 20_000,
    depth: 50,
    subscribe_depth: 50,
};

/// Coinbase Advanced Trade's three products (the generated capture: BTC-USD's whole book is
/// 46,000 levels, a message of about 4.9 MB): one connection sequence, no checksum. Played at
/// half its pace (the recording lasts under a second).
pub const COINBASE: Case = Case {
    protocol: Protocol::Coinbase,
    venue: Venue::Coinbase,
    capture: "data/coinbase_at_generated.cap.gz",
    instruments: &[("BTC-USD", 2, 8), ("ETH-USD", 2, 8), ("SOL-USD", 2, 3)],
    speed_milli: 500,
    depth: 50,
    subscribe_depth: 50,
};

/// The market data ring of a case's live source: Coinbase's snapshot is the whole book, which
/// the ring must take in one piece (2 x 65,536 levels + 16 slots at least).
fn md_ring(case: &Case) -> usize {
    match case.protocol {
        Protocol::Coinbase => 1 << 18,
        _ => 65_536,
    }
}

/// The capture's text, gzip or plain.
fn capture_text(path: &Path) -> String {
    use std::io::Read;
    let bytes = std::fs::read(path).unwrap();
    if path.extension().is_some_and(|e| e == "gz") {
        let mut text = String::new();
        flate2::read::MultiGzDecoder::new(&bytes[..])
            .read_to_string(&mut text)
            .unwrap();
        text
    } else {
        String::from_utf8(bytes).unwrap()
    }
}

pub fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

impl Case {
    pub fn registry(&self) -> InstrumentRegistry {
        let mut r = InstrumentRegistry::new();
        for &(symbol, px, qty) in self.instruments {
            r.add(self.venue, symbol, px, qty, Px(1), Qty(1)).unwrap();
        }
        r
    }

    /// The venue's timeline index of the `nth` book update of `symbol` (frames of a symbol
    /// count from its first book snapshot on; heartbeats once any book is known).
    pub fn book_update(&self, symbol: &str, nth: usize) -> u64 {
        let text = capture_text(&repo(self.capture));
        // Coinbase: the recording's last `sequence_num` (a message recorded twice is not played).
        let mut last_seq: Option<u64> = None;
        let source = format!("{}:ws", self.protocol);
        let mut started: Vec<String> = Vec::new();
        let mut index = 0;
        let mut seen = 0;
        for line in text.lines() {
            let mut fields = line.splitn(3, '\t');
            let (_, src, payload) = (fields.next(), fields.next(), fields.next());
            if src != Some(source.as_str()) {
                continue;
            }
            let v: Value = serde_json::from_str(payload.unwrap()).unwrap();
            let (sym, book, snapshot) = match self.protocol {
                Protocol::Coinbase => {
                    let seq = v["sequence_num"].as_u64();
                    if let (Some(seq), Some(last)) = (seq, last_seq) {
                        if seq != 0 && seq <= last {
                            continue;
                        }
                    }
                    last_seq = seq.or(last_seq);
                    let event = &v["events"][0];
                    match v["channel"].as_str().unwrap_or("") {
                        "heartbeats" => (None, false, false),
                        "l2_data" => (
                            event["product_id"].as_str(),
                            true,
                            event["type"] == "snapshot",
                        ),
                        "ticker" => (event["tickers"][0]["product_id"].as_str(), false, false),
                        "market_trades" => {
                            (event["trades"][0]["product_id"].as_str(), false, false)
                        }
                        _ => continue,
                    }
                }
                Protocol::BybitSpot | Protocol::BybitLinear => {
                    let Some(topic) = v["topic"].as_str() else {
                        continue;
                    };
                    let book = topic.starts_with("orderbook.");
                    let sym = topic.rsplit('.').next();
                    (sym, book, v["type"] == "snapshot")
                }
                Protocol::Okx => {
                    if v.get("event").is_some() {
                        continue;
                    }
                    let book = v["arg"]["channel"] == "books";
                    (v["arg"]["instId"].as_str(), book, v["action"] == "snapshot")
                }
                _ => {
                    let channel = v["channel"].as_str().unwrap_or("");
                    if !matches!(channel, "book" | "ticker" | "trade" | "heartbeat") {
                        continue;
                    }
                    let sym = v["data"][0]["symbol"].as_str();
                    (sym, channel == "book", v["type"] == "snapshot")
                }
            };
            let known = match sym {
                Some(s) => started.iter().any(|k| k == s),
                None => !started.is_empty(),
            };
            if !known {
                if let (Some(s), true, true) = (sym, book, snapshot) {
                    started.push(s.to_string());
                }
                continue;
            }
            if book && !snapshot && sym == Some(symbol) {
                if seen == nth {
                    return index;
                }
                seen += 1;
            }
            index += 1;
        }
        panic!("no book update #{nth} of {symbol}");
    }
}

struct Dir(PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[derive(Debug, Default)]
pub struct Observed {
    pub crossed_published: u64,
    /// Per instrument: Live → Stale transitions seen on the published tops, and back.
    pub stale_after_live: Vec<u64>,
    pub live_after_stale: Vec<u64>,
}

pub struct Outcome {
    pub observed: Observed,
    pub feed: VenueLiveFeed,
    pub took: Duration,
    /// The venue's figures at the end.
    pub venue: pulse_testex::VenueStats,
}

pub fn run(case: &Case, name: &str, faults: Vec<Fault>, no_data_timeout_ms: u64) -> Outcome {
    run_with(case, name, faults, no_data_timeout_ms, false)
}

/// `tls`: over `wss://`, trusting the venue's generated CA.
pub fn run_with(
    case: &Case,
    name: &str,
    faults: Vec<Fault>,
    no_data_timeout_ms: u64,
    tls: bool,
) -> Outcome {
    let dir = std::env::temp_dir().join(format!(
        "pulse-inband-{}-{}-{name}",
        std::process::id(),
        case.protocol
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let _dir = Dir(dir);
    let mut vc = VenueConfig::new(repo(case.capture));
    vc.protocol = case.protocol;
    vc.speed_milli = case.speed_milli;
    vc.faults = faults;
    vc.ping_interval = Duration::from_millis(500);
    vc.pong_timeout = Duration::from_secs(5);
    vc.wait_for_client = true;
    vc.tls = tls;
    let venue = LocalVenue::start(vc).expect("venue starts");
    let started = Instant::now();
    let base = support::loopback_source(venue.addr());
    let ca_file = venue.ca_pem().map(|pem| {
        let path = _dir.0.join("ca.pem");
        std::fs::write(&path, pem).unwrap();
        path
    });
    let ws_url = match tls {
        true => format!("wss://localhost:{}", venue.addr().port()),
        false => format!("ws://{}", venue.addr()),
    };
    let live = LiveSourceConfig {
        venue: case.venue,
        // A bare host: the feed adds the venue's path.
        ws_url,
        ca_file,
        sync: LiveSync::InBand {
            depth: case.subscribe_depth,
        },
        no_data_timeout: Nanos::from_millis(no_data_timeout_ms),
        ..base
    };
    let registry = case.registry();
    let n = case.instruments.len();
    let support::LiveRig {
        mut feed,
        mut book,
        tops: mut top_rx,
    } = support::live_rig(&live, &registry, md_ring(case), true);
    let wall = Clock::live();
    let mut observed = Observed {
        stale_after_live: vec![0; n],
        live_after_stale: vec![0; n],
        ..Observed::default()
    };
    let mut last = vec![BookState::Stale; n];
    let mut seen_live = vec![false; n];
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let now = wall.now();
        let work = feed.do_work(now) + book.do_work(now);
        while let Ok(event) = top_rx.pop() {
            let MarketEvent::Book(top) = event else {
                continue;
            };
            let i = top.meta.instrument.0 as usize;
            match top.state {
                BookState::Crossed => observed.crossed_published += 1,
                BookState::Stale if last[i] == BookState::Live => observed.stale_after_live[i] += 1,
                BookState::Live if last[i] == BookState::Stale && seen_live[i] => {
                    observed.live_after_stale[i] += 1
                }
                _ => {}
            }
            seen_live[i] |= top.state == BookState::Live;
            last[i] = top.state;
        }
        if venue.finished() && work == 0 {
            let same = (0..n).all(|i| {
                let truth = venue.book(case.instruments[i].0, case.depth);
                book.state(i) == Some(BookState::Live)
                    && truth.is_some_and(|t| same_book(case, &book, i, &t))
            });
            if same {
                break;
            }
        }
        assert!(
            Instant::now() < deadline,
            "no convergence: {observed:?}, syncs {:?}",
            (0..n).map(|i| sync(&feed, i)).collect::<Vec<_>>()
        );
        if work == 0 {
            std::thread::sleep(Duration::from_micros(50));
        }
    }
    let took = started.elapsed();
    feed.stop_intake();
    feed.on_close();
    let venue_stats = venue.stats();
    venue.stop();
    assert_eq!(
        observed.crossed_published, 0,
        "a crossed book was published"
    );
    Outcome {
        observed,
        feed,
        took,
        venue: venue_stats,
    }
}

/// The top `case.depth` levels of both sides, parsed from the venue's strings, equal the
/// rebuilt book of instrument `i`.
pub fn same_book(
    case: &Case,
    book: &pulse_feeds::book_stage::BookStage,
    i: usize,
    truth: &pulse_testex::VenueBook,
) -> bool {
    let (_, px_scale, qty_scale) = case.instruments[i];
    let Some(ours) = book.book(i) else {
        return false;
    };
    [(Side::Buy, &truth.bids), (Side::Sell, &truth.asks)]
        .into_iter()
        .all(|(side, venue_side)| {
            let expected: Vec<(i64, i64)> = venue_side
                .iter()
                .map(|(px, qty)| {
                    (
                        parse_decimal(px.as_bytes(), px_scale).unwrap(),
                        parse_decimal(qty.as_bytes(), qty_scale).unwrap(),
                    )
                })
                .collect();
            let got: Vec<(i64, i64)> = ours
                .levels(side)
                .take(case.depth)
                .map(|l| (l.px.0, l.qty.0))
                .collect();
            !expected.is_empty() && got == expected
        })
}

pub fn sync(feed: &VenueLiveFeed, i: usize) -> SyncCounters {
    *feed
        .adapter()
        .sync_counters(InstrumentId(i as u16))
        .expect("the feed's instrument")
}

pub fn closed(feed: &VenueLiveFeed, reason: CloseReason) -> u64 {
    let at = CloseReason::ALL.iter().position(|r| *r == reason).unwrap();
    feed.session().counters.closed[at]
}

/// A lossy fault on instrument `i`: it went stale, resubscribed, and came back live.
pub fn assert_resynced(out: &Outcome, i: usize) {
    let s = sync(&out.feed, i);
    assert!(s.resyncs >= 1, "{s:?}");
    assert!(
        out.observed.stale_after_live[i] >= 1 && out.observed.live_after_stale[i] >= 1,
        "{:?}",
        out.observed
    );
}

/// Bybit linear's ETHUSDT at depth 200 (a service restart in the recording).
pub const BYBIT_LINEAR_200: Case = Case {
    instruments: &[("ETHUSDT", 2, 2)],
    depth: 200,
    subscribe_depth: 200,
    ..BYBIT_LINEAR
};

/// Bybit linear's SOLUSDT at depth 1: snapshots only, some repeating their `u`.
pub const BYBIT_LINEAR_1: Case = Case {
    instruments: &[("SOLUSDT", 3, 1)],
    depth: 1,
    subscribe_depth: 1,
    ..BYBIT_LINEAR
};
