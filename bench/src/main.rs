//! `pulse-bench`: latency distributions of Pulse's building blocks and pipelines, each beside a
//! baseline measured in the same run, so that the figure that matters is a ratio.
#![forbid(unsafe_code)]

mod baselines;
mod book;
mod book_updates;
mod bundled;
mod capture_frames;
mod depth_frame;
mod journal;
mod journal_record;
mod parse;
mod plot;
mod report;
mod ring;
mod risk;
mod risk_cases;
mod sample;
mod throughput;
mod tick_to_trade;
mod venue_baselines;
mod venues;
mod wire;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, ValueEnum};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Scenario {
    /// One-way hop latency and throughput between two threads: rtrb, crossbeam, std mpsc.
    Ring,
    /// Per-message decode latency of real Binance frames: Pulse, serde_json, sonic-rs, simd-json.
    Parse,
    /// Per-append latency of a 96-byte record: Pulse's mmap journal (sync "none" and
    /// "order"), `File::write`.
    Journal,
    /// Per-update latency of real depth updates: Pulse's tick-indexed L2Book, a BTreeMap book.
    Book,
    /// Per-intent latency of the full pre-trade check chain, approve and reject paths, the
    /// approve path with the portfolio limits on, and the portfolio model's update for 20
    /// instruments, beside the clock's own floor.
    Risk,
    /// Frame in memory to order executed, through every hot stage, single-thread and pinned
    /// layouts, paced, and one depth frame's own path stage by stage.
    TickToTrade,
    /// Sustained messages per second through one feed thread (the whole engine), beside
    /// serde_json decoding alone.
    Throughput,
    /// Per-message book and ticker latency of every venue's bundled capture (decode, sync,
    /// checksum, apply): Pulse beside sonic-rs and serde_json with BTreeMap books.
    Venues,
    /// `pulse venue` writes a frame over loopback, Pulse decides and writes an order back;
    /// measured at the venue, beside a WebSocket echo over the same loopback (the floor).
    WireToWire,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Layout {
    /// Threads pinned to cores 0 and 1 (a one-thread scenario: core 0).
    Pinned,
    /// Left to the scheduler.
    Unpinned,
}

#[derive(Parser)]
#[command(name = "pulse-bench", version, about = "Pulse's latency harness")]
struct Cli {
    scenario: Scenario,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    json: bool,
    /// Write HdrHistogram percentile files (.hgrm) into this directory.
    #[arg(long)]
    hgrm: Option<PathBuf>,
    /// Draw every result's latency by percentile (log axes) into this SVG file.
    #[arg(long, value_name = "FILE.svg")]
    plot: Option<PathBuf>,
    /// Seconds of measurement per case (after warm-up).
    #[arg(long, default_value_t = 2.0)]
    duration: f64,
    #[arg(long, value_enum, default_value_t = Layout::Pinned)]
    layout: Layout,
    /// Run only this case of `tick-to-trade` (single-thread, pinned, paced, depth-frame), or
    /// of `venues` (a venue: kraken-v1, kraken, okx, coinbase-exchange, coinbase; `VENUE/pulse`
    /// times Pulse alone, for a profiler).
    #[arg(long)]
    case: Option<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.case.is_some() && !matches!(cli.scenario, Scenario::TickToTrade | Scenario::Venues) {
        eprintln!("pulse-bench: --case selects a case of tick-to-trade or venues only");
        return ExitCode::FAILURE;
    }
    let duration = Duration::from_secs_f64(cli.duration.max(0.01));
    let machine_cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let cores = match cli.layout {
        Layout::Pinned if machine_cores >= 2 => [Some(0), Some(1)],
        _ => [None, None],
    };
    // Each scenario with the cores it ran on: one-thread scenarios on the layout's first core.
    let (name, results, pinned) = match cli.scenario {
        Scenario::Ring => ("ring", Ok(ring::run(duration, cores)), &cores[..]),
        Scenario::Parse => ("parse", parse::run(duration, cores[0]), &cores[..1]),
        Scenario::Book => ("book", book::run(duration, cores[0]), &cores[..1]),
        Scenario::Venues => (
            "venues",
            venues::run(duration, cores[0], cli.case.as_deref()),
            &cores[..1],
        ),
        Scenario::Risk => ("risk", risk::run(duration, cores[0]), &cores[..1]),
        // The appending thread on the first core, the journal's service thread on the second.
        Scenario::Journal => ("journal", journal::run(duration, cores), &cores[..]),
        Scenario::TickToTrade => (
            "tick-to-trade",
            tick_to_trade::run(duration, cores[0].is_some(), cli.case.as_deref()),
            &cores[..],
        ),
        Scenario::Throughput => (
            "throughput",
            throughput::run(duration, cores[0]),
            &cores[..1],
        ),
        // The engine's single thread and the venue's threads are left to the scheduler.
        Scenario::WireToWire => ("wire-to-wire", wire::run(duration, cores[1]), &cores[1..]),
    };
    let results = match results {
        Ok(results) => results,
        Err(e) => {
            eprintln!("pulse-bench {name}: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    let layout = if cores[0].is_some() {
        "pinned"
    } else {
        "unpinned"
    };
    let env = report::env(layout, machine_cores, pinned);
    if let Some(dir) = &cli.hgrm {
        if let Err(e) = report::write_hgrm(dir, name, &results) {
            eprintln!("pulse-bench: cannot write {}: {e}", dir.display());
            return ExitCode::FAILURE;
        }
    }
    if let Some(file) = &cli.plot {
        if let Err(e) = std::fs::write(file, plot::svg(name, &results)) {
            eprintln!("pulse-bench: cannot write {}: {e}", file.display());
            return ExitCode::FAILURE;
        }
    }
    if cli.json {
        println!("{}", report::json(name, &results, env));
    } else {
        print!("{}", report::table(name, &results, &env));
    }
    ExitCode::SUCCESS
}
