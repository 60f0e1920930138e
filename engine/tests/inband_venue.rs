//! Pulse's live OKX and Kraken v2 feeds against `pulse venue --protocol okx|kraken` over real
//! loopback sockets, one injected fault per run: the feed (built from config exactly as `pulse
//! run` builds it) and the book stage are driven on this thread; the venue plays a bundled
//! capture at a few times its pace and sends each book's snapshot after its subscription,
//! rendered from its own book with its own checksum.
//!
//! For every fault: no crossed book is ever published; a fault that loses or corrupts a book's
//! pushes (drop, close, checksum, silence beyond the timeout) makes that book stale and it
//! resyncs by resubscribing; one that does not (delay, a Kraken duplicate, a sequence reset)
//! leaves it live; and at the end every rebuilt book equals the venue's own, level for level.

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

mod support;

/// One venue's case: its capture, the instruments at the capture's scales, the pace.
struct Case {
    protocol: Protocol,
    venue: Venue,
    capture: &'static str,
    /// Symbol, price scale, quantity scale.
    instruments: &'static [(&'static str, u32, u32)],
    speed_milli: u64,
    /// Levels a side compared with the venue's book (what the feed keeps exactly).
    depth: usize,
}

const OKX: Case = Case {
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
};

const KRAKEN: Case = Case {
    protocol: Protocol::Kraken,
    venue: Venue::Kraken,
    capture: "data/kraken_v2_book_generated.cap",
    instruments: &[("BTC/USD", 1, 8), ("ETH/USD", 2, 8), ("MATIC/USD", 4, 8)],
    speed_milli: 250,
    depth: 10,
};

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

impl Case {
    fn registry(&self) -> InstrumentRegistry {
        let mut r = InstrumentRegistry::new();
        for &(symbol, px, qty) in self.instruments {
            r.add(self.venue, symbol, px, qty, Px(1), Qty(1)).unwrap();
        }
        r
    }

