//! Sweeps: the plan (a grid of every combination, or seeded random draws, of declared
//! parameters), the leaderboard of the finished runs, and walk-forward selection with the
//! deflated Sharpe ratio, so that the best of many tries is not mistaken for skill.
//!
//! Every run is one `pulse backtest` with its `--set`s: its row names them, so any row can be
//! run again by itself. The plan and the leaderboard are functions of the sweep file and the
//! runs' reports only (no times, no host), so two executors that run the same plan, here or on
//! a cluster, write the same leaderboard bytes.

use serde::{Deserialize, Serialize};

use crate::metrics::{self, Portfolio};
use crate::tables::{Column, Table};

/// The sweep file (`configs/sweeps/*.toml`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepFile {
    pub sweep: SweepSection,
    #[serde(default)]
    pub params: Vec<Param>,
    pub walk_forward: Option<WalkForward>,
    /// Stress scenarios crossed with the parameters: every parameter set runs under each.
    /// The first is the one walk-forward and the deflated Sharpe ratio look at (list the market
    /// as recorded first, a scenario without `set`).
    #[serde(default)]
    pub scenarios: Vec<ScenarioSpec>,
}

/// A named scenario: `KEY=VALUE`s of the config's `[scenario]` table
/// (`scenario.price_shock_pct=-5`, `scenario.at_s=60`, `scenario.depth_scale=0.5`, ...).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioSpec {
    pub name: String,
    #[serde(default)]
    pub set: Vec<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepSection {
    /// `grid` (every combination) or `random` (`samples` draws).
    #[serde(default = "grid")]
    pub mode: String,
    #[serde(default)]
    pub samples: usize,
    #[serde(default = "seed")]
    pub seed: u64,
    /// The report figure runs are ranked by, largest first: a key of its `portfolio` section
    /// (`sharpe`, `total_return`, `sortino`, `calmar`, ...).
    #[serde(default = "sharpe")]
    pub rank_by: String,
    #[serde(default = "interval")]
    pub interval_ms: u64,
}

fn grid() -> String {
    "grid".into()
}
fn seed() -> u64 {
    7
}
fn sharpe() -> String {
    "sharpe".into()
}
fn interval() -> u64 {
    1000
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Param {
    /// A dotted config key, as `pulse backtest --set` takes it.
    pub key: String,
    /// Its values, as TOML text would write them (`"0.6"`, `250`).
    pub values: Vec<toml::Value>,
}

/// Rolling windows of market time, seconds: each `train` window picks the parameters, the
/// `test` window right after it scores them; windows move on by `step` (default `test`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WalkForward {
    pub train_s: u64,
    pub test_s: u64,
    pub step_s: Option<u64>,
}

/// One run of the plan: its number and its `KEY=VALUE`s.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlannedRun {
    pub run: usize,
    pub sets: Vec<String>,
    /// The scenario's name (empty without scenarios).
    #[serde(default)]
    pub scenario: String,
}

/// The portfolio figures a run can be ranked by.
pub const RANKABLE: [&str; 8] = [
    "sharpe",
    "sortino",
    "calmar",
    "total_return",
    "annual_return",
    "max_drawdown",
    "var_hist_95",
    "cvar_hist_95",
];

