//! The quant's loop on top of a backtest: what a run decided and filled, turned into the
//! ledger (equity on a fixed grid of market time, round trips, orders with their slippage), the
//! metrics a quant reads (README "Research" defines each), and the files they read it in:
//! `report.json`, a self-contained `report.html`, and the tables as CSV and Parquet.
//!
//! Nothing here knows a venue or a stage: the engine's `pulse backtest` fills a [`model::Run`]
//! from its output journal and the simulated venue's tape, and everything downstream is a pure
//! function of it, so the same run gives the same bytes.

pub mod deflated;
pub mod html;
pub mod ledger;
pub mod metrics;
pub mod model;
pub mod report;
pub mod risk_figures;
mod svg;
pub mod sweep;
pub mod sweep_html;
pub mod tables;

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context as _;

/// Writes a run's report into `dir`: `report.json`, `latency.json`, `report.html` and each
/// table as `<name>.csv` and `<name>.parquet`. Returns a few lines for the terminal.
pub fn write(dir: &Path, run: &model::Run, window: model::Window) -> anyhow::Result<String> {
    let ledger = ledger::Ledger::build(run);
    let (ledger, run) = if window == model::Window::ALL {
        (ledger, run.clone())
    } else {
        (ledger.window(window), run.window(window))
    };
    let run = &run;
    let report = report::build(run, &ledger);
    let put = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))
    };
    put("report.json", &report::to_json(&report))?;
    let mut latency = serde_json::to_string_pretty(&run.latency)?;
    latency.push('\n');
    put("latency.json", &latency)?;
    put("report.html", &html::render(run, &ledger, &report))?;
    tables::write_all(dir, &tables::tables(run, &ledger))?;
    let p = &report.portfolio;
    let a = &report.activity;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "backtest {}: {} market events, {} grid points of {} s",
        run.name,
        run.market_events,
        ledger.equity.len(),
        run.interval_ns as f64 / 1e9
    );
    let _ = writeln!(
        s,
        "  equity {:.2} -> {:.2} {} (total return {:.4}%, max drawdown {:.4}%, Sharpe {:.2})",
        p.start_equity,
        p.end_equity,
        run.currency,
        p.total_return * 100.0,
        p.max_drawdown * 100.0,
        p.sharpe
    );
    let _ = writeln!(
        s,
        "  {} intents, {} rejected, {} orders, {} fills, {} round trips (win rate {:.1}%), fees {:.4}",
        a.intents,
        a.rejected,
        a.orders,
        a.fills,
        report.trades.round_trips,
        report.trades.win_rate * 100.0,
        a.fees
    );
    let _ = writeln!(s, "  report: {}", dir.join("report.html").display());
    Ok(s)
}
