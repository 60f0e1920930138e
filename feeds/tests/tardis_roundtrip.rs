//! The bundled Binance spot capture, converted to Tardis.dev CSV by an independent script
//! (`scripts/capture_to_tardis.py`, Python's standard library, nothing of Pulse), read back
//! through the Tardis input and adapter: the book the book stage rebuilds equals the one it
//! rebuilds from the capture itself at every commit (the snapshot, then each of the 3,449
//! diffs): the top ten levels a side as published downstream, and the whole book (every
//! level of both sides, digested) after each message. Read directly from the CSV files and
//! through a capture written by the importer alike.
//!
//! The test needs `python3`. Without it the test says it was skipped and why, and passes;
//! under CI (`CI` set) it fails instead.

use std::path::{Path, PathBuf};
use std::process::Command;

use pulse_feeds::book::Level;
use pulse_feeds::book_stage::BookStage;
use pulse_feeds::capture::CaptureReader;
use pulse_feeds::clock::ReplayTime;
use pulse_feeds::event::{BookState, MarketEvent};
use pulse_feeds::instrument::{InstrumentRegistry, Venue};
use pulse_feeds::latency::LatencyProbe;
use pulse_feeds::log::DistinctLog;
use pulse_feeds::num::{Nanos, Px, Qty, Side};
use pulse_feeds::replay::{CaptureFeed, RecordedInput};
use pulse_feeds::stage::Stage;
use pulse_feeds::sync_counters::SyncCounters;
use pulse_feeds::tardis::{import, TardisInput};

const BOOK_LEVELS: usize = 8192;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn registry() -> InstrumentRegistry {
    let mut registry = InstrumentRegistry::new();
    registry
        .add(Venue::Binance, "BTCUSDT", 2, 8, Px(1), Qty(1000))
        .expect("one instrument");
    registry
}

/// Whether python3 runs; if not, says so (and fails under CI).
fn python3_or_skip(test: &str) -> bool {
    let ok = Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "{test}: python3 is missing, and CI is set: the Tardis round trip must run there"
        );
        eprintln!(
            "SKIPPED {test}: python3 was not found, and the independent converter \
             scripts/capture_to_tardis.py needs it"
        );
    }
    ok
}

/// Runs the converter into a fresh directory; returns it.
fn convert(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pulse-tardis-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = Command::new("python3")
        .arg(root().join("scripts/capture_to_tardis.py"))
        .arg(root().join("data/binance_spot_btcusdt_2024-08-08.cap.gz"))
        .arg(&dir)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "the converter failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let counts = String::from_utf8_lossy(&out.stdout);
    assert!(counts.contains("\"diffs\": 3449"), "{counts}");
    dir
}

/// What a replay published: each commit's top (state, bids, asks), and after each message
/// that committed, a digest of the whole book (levels a side and a hash of every level).
#[derive(Default)]
struct Replayed {
    tops: Vec<(BookState, Vec<Level>, Vec<Level>)>,
    whole: Vec<Option<(usize, usize, u64)>>,
    trades: u64,
    sync: SyncCounters,
    tickers: u64,
    ticker_checks: u64,
    refused: u64,
}

fn digest(book: &pulse_feeds::book::L2Book) -> (usize, usize, u64) {
    let mut buf = vec![Level::default(); BOOK_LEVELS];
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    let mut counts = [0; 2];
    for (n, side) in [Side::Buy, Side::Sell].into_iter().enumerate() {
        counts[n] = book.top(side, &mut buf);
        for l in &buf[..counts[n]] {
            for word in [l.px.0 as u64, l.qty.0 as u64] {
                hash = (hash ^ word).wrapping_mul(0x0100_0000_01b3);
            }
        }
    }
    (counts[0], counts[1], hash)
}

fn replay(input: RecordedInput) -> Replayed {
    let registry = registry();
    let clock = quanta::Clock::new();
    let (md_tx, md_rx) = rtrb::RingBuffer::new(4096);
    let (out_tx, mut out_rx) = rtrb::RingBuffer::new(1024);
    let mut feed = CaptureFeed::new(
        input,
        registry.clone(),
        md_tx,
        ReplayTime::default(),
        LatencyProbe::detached(clock.clone()),
        DistinctLog::new("feed", None),
    );
    let mut book = BookStage::new(
        &registry,
        BOOK_LEVELS,
        md_rx,
        vec![out_tx],
        LatencyProbe::detached(clock),
    );
    let mut r = Replayed::default();
    loop {
        let mut work = feed.do_work(Nanos(0));
        let before = r.tops.len();
        loop {
            let w = book.do_work(Nanos(0));
            while let Ok(event) = out_rx.pop() {
                match event {
                    MarketEvent::Book(top) => {
                        r.tops
                            .push((top.state, top.bids().to_vec(), top.asks().to_vec()));
                        r.whole.push(None);
                    }
                    MarketEvent::Trade(_) => r.trades += 1,
                }
            }
            work += w;
            if w == 0 {
                break;
            }
        }
        if r.tops.len() > before {
            let whole = book.book(0).map(digest);
            if let Some(last) = r.whole.last_mut() {
                *last = whole;
            }
        }
        if work == 0 && feed.intake_done() {
            break;
        }
    }
    assert!(feed.io_error.is_none(), "{:?}", feed.io_error);
    r.sync = feed
        .sync_counters(pulse_feeds::num::InstrumentId(0))
        .copied()
        .unwrap_or_default();
    let counters = book.counters(0).copied().unwrap_or_default();
    r.tickers = counters.tickers;
    r.ticker_checks = counters.ticker_ok + counters.ticker_mismatch;
    r.refused = feed.counters.bad_lines_total() + feed.counters.bad_frames_total();
    r
}

