//! A venue is a folder, shown from ONE config: a fake second venue (a few lines of codec over
//! a tiny synthetic text protocol, feeds/tests/support/fake_venue.rs) runs beside Binance in
//! one process. The config has two `[[sources]]`, the bundled Binance capture and a fake
//! capture written here with `venue = "fake"`; the program adds the venue through a
//! [`Venues`] registry and runs the real engine (runner threads, book stage, strategy, risk,
//! simulated venue, journal on). Each feed has its own rings into the book stage: both books
//! are kept, both input streams journaled, and the fake feed's gap and crossed book resync the
//! fake book only.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use pulse_engine::cli;
use pulse_engine::config::{self, Venues};
use pulse_engine::hot_stage::HotStage;
use pulse_engine::runtime::{self, RunOutcome, StopCause};
use pulse_feeds::capture::CaptureReader;
use pulse_feeds::input_journal::kind::MESSAGE;
use pulse_feeds::metrics::{Metric, MetricLabel};
use pulse_feeds::num::{InstrumentId, Px, Qty};
use pulse_feeds::replay::CaptureFeed;
use pulse_feeds::stage::Stage;
use pulse_feeds::sync_counters::SyncCounters;

mod common;
#[path = "../../feeds/tests/support/fake_venue.rs"]
mod fake_venue;

use common::{journal_records, pulse, repo_root, RecordBytes, TempDir};
use fake_venue::FakeAdapter;

const BTCUSDT: InstrumentId = InstrumentId(0);
const FAKEUSD: InstrumentId = InstrumentId(1);

/// The fake venue's session, after the offset from the Binance capture's first timestamp:
/// in sync from 1 to 3, a gap (4 is missing: stale, 6 ignored) until the snapshot at 10, then
/// a bid through the ask at 12 crosses the book (the book stage asks this feed to resync: stale)
/// until the snapshot at 20.
const FAKE_SESSION: [(u64, &str); 10] = [
    (1, "S 1 5000 5100"),
    (2, "U 2 b 5050 3"),
    (3, "U 3 a 5080 2"),
    (4, "U 5 b 5060 1"),
    (5, "U 6 b 5070 1"),
    (6, "S 10 5000 5100"),
    (7, "U 11 b 5070 4"),
    (8, "U 12 b 5200 1"),
    (9, "S 20 5000 5100"),
    (10, "U 21 a 5090 2"),
];

fn binance_capture() -> PathBuf {
    repo_root().join("data/binance_spot_btcusdt_2024-08-08.cap.gz")
}

