//! `pulse data import --format tardis --out OUT FILES...`: recorded market data of another
//! format into a Pulse capture, which `pulse replay`, `pulse run` (a capture `[source]`) and
//! the backtests read like any other. Tardis.dev CSV files (`incremental_book_L2`,
//! `book_snapshot_25`/`_5`, `trades`, `quotes`; gzip or plain, recognized by their header) are
//! merged in `local_timestamp` order, one capture line per message ([`pulse_feeds::tardis`]).
//! Replay and backtests also read the CSV files directly; importing once saves re-reading and
//! re-merging them on every run.
//!
//! Exit status: 0 when every file was read to its end (refused rows are counted and reported,
//! and skipped), 2 when a file could not be opened or read (a header that is not Tardis's, a
//! truncated gzip) or the output could not be written.

use std::path::PathBuf;
use std::process::ExitCode;

use pulse_feeds::tardis::{import, TardisInput};

#[derive(clap::Args, Debug, Clone)]
pub struct DataArgs {
    #[command(subcommand)]
    command: DataCommand,
}

#[derive(clap::Subcommand, Debug, Clone)]
enum DataCommand {
    /// Convert recorded market data of another format into a Pulse capture.
    Import(ImportArgs),
}

/// The formats `pulse data import` reads.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    /// Tardis.dev downloadable CSV files.
    Tardis,
}

#[derive(clap::Args, Debug, Clone)]
struct ImportArgs {
    #[arg(long, value_enum)]
    format: Format,
    /// The capture to write (gzip when it ends in `.gz`).
    #[arg(long, value_name = "OUT")]
    out: PathBuf,
    /// The files to read together (a book file and the trades and quotes of its instruments).
    #[arg(required = true, value_name = "FILES")]
    files: Vec<PathBuf>,
}

pub fn run(args: &DataArgs) -> ExitCode {
    match &args.command {
        DataCommand::Import(import) => run_import(import),
    }
}

fn run_import(args: &ImportArgs) -> ExitCode {
    let Format::Tardis = args.format;
    let input = match TardisInput::open_all(&args.files) {
        Ok(input) => input,
        Err(e) => {
            eprintln!("pulse data import: {e}");
            return ExitCode::from(2);
        }
    };
    let kinds: Vec<&str> = input.kinds().map(|k| k.name()).collect();
    match import::write_capture(input, &args.out) {
        Ok(report) => {
            println!(
                "pulse data import: {} message(s) from {} Tardis file(s) ({}) written to {}",
                report.messages,
                args.files.len(),
                kinds.join(", "),
                args.out.display()
            );
            if report.bad_rows > 0 {
                println!(
                    "pulse data import: {} malformed row(s) refused and skipped",
                    report.bad_rows
                );
            }
            if report.cut_messages > 0 {
                println!(
                    "pulse data import: {} run(s) of rows of one timestamp beyond the bound \
                     cut into several messages",
                    report.cut_messages
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!(
                "pulse data import: {e}; {} is incomplete",
                args.out.display()
            );
            ExitCode::from(2)
        }
    }
}