/// The book from the Tardis files equals the capture's at every commit.
fn assert_same_books(capture: &Replayed, tardis: &Replayed) {
    assert_eq!(capture.tops.len(), 3_450, "the snapshot and 3,449 diffs");
    assert_eq!(tardis.tops.len(), capture.tops.len(), "one commit per diff");
    for (n, (a, b)) in capture.tops.iter().zip(&tardis.tops).enumerate() {
        assert_eq!(a, b, "top ten levels after commit {n}");
        assert_eq!(b.0, BookState::Live);
    }
    let mut compared = 0;
    for (n, (a, b)) in capture.whole.iter().zip(&tardis.whole).enumerate() {
        if let (Some(a), Some(b)) = (a, b) {
            assert_eq!(a, b, "whole book after commit {n}");
            compared += 1;
        }
    }
    // The capture's snapshot frame commits the snapshot and the buffered diff after it at
    // once: its whole book is seen after the diff only.
    eprintln!(
        "whole books compared after {compared} of {} commits",
        capture.tops.len()
    );
    assert_eq!(compared, 3_449, "whole books compared");
    assert_eq!(capture.whole.last(), tardis.whole.last());
    assert!(
        tardis.whole.iter().all(Option::is_some),
        "every Tardis commit digested"
    );
    assert_eq!(tardis.trades, capture.trades);
    assert_eq!(tardis.trades, 9_757);
    assert_eq!(tardis.refused, 0, "no row or message refused");
    assert_eq!(
        (
            tardis.sync.snapshots,
            tardis.sync.applied,
            tardis.sync.dropped,
            tardis.sync.gaps
        ),
        (1, 3_449, 0, 0)
    );
    // Every bookTicker became a quote: counted, never compared (no update id).
    assert_eq!(tardis.tickers, 28_040);
    assert_eq!(tardis.ticker_checks, 0);
    assert!(capture.ticker_checks > 500);
}

#[test]
fn tardis_csv_of_the_binance_capture_rebuilds_the_same_book_at_every_diff() {
    let test = "tardis_csv_of_the_binance_capture_rebuilds_the_same_book_at_every_diff";
    if !python3_or_skip(test) {
        return;
    }
    let dir = convert("direct");
    let capture = CaptureReader::open(&root().join("data/binance_spot_btcusdt_2024-08-08.cap.gz"))
        .expect("the bundled capture opens");
    let capture = replay(RecordedInput::Capture(capture));
    // The three files together, named as `pulse replay --input` takes them.
    let list = ["incremental_book_L2.csv.gz", "trades.csv.gz", "quotes.csv"]
        .map(|f| dir.join(f).display().to_string())
        .join(",");
    let input = RecordedInput::open(Path::new(&list)).expect("the Tardis files open");
    assert!(
        matches!(input, RecordedInput::Tardis(_)),
        "recognized by header"
    );
    let tardis = replay(input);
    assert_same_books(&capture, &tardis);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_imported_capture_of_the_tardis_csv_replays_the_same_book() {
    let test = "an_imported_capture_of_the_tardis_csv_replays_the_same_book";
    if !python3_or_skip(test) {
        return;
    }
    let dir = convert("import");
    let files = ["incremental_book_L2.csv.gz", "trades.csv.gz", "quotes.csv"].map(|f| dir.join(f));
    let direct = replay(RecordedInput::Tardis(
        TardisInput::open_all(&files).expect("the Tardis files open"),
    ));
    let out = dir.join("imported.cap.gz");
    let report = import::write_capture(
        TardisInput::open_all(&files).expect("the Tardis files open"),
        &out,
    )
    .expect("the import writes");
    assert_eq!(report.bad_rows, 0);
    assert_eq!(report.cut_messages, 0);
    // One line per message: the snapshot, 3,449 diffs, 28,040 quotes, and the 9,757 trades
    // in 8,672 messages (trades received in the same microsecond are one message, as Tardis
    // says to group rows).
    assert_eq!(report.messages, 1 + 3_449 + 28_040 + 8_672);
    let imported = replay(RecordedInput::open(&out).expect("the imported capture opens"));
    assert!(imported.tops == direct.tops && imported.whole == direct.whole);
    assert_eq!(imported.trades, direct.trades);
    assert_eq!(imported.tickers, direct.tickers);
    assert_eq!(imported.refused, 0);
    let _ = std::fs::remove_dir_all(&dir);
}
