//! Runs a pipeline on runner threads and steers it from the main thread: operator signals, the
//! kill file and control commands in the run directory, the distinct-error log, and a clean
//! drain when input ends or a stop is asked for.

pub mod control;
pub mod failure;
pub mod idle;
pub mod monitor;
mod monitor_start;
pub mod publish;
pub mod runner;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use pulse_feeds::clock::Clock;
use pulse_feeds::log::LogRecord;

use std::path::{Path, PathBuf};

use pulse_feeds::latency::LatencyCollector;

use crate::config::{Config, GatewayConfig, SourceConfig, StageFailurePolicy, StageKind};
use crate::health::{Health, Transition};
use crate::pipeline::{self, HotStage};
use crate::risk::control::{Applied, ControlWatcher, Steer};
use crate::risk::{HaltReason, TradingMode};
use crate::run_dir::RunDir;
use crate::source_feeds::stage_labels;
use control::{Phase, RunControl};
use failure::FailureWatch;
use monitor_start::start_monitor;
use runner::{Finished, Runner};

/// Command-line overrides of a config, for `pulse run` and `pulse replay --config`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct Overrides {
    /// Journal into DIR instead of the config's `[journal] dir` (64 MiB segments unless the
    /// config says otherwise).
    #[arg(long, value_name = "DIR")]
    pub journal: Option<PathBuf>,
    /// Run under NAME instead of `[engine] name` (it names the stats file).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Keep the stats, control and default kill files in DIR instead of `[engine] run_dir`.
    #[arg(long, value_name = "DIR")]
    pub run_dir: Option<PathBuf>,
    /// Fault drill: the output journal's Nth I/O operation fails, as a full or failing disk
    /// would; health must go Critical and trading stop.
    #[arg(long, value_name = "N", hide = true, requires = "journal")]
    pub journal_fail_io_at: Option<u64>,
    /// Fault drill: STAGE (feed, book, strategy, risk, gateway) panics in its Nth `do_work`,
    /// as a bug would; `[runtime] on_stage_failure` decides what follows.
    #[arg(long, value_name = "STAGE:N", hide = true, value_parser = parse_fail_stage)]
    pub fail_stage: Option<(StageKind, u64)>,
}

fn parse_fail_stage(text: &str) -> Result<(StageKind, u64), String> {
    let (stage, n) = text
        .split_once(':')
        .ok_or_else(|| format!("{text:?} is not STAGE:N"))?;
    let kind = StageKind::ALL
        .into_iter()
        .find(|k| k.name() == stage)
        .ok_or_else(|| format!("no stage {stage:?}"))?;
    match n.parse::<u64>() {
        Ok(n) if n > 0 => Ok((kind, n)),
        _ => Err(format!("N in {text:?} must be a whole number from 1")),
    }
}

impl Overrides {
    pub fn apply(&self, mut cfg: Config) -> Config {
        if let Some(dir) = &self.journal {
            let (segment_bytes, sync) = cfg.journal.as_ref().map_or(
                (crate::config::DEFAULT_SEGMENT_BYTES, Default::default()),
                |j| (j.segment_bytes, j.sync),
            );
            cfg.journal = Some(crate::config::JournalConfig {
                dir: dir.clone(),
                segment_bytes,
                sync,
                fail_io_at: self.journal_fail_io_at,
            });
        }
        if self.fail_stage.is_some() {
            cfg.runtime.fail_stage = self.fail_stage;
        }
        if let Some(name) = &self.name {
            cfg.engine.name = name.clone();
        }
        if let Some(dir) = &self.run_dir {
            cfg.engine.run_dir = dir.clone();
        }
        cfg
    }
}

/// Why the run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopCause {
    InputEnded,
    Signal,
    /// A stage failed and `[runtime] on_stage_failure` is `"stop"`.
    StageFailure,
}

impl StopCause {
    /// As the `session_end` event's `reason` has it.
    pub fn name(self) -> &'static str {
        match self {
            StopCause::InputEnded => "input_ended",
            StopCause::Signal => "signal",
            StopCause::StageFailure => "stage_failure",
        }
    }
}