impl SweepFile {
    pub fn parse(text: &str) -> anyhow::Result<SweepFile> {
        let f: SweepFile = toml::from_str(text)?;
        if !RANKABLE.contains(&f.sweep.rank_by.as_str()) {
            anyhow::bail!(
                "sweep.rank_by = {:?}: one of {}",
                f.sweep.rank_by,
                RANKABLE.join(", ")
            );
        }
        if f.params.is_empty() || f.params.iter().any(|p| p.values.is_empty()) {
            anyhow::bail!("a sweep needs at least one [[params]], each with values");
        }
        match f.sweep.mode.as_str() {
            "grid" => {}
            "random" if f.sweep.samples > 0 => {}
            "random" => anyhow::bail!("a random sweep needs sweep.samples > 0"),
            m => anyhow::bail!("sweep.mode = {m:?}: \"grid\" or \"random\""),
        }
        if f.sweep.interval_ms == 0 {
            anyhow::bail!("sweep.interval_ms must be at least 1");
        }
        if let Some(w) = &f.walk_forward {
            if w.train_s == 0 || w.test_s == 0 || w.step_s == Some(0) {
                anyhow::bail!("walk_forward: train_s, test_s and step_s must be positive");
            }
        }
        if f.scenarios.iter().any(|s| s.name.is_empty())
            || f.scenarios
                .iter()
                .flat_map(|s| &s.set)
                .any(|k| !k.starts_with("scenario."))
        {
            anyhow::bail!("each [[scenarios]] needs a name, and its `set` keys are scenario.*");
        }
        let runs = f.plan().len();
        if runs > 100_000 {
            anyhow::bail!("{runs} runs: a sweep is limited to 100000");
        }
        Ok(f)
    }

    /// The runs, numbered from 0: a grid in row-major order of the params (the last changes
    /// fastest); random draws from a seeded generator, each a value of every param.
    pub fn plan(&self) -> Vec<PlannedRun> {
        let text = |p: &Param, i: usize| format!("{}={}", p.key, value_text(&p.values[i]));
        let picks: Vec<Vec<usize>> = if self.sweep.mode == "random" {
            let mut rng = SplitMix(self.sweep.seed);
            (0..self.sweep.samples)
                .map(|_| {
                    self.params
                        .iter()
                        .map(|p| (rng.next() % p.values.len() as u64) as usize)
                        .collect()
                })
                .collect()
        } else {
            let total: usize = self.params.iter().map(|p| p.values.len()).product();
            (0..total)
                .map(|mut k| {
                    let mut pick = vec![0; self.params.len()];
                    for (i, p) in self.params.iter().enumerate().rev() {
                        pick[i] = k % p.values.len();
                        k /= p.values.len();
                    }
                    pick
                })
                .collect()
        };
        let none = [ScenarioSpec {
            name: String::new(),
            set: Vec::new(),
        }];
        let scenarios = if self.scenarios.is_empty() {
            &none[..]
        } else {
            &self.scenarios[..]
        };
        let mut runs = Vec::new();
        for sc in scenarios {
            for pick in &picks {
                let mut sets: Vec<String> = self
                    .params
                    .iter()
                    .zip(pick)
                    .map(|(p, &i)| text(p, i))
                    .collect();
                if !sc.set.is_empty() {
                    sets.extend(sc.set.iter().cloned());
                    sets.push(format!("scenario.name={}", sc.name));
                }
                runs.push(PlannedRun {
                    run: runs.len(),
                    sets,
                    scenario: sc.name.clone(),
                });
            }
        }
        runs
    }
}

/// A value as it goes on the command line: strings bare, the rest as TOML writes them.
fn value_text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// A finished run: its plan entry, its report's portfolio figures, a few trade figures, and
/// its equity curve for the walk-forward windows.
#[derive(Clone)]
pub struct Finished {
    pub planned: PlannedRun,
    pub portfolio: Portfolio,
    pub round_trips: u64,
    pub win_rate: f64,
    pub fees: f64,
    pub turnover: f64,
    pub ts: Vec<u64>,
    pub equity: Vec<f64>,
}

pub fn figure(p: &Portfolio, name: &str) -> f64 {
    match name {
        "sharpe" => p.sharpe,
        "sortino" => p.sortino,
        "calmar" => p.calmar,
        "total_return" => p.total_return,
        "annual_return" => p.annual_return,
        "max_drawdown" => p.max_drawdown,
        "var_hist_95" => p.var_hist_95,
        "cvar_hist_95" => p.cvar_hist_95,
        _ => f64::NAN,
    }
}