/// Writes the fake capture (source `fake:ws`), timed from the Binance capture's start, and
/// the one config that runs both; returns the config's path.
fn write_config(dir: &Path, name: &str) -> PathBuf {
    let mut binance = CaptureReader::open(&binance_capture()).unwrap();
    let start = binance.next_record().unwrap().unwrap().recv_ts.0;
    let fake: String = FAKE_SESSION
        .iter()
        .map(|(ms, frame)| format!("{}\tfake:ws\t{frame}\n", start + ms * 1_000_000))
        .collect();
    let fake_path = dir.join("fake.cap");
    std::fs::write(&fake_path, fake).unwrap();
    let text = format!(
        r#"[engine]
name = "{name}"
run_dir = {run_dir:?}

[[sources]]
name = "binance"
kind = "capture"
path = {binance:?}

[[sources]]
kind = "capture"
venue = "fake"
path = {fake:?}
instruments = ["FAKEUSD"]

[runtime]
idle = "yield"

[[instruments]]
venue = "binance"
symbol = "BTCUSDT"
price_scale = 2
qty_scale = 8
tick_size = "0.01"
lot_size = "0.00001"

[instruments.risk]
max_order_qty = "0.002"
max_order_notional = "150"
max_position = "0.01"
price_collar_bps = 50
max_ref_age_ms = 2000

[[instruments]]
venue = "binance-usdm"
symbol = "FAKEUSD"
price_scale = 2
qty_scale = 0
tick_size = "0.01"
lot_size = "1"

[instruments.risk]
max_order_qty = "1"
max_order_notional = "100"
max_position = "1"
price_collar_bps = 50
max_ref_age_ms = 2000

[risk]
capital = "10000"

[strategy]
kind = "book-imbalance"
instrument = "BTCUSDT"
depth_levels = 5
threshold_bps = 3000
order_qty = "0.002"
max_position = "0.012"
cooldown_ms = 500
slippage_ticks = 2

[gateway]
kind = "sim"
taker_fee_bps = "10"
maker_fee_bps = "2"

[journal]
dir = {journal:?}
segment_mb = 4

[metrics]
stats = false
"#,
        run_dir = dir.join("run"),
        binance = binance_capture(),
        fake = fake_path,
        journal = dir.join("journal"),
    );
    let path = dir.join("two-venues.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// The messages (not session marks) of the input journal stream `stream`.
fn journaled(journal: &Path, stream: &str) -> Vec<RecordBytes> {
    let mut records = journal_records(journal, stream);
    records.retain(|r| r.0 == MESSAGE);
    records
}

fn venues() -> Venues {
    Venues::builtin().with("fake", FakeAdapter::factory)
}

/// Every metric the run's stages report, as the stats file publishes them.
fn metrics(outcome: &RunOutcome) -> Vec<Metric> {
    let mut all = Vec::new();
    for stage in outcome.stages() {
        stage.report(&mut |m| all.push(m));
    }
    all
}

fn metric(all: &[Metric], name: &str, label: MetricLabel) -> i64 {
    let found: Vec<i64> = all
        .iter()
        .filter(|m| m.name() == name && m.label == label)
        .map(|m| m.value)
        .collect();
    assert_eq!(found.len(), 1, "one {name} {label:?} in {all:?}");
    found[0]
}

/// The feed stage that keeps `instrument`'s book (the other feed has no sync counters for it).
fn feed_of(outcome: &RunOutcome, instrument: InstrumentId) -> &CaptureFeed {
    let mut feeds = outcome.stages().filter_map(|s| match s {
        HotStage::Feed(feed) if feed.sync_counters(instrument).is_some() => Some(feed),
        _ => None,
    });
    let feed = feeds.next().expect("a feed keeps the book");
    assert!(feeds.next().is_none(), "one feed keeps each book");
    feed
}

fn sync(outcome: &RunOutcome, instrument: InstrumentId) -> SyncCounters {
    *feed_of(outcome, instrument)
        .sync_counters(instrument)
        .unwrap()
}

#[test]
fn a_fake_venue_runs_beside_binance_from_one_config() {
    let dir = TempDir::new(&format!("fake-venue-run-{}", std::process::id()));
    let path = write_config(&dir, &format!("fakevenue-{}", std::process::id()));
    let cfg = config::load_with_venues(&path, None, &venues()).unwrap_or_else(|e| panic!("{e}"));
    let outcome = runtime::run(&cfg).unwrap();
    let summary = pulse_engine::summary::render(&cfg, &outcome);
    assert_eq!(outcome.cause, StopCause::InputEnded, "{summary}");
    assert!(outcome.input_error().is_none(), "{summary}");
    assert!(
        summary.contains("unpinned: feed -> feed-1 -> book -> strategy -> risk -> gateway"),
        "{summary}"
    );
    assert!(
        summary.contains("\nsource    binance\n") && summary.contains("\nsource    fake\n"),
        "{summary}"
    );
    assert_eq!(
        outcome
            .stages()
            .filter(|s| matches!(s, HotStage::Feed(_)))
            .count(),
        2,
        "a feed stage per source"
    );

    // Each feed read its own capture, and labels its counters with its source's name.
    let all = metrics(&outcome);
    let by_source = |name| metric(&all, "feed_messages", MetricLabel::Tag("source", name));
    assert_eq!(by_source("binance"), 41_249);
    assert_eq!(by_source("fake"), 10);
    let bad = |name| metric(&all, "feed_bad_frames", MetricLabel::Tag("source", name));
    assert_eq!((bad("binance"), bad("fake")), (0, 0));

    // Both books reached the book stage: Binance's as a Binance-only replay leaves it, the
    // fake one at every commit its venue made (1 2 3, 10 11 12, 20 21).
    let updates = |id| metric(&all, "book_updates", MetricLabel::Instrument(id));
    assert_eq!(updates(BTCUSDT), 3_450);
    assert_eq!(updates(FAKEUSD), 8);
    let crossed = |id| metric(&all, "book_crossed", MetricLabel::Instrument(id));
    assert_eq!((crossed(BTCUSDT), crossed(FAKEUSD)), (0, 1));
    let book = outcome
        .stages()
        .find_map(|s| match s {
            HotStage::Book(book) => Some(book),
            _ => None,
        })
        .unwrap();
    let fake_book = book.book(FAKEUSD.0 as usize).unwrap();
    assert_eq!(
        fake_book.best_bid().map(|l| (l.px, l.qty)),
        Some((Px(5000), Qty(1)))
    );
    assert_eq!(
        fake_book.best_ask().map(|l| (l.px, l.qty)),
        Some((Px(5090), Qty(2)))
    );
    let binance_book = book.book(BTCUSDT.0 as usize).unwrap();
    assert_eq!(
        binance_book.best_bid().map(|l| l.px),
        Some(Px(6_168_599)),
        "{summary}"
    );

    // The gap and the crossed book resynced the fake feed: its adapter marked the book stale
    // (one gap, one resync request from the book stage, on the fake feed's control ring) and
    // took the next snapshots as resyncs. Binance's feed saw no request and no resync.
    let fake = sync(&outcome, FAKEUSD);
    assert_eq!(
        (fake.snapshots, fake.applied, fake.gaps, fake.resyncs),
        (3, 5, 1, 2)
    );
    assert_eq!((fake.resync_requests, fake.outdated_requests), (1, 0));
    assert_eq!(feed_of(&outcome, FAKEUSD).counters.resync_requests, 1);
    let binance = sync(&outcome, BTCUSDT);
    assert_eq!(
        (
            binance.snapshots,
            binance.applied,
            binance.gaps,
            binance.resyncs
        ),
        (1, 3_449, 0, 0)
    );
    assert_eq!(binance.resync_requests, 0);
    assert_eq!(feed_of(&outcome, BTCUSDT).counters.resync_requests, 0);
    assert_eq!(
        metric(&all, "book_resyncs", MetricLabel::Instrument(BTCUSDT)),
        0
    );

    // Each feed journals its own input stream: `input` (the first source, as with [source])
    // and `input-1`.
    let journal = dir.join("journal");
    assert_eq!(journaled(&journal, "input").len(), 41_249);
    let fake_records = journaled(&journal, "input-1");
    assert_eq!(fake_records.len(), 10);
    assert!(
        fake_records
            .iter()
            .any(|r| r.3.windows(9).any(|w| w == b"U 12 b 52")),
        "the fake frames are journaled as received"
    );
    assert!(!journal_records(&journal, "output").is_empty());
}

/// The same config through the command line: a program that adds the venue checks and runs it
/// with `pulse`'s own commands (`cli::run_args`, what `cli::main_with_venues` runs with the
/// process's arguments); `pulse` itself, without the venue, refuses it by key.
#[test]
fn the_command_line_with_added_venues_runs_the_config() {
    let dir = TempDir::new(&format!("fake-venue-cli-{}", std::process::id()));
    let path = write_config(&dir, &format!("fakecli-{}", std::process::id()));
    let path_arg = path.to_str().unwrap();
    let check = ["pulse", "check-config", "--config", path_arg];
    assert_eq!(cli::run_args(check, None, &venues()), ExitCode::SUCCESS);
    assert_eq!(
        cli::run_args(check, None, &Venues::builtin()),
        ExitCode::FAILURE
    );
    let out = pulse(&check[1..]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "sources[1].venue: unknown venue, expected one of {}",
            pulse_feeds::instrument::Venue::ALL
                .map(|v| v.name())
                .join(", ")
        )),
        "{stderr}"
    );

    let run = ["pulse", "run", "--config", path_arg];
    assert_eq!(cli::run_args(run, None, &venues()), ExitCode::SUCCESS);
    let journal = dir.join("journal");
    assert_eq!(journaled(&journal, "input-1").len(), 10);

    // `pulse replay` of that journal: each source replays its own input stream, and the
    // decisions come out as they went in.
    let again = dir.join("again");
    let (journal_arg, again_arg) = (journal.to_str().unwrap(), again.to_str().unwrap());
    let replay = [
        "pulse",
        "replay",
        "--input",
        journal_arg,
        "--config",
        path_arg,
        "--journal",
        again_arg,
    ];
    assert_eq!(cli::run_args(replay, None, &venues()), ExitCode::SUCCESS);
    assert_eq!(journaled(&again, "input").len(), 41_249);
    assert_eq!(journaled(&again, "input-1"), journaled(&journal, "input-1"));
    let output = journal_records(&journal, "output");
    let replayed = journal_records(&again, "output");
    assert!(!output.is_empty());
    assert!(
        replayed == output,
        "the replay decided otherwise: {} records, not {}",
        replayed.len(),
        output.len()
    );
    // A capture file cannot stand for two sources.
    let fake_capture = dir.join("fake.cap");
    let capture = [
        "pulse",
        "replay",
        "--input",
        fake_capture.to_str().unwrap(),
        "--config",
        path_arg,
    ];
    assert_eq!(cli::run_args(capture, None, &venues()), ExitCode::from(2));
}