pub struct RunOutcome {
    pub runners: Vec<Finished>,
    pub cause: StopCause,
    pub elapsed: Duration,
    pub kill_engaged: bool,
    /// Each stage's latency histogram, in pipeline order.
    pub latency: Vec<(&'static str, LatencyCollector)>,
    pub transitions: Vec<Transition>,
    pub health: Health,
    /// The operational events: how many, and what the journal, log and webhook did.
    pub ops: crate::ops::sinks::OpsReport,
    /// Journal streams written, with the outcome of their final sync.
    pub journals: Vec<(&'static str, anyhow::Result<()>)>,
    /// Where the stats file was, if it was shared.
    pub stats_file: Option<PathBuf>,
    /// Startup reconciliation with the venue, for the operator.
    pub reconciliation: String,
    /// Stages that failed (panicked) on their runner, with how many times.
    pub stage_failures: Vec<(&'static str, u64)>,
}

impl RunOutcome {
    pub fn stages(&self) -> impl Iterator<Item = &HotStage> {
        self.runners.iter().flat_map(|r| r.stages.iter())
    }

    /// Why recorded input could not be read to its end (a truncated `.cap.gz`, an I/O error):
    /// the run then covered only part of its input and must not pass for a complete one.
    pub fn input_error(&self) -> Option<&std::io::Error> {
        self.stages().find_map(|s| match s {
            HotStage::Feed(feed) => feed.io_error.as_ref(),
            _ => None,
        })
    }
}

const TICK: Duration = Duration::from_millis(1);
const KILL_FILE_EVERY: Duration = Duration::from_millis(100);

pub fn run(cfg: &Config) -> anyhow::Result<RunOutcome> {
    run_until(cfg, Arc::new(AtomicBool::new(false)))
}

/// [`run`], also stopped (as by SIGINT: intake stops, the rings drain) when `stop` is set:
/// for tools that run the engine in-process against a live source.
pub fn run_until(cfg: &Config, stop: Arc<AtomicBool>) -> anyhow::Result<RunOutcome> {
    let run_dir = RunDir::create(&cfg.engine.run_dir).map_err(anyhow::Error::msg)?;
    let tsc = quanta::Clock::new();
    let mut pipeline = pipeline::build(cfg, &tsc)?;
    // Unpaced replay runs on recorded time; a paced replay needs the wall clock to pace by.
    let unpaced = |s: &SourceConfig| matches!(s, SourceConfig::Capture { speed_milli: 0, .. });
    let clock = if cfg.all_sources().all(unpaced) {
        Clock::Replay(pipeline.replay_time.clone())
    } else {
        Clock::live()
    };
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&stop))
            .context("cannot install signal handler")?;
    }
    signal_hook::flag::register(signal_hook::consts::SIGUSR1, pipeline.kill.signal_flag())
        .context("cannot install SIGUSR1 handler")?;

    // A kill file present at start blocks the very first order. Anything at the path counts,
    // a dangling symlink too: it is only ever looked at, never opened.
    let kill_file = cfg
        .risk
        .kill_switch_file
        .clone()
        .unwrap_or_else(|| run_dir.kill_file(&cfg.engine.name));
    let kill_file_present = || std::fs::symlink_metadata(&kill_file).is_ok();
    if kill_file_present() {
        pipeline.kill.engage(HaltReason::KillFile);
    }
    // A backtest against the simulated venue has no money to protect across restarts; a real
    // venue without a journal is told what it gives up.
    let real_venue = !matches!(cfg.gateway, GatewayConfig::Sim(_));
    match (&pipeline.restored, &cfg.journal) {
        (Some(state), _) => eprintln!("pulse: restored from the journal: {}", state.describe()),
        (None, None) if real_venue => eprintln!(
            "pulse: no [journal]: a halt, the drawdown breaker and the day's PnL will not \
             survive a restart"
        ),
        (None, _) => {}
    }
    let reconciliation = pipeline.reconciliation.describe(&pipeline.instruments);
    if pipeline.reconciliation.halts() {
        eprintln!("pulse: reconcile: {reconciliation}");
    }
    let mut runners = assign(cfg, std::mem::take(&mut pipeline.stages))?;
    let start = pipeline.reconciliation.halts();
    let start = (!reconciliation.is_empty()).then(|| (reconciliation.clone(), start));
    let mut monitor = start_monitor(cfg, &run_dir, &mut pipeline, &mut runners, start)?;
    let stats_file = monitor.stats().path().map(Path::to_path_buf);
    let mut commands = ControlWatcher::new(run_dir.control_file(&cfg.engine.name));
    let layout: Vec<usize> = runners.iter().map(|r| r.stages.len()).collect();
    let stage_names = runner_labels(&runners);
    let control = Arc::new(RunControl::new(&layout));
    let mut failures = FailureWatch::new(stage_names);
    let started = Instant::now();
    let mut handles = Vec::with_capacity(runners.len());
    for (i, runner) in runners.into_iter().enumerate() {
        handles.push(runner.spawn(i, clock.clone(), Arc::clone(&control))?);
    }