/// Run numbers from best to worst by `rank_by` (NaN last, ties by run number).
pub fn ranking(runs: &[Finished], rank_by: &str) -> Vec<usize> {
    let mut order: Vec<usize> = (0..runs.len()).collect();
    let key = |i: usize| {
        let v = figure(&runs[i].portfolio, rank_by);
        if v.is_nan() {
            f64::NEG_INFINITY
        } else {
            v
        }
    };
    order.sort_by(|&a, &b| key(b).total_cmp(&key(a)).then(a.cmp(&b)));
    order
}

/// The leaderboard table: one row per run, best first.
pub fn leaderboard(
    file: &SweepFile,
    runs: &[Finished],
    command: &dyn Fn(&PlannedRun) -> String,
) -> Table {
    let order = ranking(runs, &file.sweep.rank_by);
    let rows: Vec<&Finished> = order.iter().map(|&i| &runs[i]).collect();
    let f = |g: &dyn Fn(&Finished) -> f64| Column::F64(rows.iter().map(|r| g(r)).collect());
    let mut columns = vec![
        (
            "rank".to_string(),
            Column::U64((1..=rows.len() as u64).collect()),
        ),
        (
            "run".into(),
            Column::U64(rows.iter().map(|r| r.planned.run as u64).collect()),
        ),
    ];
    for (i, p) in file.params.iter().enumerate() {
        columns.push((
            p.key.clone(),
            Column::Str(
                rows.iter()
                    .map(|r| {
                        let set = &r.planned.sets[i];
                        set.split_once('=')
                            .map_or(String::new(), |(_, v)| v.to_string())
                    })
                    .collect(),
            ),
        ));
    }
    for name in [
        "sharpe",
        "sortino",
        "total_return",
        "max_drawdown",
        "var_hist_95",
    ] {
        columns.push((name.to_string(), f(&|r| figure(&r.portfolio, name))));
    }
    columns.push((
        "round_trips".into(),
        Column::U64(rows.iter().map(|r| r.round_trips).collect()),
    ));
    columns.push(("win_rate".into(), f(&|r| r.win_rate)));
    columns.push(("fees".into(), f(&|r| r.fees)));
    columns.push(("turnover".into(), f(&|r| r.turnover)));
    if !file.scenarios.is_empty() {
        columns.push((
            "scenario".into(),
            Column::Str(rows.iter().map(|r| r.planned.scenario.clone()).collect()),
        ));
    }
    columns.push((
        "command".into(),
        Column::Str(rows.iter().map(|r| command(&r.planned)).collect()),
    ));
    Table {
        name: "leaderboard".into(),
        columns,
    }
}

