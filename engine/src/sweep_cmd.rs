//! `pulse sweep`: many `pulse backtest` runs over a grid or random draws of declared
//! parameters (`configs/sweeps/*.toml`, `pulse_research::sweep`), `--jobs` at a time, then the
//! leaderboard (CSV, Parquet, HTML with a heatmap for two-parameter grids), walk-forward
//! selection in and out of sample, and the deflated Sharpe ratio.
//!
//! Each run is this program's own `pulse backtest` in a child process, so a row's `command`
//! reproduces it exactly, alone. `--plan-only` writes `plan.json` (every run's arguments) and
//! stops; `--collect` builds the leaderboard from runs another executor made from that plan
//! (`scripts/dask_sweep.py`): the same plan and runs give the same leaderboard bytes.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use anyhow::{bail, Context as _};
use pulse_research::sweep::{self, Finished, PlannedRun, SweepFile};
use serde::{Deserialize, Serialize};

#[derive(clap::Args, Debug)]
pub struct SweepArgs {
    /// The base config every run starts from.
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
    /// The sweep: parameters and their values, mode, ranking, walk-forward windows.
    #[arg(long, value_name = "SWEEP.toml")]
    pub grid: PathBuf,
    /// The recorded input of every run (as `pulse backtest --input`).
    #[arg(long, value_name = "PATH", num_args = 1.., required = true)]
    pub input: Vec<PathBuf>,
    /// Where the runs (`runs/NNNN/`), the plan and the leaderboard go.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Runs at a time (default: every core).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=256))]
    pub jobs: Option<u64>,
    /// Write `plan.json` and stop: another executor runs the plan.
    #[arg(long, conflicts_with = "collect")]
    pub plan_only: bool,
    /// Build the leaderboard from the runs already in `--out` (made from its `plan.json`).
    #[arg(long)]
    pub collect: bool,
    /// Keep each run's journal (`runs/NNNN/journal`); by default it is removed once the run's
    /// report is written (the row's command makes it again).
    #[arg(long)]
    pub keep_journals: bool,
}

/// `plan.json`: what every run is, as arguments of `pulse`.
#[derive(Debug, Serialize, Deserialize)]
pub struct Plan {
    pub runs: Vec<PlannedCommand>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct PlannedCommand {
    pub run: usize,
    pub sets: Vec<String>,
    pub scenario: String,
    /// The run's report directory, relative to `--out`.
    pub report: String,
    /// `pulse` arguments that make the run (its report into `--out`/`report`).
    pub args: Vec<String>,
}

pub fn run(args: &SweepArgs) -> ExitCode {
    match sweep(args) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("pulse sweep: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn backtest_args(
    args: &SweepArgs,
    file: &SweepFile,
    report: &Path,
    sets: &[String],
) -> Vec<String> {
    let mut v = vec![
        "backtest".to_string(),
        "--config".into(),
        args.config.display().to_string(),
        "--input".into(),
    ];
    v.extend(args.input.iter().map(|p| p.display().to_string()));
    v.push("--report".into());
    v.push(report.display().to_string());
    v.push("--interval-ms".into());
    v.push(file.sweep.interval_ms.to_string());
    for s in sets {
        v.push("--set".into());
        v.push(s.clone());
    }
    v
}

fn sweep(args: &SweepArgs) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(&args.grid)
        .with_context(|| format!("cannot read {}", args.grid.display()))?;
    let file = SweepFile::parse(&text).with_context(|| args.grid.display().to_string())?;
    std::fs::create_dir_all(args.out.join("runs"))
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let planned = file.plan();
    let plan = Plan {
        runs: planned
            .iter()
            .map(|p| {
                let report = format!("runs/{:04}", p.run);
                PlannedCommand {
                    run: p.run,
                    sets: p.sets.clone(),
                    scenario: p.scenario.clone(),
                    args: backtest_args(args, &file, &args.out.join(&report), &p.sets),
                    report,
                }
            })
            .collect(),
    };
    std::fs::write(
        args.out.join("plan.json"),
        serde_json::to_string_pretty(&plan)? + "\n",
    )?;
    if args.plan_only {
        return Ok(format!(
            "pulse sweep: {} runs planned in {}\n",
            plan.runs.len(),
            args.out.join("plan.json").display()
        ));
    }
    let mut out = String::new();
    if !args.collect {
        let jobs = args.jobs.map_or_else(
            || std::thread::available_parallelism().map_or(1, |n| n.get()),
            |j| j as usize,
        );
        let started = Instant::now();
        execute(
            &plan,
            jobs,
            (!args.keep_journals).then_some(args.out.as_path()),
        )?;
        let secs = started.elapsed().as_secs_f64();
        out.push_str(&format!(
            "pulse sweep: {} runs with {jobs} job(s) in {secs:.1} s ({:.1} runs/min)\n",
            plan.runs.len(),
            plan.runs.len() as f64 * 60.0 / secs
        ));
    }
    out.push_str(&collect(args, &file, &plan)?);
    Ok(out)
}

/// Runs the plan, `jobs` at a time; with `drop_journals_in`, removes each finished run's journal.
fn execute(plan: &Plan, jobs: usize, drop_journals_in: Option<&Path>) -> anyhow::Result<()> {
    let exe = std::env::current_exe().context("cannot find this program")?;
    let next = AtomicUsize::new(0);
    let failed: Mutex<Vec<String>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..jobs.min(plan.runs.len()).max(1) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(run) = plan.runs.get(i) else { break };
                let result = Command::new(&exe).args(&run.args).output();
                let problem = match result {
                    Ok(o) if o.status.success() => {
                        if let Some(out) = drop_journals_in {
                            let _ = std::fs::remove_dir_all(out.join(&run.report).join("journal"));
                        }
                        None
                    }
                    Ok(o) => Some(String::from_utf8_lossy(&o.stderr).trim().to_string()),
                    Err(e) => Some(e.to_string()),
                };
                if let Some(p) = problem {
                    if let Ok(mut f) = failed.lock() {
                        f.push(format!("run {}: {p}", run.run));
                    }
                }
            });
        }
    });
    let failed = failed.into_inner().unwrap_or_default();
    if !failed.is_empty() {
        bail!("{} run(s) failed:\n{}", failed.len(), failed.join("\n"));
    }
    Ok(())
}

