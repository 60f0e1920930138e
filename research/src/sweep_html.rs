//! `leaderboard.html`: the sweep's leaderboard, a heatmap of the ranked figure when the grid has
//! two parameters, the walk-forward windows in and out of sample, and the deflated Sharpe
//! ratio. Self-contained like the backtest report.

use std::fmt::Write as _;

use crate::deflated::Deflated;
use crate::svg::{escape, fmt};
use crate::sweep::{figure, ranking, Finished, ScenarioSummary, SweepFile, WalkForwardReport};

fn color(v: f64, lo: f64, hi: f64) -> String {
    if !v.is_finite() {
        return "#ddd".into();
    }
    let t = if hi > lo { (v - lo) / (hi - lo) } else { 0.5 };
    // red (worst) to green (best)
    let r = (220.0 * (1.0 - t) + 40.0 * t) as u8;
    let g = (60.0 * (1.0 - t) + 170.0 * t) as u8;
    format!("#{r:02x}{g:02x}60")
}

fn value_of(run: &Finished, i: usize) -> String {
    run.planned.sets[i]
        .split_once('=')
        .map_or(String::new(), |(_, v)| v.to_string())
}

pub fn render(
    file: &SweepFile,
    runs: &[Finished],
    walk: Option<&WalkForwardReport>,
    deflated: Option<&Deflated>,
    scenarios: &[ScenarioSummary],
) -> String {
    let rank_by = file.sweep.rank_by.as_str();
    let mut s = String::new();
    let _ = write!(
        s,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Pulse sweep</title><style>{CSS}</style></head><body><h1>Pulse sweep: {} runs, ranked by {}</h1>",
        runs.len(),
        escape(rank_by)
    );
    if let Some(d) = deflated {
        let _ = write!(
            s,
            "<section id=\"deflated\"><h2>Deflated Sharpe ratio</h2><p>The best of {} configurations (run {}) has a Sharpe ratio of {} per interval over {} intervals; {} tries of luck alone would be expected to reach {}. Probability its true Sharpe ratio is above zero: <b>{}</b> counting the {} tries (deflated), {} if it had been the only one tried.</p></section>",
            d.trials,
            d.selected_run,
            fmt(d.sharpe),
            d.observations,
            d.trials,
            fmt(d.expected_max_sharpe),
            fmt(d.deflated_sharpe),
            d.trials,
            fmt(d.probabilistic_sharpe)
        );
    }
    if file.params.len() == 2 && file.sweep.mode == "grid" {
        let (a, b) = (&file.params[0], &file.params[1]);
        let values: Vec<f64> = runs.iter().map(|r| figure(&r.portfolio, rank_by)).collect();
        let fin = values.iter().copied().filter(|v| v.is_finite());
        let lo = fin.clone().fold(f64::INFINITY, f64::min);
        let hi = fin.fold(f64::NEG_INFINITY, f64::max);
        let _ = write!(
            s,
            "<section><h2>{} by {} (rows) and {} (columns)</h2><table id=\"heatmap\"><tr><th></th>",
            escape(rank_by),
            escape(&a.key),
            escape(&b.key)
        );
        let nb = b.values.len();
        for run in runs.iter().take(nb) {
            let _ = write!(s, "<th>{}</th>", escape(&value_of(run, 1)));
        }
        s.push_str("</tr>");
        for i in 0..a.values.len() {
            let _ = write!(s, "<tr><th>{}</th>", escape(&value_of(&runs[i * nb], 0)));
            for j in 0..nb {
                let v = values[i * nb + j];
                let _ = write!(
                    s,
                    "<td class=\"cell\" style=\"background:{}\" title=\"run {}\">{}</td>",
                    color(v, lo, hi),
                    i * nb + j,
                    fmt(v)
                );
            }
            s.push_str("</tr>");
        }
        s.push_str("</table></section>");
    }
    if let Some(w) = walk {
        let _ = write!(
            s,
            "<section id=\"walk-forward\"><h2>Walk-forward: {} in sample and out of sample</h2><p>Mean over {} windows: in sample {}, out of sample {}, the median configuration out of sample {}.</p><table><tr><th>train from (s)</th><th>train to</th><th>test to</th><th>chosen run</th><th>in sample</th><th>out of sample</th><th>median of all runs, out of sample</th></tr>",
            escape(&w.rank_by),
            w.windows.len(),
            fmt(w.mean_in_sample),
            fmt(w.mean_out_of_sample),
            fmt(w.mean_test_median)
        );
        for x in &w.windows {
            let _ = write!(
                s,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                fmt(x.train_from_s),
                fmt(x.train_to_s),
                fmt(x.test_to_s),
                x.chosen_run,
                fmt(x.in_sample),
                fmt(x.out_of_sample),
                fmt(x.test_median)
            );
        }
        s.push_str("</table></section>");
    }
    if !scenarios.is_empty() {
        let _ = write!(
            s,
            "<section id=\"scenarios\"><h2>{} under each scenario</h2><table><tr><th>scenario</th><th>runs</th><th>best run</th><th>best</th><th>median</th><th>worst</th></tr>",
            escape(rank_by)
        );
        for sc in scenarios {
            let _ = write!(
                s,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&sc.name),
                sc.runs,
                sc.best_run,
                fmt(sc.best),
                fmt(sc.median),
                fmt(sc.worst)
            );
        }
        s.push_str("</table></section>");
    }
    let _ = write!(
        s,
        "<section><h2>Leaderboard</h2><table id=\"leaderboard\"><tr><th>rank</th><th>run</th>"
    );
    for p in &file.params {
        let _ = write!(s, "<th>{}</th>", escape(&p.key));
    }
    s.push_str("<th>Sharpe</th><th>total return</th><th>max drawdown</th><th>round trips</th><th>win rate</th></tr>");
    for (rank, &i) in ranking(runs, rank_by).iter().enumerate() {
        let r = &runs[i];
        let _ = write!(s, "<tr><td>{}</td><td>{}</td>", rank + 1, r.planned.run);
        for k in 0..file.params.len() {
            let _ = write!(s, "<td>{}</td>", escape(&value_of(r, k)));
        }
        let _ = write!(
            s,
            "<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            fmt(r.portfolio.sharpe),
            fmt(r.portfolio.total_return),
            fmt(r.portfolio.max_drawdown),
            r.round_trips,
            fmt(r.win_rate)
        );
    }
    s.push_str("</table></section></body></html>\n");
    s
}

const CSS: &str = "body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}\
h1{font-size:22px}h2{font-size:16px;margin:18px 0 6px}\
table{border-collapse:collapse;font-size:13px}th,td{border-bottom:1px solid #ddd;padding:3px 10px;text-align:left}\
td.cell{color:#fff;text-align:center;min-width:70px}";
