//! `pulse replay --input FILE [--verify] [--report-json OUT]`: a capture through the real feed
//! and book stages, with no config, and a per-instrument report of what the book sync did and
//! whether the rebuilt books agree with the venue's own `bookTicker`s.
//!
//! The capture is scanned once beforehand (cold) for the instruments it holds; then the
//! [`CaptureFeed`] and [`BookStage`] run inline on this thread, as fast as they go, joined by
//! their rings exactly as in `pulse run` (the control ring included, so a crossed book resyncs
//! from the capture's next snapshot of that symbol).
//!
//! Exit status: 0 when the replay ran (and, with `--verify`, every check held), 1 when
//! `--verify` found a problem (each named per instrument on stderr), 2 when the input or the
//! report file could not be read or written.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use pulse_feeds::binance::BinanceMarket;
use pulse_feeds::book::Level;
use pulse_feeds::book_stage::BookStage;
use pulse_feeds::capture::{query_param, SourceKind};
use pulse_feeds::clock::ReplayTime;
use pulse_feeds::decode_error::DecodeError;
use pulse_feeds::instrument::{InstrumentRegistry, Venue};
use pulse_feeds::latency::LatencyProbe;
use pulse_feeds::log::DistinctLog;
use pulse_feeds::num::{parse_decimal, Decimal, Nanos, Px, Qty, Side};
use pulse_feeds::replay::{CaptureFeed, RecordedInput};
use pulse_feeds::stage::Stage;
use rtrb::RingBuffer;
use serde::Serialize;

use crate::config::SourceConfig;
use crate::pipeline::{BOOK_LEVELS_PER_SIDE, CONTROL_RING};
use crate::runtime::print_log;
use crate::runtime::Overrides;

/// Binance's wire precision, used as both price and quantity scale for every instrument.
///
/// Exact, not approximate: Binance sends prices and quantities as decimal strings, spot always
/// with 8 fractional digits (`"0.00000637"`, `"66703.00000000"`), USD-M futures with the
/// symbol's own precision, fewer digits (BTCUSDT: `"61800.20"`, `"0.014"`). At scale 8
/// `parse_decimal` turns each string into an `i64` mantissa with no float and no rounding; a value
/// with more than 8 decimals, or too large for the mantissa (above 92,233,720,368.54775807), is
/// refused and counted as a decode error rather than rounded. Every value in the bundled captures
/// fits (none is refused), so every book level and ticker compared here is the venue's exact
/// number, and the ticker check is integer equality. Lot is 1 mantissa unit (a replay places no
/// orders); the tick, on which the book lays out its levels, is derived from the capture's own
/// prices by [`scan_instruments`].
pub const WIRE_SCALE: u32 = 8;
/// Instruments one replay takes at most: each costs about 1.8 MB of preallocated book and sync
/// buffers (1 MB of it the book's tick windows, whose untouched pages take no memory), so a
/// capture naming thousands of symbols is refused rather than exhausting memory.
pub const MAX_INSTRUMENTS: usize = 256;
/// Levels shown per side in the report.
const REPORT_DEPTH: usize = 5;
const MD_RING: usize = 4096;
const OUT_RING: usize = 1024;
/// Stable names for [`DecodeError::code`] in the JSON report.
const DECODE_ERROR_KEYS: [&str; DecodeError::KINDS] = [
    "json",
    "not_an_object",
    "unknown_event",
    "missing_field",
    "wrong_type",
    "decimal",
    "unknown_symbol",
    "too_many_levels",
];

#[derive(clap::Args, Debug, Clone)]
pub struct ReplayArgs {
    /// The capture to replay (plain or gzip): `recv_ts_ns <TAB> source <TAB> payload` lines.
    #[arg(long, value_name = "FILE")]
    pub input: PathBuf,
    /// Exit 1 unless every instrument's book held: no venue ticker mismatch, no gap, never
    /// crossed, synced, and at least one ticker checked wherever the capture has tickers.
    #[arg(long)]
    pub verify: bool,
    /// Also write the report as JSON to OUT.
    #[arg(long, value_name = "OUT")]
    pub report_json: Option<PathBuf>,
    /// Replay through every stage of CONFIG (strategy, pre-trade risk, simulated venue), with
    /// its `[source]` replaced by INPUT, and print the run's summary. Without it only the feed
    /// and book run.
    #[arg(long, value_name = "CONFIG", conflicts_with_all = ["verify", "report_json"])]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub overrides: Overrides,
}