    let mut cause = None;
    let mut drain_mark: Option<(u64, Vec<u64>)> = None;
    let mut last_kill_check = Instant::now();
    let mut mode = TradingMode::Armed;
    loop {
        std::thread::sleep(TICK);
        print_logs(&mut pipeline.logs);
        let failed = failures.scan(&control);
        monitor.tick(failed);
        if failed
            && cfg.runtime.on_stage_failure == StageFailurePolicy::Stop
            && control.phase() != Phase::Stopped
        {
            eprintln!("pulse: on_stage_failure = \"stop\": stopping the run");
            cause = Some(StopCause::StageFailure);
            control.set_phase(Phase::Stopped);
            break;
        }
        if handles.iter().any(|h| h.is_finished()) && control.phase() != Phase::Stopped {
            control.set_phase(Phase::Stopped);
            break;
        }
        if last_kill_check.elapsed() >= KILL_FILE_EVERY {
            last_kill_check = Instant::now();
            if kill_file_present() {
                pipeline.kill.engage(HaltReason::KillFile);
            }
        }
        let steer = Steer {
            kill: &pipeline.kill,
            flatten: Some((&pipeline.flatten, &pipeline.instruments)),
        };
        match commands.poll(steer, monitor.critical()) {
            Some(Applied::Done(cmd, _, by)) => {
                eprintln!("pulse: control: {} (uid {})", cmd.name(), by.uid);
                if cmd == crate::risk::control::Command::Flatten {
                    monitor.flatten_requested(commands.last_target(), by.uid);
                }
            }
            Some(Applied::Refused(cmd, why, by)) => {
                eprintln!(
                    "pulse: control: {} (uid {}) refused: {why}",
                    cmd.name(),
                    by.uid
                )
            }
            Some(Applied::Unknown(text, by)) => {
                eprintln!(
                    "pulse: control: unknown command {text:?} (uid {}) ignored",
                    by.uid
                )
            }
            Some(Applied::Ignored(why)) => eprintln!(
                "pulse: control: {} is {why}: removed unread (further ones are only counted)",
                commands.path().display()
            ),
            None => {}
        }
        let now_mode = pipeline.kill.mode();
        if now_mode != mode {
            let what = match now_mode {
                TradingMode::Killed => "kill switch engaged: no new orders, open orders cancelled",
                TradingMode::ReduceOnly => "reduce-only: only orders that reduce a position",
                TradingMode::Armed => "re-armed: trading resumes",
            };
            eprintln!("pulse: {what}");
            mode = now_mode;
        }
        match control.phase() {
            Phase::Running => {
                // Relaxed: the signal flag publishes no data; it is polled every tick.
                if stop.load(Ordering::Relaxed) {
                    eprintln!("pulse: stop requested: stopping intake, draining");
                    cause = Some(StopCause::Signal);
                    control.set_phase(Phase::Draining);
                } else if control.all_intake_done() {
                    cause = Some(StopCause::InputEnded);
                    control.set_phase(Phase::Draining);
                }
            }
            Phase::Draining => {
                let (work, passes) = control.snapshot();
                match &drain_mark {
                    Some((mark_work, mark_passes))
                        if passes
                            .iter()
                            .zip(mark_passes)
                            .all(|(now, then)| *now >= then + 2) =>
                    {
                        if work == *mark_work {
                            control.set_phase(Phase::Stopped);
                            break;
                        }
                        drain_mark = Some((work, passes));
                    }
                    Some(_) => {}
                    None => drain_mark = Some((work, passes)),
                }
            }
            Phase::Stopped => break,
        }
    }
    let elapsed = started.elapsed();
    if commands.ignored() > 0 {
        eprintln!(
            "pulse: control: {} planted file(s) at {} refused unread",
            commands.ignored(),
            commands.path().display()
        );
    }
    let mut finished = Vec::with_capacity(handles.len());
    let mut panicked = 0;
    for handle in handles {
        match handle.join() {
            Ok(f) => finished.push(f),
            Err(_) => panicked += 1,
        }
    }
    print_logs(&mut pipeline.logs);
    let failed = failures.scan(&control);
    if panicked > 0 {
        monitor.tick(true);
        bail!("{panicked} runner thread(s) failed; the run was stopped");
    }
    // The stages (and their journal appenders) go back to the caller for the summary: the
    // final sync covers every record they appended, and nothing appends after the join.
    let cause = cause.unwrap_or(StopCause::Signal);
    let report = monitor.finish(failed, cause.name());
    Ok(RunOutcome {
        runners: finished,
        cause,
        elapsed,
        kill_engaged: pipeline.kill.is_engaged(),
        latency: report.latency,
        transitions: report.transitions,
        health: report.health,
        ops: report.ops,
        journals: report.journals,
        stats_file,
        reconciliation,
        stage_failures: failures.totals(),
    })
}