/// `pulse replay` of the feed and book alone takes the config's instruments, at the config's
/// scales, and the venue its sources add: the fake capture replays through the fake adapter,
/// the Binance one at 2 price decimals rather than Binance's wire precision (8).
#[test]
fn replay_takes_instruments_and_venues_from_the_config() {
    let dir = TempDir::new(&format!("fake-venue-replay-{}", std::process::id()));
    let config = write_config(&dir, "fakereplay");
    let json = dir.join("report.json");
    // `pulse replay ARGS --report-json`, read back.
    let report = |args: &[&str]| -> serde_json::Value {
        let mut all = vec!["pulse", "replay", "--report-json", json.to_str().unwrap()];
        all.extend(args);
        assert_eq!(cli::run_args(all, None, &venues()), ExitCode::SUCCESS);
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap()
    };
    let (fake_capture, binance_capture) = (dir.join("fake.cap"), binance_capture());
    let fake_input = ["--input", fake_capture.to_str().unwrap()];
    let with_config = ["--instruments-from", config.to_str().unwrap()];

    let fake = report(&[fake_input, with_config].concat());
    assert_eq!(fake["input"]["messages"], 10);
    assert_eq!(fake["input"]["unknown_venue"], 0);
    let row = &fake["instruments"][1];
    assert_eq!(row["symbol"], "FAKEUSD");
    let count = |key: &str| row[key].as_u64().unwrap();
    assert_eq!(
        ["snapshots", "applied", "gaps", "resyncs", "crossed"].map(count),
        [3, 5, 1, 2, 1]
    );
    assert_eq!(row["top"]["bids"][0], serde_json::json!(["50.00", "1"]));
    assert_eq!(row["top"]["asks"][0], serde_json::json!(["50.90", "2"]));

    let binance_input = ["--input", binance_capture.to_str().unwrap()];
    let binance = report(&[binance_input, with_config].concat());
    let row = &binance["instruments"][0];
    assert_eq!(row["symbol"], "BTCUSDT");
    assert_eq!(row["applied"], 3_449);
    assert_eq!(row["top"]["bids"][0][0], "61685.99");

    // Without the config, the fake venue's lines have no adapter: counted, not replayed.
    let scanned = report(&fake_input);
    assert_eq!(scanned["input"]["unknown_venue"], 10);
    assert_eq!(scanned["instruments"], serde_json::json!([]));
}