pub fn run(args: &ReplayArgs) -> ExitCode {
    if let Some(config) = &args.config {
        return run_config(args, config);
    }
    if args.overrides.journal.is_some() || args.overrides.name.is_some() {
        eprintln!("pulse replay: --journal and --name need --config (only a full replay decides)");
        return ExitCode::from(2);
    }
    let report = match replay(&args.input) {
        Ok(report) => report,
        Err(e) => {
            eprintln!("pulse replay: {e:#}");
            return ExitCode::from(2);
        }
    };
    print!("{}", render(&args.input, &report));
    if let Some(out) = &args.report_json {
        if let Err(e) = write_json(out, &report) {
            eprintln!("pulse replay: {e:#}");
            return ExitCode::from(2);
        }
    }
    if !args.verify {
        return ExitCode::SUCCESS;
    }
    let failures = verify(&report);
    for i in report.instruments.iter().filter(|i| i.tickers == 0) {
        println!(
            "verify    unchecked {} {}: the capture has no bookTicker for it",
            i.venue, i.symbol
        );
    }
    if failures.is_empty() {
        let checks: u64 = report.instruments.iter().map(|i| i.ticker_check.ok).sum();
        println!(
            "verify    ok: {} instrument(s), {checks} venue ticker checks, all matched",
            report.instruments.len()
        );
        return ExitCode::SUCCESS;
    }
    for failure in &failures {
        eprintln!("verify    FAILED {failure}");
    }
    ExitCode::FAILURE
}