/// Distributes the stages to runner threads as the config's thread layout says.
pub fn assign(cfg: &Config, stages: Vec<HotStage>) -> anyhow::Result<Vec<Runner>> {
    let mut stages: Vec<Option<HotStage>> = stages.into_iter().map(Some).collect();
    let mut runners = Vec::with_capacity(cfg.runtime.threads.len());
    for thread in &cfg.runtime.threads {
        let mut mine = Vec::with_capacity(thread.stages.len());
        for kind in &thread.stages {
            // Every stage of the kind: one, but a feed per source with `[[sources]]`.
            let before = mine.len();
            mine.extend(
                stages
                    .iter_mut()
                    .filter(|s| s.as_ref().is_some_and(|s| s.kind() == *kind))
                    .filter_map(Option::take),
            );
            // Only `[portfolio]` has a portfolio stage; a layout may name it regardless.
            if mine.len() == before && *kind != StageKind::Portfolio {
                bail!("stage {kind:?} is not available for thread {}", thread.name);
            }
        }
        let drill = cfg.runtime.fail_stage.and_then(|(kind, n)| {
            let at = mine.iter().position(|s| s.kind() == kind)?;
            Some(failure::Drill::new(at, n))
        });
        runners.push(Runner {
            name: thread.name.clone(),
            failures: failure::StageFailures::new(mine.len(), Vec::new()),
            stages: mine,
            core: thread.core,
            idle: thread.idle,
            publisher: None,
            drill,
        });
    }
    if let Some(left) = stages.iter().flatten().next() {
        bail!("stage {:?} is on no thread", left.kind());
    }
    Ok(runners)
}

/// By runner, its stages' names as failures are reported ([`stage_labels`]).
fn runner_labels(runners: &[Runner]) -> Vec<Vec<&'static str>> {
    let mut labels = stage_labels(runners.iter().flat_map(|r| &r.stages));
    runners
        .iter()
        .map(|r| labels.by_ref().take(r.stages.len()).collect())
        .collect()
}

/// Prints what the feeds' distinct-error logs hold.
fn print_logs(logs: &mut [rtrb::Consumer<LogRecord>]) {
    for log in logs {
        while let Ok(record) = log.pop() {
            print_log(&record);
        }
    }
}

pub(crate) fn print_log(record: &LogRecord) {
    let excerpt = String::from_utf8_lossy(record.excerpt());
    let detail = if record.detail.is_empty() {
        String::new()
    } else {
        format!(" `{}`", record.detail)
    };
    if record.line > 0 {
        eprintln!(
            "pulse: {}: {}{detail} (first at line {}; further ones are only counted): {excerpt}",
            record.stage, record.what, record.line
        );
    } else {
        eprintln!(
            "pulse: {}: {}{detail}: {excerpt}",
            record.stage, record.what
        );
    }
}
