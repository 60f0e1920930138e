//! Pulse's live feed against `pulse venue` over real loopback sockets, one injected fault per
//! test: the feed (built from config exactly as `pulse run` builds it) and the book stage are
//! driven on this thread; the venue plays the first minute of the real capture at 20x.
//!
//! For every fault: no crossed book is ever published; when the fault loses updates (drop,
//! close, silence) the symbol is marked stale and recovers through a REST resync; when it does
//! not (duplicate, malformed, delay) the book stays live; and at the end the rebuilt book is
//! identical to the venue's own book, level for level, at the same update id.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use pulse_engine::config::LiveSourceConfig;
use pulse_feeds::book_stage::BookStage;
use pulse_feeds::clock::Clock;
use pulse_feeds::event::{BookState, MarketEvent};
use pulse_feeds::instrument::{InstrumentRegistry, Venue};
use pulse_feeds::num::{parse_decimal, InstrumentId, Nanos, Px, Qty, Side};
use pulse_feeds::stage::Stage;
use pulse_feeds::sync_counters::SyncCounters;
use pulse_feeds::venue::MarketAdapter;
use pulse_feeds::venues::VenueLiveFeed;
use pulse_testex::{Fault, Venue as LocalVenue, VenueConfig};

mod support;

const LINES: usize = 7_000;

/// The first `LINES` lines of the bundled capture (about a minute), written once per test.
fn short_capture(dir: &Path) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let gz = std::fs::File::open(root.join("data/binance_spot_btcusdt_2024-08-08.cap.gz")).unwrap();
    let reader = BufReader::new(flate2::read::MultiGzDecoder::new(gz));
    let path = dir.join("short.cap");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    for line in reader.lines().take(LINES) {
        writeln!(out, "{}", line.unwrap()).unwrap();
    }
    path
}

/// The venue's timeline index (ws frames counted from the first REST snapshot on) of the first
/// `depthUpdate` at or after `from`: dropping that frame is a real gap.
fn depth_frame_at_or_after(from: u64) -> u64 {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let gz = std::fs::File::open(root.join("data/binance_spot_btcusdt_2024-08-08.cap.gz")).unwrap();
    let reader = BufReader::new(flate2::read::MultiGzDecoder::new(gz));
    let mut index = None::<u64>;
    for line in reader.lines().take(LINES) {
        let line = line.unwrap();
        let mut fields = line.splitn(3, '\t');
        let (_, source, payload) = (
            fields.next(),
            fields.next().unwrap(),
            fields.next().unwrap(),
        );
        if source.starts_with("binance:rest:") {
            index.get_or_insert(0);
            continue;
        }
        if let Some(i) = index.as_mut() {
            if *i >= from && payload.contains("\"e\":\"depthUpdate\"") {
                return *i;
            }
            *i += 1;
        }
    }
    panic!("no depthUpdate after frame {from}");
}