fn read_run(dir: &Path, planned: PlannedRun) -> anyhow::Result<Finished> {
    let report: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.join("report.json"))
            .with_context(|| format!("run {}: no report in {}", planned.run, dir.display()))?,
    )?;
    let portfolio: pulse_research::metrics::Portfolio =
        serde_json::from_value(null_to_nan(report["portfolio"].clone()))?;
    let text = std::fs::read_to_string(dir.join("equity.csv"))?;
    let (mut ts, mut equity) = (Vec::new(), Vec::new());
    for line in text.lines().skip(1) {
        let mut cells = line.split(',');
        let (Some(t), Some(e)) = (cells.next(), cells.next()) else {
            bail!("run {}: a short line in equity.csv", planned.run);
        };
        ts.push(t.parse()?);
        equity.push(e.parse()?);
    }
    let num = |v: &serde_json::Value| v.as_f64().unwrap_or(f64::NAN);
    Ok(Finished {
        planned,
        portfolio,
        round_trips: report["trades"]["round_trips"].as_u64().unwrap_or(0),
        win_rate: num(&report["trades"]["win_rate"]),
        fees: num(&report["activity"]["fees"]),
        turnover: num(&report["activity"]["turnover"]),
        ts,
        equity,
    })
}

/// `null` (a figure that does not exist) as NaN, for the numeric fields.
fn null_to_nan(v: serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Object(m) => serde_json::Value::Object(
            m.into_iter()
                .map(|(k, x)| (k, if x.is_null() { f64::NAN.into() } else { x }))
                .collect(),
        ),
        other => other,
    }
}

fn collect(args: &SweepArgs, file: &SweepFile, plan: &Plan) -> anyhow::Result<String> {
    let runs: Vec<Finished> = plan
        .runs
        .iter()
        .map(|p| {
            read_run(
                &args.out.join(&p.report),
                PlannedRun {
                    run: p.run,
                    sets: p.sets.clone(),
                    scenario: p.scenario.clone(),
                },
            )
        })
        .collect::<anyhow::Result<_>>()?;
    let command = |p: &PlannedRun| {
        let report = PathBuf::from(format!("runs/{:04}", p.run));
        format!(
            "pulse {}",
            backtest_args(args, file, &report, &p.sets).join(" ")
        )
    };
    let table = sweep::leaderboard(file, &runs, &command);
    std::fs::write(args.out.join("leaderboard.csv"), table.to_csv())?;
    table.to_parquet(&args.out.join("leaderboard.parquet"))?;
    // Walk-forward and the deflated Sharpe ratio look at the first scenario's runs (the market
    // as recorded, when it is listed first).
    let first = file.scenarios.first().map(|s| s.name.clone());
    let base: Vec<Finished> = runs
        .iter()
        .filter(|r| first.as_ref().is_none_or(|n| &r.planned.scenario == n))
        .cloned()
        .collect();
    let walk = sweep::walk_forward(file, &base);
    let returns: Vec<Vec<f64>> = base
        .iter()
        .map(|r| r.equity.windows(2).map(|w| w[1] / w[0] - 1.0).collect())
        .collect();
    let deflated = pulse_research::deflated::deflated(&returns);
    let scenarios = sweep::scenarios(file, &runs);
    let summary = serde_json::json!({
        "runs": runs.len(),
        "rank_by": file.sweep.rank_by,
        "deflated_sharpe": deflated,
        "walk_forward": walk,
        "scenarios": scenarios,
    });
    std::fs::write(
        args.out.join("sweep.json"),
        serde_json::to_string_pretty(&summary)? + "\n",
    )?;
    let html = pulse_research::sweep_html::render(
        file,
        &runs,
        walk.as_ref(),
        deflated.as_ref(),
        &scenarios,
    );
    std::fs::write(args.out.join("leaderboard.html"), html)?;
    let order = sweep::ranking(&runs, &file.sweep.rank_by);
    let mut s = String::new();
    if let Some(&best) = order.first() {
        let b = &runs[best];
        s.push_str(&format!(
            "  best by {}: run {} ({}): {} = {:.6}\n",
            file.sweep.rank_by,
            b.planned.run,
            b.planned.sets.join(" "),
            file.sweep.rank_by,
            sweep::figure(&b.portfolio, &file.sweep.rank_by)
        ));
    }
    if let Some(d) = &deflated {
        s.push_str(&format!(
            "  deflated Sharpe ratio of the best of {}: {:.4} (probabilistic, alone: {:.4})\n",
            d.trials, d.deflated_sharpe, d.probabilistic_sharpe
        ));
    }
    if let Some(w) = &walk {
        s.push_str(&format!(
            "  walk-forward over {} windows: {} in sample {:.4}, out of sample {:.4} (median run {:.4})\n",
            w.windows.len(),
            w.rank_by,
            w.mean_in_sample,
            w.mean_out_of_sample,
            w.mean_test_median
        ));
    }
    s.push_str(&format!(
        "  leaderboard: {}\n",
        args.out.join("leaderboard.html").display()
    ));
    Ok(s)
}