    /// The venue's timeline index of the `nth` book update of `symbol` (frames of a symbol
    /// count from its first book snapshot on; heartbeats once any book is known).
    fn book_update(&self, symbol: &str, nth: usize) -> u64 {
        let text = std::fs::read_to_string(repo(self.capture)).unwrap();
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
struct Observed {
    crossed_published: u64,
    /// Per instrument: Live → Stale transitions seen on the published tops, and back.
    stale_after_live: Vec<u64>,
    live_after_stale: Vec<u64>,
}

struct Outcome {
    observed: Observed,
    feed: VenueLiveFeed,
    took: Duration,
}

fn run(case: &Case, name: &str, faults: Vec<Fault>, no_data_timeout_ms: u64) -> Outcome {
    run_with(case, name, faults, no_data_timeout_ms, false)
}

/// `tls`: over `wss://`, trusting the venue's generated CA.
fn run_with(
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
            depth: if case.venue == Venue::Okx { 400 } else { 10 },
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
    } = support::live_rig(&live, &registry, 65_536, true);
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
    venue.stop();
    assert_eq!(
        observed.crossed_published, 0,
        "a crossed book was published"
    );
    Outcome {
        observed,
        feed,
        took,
    }
}

/// The top `case.depth` levels of both sides, parsed from the venue's strings, equal the
/// rebuilt book of instrument `i`.
fn same_book(
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

fn sync(feed: &VenueLiveFeed, i: usize) -> SyncCounters {
    *feed
        .adapter()
        .sync_counters(InstrumentId(i as u16))
        .expect("the feed's instrument")
}

fn closed(feed: &VenueLiveFeed, reason: CloseReason) -> u64 {
    let at = CloseReason::ALL.iter().position(|r| *r == reason).unwrap();
    feed.session().counters.closed[at]
}

/// A lossy fault on instrument `i`: it went stale, resubscribed, and came back live.
fn assert_resynced(out: &Outcome, i: usize) {
    let s = sync(&out.feed, i);
    assert!(s.resyncs >= 1, "{s:?}");
    assert!(
        out.observed.stale_after_live[i] >= 1 && out.observed.live_after_stale[i] >= 1,
        "{:?}",
        out.observed
    );
}

#[test]
fn okx_without_fault_syncs_each_book_once() {
    let out = run(&OKX, "clean", vec![], 3_000);
    for i in 0..3 {
        let s = sync(&out.feed, i);
        assert_eq!((s.snapshots, s.gaps, s.resyncs), (1, 0, 0), "{i}: {s:?}");
        assert!(s.applied > 80, "{i}: {s:?}");
    }
    assert_eq!(out.observed.stale_after_live, [0, 0, 0]);
    assert_eq!(out.feed.session().counters.opened, 1);
    assert!(out.took < Duration::from_secs(10), "{:?}", out.took);
}

#[test]
fn okx_dropped_update_is_a_gap_then_a_resubscription() {
    let at = OKX.book_update("BTC-USDT", 20);
    let out = run(&OKX, "drop", vec![Fault::Drop { at }], 3_000);
    assert!(sync(&out.feed, 2).gaps >= 1, "{:?}", sync(&out.feed, 2));
    assert_resynced(&out, 2);
    assert!(out.feed.counters().resubscriptions >= 1);
    // The other books were not touched.
    assert_eq!(out.observed.stale_after_live[..2], [0, 0]);
}

#[test]
fn okx_wrong_checksum_resubscribes_that_book_alone() {
    let at = OKX.book_update("BTC-USD-220527", 30);
    let out = run(&OKX, "checksum", vec![Fault::Checksum { at }], 3_000);
    assert!(
        sync(&out.feed, 0).checksum_mismatch >= 1,
        "{:?}",
        sync(&out.feed, 0)
    );
    assert_resynced(&out, 0);
    assert_eq!(out.observed.stale_after_live[1..], [0, 0]);
    assert_eq!(out.feed.session().counters.opened, 1, "no reconnect");
}

#[test]
fn okx_sequence_reset_is_accepted() {
    let at = OKX.book_update("UNI-USD-SWAP", 10);
    let out = run(&OKX, "seq-reset", vec![Fault::SeqReset { at }], 3_000);
    let s = sync(&out.feed, 1);
    assert_eq!((s.gaps, s.resyncs), (0, 0), "{s:?}");
    assert_eq!(out.observed.stale_after_live, [0, 0, 0]);
    assert_eq!(s.sequence_resets, 1, "{s:?}");
}

#[test]
fn okx_over_wss_with_a_wrong_checksum() {
    let at = OKX.book_update("BTC-USDT", 25);
    let out = run_with(&OKX, "wss", vec![Fault::Checksum { at }], 3_000, true);
    assert!(sync(&out.feed, 2).checksum_mismatch >= 1);
    assert_resynced(&out, 2);
}

#[test]
fn okx_closed_connection_reconnects_and_resyncs_every_book() {
    let out = run(&OKX, "close", vec!["close@150".parse().unwrap()], 3_000);
    assert!(out.feed.session().counters.opened >= 2);
    for i in 0..3 {
        assert!(sync(&out.feed, i).snapshots >= 2, "{i}");
    }
}

#[test]
fn okx_silence_beyond_the_timeout_reconnects() {
    let out = run(
        &OKX,
        "silence",
        vec!["silence@120:1200".parse().unwrap()],
        400,
    );
    assert!(closed(&out.feed, CloseReason::Watchdog) >= 1);
    assert!(out.feed.session().counters.opened >= 2);
    for i in 0..3 {
        assert!(out.observed.stale_after_live[i] >= 1, "{:?}", out.observed);
    }
}

#[test]
fn okx_delay_and_malformed_lose_nothing() {
    let faults = vec![
        "delay@100:300".parse().unwrap(),
        "malformed@140".parse().unwrap(),
    ];
    let out = run(&OKX, "benign", faults, 3_000);
    assert!(out.feed.counters().bad_frames.iter().sum::<u64>() >= 1);
    for i in 0..3 {
        let s = sync(&out.feed, i);
        assert_eq!((s.gaps, s.resyncs), (0, 0), "{i}: {s:?}");
    }
    assert_eq!(out.observed.stale_after_live, [0, 0, 0]);
}

/// OKX chains pushes by `prevSeqId`: a duplicate does not chain, so it is a gap, and the book
/// resyncs rather than apply an update twice.
#[test]
fn okx_duplicate_is_a_gap_not_a_corruption() {
    let at = OKX.book_update("BTC-USDT", 40);
    let out = run(&OKX, "duplicate", vec![Fault::Duplicate { at }], 3_000);
    assert!(sync(&out.feed, 2).gaps >= 1);
    assert_resynced(&out, 2);
}

/// The generated capture carries one wrong checksum of its own (BTC/USD's), and the
/// resubscription's snapshot after it: played live, BTC/USD resyncs once.
#[test]
fn kraken_without_fault_resyncs_only_the_captures_own_checksum_fault() {
    let out = run(&KRAKEN, "clean", vec![], 3_000);
    let s = sync(&out.feed, 0);
    assert_eq!((s.gaps, s.resyncs, s.checksum_mismatch), (0, 1, 1), "{s:?}");
    assert!(s.applied > 150 && s.checksum_ok > 150, "{s:?}");
    // ETH/USD and MATIC/USD have one update each, which the snapshot holds already when the
    // market played it before the client's subscription.
    for i in [1, 2] {
        let s = sync(&out.feed, i);
        assert_eq!(
            (s.snapshots, s.resyncs, s.checksum_mismatch),
            (1, 0, 0),
            "{i}: {s:?}"
        );
        assert!(s.checksum_ok >= 1, "{i}: {s:?}");
    }
    assert_eq!(out.observed.stale_after_live, [1, 0, 0]);
    assert_eq!(out.feed.session().counters.opened, 1);
}

#[test]
fn kraken_wrong_checksum_resubscribes_that_book_alone() {
    let at = KRAKEN.book_update("BTC/USD", 50);
    let out = run(&KRAKEN, "checksum", vec![Fault::Checksum { at }], 3_000);
    assert!(
        sync(&out.feed, 0).checksum_mismatch >= 2,
        "the fault's and the capture's own"
    );
    assert_resynced(&out, 0);
    assert_eq!(out.observed.stale_after_live[1..], [0, 0]);
    assert_eq!(out.feed.session().counters.opened, 1, "no reconnect");
}

#[test]
fn kraken_dropped_update_fails_the_next_checksum_and_resyncs() {
    let at = KRAKEN.book_update("BTC/USD", 60);
    let out = run(&KRAKEN, "drop", vec![Fault::Drop { at }], 3_000);
    assert!(
        sync(&out.feed, 0).checksum_mismatch >= 2,
        "{:?}",
        sync(&out.feed, 0)
    );
    assert_resynced(&out, 0);
}

#[test]
fn kraken_closed_connection_reconnects_and_resyncs() {
    let at = KRAKEN.book_update("BTC/USD", 100);
    let out = run(&KRAKEN, "close", vec![Fault::Close { at }], 3_000);
    assert!(out.feed.session().counters.opened >= 2);
    for i in 0..3 {
        assert!(sync(&out.feed, i).snapshots >= 2, "{i}");
    }
}

#[test]
fn kraken_silence_beyond_the_timeout_reconnects() {
    let at = KRAKEN.book_update("BTC/USD", 100);
    let out = run(
        &KRAKEN,
        "silence",
        vec![Fault::Silence { at, ms: 1_200 }],
        400,
    );
    assert!(closed(&out.feed, CloseReason::Watchdog) >= 1);
    assert!(out.feed.session().counters.opened >= 2);
}

#[test]
fn kraken_duplicate_delay_and_malformed_lose_nothing() {
    let faults = vec![
        Fault::Duplicate {
            at: KRAKEN.book_update("BTC/USD", 30),
        },
        Fault::Delay {
            at: KRAKEN.book_update("BTC/USD", 80),
            ms: 300,
        },
        Fault::Malformed {
            at: KRAKEN.book_update("BTC/USD", 120),
        },
    ];
    let out = run(&KRAKEN, "benign", faults, 3_000);
    assert!(out.feed.counters().bad_frames.iter().sum::<u64>() >= 1);
    // BTC/USD resyncs once, for the capture's own wrong checksum, as without a fault.
    let s = sync(&out.feed, 0);
    assert_eq!((s.gaps, s.resyncs, s.checksum_mismatch), (0, 1, 1), "{s:?}");
    assert_eq!(out.observed.stale_after_live, [1, 0, 0]);
}

#[test]
fn a_fault_the_protocol_cannot_carry_is_refused() {
    let mut vc = VenueConfig::new(repo(KRAKEN.capture));
    vc.protocol = Protocol::Kraken;
    vc.faults = vec![Fault::SeqReset { at: 3 }];
    let err = LocalVenue::start(vc).err().expect("refused").to_string();
    assert_eq!(err, "seq-reset@3: kraken's book pushes carry no such field");
}