struct Dir(PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn temp_dir(name: &str) -> Dir {
    let dir = std::env::temp_dir().join(format!("pulse-live-venue-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    Dir(dir)
}

fn registry() -> InstrumentRegistry {
    support::btcusdt()
}

#[derive(Debug, Default)]
struct Observed {
    tops: u64,
    crossed_published: u64,
    /// Live → Stale transitions seen on the published tops.
    stale_after_live: u64,
    live_after_stale: u64,
}

struct Outcome {
    observed: Observed,
    feed: VenueLiveFeed,
    book: BookStage,
}

/// Runs the live feed against a venue with `faults` until the venue's timeline has ended and
/// the rebuilt book has caught up with the venue's; compares them.
fn run(name: &str, faults: Vec<Fault>, tls: bool, no_data_timeout_ms: u64) -> Outcome {
    run_with(name, faults, tls, no_data_timeout_ms, None)
}

/// `stall`: from that many frames on, the book stage is not polled for 2 s (a stalled consumer).
fn run_with(
    name: &str,
    faults: Vec<Fault>,
    tls: bool,
    no_data_timeout_ms: u64,
    stall: Option<u64>,
) -> Outcome {
    let dir = temp_dir(name);
    let capture = short_capture(&dir.0);
    let mut vc = VenueConfig::new(&capture);
    vc.speed_milli = 20_000;
    vc.tls = tls;
    vc.faults = faults;
    vc.ping_interval = Duration::from_millis(500);
    vc.pong_timeout = Duration::from_secs(5);
    vc.wait_for_client = true;
    let venue = LocalVenue::start(vc).expect("venue starts");
    let addr = venue.addr();
    let ca_file = venue.ca_pem().map(|pem| {
        let path = dir.0.join("ca.pem");
        std::fs::write(&path, pem).unwrap();
        path
    });
    let (ws, rest) = if tls {
        (
            format!("wss://localhost:{}", addr.port()),
            format!("https://localhost:{}", addr.port()),
        )
    } else {
        (format!("ws://{addr}"), format!("http://{addr}"))
    };
    let live = LiveSourceConfig {
        ca_file,
        no_data_timeout: Nanos::from_millis(no_data_timeout_ms),
        ..support::live_source(ws, rest)
    };
    let md_capacity = if stall.is_some() { 4_096 } else { 65_536 };
    let support::LiveRig {
        mut feed,
        mut book,
        tops: mut top_rx,
    } = support::live_rig(&live, &registry(), md_capacity, true);

    let wall = Clock::live();
    let mut observed = Observed::default();
    let mut last = BookState::Stale;
    let mut seen_live = false;
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut stalled_until = None;
    loop {
        let now = wall.now();
        if stalled_until.is_none() && stall.is_some_and(|at| feed.counters().frames >= at) {
            stalled_until = Some(Instant::now() + Duration::from_secs(2));
        }
        let book_runs = stalled_until.is_none_or(|until| Instant::now() >= until);
        let work = feed.do_work(now) + if book_runs { book.do_work(now) } else { 0 };
        while let Ok(event) = top_rx.pop() {
            let MarketEvent::Book(top) = event else {
                continue;
            };
            observed.tops += 1;
            match top.state {
                BookState::Crossed => observed.crossed_published += 1,
                BookState::Stale if last == BookState::Live => observed.stale_after_live += 1,
                BookState::Live if last == BookState::Stale && seen_live => {
                    observed.live_after_stale += 1
                }
                _ => {}
            }
            seen_live |= top.state == BookState::Live;
            last = top.state;
        }
        if venue.finished() {
            let truth = venue.book("BTCUSDT", 100).expect("the venue knows BTCUSDT");
            let ours = sync(&feed).last_update_id;
            if ours == truth.last_update_id && book.state(0) == Some(BookState::Live) && work == 0 {
                assert_same_book(&book, &truth);
                break;
            }
        }
        assert!(
            Instant::now() < deadline,
            "no convergence: {observed:?}, sync {:?}",
            sync(&feed)
        );
        if work == 0 {
            std::thread::sleep(Duration::from_micros(50));
        }
    }
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
        book,
    }
}

/// The top 100 levels of both sides, parsed from the venue's strings, equal the rebuilt book.
fn assert_same_book(book: &BookStage, truth: &pulse_testex::VenueBook) {
    let ours = book.book(0).expect("book 0");
    for (side, venue_side) in [(Side::Buy, &truth.bids), (Side::Sell, &truth.asks)] {
        let expected: Vec<(i64, i64)> = venue_side
            .iter()
            .map(|(px, qty)| {
                (
                    parse_decimal(px.as_bytes(), 2).unwrap(),
                    parse_decimal(qty.as_bytes(), 8).unwrap(),
                )
            })
            .collect();
        let got: Vec<(i64, i64)> = ours
            .levels(side)
            .take(expected.len())
            .map(|l| (l.px.0, l.qty.0))
            .collect();
        assert_eq!(expected.len(), 100);
        assert_eq!(got, expected, "{side:?} side differs from the venue's book");
    }
}

#[test]
fn no_fault_syncs_once_and_matches_the_venue() {
    let out = run("clean", vec![], false, 3_000);
    let sync = sync(&out.feed);
    assert_eq!((sync.snapshots, sync.gaps, sync.resyncs), (1, 0, 0));
    assert_eq!(out.observed.stale_after_live, 0);
    assert!(
        out.book.counters(0).unwrap().ticker_ok > 50,
        "{:?}",
        out.book.counters(0)
    );
    assert_eq!(out.book.counters(0).unwrap().ticker_mismatch, 0);
}

#[test]
fn a_dropped_frame_is_a_gap_then_a_resync() {
    let at = depth_frame_at_or_after(1500);
    let out = run("drop", vec![Fault::Drop { at }], false, 3_000);
    let sync = sync(&out.feed);
    assert!(sync.gaps >= 1, "{sync:?}");
    assert!(sync.resyncs >= 1, "{sync:?}");
    assert!(
        out.observed.stale_after_live >= 1 && out.observed.live_after_stale >= 1,
        "{:?}",
        out.observed
    );
    assert_eq!(out.book.counters(0).unwrap().ticker_mismatch, 0);
}

#[test]
fn a_closed_connection_reconnects_and_resyncs() {
    let out = run("close", vec!["close@1500".parse().unwrap()], false, 3_000);
    let session = out.feed.session().counters;
    assert!(session.opened >= 2, "{session:?}");
    assert!(
        out.observed.stale_after_live >= 1 && out.observed.live_after_stale >= 1,
        "{:?}",
        out.observed
    );
    assert!(sync(&out.feed).snapshots >= 2);
}

#[test]
fn silence_trips_the_watchdog_then_recovers() {
    let out = run(
        "silence",
        vec!["silence@1500:1500".parse().unwrap()],
        false,
        400,
    );
    let session = out.feed.session().counters;
    let watchdog = pulse_feeds::ws::session::CloseReason::ALL
        .iter()
        .position(|r| *r == pulse_feeds::ws::session::CloseReason::Watchdog)
        .unwrap();
    assert!(session.closed[watchdog] >= 1, "{session:?}");
    assert!(
        out.observed.stale_after_live >= 1 && out.observed.live_after_stale >= 1,
        "{:?}",
        out.observed
    );
}

#[test]
fn duplicate_malformed_and_delay_lose_nothing() {
    let faults = vec![
        Fault::Duplicate {
            at: depth_frame_at_or_after(1000),
        },
        "malformed@1500".parse().unwrap(),
        "delay@2000:300".parse().unwrap(),
    ];
    let out = run("benign", faults, false, 3_000);
    let sync = sync(&out.feed);
    assert_eq!((sync.gaps, sync.resyncs), (0, 0), "{sync:?}");
    assert_eq!(out.observed.stale_after_live, 0);
    assert!(
        out.feed.counters().bad_frames.iter().sum::<u64>() >= 1,
        "the malformed frame is counted"
    );
    assert_eq!(
        sync.duplicates, 1,
        "the duplicated diff is dropped as a duplicate: {sync:?}"
    );
}

#[test]
fn over_wss_with_a_dropped_frame() {
    let at = depth_frame_at_or_after(2500);
    let out = run("wss", vec![Fault::Drop { at }], true, 3_000);
    let sync = sync(&out.feed);
    assert!(sync.gaps >= 1 && sync.resyncs >= 1, "{sync:?}");
    assert_eq!(out.book.counters(0).unwrap().ticker_mismatch, 0);
}

#[test]
fn a_stalled_book_fills_the_ring_and_only_resyncs() {
    let out = run_with("stall", vec![], false, 3_000, Some(1_500));
    let c = out.feed.counters();
    assert!(
        c.ring_full >= 1,
        "the 4,096-slot ring must have filled: {c:?}"
    );
    let sync = sync(&out.feed);
    assert!(sync.resyncs >= 1, "{sync:?}");
    assert!(
        out.observed.stale_after_live >= 1 && out.observed.live_after_stale >= 1,
        "{:?}",
        out.observed
    );
}

#[test]
fn a_silent_depth_stream_trips_the_per_stream_watchdog() {
    // The venue plays BTCUSDT only: ETHUSDT's depth stream is silent while BTCUSDT flows, so the
    // connection-wide watchdog never fires and only the per-stream one can notice.
    let dir = temp_dir("stream-watchdog");
    let mut vc = VenueConfig::new(short_capture(&dir.0));
    vc.speed_milli = 5_000;
    vc.ping_interval = Duration::from_millis(200);
    vc.wait_for_client = true;
    let venue = LocalVenue::start(vc).unwrap();
    let live = LiveSourceConfig {
        no_data_timeout: Nanos::from_millis(3_000),
        stream_timeout: Nanos::from_millis(600),
        reconnect_max: Nanos::from_millis(200),
        ..support::loopback_source(venue.addr())
    };
    let mut reg = registry();
    reg.add(Venue::Binance, "ETHUSDT", 2, 8, Px(1), Qty(1_000))
        .unwrap();
    let support::LiveRig {
        mut feed,
        mut book,
        tops: mut top_rx,
    } = support::live_rig(&live, &reg, 65_536, false);
    let wall = Clock::live();
    let until = Instant::now() + Duration::from_millis(2_500);
    while Instant::now() < until {
        let now = wall.now();
        if feed.do_work(now) + book.do_work(now) == 0 {
            std::thread::sleep(Duration::from_micros(50));
        }
        while top_rx.pop().is_ok() {}
    }
    let reasons = pulse_feeds::ws::session::CloseReason::ALL;
    let k = feed.session().counters;
    let count = |r| k.closed[reasons.iter().position(|x| *x == r).unwrap()];
    use pulse_feeds::ws::session::CloseReason::{StreamWatchdog, Watchdog};
    assert!(count(StreamWatchdog) >= 2, "{k:?}");
    assert_eq!(
        count(Watchdog),
        0,
        "the connection itself never went silent: {k:?}"
    );
    assert!(k.opened >= 3, "{k:?}");
    assert!(sync(&feed).diffs > 100, "BTCUSDT kept flowing");
    feed.on_close();
    venue.stop();
}

/// BTCUSDT's sync counters, from the feed's adapter.
fn sync(feed: &VenueLiveFeed) -> SyncCounters {
    *feed
        .adapter()
        .sync_counters(InstrumentId(0))
        .expect("BTCUSDT is the feed's")
}
