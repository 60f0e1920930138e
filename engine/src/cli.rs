//! The `pulse` command line: run the engine, or check a config without running it. A library
//! entry point so that a program with its own strategy ([`main_with`]) or its own venues
//! ([`main_with_venues`]) gets the same commands.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::config::Venues;
use crate::risk::control::Command as Control;
use crate::user_strategy::UserSpec;
use crate::{
    backtest_cmd, config, control_cmd, features_cmd, journal_cmd, live_gateway, record_cmd,
    replay_cmd, runtime, stats_cmd, summary, sweep_cmd, venue_cmd,
};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "pulse",
    version,
    about = "Pulse: a low-latency trading engine for crypto venues"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the engine as the config says, until its input ends or SIGINT/SIGTERM.
    Run {
        #[arg(long)]
        config: PathBuf,
        #[command(flatten)]
        overrides: runtime::Overrides,
    },
    /// Validate a config and exit: 0 if it would start, 1 with the offending key and line if not.
    CheckConfig {
        #[arg(long)]
        config: PathBuf,
    },
    /// List every strategy kind with its parameters (key, type, range, default, help): the
    /// declarations the config check reads.
    Strategies,
    /// Replay a capture through the feed and book stages (no config needed) and report each
    /// instrument's book sync; `--verify` checks the books against the venue's own tickers.
    Replay(replay_cmd::ReplayArgs),
    /// Export the ensemble strategy's feature vectors over captures, with future mid returns
    /// as labels, to CSV or Parquet (for `scripts/train_policy.py` and research).
    Features(features_cmd::FeaturesArgs),
    /// Serve a capture as a local Binance venue (ws/wss streams and REST depth on one port),
    /// with fault injection, until SIGINT/SIGTERM.
    Venue(venue_cmd::VenueArgs),
    /// Read a journal directory: dump its records, verify its checksums, or count them.
    Journal(journal_cmd::JournalArgs),
    /// Print a journal's operational events (health, kill, re-arm, flatten, resyncs,
    /// connects, reconciliation, session start and end) as the JSON lines `[events] log`
    /// writes.
    Events(crate::events_cmd::EventsArgs),
    /// Backtest the config's strategies on recorded input against the simulated venue and
    /// write the report (report.json, report.html, tables as CSV and Parquet) into a directory.
    Backtest(backtest_cmd::BacktestArgs),
    /// Many backtests over a grid or random draws of declared parameters, in parallel; the
    /// leaderboard, walk-forward in and out of sample, and the deflated Sharpe ratio.
    Sweep(sweep_cmd::SweepArgs),
    /// Record a live venue session (every frame and REST snapshot) into a capture file.
    Record(record_cmd::RecordArgs),
    /// Show a running engine's stats file (live, or --once, --json), or serve it as
    /// Prometheus text with --prometheus ADDR.
    Stats(stats_cmd::StatsArgs),
    /// Engage a running engine's kill switch: no new order is approved, every open order is
    /// cancelled, until `pulse rearm`.
    Kill(control_cmd::ControlArgs),
    /// Re-arm a running engine after `pulse kill` or `pulse reduce-only` (refused while its
    /// health is critical).
    Rearm(control_cmd::ControlArgs),
    /// Put a running engine in reduce-only mode: only orders that reduce a position pass.
    ReduceOnly(control_cmd::ControlArgs),
    /// Close a running engine's positions (all, or --instrument's): cancel working orders,
    /// then marketable limits bounded by the collar, sliced to the max order size; what
    /// cannot be closed is reported in its stats and summary.
    Flatten(control_cmd::FlattenArgs),
    /// Recorded market data of other formats: `pulse data import --format tardis --out
    /// OUT.cap.gz FILES...` writes Tardis.dev CSV files as a capture.
    Data(crate::data_cmd::DataArgs),
}

/// `pulse` with the built-in strategies and venues only.
pub fn main() -> ExitCode {
    main_with_venues(Venues::builtin())
}

/// `pulse` with `S` as the strategy `kind = "user"` selects.
pub fn main_with<S: pulse_strategy::UserStrategy>() -> ExitCode {
    run_args(
        std::env::args_os(),
        Some(UserSpec::of::<S>()),
        &Venues::builtin(),
    )
}

