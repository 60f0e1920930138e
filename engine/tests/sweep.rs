//! `pulse sweep` on the bundled capture: a 2 x 2 grid ranked best first, the same leaderboard
//! bytes with one job or two, a row's command reproducing its run alone, walk-forward windows
//! and the deflated Sharpe ratio in `sweep.json`, a heatmap in the HTML; and the same sweep on
//! a local Dask cluster of two workers (`scripts/dask_sweep.py`) giving the identical
//! leaderboard.

mod research_support;

use std::path::Path;
use std::process::Command;

use research_support::fresh_dir;
use research_support::outside_tools::{have, python, repo};
use serde_json::Value;

const GRID: &str = "[sweep]\nrank_by = \"sharpe\"\n\
[[params]]\nkey = \"strategy.cooldown_ms\"\nvalues = [500, 4000]\n\
[[params]]\nkey = \"strategy.min_confidence\"\nvalues = [\"0.6\", \"0.7\"]\n\
[walk_forward]\ntrain_s = 120\ntest_s = 60\n";

fn sweep_args(grid: &Path, out: &Path) -> Vec<String> {
    let root = repo();
    vec![
        "--config".into(),
        root.join("configs/demo.toml").display().to_string(),
        "--grid".into(),
        grid.display().to_string(),
        "--input".into(),
        root.join("data/binance_spot_btcusdt_2024-08-08.cap.gz")
            .display()
            .to_string(),
        "--out".into(),
        out.display().to_string(),
    ]
}

fn sweep(grid: &Path, out: &Path, jobs: &str) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_pulse"))
        .arg("sweep")
        .args(sweep_args(grid, out))
        .args(["--jobs", jobs])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn a_grid_sweep_ranks_reproducible_runs_and_walks_forward() {
    let dir = fresh_dir("sweep-grid");
    let grid = dir.join("grid.toml");
    std::fs::write(&grid, GRID).unwrap();
    let (one, two) = (dir.join("one"), dir.join("two"));
    sweep(&grid, &one, "1");
    let text = sweep(&grid, &two, "2");
    assert!(text.contains("4 runs with 2 job(s)"), "{text}");
    let board = std::fs::read_to_string(two.join("leaderboard.csv")).unwrap();
    assert_eq!(
        board,
        std::fs::read_to_string(one.join("leaderboard.csv")).unwrap()
    );
    assert_eq!(
        std::fs::read(two.join("sweep.json")).unwrap(),
        std::fs::read(one.join("sweep.json")).unwrap()
    );
    let rows: Vec<Vec<&str>> = board
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    assert_eq!(rows.len(), 4);
    let header: Vec<&str> = board.lines().next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    // Best first, each row's figure the one in its own run's report.
    let sharpe: Vec<f64> = rows
        .iter()
        .map(|r| r[col("sharpe")].parse().unwrap())
        .collect();
    assert!(sharpe.windows(2).all(|w| w[0] >= w[1]), "{sharpe:?}");
    for r in &rows {
        let run: usize = r[col("run")].parse().unwrap();
        let report: Value = serde_json::from_slice(
            &std::fs::read(two.join(format!("runs/{run:04}/report.json"))).unwrap(),
        )
        .unwrap();
        assert_eq!(
            report["portfolio"]["sharpe"].as_f64().unwrap(),
            r[col("sharpe")].parse::<f64>().unwrap()
        );
    }
    // The parameters changed what the strategy did: four configurations, not one run four times.
    let trips: std::collections::BTreeSet<&str> =
        rows.iter().map(|r| r[col("round_trips")]).collect();
    assert!(trips.len() > 1, "{board}");
    // The best row's command, run alone, writes the same report.
    let command = rows[0][col("command")];
    let args: Vec<&str> = command.split(' ').skip(1).collect();
    let report_at = args.iter().position(|a| *a == "--report").unwrap() + 1;
    let again = dir.join("again");
    let mut args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    args[report_at] = again.display().to_string();
    let o = Command::new(env!("CARGO_BIN_EXE_pulse"))
        .args(&args)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let run: usize = rows[0][col("run")].parse().unwrap();
    assert_eq!(
        std::fs::read(again.join("report.json")).unwrap(),
        std::fs::read(two.join(format!("runs/{run:04}/report.json"))).unwrap()
    );
    // Walk-forward: 120 s train, 60 s test over about 346 s: three windows, each with a chosen
    // run and its figures in and out of sample; the deflated Sharpe ratio counts four tries.
    let summary: Value =
        serde_json::from_slice(&std::fs::read(two.join("sweep.json")).unwrap()).unwrap();
    let windows = summary["walk_forward"]["windows"].as_array().unwrap();
    assert_eq!(windows.len(), 3, "{summary}");
    for w in windows {
        assert!(w["chosen_run"].as_u64().unwrap() < 4);
        assert!(
            w["in_sample"].is_number() && w["out_of_sample"].is_number(),
            "{w}"
        );
    }
    assert_eq!(summary["deflated_sharpe"]["trials"], 4);
    let dsr = summary["deflated_sharpe"]["deflated_sharpe"]
        .as_f64()
        .unwrap();
    assert!((0.0..=1.0).contains(&dsr));
    let html = std::fs::read_to_string(two.join("leaderboard.html")).unwrap();
    assert_eq!(html.matches("class=\"cell\"").count(), 4, "a 2 x 2 heatmap");
    assert!(html.contains("id=\"walk-forward\"") && html.contains("id=\"deflated\""));
    let parquet = std::fs::read(two.join("leaderboard.parquet")).unwrap();
    assert!(parquet.starts_with(b"PAR1"));
}