/// A full replay: `pulse run` with the config's source replaced by the recorded input, unpaced,
/// on recorded time. It publishes no shared stats file, so it can run beside a live engine of
/// the same name.
fn run_config(args: &ReplayArgs, config: &Path) -> ExitCode {
    let mut cfg = match crate::config::load(config) {
        Ok(cfg) => args.overrides.apply(cfg),
        Err(e) => {
            eprintln!("{}: {e}", config.display());
            return ExitCode::from(2);
        }
    };
    cfg.source = SourceConfig::Capture {
        path: args.input.clone(),
        speed_milli: 0,
    };
    cfg.metrics.stats = false;
    cfg.metrics.prometheus_listen = None;
    match crate::runtime::run(&cfg) {
        Ok(outcome) => {
            print!("{}", crate::summary::render(&cfg, &outcome));
            if outcome.cause == crate::runtime::StopCause::StageFailure {
                eprintln!("pulse replay: the run was stopped because a stage failed");
                return ExitCode::from(2);
            }
            match outcome.input_error() {
                Some(e) => {
                    eprintln!("pulse replay: reading {}: {e}", args.input.display());
                    ExitCode::from(2)
                }
                None => ExitCode::SUCCESS,
            }
        }
        Err(e) => {
            eprintln!("pulse replay: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Everything `pulse replay` reports, as written to `--report-json`.
#[derive(Debug, Serialize)]
pub struct Report {
    pub input: InputReport,
    pub instruments: Vec<InstrumentReport>,
}

#[derive(Debug, Serialize)]
pub struct InputReport {
    pub lines: u64,
    /// Messages decoded and handed on.
    pub messages: u64,
    pub malformed_lines: u64,
    pub unknown_venue: u64,
    /// Frames refused by the codec (unknown event types such as `kline` among them), by kind.
    pub decode_errors: BTreeMap<&'static str, u64>,
    pub resync_requests: u64,
}

#[derive(Debug, Serialize)]
pub struct InstrumentReport {
    pub venue: &'static str,
    pub symbol: String,
    pub messages: u64,
    pub applied: u64,
    pub dropped: u64,
    pub duplicates: u64,
    pub gaps: u64,
    pub snapshots: u64,
    pub resyncs: u64,
    pub stale_snapshots: u64,
    pub crossed: u64,
    pub stale_marks: u64,
    pub trades: u64,
    pub tickers: u64,
    pub last_update_id: u64,
    pub ticker_check: TickerCheck,
    pub top: Top,
}

#[derive(Debug, Serialize)]
pub struct TickerCheck {
    pub ok: u64,
    pub mismatch: u64,
}

/// The best levels per side at the end, best first, as `[price, quantity]` decimal strings.
#[derive(Debug, Serialize)]
pub struct Top {
    pub bids: Vec<[String; 2]>,
    pub asks: Vec<[String; 2]>,
}

/// Every (venue, symbol) a capture holds market data for: the `"s"` of its depth, trade and
/// ticker frames and the `symbol=` of its REST depth requests, in order of first appearance, at
/// [`WIRE_SCALE`]. Lines this build cannot replay (other venues, malformed ones) are left to the
/// replay to count.
///
/// The capture does not say an instrument's tick, and the book lays its levels out by tick, so
/// each instrument's tick is the greatest common divisor of every price the capture carries for
/// it (depth levels, snapshot levels, ticker and trade prices): the venue's tick or a multiple of
/// it that every replayed price sits on. An instrument with no price gets a tick of 1.
pub fn scan_instruments(path: &Path) -> anyhow::Result<InstrumentRegistry> {
    let mut reader =
        RecordedInput::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    // (venue, symbol, GCD of its prices so far; 0 before the first).
    let mut seen: Vec<(Venue, String, i64)> = Vec::new();
    while let Some(record) = reader.next_record() {
        let record = match record {
            Ok(record) => record,
            Err(Ok(_malformed)) => continue,
            Err(Err(e)) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        let Some(venue) = Venue::from_name_bytes(record.venue)
            .filter(|&v| BinanceMarket::from_venue(v).is_some())
        else {
            continue;
        };
        let found = match record.kind {
            SourceKind::Rest { path } => query_param(path, b"symbol")
                .and_then(|s| std::str::from_utf8(s).ok())
                .map(|s| (s.to_owned(), serde_json::from_slice(record.payload).ok())),
            SourceKind::Ws => market_data(record.payload).map(|(s, data)| (s, Some(data))),
            SourceKind::Send => None,
        };
        let Some((symbol, data)) = found.filter(|(s, _)| !s.is_empty()) else {
            continue;
        };
        let symbol = symbol.to_ascii_uppercase();
        let i = match seen
            .iter()
            .position(|(v, s, _)| *v == venue && *s == symbol)
        {
            Some(i) => i,
            None => {
                anyhow::ensure!(
                    seen.len() < MAX_INSTRUMENTS,
                    "{}: more than {MAX_INSTRUMENTS} instruments",
                    path.display()
                );
                seen.push((venue, symbol, 0));
                seen.len() - 1
            }
        };
        if let Some(data) = &data {
            seen[i].2 = price_gcd(seen[i].2, data);
        }
    }
    let mut registry = InstrumentRegistry::new();
    for (venue, symbol, gcd) in seen {
        let (tick, lot) = (Px(gcd.max(1)), Qty(1));
        let _ = registry.add(venue, &symbol, WIRE_SCALE, WIRE_SCALE, tick, lot);
    }
    Ok(registry)
}

/// The `"s"` of a depth, trade or ticker frame (plain or combined-stream), with its data object.
fn market_data(payload: &[u8]) -> Option<(String, serde_json::Value)> {
    let mut root: serde_json::Value = serde_json::from_slice(payload).ok()?;
    let data = if root.get("stream").is_some() && root.get("data").is_some() {
        root["data"].take()
    } else {
        root
    };
    let is_market_data = match data.get("e").and_then(|e| e.as_str()) {
        Some(e) => matches!(e, "depthUpdate" | "trade" | "aggTrade" | "bookTicker"),
        // Spot bookTicker frames carry no "e".
        None => data.get("u").is_some() && data.get("b").is_some(),
    };
    if !is_market_data {
        return None;
    }
    let symbol = data.get("s")?.as_str()?.to_owned();
    Some((symbol, data))
}

/// `gcd` folded with every positive price in `data` at [`WIRE_SCALE`]: the first element of each
/// level of `b`, `a`, `bids` and `asks`, and the `b`, `a` (ticker) and `p` (trade) strings.
/// Prices that do not parse are left to the replay to refuse and count.
fn price_gcd(mut gcd: i64, data: &serde_json::Value) -> i64 {
    use serde_json::Value;
    let mut fold = |px: &str| {
        if let Ok(m) = parse_decimal(px.as_bytes(), WIRE_SCALE) {
            if m > 0 {
                gcd = euclid(gcd, m);
            }
        }
    };
    for key in ["b", "a", "bids", "asks", "p"] {
        match data.get(key) {
            Some(Value::String(px)) => fold(px),
            Some(Value::Array(levels)) => levels
                .iter()
                .filter_map(|level| level.get(0)?.as_str())
                .for_each(&mut fold),
            _ => {}
        }
    }
    gcd
}

fn euclid(a: i64, b: i64) -> i64 {
    if b == 0 {
        a
    } else {
        euclid(b, a % b)
    }
}

/// Scans, then replays `path` through the feed and book stages inline and gathers the report.
pub fn replay(path: &Path) -> anyhow::Result<Report> {
    let registry = scan_instruments(path)?;
    let reader =
        RecordedInput::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let clock = quanta::Clock::new();
    let (md_tx, md_rx) = RingBuffer::new(MD_RING);
    let (out_tx, mut out_rx) = RingBuffer::new(OUT_RING);
    let (control_tx, control_rx) = RingBuffer::new(CONTROL_RING);
    let (log_tx, mut log_rx) = RingBuffer::new(64);
    let mut feed = CaptureFeed::new(
        reader,
        registry.clone(),
        md_tx,
        ReplayTime::default(),
        LatencyProbe::detached(clock.clone()),
        DistinctLog::new("feed", Some(log_tx)),
    )
    .with_control(control_rx);
    let mut book = BookStage::new(
        &registry,
        BOOK_LEVELS_PER_SIDE,
        md_rx,
        vec![out_tx],
        LatencyProbe::detached(clock),
    )
    .with_control(control_tx);
    loop {
        let work = feed.do_work(Nanos::ZERO) + book.do_work(Nanos::ZERO);
        while out_rx.pop().is_ok() {}
        while let Ok(record) = log_rx.pop() {
            print_log(&record);
        }
        if work == 0 && feed.intake_done() {
            break;
        }
    }
    if let Some(e) = feed.io_error.take() {
        return Err(e).with_context(|| format!("reading {}", path.display()));
    }
    Ok(report(&registry, &feed, &book))
}

fn report(registry: &InstrumentRegistry, feed: &CaptureFeed, book: &BookStage) -> Report {
    let c = &feed.counters;
    let input = InputReport {
        lines: c.lines,
        messages: c.messages,
        malformed_lines: c.bad_lines_total(),
        unknown_venue: c.unknown_venue,
        decode_errors: DECODE_ERROR_KEYS
            .iter()
            .zip(c.bad_frames)
            .filter(|(_, n)| *n > 0)
            .map(|(k, n)| (*k, n))
            .collect(),
        resync_requests: c.resync_requests,
    };
    let instruments = registry
        .iter()
        .map(|inst| {
            let i = inst.id.0 as usize;
            let s = feed.sync_counters(inst.id).copied().unwrap_or_default();
            let b = book.counters(i).copied().unwrap_or_default();
            let side = |side: Side| -> Vec<[String; 2]> {
                let mut levels = [Level::default(); REPORT_DEPTH];
                let n = book.book(i).map_or(0, |bk| bk.top(side, &mut levels));
                levels[..n]
                    .iter()
                    .map(|l| {
                        [
                            Decimal::new(l.px.0, inst.price_scale).to_string(),
                            Decimal::new(l.qty.0, inst.qty_scale).to_string(),
                        ]
                    })
                    .collect()
            };
            InstrumentReport {
                venue: inst.venue.name(),
                symbol: inst.symbol.clone(),
                messages: s.messages,
                applied: s.applied,
                dropped: s.dropped,
                duplicates: s.duplicates,
                gaps: s.gaps,
                snapshots: s.snapshots,
                resyncs: s.resyncs,
                stale_snapshots: s.stale_snapshots,
                crossed: b.crossed,
                stale_marks: b.stale_marks,
                trades: b.trades,
                tickers: b.tickers,
                last_update_id: s.last_update_id,
                ticker_check: TickerCheck {
                    ok: b.ticker_ok,
                    mismatch: b.ticker_mismatch,
                },
                top: Top {
                    bids: side(Side::Buy),
                    asks: side(Side::Sell),
                },
            }
        })
        .collect();
    Report { input, instruments }
}

/// Why `--verify` fails, one line per instrument with a problem; empty when all held.
///
/// An instrument whose capture holds no `bookTicker` at all (RUNEEUR in the 4-symbol capture)
/// cannot be checked against the venue; it is reported as unchecked, not failed, as long as some
/// other instrument was checked. Zero checks despite tickers is a failure: the check never ran.
pub fn verify(report: &Report) -> Vec<String> {
    let mut failures = Vec::new();
    for i in &report.instruments {
        let mut why = Vec::new();
        let checks = i.ticker_check.ok + i.ticker_check.mismatch;
        if i.ticker_check.mismatch > 0 {
            why.push(format!(
                "{} of {checks} venue ticker(s) disagree with the rebuilt book",
                i.ticker_check.mismatch
            ));
        }
        if i.gaps > 0 {
            why.push(format!("{} update id gap(s)", i.gaps));
        }
        if i.crossed > 0 {
            why.push(format!("book crossed at {} commit(s)", i.crossed));
        }
        if i.snapshots == 0 {
            why.push("never synced (no usable snapshot)".to_string());
        }
        if i.tickers > 0 && checks == 0 {
            why.push(format!(
                "none of its {} ticker(s) could be checked against the book",
                i.tickers
            ));
        }
        if !why.is_empty() {
            failures.push(format!("{} {}: {}", i.venue, i.symbol, why.join("; ")));
        }
    }
    let checks: u64 = report
        .instruments
        .iter()
        .map(|i| i.ticker_check.ok + i.ticker_check.mismatch)
        .sum();
    if checks == 0 {
        failures.push("the capture: no venue ticker could be checked at all".to_string());
    }
    failures
}

fn write_json(out: &Path, report: &Report) -> anyhow::Result<()> {
    let mut json = serde_json::to_vec_pretty(report)?;
    json.push(b'\n');
    let mut file =
        std::fs::File::create(out).with_context(|| format!("cannot create {}", out.display()))?;
    file.write_all(&json)
        .with_context(|| format!("cannot write {}", out.display()))
}

/// The human report: input counts, then one row per instrument and its final touch.
pub fn render(path: &Path, report: &Report) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let r = &report.input;
    let _ = writeln!(
        s,
        "pulse replay {}: {} lines, {} messages",
        path.display(),
        r.lines,
        r.messages
    );
    let mut skipped: Vec<String> = DECODE_ERROR_KEYS
        .iter()
        .enumerate()
        .filter_map(|(code, key)| {
            let n = *r.decode_errors.get(key)?;
            Some(format!("{n} x {}", DecodeError::describe_code(code)))
        })
        .collect();
    if r.malformed_lines > 0 {
        skipped.push(format!("{} x malformed capture line", r.malformed_lines));
    }
    if r.unknown_venue > 0 {
        skipped.push(format!("{} x line from an unknown venue", r.unknown_venue));
    }
    let skipped = if skipped.is_empty() {
        "none".to_string()
    } else {
        skipped.join("; ")
    };
    let _ = writeln!(s, "skipped   {skipped}");
    let _ = writeln!(
        s,
        "{:<13} {:<10} {:>8} {:>8} {:>7} {:>4} {:>5} {:>7} {:>7} {:>7} {:>9} {:>8} {:>16}",
        "venue",
        "symbol",
        "messages",
        "applied",
        "dropped",
        "gaps",
        "snaps",
        "resyncs",
        "crossed",
        "tickers",
        "ticker ok",
        "mismatch",
        "last update id"
    );
    for i in &report.instruments {
        let _ = writeln!(
            s,
            "{:<13} {:<10} {:>8} {:>8} {:>7} {:>4} {:>5} {:>7} {:>7} {:>7} {:>9} {:>8} {:>16}",
            i.venue,
            i.symbol,
            i.messages,
            i.applied,
            i.dropped,
            i.gaps,
            i.snapshots,
            i.resyncs,
            i.crossed,
            i.tickers,
            i.ticker_check.ok,
            i.ticker_check.mismatch,
            i.last_update_id
        );
    }
    for i in &report.instruments {
        let level = |l: Option<&[String; 2]>| {
            l.map_or("-".to_string(), |[px, qty]| format!("{qty} @ {px}"))
        };
        let _ = writeln!(
            s,
            "touch     {} {}: bid {}  ask {}",
            i.venue,
            i.symbol,
            level(i.top.bids.first()),
            level(i.top.asks.first())
        );
    }
    s
}