/// `pulse` with the venues `venues` adds: a capture source's `venue` may name them in
/// `run --config` and `check-config`.
///
/// ```no_run
/// # fn fake(_: &pulse_feeds::instrument::InstrumentRegistry, _: &[pulse_feeds::num::InstrumentId])
/// #     -> Box<dyn pulse_feeds::venue::MarketAdapter> { unimplemented!() }
/// use pulse_engine::config::Venues;
/// fn main() -> std::process::ExitCode {
///     pulse_engine::cli::main_with_venues(Venues::builtin().with("fake", fake))
/// }
/// ```
pub fn main_with_venues(venues: Venues) -> ExitCode {
    run_args(std::env::args_os(), None, &venues)
}

/// The command line `args` (the program's name first), with the user strategy `user` (if
/// any) and the added `venues`: what every `main` above runs, callable with any arguments (a
/// test, a program that builds its own). A usage error prints and returns its exit code
/// rather than exiting.
pub fn run_args<I, T>(args: I, user: Option<UserSpec>, venues: &Venues) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    match cli.command {
        Command::Strategies => {
            print!("{}", strategies(user));
            ExitCode::SUCCESS
        }
        Command::Replay(args) => replay_cmd::run(&args, user, venues),
        Command::Features(args) => features_cmd::run(&args, venues),
        Command::Venue(args) => venue_cmd::run(&args),
        Command::Record(args) => record_cmd::run(&args),
        Command::Stats(args) => stats_cmd::run(&args),
        Command::Kill(args) => control_cmd::run(Control::Kill, &args),
        Command::Rearm(args) => control_cmd::run(Control::Rearm, &args),
        Command::ReduceOnly(args) => control_cmd::run(Control::ReduceOnly, &args),
        Command::Flatten(args) => control_cmd::flatten(&args),
        Command::Journal(args) => journal_cmd::run(&args),
        Command::Events(args) => crate::events_cmd::run(&args),
        Command::Backtest(args) => backtest_cmd::run(&args, user, venues),
        Command::Sweep(args) => sweep_cmd::run(&args),
        Command::Data(args) => crate::data_cmd::run(&args),
        Command::CheckConfig { config: path } => {
            match config::load_with_venues(&path, user, venues) {
                Ok(cfg) => {
                    println!(
                        "{}: ok ({} instrument(s), {} thread(s))",
                        path.display(),
                        cfg.instruments.len(),
                        cfg.runtime.threads.len()
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("{}: {e}", path.display());
                    ExitCode::FAILURE
                }
            }
        }
        Command::Run {
            config: path,
            overrides,
        } => {
            let mut cfg = match config::load_with_venues(&path, user, venues) {
                Ok(cfg) => overrides.apply(cfg),
                Err(e) => {
                    eprintln!("{}: {e}", path.display());
                    return ExitCode::FAILURE;
                }
            };
            // Before any thread starts: the environment may only change while there is one.
            if let Err(e) = live_gateway::take_env_secrets(&mut cfg) {
                eprintln!("pulse: {e:#}");
                return ExitCode::FAILURE;
            }
            if let Err(e) = crate::ops::notify::take_env_url(&mut cfg.notify) {
                eprintln!("pulse: {e}");
                return ExitCode::FAILURE;
            }
            match runtime::run(&cfg) {
                Ok(outcome) => {
                    print!("{}", summary::render(&cfg, &outcome));
                    if outcome.cause == runtime::StopCause::StageFailure {
                        eprintln!(
                            "pulse: the run was stopped because a stage failed \
                             ([runtime] on_stage_failure = \"stop\")"
                        );
                        return ExitCode::FAILURE;
                    }
                    match outcome.input_error() {
                        Some(e) => {
                            eprintln!("pulse: the run ended before its input did: {e}");
                            ExitCode::FAILURE
                        }
                        None => ExitCode::SUCCESS,
                    }
                }
                Err(e) => {
                    eprintln!("pulse: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

/// What `pulse strategies` prints: each built-in kind, then the user strategy, if any.
fn strategies(user: Option<UserSpec>) -> String {
    let builtins = pulse_strategy::builtin::BUILTIN_KINDS.iter();
    let mut out: Vec<String> = builtins.map(|d| d.describe()).collect();
    if let Some(spec) = user {
        let table = pulse_strategy::params::ParamTable {
            key: "params",
            params: spec.params,
        };
        let help = format!("`{}`, the strategy this program was built with", spec.kind);
        out.push(pulse_strategy::params::describe("user", &help, &[table]));
    }
    out.join("\n")
}