/// One walk-forward window.
#[derive(Clone, Debug, Serialize)]
pub struct WindowResult {
    pub train_from_s: f64,
    pub train_to_s: f64,
    pub test_to_s: f64,
    /// The run the train window chose, and its figure there (in sample).
    pub chosen_run: usize,
    pub in_sample: f64,
    /// The chosen run's figure on the test window (out of sample).
    pub out_of_sample: f64,
    /// The median figure of every run on the test window: what picking blindly gives.
    pub test_median: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct WalkForwardReport {
    pub rank_by: String,
    pub windows: Vec<WindowResult>,
    pub mean_in_sample: f64,
    pub mean_out_of_sample: f64,
    pub mean_test_median: f64,
}

fn slice_figure(run: &Finished, from: u64, to: u64, interval_ns: u64, rank_by: &str) -> f64 {
    // The window's curve starts at its last grid point before `from`.
    let start = run.ts.iter().rposition(|&t| t < from).unwrap_or(0);
    let end = run
        .ts
        .iter()
        .rposition(|&t| t <= to)
        .map_or(start, |e| e + 1);
    if end <= start + 2 {
        return f64::NAN;
    }
    let p = metrics::portfolio(&run.equity[start..end], &run.ts[start..end], interval_ns);
    figure(&p, rank_by)
}

pub fn walk_forward(file: &SweepFile, runs: &[Finished]) -> Option<WalkForwardReport> {
    let w = file.walk_forward.as_ref()?;
    let interval = file.sweep.interval_ms * 1_000_000;
    let start = runs.iter().filter_map(|r| r.ts.first().copied()).min()?;
    let end = runs.iter().filter_map(|r| r.ts.last().copied()).max()?;
    let s = 1_000_000_000u64;
    let (train, test, step) = (
        w.train_s * s,
        w.test_s * s,
        w.step_s.unwrap_or(w.test_s) * s,
    );
    let rank_by = file.sweep.rank_by.as_str();
    let mut windows = Vec::new();
    let mut from = start;
    while from + train + test <= end {
        let train_to = from + train;
        let test_to = train_to + test;
        let is: Vec<f64> = runs
            .iter()
            .map(|r| slice_figure(r, from, train_to, interval, rank_by))
            .collect();
        let oos: Vec<f64> = runs
            .iter()
            .map(|r| slice_figure(r, train_to, test_to, interval, rank_by))
            .collect();
        let chosen = (0..runs.len())
            .max_by(|&a, &b| {
                let k = |i: usize| {
                    if is[i].is_nan() {
                        f64::NEG_INFINITY
                    } else {
                        is[i]
                    }
                };
                k(a).total_cmp(&k(b)).then(b.cmp(&a))
            })
            .unwrap_or(0);
        let mut sorted: Vec<f64> = oos.iter().copied().filter(|v| v.is_finite()).collect();
        sorted.sort_by(f64::total_cmp);
        let median = metrics::quantile(&sorted, 0.5);
        windows.push(WindowResult {
            train_from_s: (from - start) as f64 / 1e9,
            train_to_s: (train_to - start) as f64 / 1e9,
            test_to_s: (test_to - start) as f64 / 1e9,
            chosen_run: runs[chosen].planned.run,
            in_sample: is[chosen],
            out_of_sample: oos[chosen],
            test_median: median,
        });
        from += step;
    }
    let mean = |f: &dyn Fn(&WindowResult) -> f64| {
        let v: Vec<f64> = windows.iter().map(f).filter(|v| v.is_finite()).collect();
        v.iter().fold(0.0, |a, b| a + b) / v.len() as f64
    };
    Some(WalkForwardReport {
        rank_by: rank_by.to_string(),
        mean_in_sample: mean(&|w| w.in_sample),
        mean_out_of_sample: mean(&|w| w.out_of_sample),
        mean_test_median: mean(&|w| w.test_median),
        windows,
    })
}

/// One scenario's runs, by the ranked figure.
#[derive(Clone, Debug, Serialize)]
pub struct ScenarioSummary {
    pub name: String,
    pub runs: usize,
    pub best_run: usize,
    pub best: f64,
    pub median: f64,
    pub worst: f64,
}

pub fn scenarios(file: &SweepFile, runs: &[Finished]) -> Vec<ScenarioSummary> {
    file.scenarios
        .iter()
        .filter_map(|sc| {
            let mine: Vec<&Finished> = runs
                .iter()
                .filter(|r| r.planned.scenario == sc.name)
                .collect();
            let mut v: Vec<(f64, usize)> = mine
                .iter()
                .map(|r| (figure(&r.portfolio, &file.sweep.rank_by), r.planned.run))
                .filter(|(x, _)| x.is_finite())
                .collect();
            v.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            let (best, best_run) = *v.first()?;
            let n = v.len();
            let ascending: Vec<f64> = v.iter().rev().map(|x| x.0).collect();
            let median = metrics::quantile(&ascending, 0.5);
            Some(ScenarioSummary {
                name: sc.name.clone(),
                runs: mine.len(),
                best_run,
                best,
                median,
                worst: v[n - 1].0,
            })
        })
        .collect()
}
