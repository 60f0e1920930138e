//! `pulse replay --input FILE [--verify] [--report-json OUT] [--instruments-from CONFIG]`: a
//! capture through the real feed and book stages, and a per-instrument report of what the book
//! sync did and whether the rebuilt books agree with the venue's own `bookTicker`s.
//!
//! The instruments come from CONFIG (its scales, and the venues its sources add), or else
//! from a scan of the capture (cold, once beforehand: Binance's markets at their wire
//! precision, Kraken's pairs at the decimals Kraken sends, OKX's, Bybit's and Coinbase Advanced
//! Trade's at the most decimals their strings show, [`scan_instruments`]); lines of a venue
//! neither knows are counted. Where the venue checksums its book (Kraken), the report
//! adds each instrument's `checksum` ok/mismatch counts and `--verify` fails on a mismatch. Then the
//! [`CaptureFeed`] and [`BookStage`] run inline on this thread, as fast as they go, joined by
//! their rings exactly as in `pulse run` (the control ring included, so a crossed book resyncs
//! from the capture's next snapshot of that symbol).
//!
//! Exit status: 0 when the replay ran (and, with `--verify`, every check held), 1 when
//! `--verify` found a problem (each named per instrument on stderr, the last line a reason), 2
//! when the input or the report file could not be read or written.
//!
//! `--verify` passes when every check made while a book was believed live agreed (the venue's
//! tickers, the book never crossed) and every fault the sync detected (an update id gap) was
//! followed by a completed resync: the book is live at the end. It fails when a check
//! disagreed, a book never synced, or a fault was never recovered (the book ends stale). A
//! capture with gaps that were detected and recovered is a pass.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use pulse_feeds::book::Level;
use pulse_feeds::book_stage::BookStage;
use pulse_feeds::clock::ReplayTime;
use pulse_feeds::decode_error::DecodeError;
use pulse_feeds::event::BookState;
use pulse_feeds::instrument::InstrumentRegistry;
use pulse_feeds::latency::LatencyProbe;
use pulse_feeds::log::DistinctLog;
use pulse_feeds::num::{Decimal, Nanos, Side};
use pulse_feeds::replay::{CaptureFeed, RecordedInput};
use pulse_feeds::stage::Stage;
use rtrb::RingBuffer;
use serde::Serialize;

use crate::config::{Config, SourceConfig, Venues};
use crate::pipeline::{BOOK_LEVELS_PER_SIDE, CONTROL_RING};
use crate::runtime::print_log;
use crate::runtime::Overrides;
use crate::source_feeds::added_adapter;
use crate::user_strategy::UserSpec;

mod bybit_scan;
mod checks;
mod coinbase_at_scan;
mod kraken_scan;
mod okx_scan;
mod scan;
mod tardis_scan;

pub use checks::verify;
use checks::{faults, ticker_checkable};
pub use scan::{scan_instruments, MAX_INSTRUMENTS, WIRE_SCALE};

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
    /// The capture to replay (plain or gzip): `recv_ts_ns <TAB> source <TAB> payload` lines;
    /// or Tardis.dev CSV files (recognized by their header), several given as `a.csv.gz,b.csv.gz`.
    #[arg(long, value_name = "FILE")]
    pub input: PathBuf,
    /// Exit 1 unless every instrument's book held: no venue ticker or checksum mismatch, no
    /// gap, never crossed, synced, and at least one ticker checked wherever the capture has
    /// tickers (for venues without a checksum).
    #[arg(long)]
    pub verify: bool,
    /// Also write the report as JSON to OUT.
    #[arg(long, value_name = "OUT")]
    pub report_json: Option<PathBuf>,
    /// Replay through every stage of CONFIG (strategy, pre-trade risk, simulated venue), with
    /// its sources replaced by INPUT (with several, the journal directory they wrote), and
    /// print the run's summary. Without it only the feed and book run.
    #[arg(long, value_name = "CONFIG", conflicts_with_all = ["verify", "report_json"])]
    pub config: Option<PathBuf>,
    /// Replay the feed and book with CONFIG's instruments (venue, symbol, scales, tick) instead
    /// of those a scan of the capture finds (Binance's markets and Kraken's pairs, at the
    /// precision their wire shows),
    /// and with the venues its sources add (`venue = "..."`) for their lines.
    #[arg(long, value_name = "CONFIG", conflicts_with = "config")]
    pub instruments_from: Option<PathBuf>,
    #[command(flatten)]
    pub overrides: Overrides,
}

