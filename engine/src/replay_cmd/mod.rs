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

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use pulse_feeds::book_stage::BookStage;
use pulse_feeds::clock::ReplayTime;
use pulse_feeds::latency::LatencyProbe;
use pulse_feeds::log::DistinctLog;
use pulse_feeds::num::Nanos;
use pulse_feeds::replay::{CaptureFeed, RecordedInput};
use pulse_feeds::stage::Stage;
use rtrb::RingBuffer;

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
mod report;
mod scan;
mod tardis_scan;

pub use checks::verify;
use checks::{faults, ticker_checkable};
pub use report::{render, ChecksumCheck, InputReport, InstrumentReport, Report, TickerCheck, Top};
use report::{report, write_json};
pub use scan::{scan_instruments, MAX_INSTRUMENTS, WIRE_SCALE};

const MD_RING: usize = 4096;
const OUT_RING: usize = 1024;

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