#[test]
fn the_same_sweep_on_a_two_worker_dask_cluster_gives_the_same_leaderboard() {
    let py = python(&["dask.distributed"]);
    if !have(
        py.is_some(),
        "a Python with dask[distributed]",
        ".ci/run makes .ci/venv; or set PULSE_PYTHON",
    ) {
        return;
    }
    let dir = fresh_dir("sweep-dask");
    let grid = dir.join("grid.toml");
    std::fs::write(&grid, GRID).unwrap();
    let local = dir.join("local");
    sweep(&grid, &local, "2");
    let cluster = dir.join("dask");
    let o = Command::new(py.unwrap())
        .arg(repo().join("scripts/dask_sweep.py"))
        .args([
            "--pulse",
            env!("CARGO_BIN_EXE_pulse"),
            "--workers",
            "2",
            "--",
        ])
        .args(sweep_args(&grid, &cluster))
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.contains("4 runs on 2 Dask worker(s)"), "{out}");
    for file in ["leaderboard.csv", "sweep.json", "leaderboard.html"] {
        assert_eq!(
            std::fs::read(cluster.join(file)).unwrap(),
            std::fs::read(local.join(file)).unwrap(),
            "{file}"
        );
    }
}

#[test]
fn a_sweep_crosses_parameters_with_named_scenarios() {
    let dir = fresh_dir("sweep-scenarios");
    let grid = dir.join("grid.toml");
    std::fs::write(
        &grid,
        "[sweep]\nrank_by = \"total_return\"\n\
         [[params]]\nkey = \"strategy.cooldown_ms\"\nvalues = [500, 4000]\n\
         [[scenarios]]\nname = \"recorded\"\n\
         [[scenarios]]\nname = \"crash\"\nset = [\"scenario.at_s=120\", \"scenario.price_shock_pct=-5\"]\n",
    )
    .unwrap();
    let out = dir.join("out");
    sweep(&grid, &out, "2");
    let summary: Value =
        serde_json::from_slice(&std::fs::read(out.join("sweep.json")).unwrap()).unwrap();
    let scenarios = summary["scenarios"].as_array().unwrap();
    let names: Vec<&str> = scenarios
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["recorded", "crash"]);
    assert!(scenarios.iter().all(|s| s["runs"] == 2));
    // The shock changed what the strategy made.
    let best = |i: usize| scenarios[i]["best"].as_f64().unwrap();
    assert_ne!(best(0), best(1));
    let board = std::fs::read_to_string(out.join("leaderboard.csv")).unwrap();
    assert!(
        board.lines().next().unwrap().contains(",scenario,"),
        "{board}"
    );
    assert_eq!(board.lines().filter(|l| l.contains(",crash,")).count(), 2);
    // Each crash run's report names its scenario.
    let plan: Value =
        serde_json::from_slice(&std::fs::read(out.join("plan.json")).unwrap()).unwrap();
    for run in plan["runs"].as_array().unwrap() {
        let report: Value = serde_json::from_slice(
            &std::fs::read(
                out.join(run["report"].as_str().unwrap())
                    .join("report.json"),
            )
            .unwrap(),
        )
        .unwrap();
        let want = if run["scenario"] == "crash" {
            "crash"
        } else {
            ""
        };
        assert_eq!(report["meta"]["scenario"], want);
    }
    assert!(std::fs::read_to_string(out.join("leaderboard.html"))
        .unwrap()
        .contains("id=\"scenarios\""));
}

/// The shipped walk-forward example runs as the README says, and its report shows in- and
/// out-of-sample side by side; the shipped stress example plans its 4 x 6 runs.
#[test]
fn the_shipped_sweep_examples_run_and_plan() {
    let dir = fresh_dir("sweep-examples");
    let out = dir.join("walk");
    sweep(
        &repo().join("configs/sweeps/demo-walk-forward.toml"),
        &out,
        "2",
    );
    let summary: Value =
        serde_json::from_slice(&std::fs::read(out.join("sweep.json")).unwrap()).unwrap();
    assert_eq!(summary["runs"], 9);
    let w = &summary["walk_forward"];
    assert_eq!(w["windows"].as_array().unwrap().len(), 3, "{w}");
    assert!(
        w["mean_in_sample"].is_number() && w["mean_out_of_sample"].is_number(),
        "{w}"
    );
    let html = std::fs::read_to_string(out.join("leaderboard.html")).unwrap();
    assert!(html.contains("in sample") && html.contains("out of sample"));
    let stress = dir.join("stress");
    let o = Command::new(env!("CARGO_BIN_EXE_pulse"))
        .arg("sweep")
        .args(sweep_args(
            &repo().join("configs/sweeps/demo-stress.toml"),
            &stress,
        ))
        .arg("--plan-only")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let plan: Value =
        serde_json::from_slice(&std::fs::read(stress.join("plan.json")).unwrap()).unwrap();
    assert_eq!(plan["runs"].as_array().unwrap().len(), 24);
}