/// `pulse replay`; a full replay (`--config`) takes the user strategy and the added venues
/// the command line was built with.
pub fn run(args: &ReplayArgs, user: Option<UserSpec>, venues: &Venues) -> ExitCode {
    if let Some(config) = &args.config {
        return run_config(args, config, user, venues);
    }
    if args.overrides.journal.is_some() || args.overrides.name.is_some() {
        eprintln!("pulse replay: --journal and --name need --config (only a full replay decides)");
        return ExitCode::from(2);
    }
    let cfg = match &args.instruments_from {
        Some(path) => match crate::config::load_with_venues(path, user, venues) {
            Ok(cfg) => Some(cfg),
            Err(e) => {
                eprintln!("{}: {e}", path.display());
                return ExitCode::from(2);
            }
        },
        None => None,
    };
    let report = match replay(&args.input, cfg.as_ref()) {
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
    for i in &report.instruments {
        if i.tardis {
            println!(
                "verify    unchecked {} {}: Tardis data names no update id to hold quotes to \
                 (checked: synced, never crossed, live at the end)",
                i.venue, i.symbol
            );
        } else if !ticker_checkable(i) && i.checksum.is_none() {
            println!(
                "verify    unchecked {} {}: its venue's tickers name no book update (checked: \
                 synced, never crossed, live at the end)",
                i.venue, i.symbol
            );
        } else if ticker_checkable(i) && i.tickers == 0 {
            println!(
                "verify    unchecked {} {}: the capture has no bookTicker for it",
                i.venue, i.symbol
            );
        }
    }
    if failures.is_empty() {
        let checks: u64 = report.instruments.iter().map(|i| i.ticker_check.ok).sum();
        let sums: u64 = report
            .instruments
            .iter()
            .filter_map(|i| i.checksum.as_ref())
            .map(|c| c.ok)
            .sum();
        let sums = if sums > 0 {
            format!(", {sums} venue checksums")
        } else {
            String::new()
        };
        let faults: u64 = report.instruments.iter().map(faults).sum();
        println!(
            "verify    ok: {} instrument(s), {checks} venue ticker checks{sums}, all matched{}",
            report.instruments.len(),
            match faults {
                0 => String::new(),
                n => format!(
                    "; {n} fault(s) detected (gaps, checksum mismatches), each followed by a \
                     completed resync"
                ),
            }
        );
        return ExitCode::SUCCESS;
    }
    for failure in &failures {
        eprintln!("verify    FAILED {failure}");
    }
    ExitCode::FAILURE
}

/// A full replay: `pulse run` with the config's sources replaced by the recorded input, unpaced,
/// on recorded time. With several sources the input is a journal directory, each source
/// replaying the input stream it wrote. It publishes no shared stats file, so it can run beside
/// a live engine of the same name.
fn run_config(
    args: &ReplayArgs,
    config: &Path,
    user: Option<UserSpec>,
    venues: &Venues,
) -> ExitCode {
    let mut cfg = match crate::config::load_with_venues(config, user, venues) {
        Ok(cfg) => args.overrides.apply(cfg),
        Err(e) => {
            eprintln!("{}: {e}", config.display());
            return ExitCode::from(2);
        }
    };
    if !cfg.more_sources.is_empty() && !args.input.is_dir() {
        eprintln!(
            "pulse replay: {} has several sources: --input must be the journal directory \
             they wrote (each source replays its own input stream)",
            config.display()
        );
        return ExitCode::from(2);
    }
    let recorded = SourceConfig::Capture {
        path: args.input.clone(),
        speed_milli: 0,
        then: Vec::new(),
    };
    for source in &mut cfg.more_sources {
        *source = recorded.clone();
    }
    cfg.source = recorded;
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
    /// Sequence restarts the venue announced and the book followed (OKX `seqId` below
    /// `prevSeqId`, Bybit's `u == 1` snapshot); left out when none.
    #[serde(skip_serializing_if = "is_zero")]
    pub sequence_resets: u64,
    /// Deletes of a price the book did not hold, ignored (Coinbase Advanced Trade, whose sync
    /// knows which prices its books hold); left out when none.
    #[serde(skip_serializing_if = "is_zero")]
    pub absent_deletes: u64,
    pub ticker_check: TickerCheck,
    /// The book's state at the end: `live`, `stale` (waiting for a snapshot) or `crossed`.
    pub book: &'static str,
    /// Fed by Tardis.dev CSV data ([`pulse_feeds::tardis`]): no update ids, so its quotes are
    /// counted and never checked, and there is no venue checksum; left out when not.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub tardis: bool,
    /// The venue's own checksums of the book (Kraken, OKX), where the venue sends them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checksum: Option<ChecksumCheck>,
    pub top: Top,
}

/// Checks against the venue's word: how many agreed with the rebuilt book, how many did not.
#[derive(Debug, Serialize)]
pub struct TickerCheck {
    pub ok: u64,
    pub mismatch: u64,
}

/// Venue checksums compared with the rebuilt book: agreed, disagreed (the book went stale).
#[derive(Debug, Serialize)]
pub struct ChecksumCheck {
    pub ok: u64,
    pub mismatch: u64,
}

impl InstrumentReport {
    /// Venue checks made: tickers compared and checksums verified.
    pub fn checks(&self) -> u64 {
        let sums = self.checksum.as_ref().map_or(0, |c| c.ok + c.mismatch);
        self.ticker_check.ok + self.ticker_check.mismatch + sums
    }
}

/// The best levels per side at the end, best first, as `[price, quantity]` decimal strings.
#[derive(Debug, Serialize)]
pub struct Top {
    pub bids: Vec<[String; 2]>,
    pub asks: Vec<[String; 2]>,
}

/// Replays `path` through the feed and book stages inline and gathers the report: with the
/// instruments of `cfg` and the adapters of the venues its sources add, else with those a scan
/// of `path` finds.
pub fn replay(path: &Path, cfg: Option<&Config>) -> anyhow::Result<Report> {
    let registry = match cfg {
        Some(cfg) => cfg.instruments.clone(),
        None => scan_instruments(path)?,
    };
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
    if let Some(cfg) = cfg {
        for spec in &cfg.feeds {
            if let Some(adapter) = added_adapter(cfg, spec)? {
                feed = feed.with_boxed_adapter(adapter);
            }
        }
    }
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
            // The adapter that keeps the book: the last one that owns it.
            let keeper = feed.adapters().filter(|a| a.owns(inst.id)).last();
            let tardis = keeper.is_some_and(|a| a.source() == pulse_feeds::tardis::SOURCE);
            InstrumentReport {
                tardis,
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
                sequence_resets: s.sequence_resets,
                absent_deletes: s.absent_deletes,
                ticker_check: TickerCheck {
                    ok: b.ticker_ok,
                    mismatch: b.ticker_mismatch,
                },
                book: match book.state(i) {
                    Some(BookState::Live) => "live",
                    Some(BookState::Crossed) => "crossed",
                    Some(BookState::Stale) | None => "stale",
                },
                checksum: (inst.venue.sends_checksum() && !tardis).then_some(ChecksumCheck {
                    ok: s.checksum_ok,
                    mismatch: s.checksum_mismatch,
                }),
                top: Top {
                    bids: side(Side::Buy),
                    asks: side(Side::Sell),
                },
            }
        })
        .collect();
    Report { input, instruments }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
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
        if let Some(c) = &i.checksum {
            let _ = writeln!(
                s,
                "checksum  {} {}: {} ok, {} mismatch",
                i.venue, i.symbol, c.ok, c.mismatch
            );
        }
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
