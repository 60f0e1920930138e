//! `report.html`: one self-contained page (inline SVG and CSS, no script, nothing fetched),
//! the metrics as tables and every chart of the report. Each chart is an `<svg>` with a fixed
//! id, which the browser test looks for: `equity`, `drawdown`, `position`, `fills`,
//! `pnl-agent`, `pnl-instrument`, `trade-pnl`, `latency`, `outcomes`, `rejections`.

use std::fmt::Write as _;

use crate::ledger::Ledger;
use crate::model::{Run, Side};
use crate::report::Report;
use crate::svg::{self, escape, fmt};

/// The ids of every chart the page carries.
pub const CHARTS: [&str; 10] = [
    "equity",
    "drawdown",
    "position",
    "fills",
    "pnl-agent",
    "pnl-instrument",
    "trade-pnl",
    "latency",
    "outcomes",
    "rejections",
];

fn section(s: &mut String, title: &str, body: &str) {
    let _ = write!(s, "<section><h2>{}</h2>{body}</section>", escape(title));
}

fn table(rows: &[(&str, String)]) -> String {
    let mut s = String::from("<table>");
    for (k, v) in rows {
        let _ = write!(s, "<tr><th>{}</th><td>{}</td></tr>", escape(k), escape(v));
    }
    s.push_str("</table>");
    s
}

fn pct(v: f64) -> String {
    if v.is_finite() {
        format!("{:.4}%", v * 100.0)
    } else {
        "n/a".into()
    }
}

pub fn render(run: &Run, ledger: &Ledger, report: &Report) -> String {
    let t0 = ledger.equity.first().map_or(0, |r| r.ts);
    let secs = |ts: u64| (ts.saturating_sub(t0)) as f64 / 1e9;
    let mut s = String::new();
    let _ = write!(
        s,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Pulse backtest: {}</title><style>{}</style></head><body><h1>Pulse backtest: {}</h1>",
        escape(&run.name),
        CSS,
        escape(&run.name)
    );
    let _ = write!(
        s,
        "<p class=\"meta\">inputs: {} · {} market events · {} instrument(s) · grid {} s · capital {} {}</p>",
        escape(&run.inputs.join(", ")),
        run.market_events,
        run.instruments.len(),
        fmt(run.interval_ns as f64 / 1e9),
        fmt(run.capital),
        escape(&run.currency)
    );
    let p = &report.portfolio;
    let t = &report.trades;
    let a = &report.activity;
    let metrics = table(&[
        ("total return", pct(p.total_return)),
        ("annualized return", pct(p.annual_return)),
        ("annualized volatility", pct(p.annual_volatility)),
        ("Sharpe", fmt(p.sharpe)),
        ("Sortino", fmt(p.sortino)),
        ("Calmar", fmt(p.calmar)),
        ("max drawdown", pct(p.max_drawdown)),
        (
            "max drawdown duration",
            format!("{} s", fmt(p.max_drawdown_duration_s)),
        ),
        (
            "VaR 95% / 99% (historical)",
            format!("{} / {}", pct(p.var_hist_95), pct(p.var_hist_99)),
        ),
        (
            "CVaR 95% / 99% (historical)",
            format!("{} / {}", pct(p.cvar_hist_95), pct(p.cvar_hist_99)),
        ),
        (
            "VaR 95% / 99% (parametric)",
            format!("{} / {}", pct(p.var_param_95), pct(p.var_param_99)),
        ),
        (
            "CVaR 95% / 99% (parametric)",
            format!("{} / {}", pct(p.cvar_param_95), pct(p.cvar_param_99)),
        ),
    ]);
    let trades = table(&[
        ("round trips", t.round_trips.to_string()),
        ("win rate", pct(t.win_rate)),
        ("profit factor", fmt(t.profit_factor)),
        (
            "average win / loss",
            format!("{} / {}", fmt(t.avg_win), fmt(t.avg_loss)),
        ),
        ("expectancy", fmt(t.expectancy)),
        ("turnover", fmt(a.turnover)),
        ("fees", fmt(a.fees)),
        ("exposure time", pct(a.exposure_time)),
        (
            "maker / taker share",
            format!("{} / {}", pct(a.maker_share), pct(a.taker_share)),
        ),
        (
            "slippage vs arrival mid (mean, bps)",
            fmt(report.slippage.mean_bps),
        ),
        (
            "intents / rejected / orders / fills",
            format!(
                "{} / {} / {} / {}",
                a.intents, a.rejected, a.orders, a.fills
            ),
        ),
    ]);
    let _ = write!(s, "<div class=\"cols\"><section><h2>Portfolio</h2>{metrics}</section><section><h2>Trading</h2>{trades}</section></div>");

    let eq: Vec<(f64, f64)> = ledger
        .equity
        .iter()
        .map(|r| (secs(r.ts), r.equity))
        .collect();
    section(
        &mut s,
        "Equity",
        &svg::lines("equity", &[("equity", eq)], "seconds", &run.currency),
    );
    let dd: Vec<(f64, f64)> = ledger
        .equity
        .iter()
        .map(|r| (secs(r.ts), r.drawdown * 100.0))
        .collect();
    section(
        &mut s,
        "Drawdown",
        &svg::lines("drawdown", &[("drawdown", dd)], "seconds", "% below peak"),
    );
    let pos: Vec<(&str, Vec<(f64, f64)>)> = run
        .instruments
        .iter()
        .enumerate()
        .map(|(i, inst)| {
            let pts = ledger
                .equity
                .iter()
                .map(|r| (secs(r.ts), r.positions[i]))
                .collect();
            (inst.name.as_str(), pts)
        })
        .collect();
    section(
        &mut s,
        "Position",
        &svg::lines("position", &pos, "seconds", "base units"),
    );
    // Fills over the mid: the instrument with the most fills first (its chart is `fills`).
    let mut order: Vec<usize> = (0..run.instruments.len()).collect();
    order.sort_by_key(|&i| {
        std::cmp::Reverse(run.fills.iter().filter(|f| f.instrument == i).count())
    });
    for (k, &i) in order.iter().enumerate() {
        let mid: Vec<(f64, f64)> = ledger
            .equity
            .iter()
            .map(|r| (secs(r.ts), r.mids[i]))
            .collect();
        let pts: Vec<(f64, f64, usize)> = run
            .fills
            .iter()
            .filter(|f| f.instrument == i)
            .map(|f| (secs(f.ts), f.px, if f.side == Side::Buy { 0 } else { 1 }))
            .collect();
        if k > 0 && pts.is_empty() {
            continue;
        }
        let id = if k == 0 {
            "fills".to_string()
        } else {
            format!("fills-{}", k + 1)
        };
        let chart = svg::points_over_line(&id, &mid, &pts, &["buy", "sell"], "seconds", "price");
        section(
            &mut s,
            &format!("Fills over the mid: {}", run.instruments[i].name),
            &chart,
        );
    }
    let agents: Vec<(String, f64)> = report
        .agents
        .iter()
        .map(|a| (a.origin.clone(), a.pnl))
        .collect();
    section(
        &mut s,
        "PnL by agent (closed round trips it led)",
        &svg::bars("pnl-agent", &agents, &run.currency),
    );
    let inst: Vec<(String, f64)> = report
        .instruments
        .iter()
        .map(|r| (r.instrument.clone(), r.pnl))
        .collect();
    section(
        &mut s,
        "PnL by instrument",
        &svg::bars("pnl-instrument", &inst, &run.currency),
    );
    let pnl: Vec<f64> = ledger.round_trips.iter().map(|t| t.pnl).collect();
    section(
        &mut s,
        "Per-trade PnL (closed round trips)",
        &svg::histogram("trade-pnl", &pnl, 30, &run.currency),
    );
    let lat: Vec<(String, f64)> = run
        .latency
        .iter()
        .flat_map(|l| {
            [
                ("p50", l.p50),
                ("p99", l.p99),
                ("p99.9", l.p999),
                ("max", l.max),
            ]
            .map(|(q, v)| (format!("{} {q}", l.stage), v as f64 / 1e3))
        })
        .collect();
    section(
        &mut s,
        "Latency from ingress, per stage",
        &svg::bars("latency", &lat, "µs"),
    );
    let outcomes: Vec<(String, f64)> = report
        .orders_by_outcome
        .iter()
        .map(|(k, v)| (k.clone(), *v as f64))
        .collect();
    section(
        &mut s,
        "Orders by outcome",
        &svg::bars("outcomes", &outcomes, "orders"),
    );
    let rejections: Vec<(String, f64)> = report
        .rejections_by_reason
        .iter()
        .map(|(k, v)| (k.clone(), *v as f64))
        .collect();
    section(
        &mut s,
        "Rejections by reason",
        &svg::bars("rejections", &rejections, "intents"),
    );
    if let Some(r) = &report.portfolio_risk {
        section(
            &mut s,
            "Portfolio risk (one sampling interval)",
            &risk_table(r),
        );
    }
    let mut agent_rows = String::from("<table><tr><th>origin</th><th>signals</th><th>orders</th><th>filled</th><th>round trips</th><th>hit rate</th><th>PnL</th></tr>");
    for a in &report.agents {
        let _ = write!(
            agent_rows,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&a.origin), a.signals, a.orders, a.filled_orders, a.round_trips, pct(a.hit_rate), fmt(a.pnl)
        );
    }
    agent_rows.push_str("</table>");
    section(&mut s, "Agents", &agent_rows);
    s.push_str("</body></html>\n");
    s
}

/// VaR, CVaR, correlated exposure and the worst stress loss: the last publication and the
/// run's largest.
fn risk_table(r: &crate::risk_figures::PortfolioRisk) -> String {
    let (l, m) = (&r.last, &r.max);
    let mut t = String::from("<table><tr><th></th><th>last</th><th>largest over the run</th></tr>");
    let rows = [
        ("VaR 95% historical", l.var95_hist, m.var95_hist),
        ("VaR 99% historical", l.var99_hist, m.var99_hist),
        ("CVaR 95% historical", l.cvar95_hist, m.cvar95_hist),
        ("CVaR 99% historical", l.cvar99_hist, m.cvar99_hist),
        ("VaR 95% parametric", l.var95_param, m.var95_param),
        ("VaR 99% parametric", l.var99_param, m.var99_param),
        ("CVaR 95% parametric", l.cvar95_param, m.cvar95_param),
        ("CVaR 99% parametric", l.cvar99_param, m.cvar99_param),
    ];
    for (name, last, max) in rows {
        let _ = write!(
            t,
            "<tr><th>{name}</th><td>{}</td><td>{}</td></tr>",
            fmt(last),
            fmt(max)
        );
    }
    let _ = write!(
        t,
        "<tr><th>correlated exposure</th><td>{}</td><td>{}</td></tr>",
        pct(l.correlated_share),
        pct(m.correlated_share)
    );
    let _ = write!(
        t,
        "<tr><th>worst stress loss</th><td>{} ({})</td><td>{} ({})</td></tr>",
        fmt(l.worst_stress),
        escape(&l.worst_scenario),
        fmt(m.worst_stress),
        escape(&m.worst_scenario)
    );
    let _ = write!(
        t,
        "</table><p class=\"meta\">{} publications</p>",
        r.publications
    );
    t
}

const CSS: &str = "body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}\
h1{font-size:22px}h2{font-size:16px;margin:18px 0 6px}.meta{color:#555}\
table{border-collapse:collapse;font-size:13px}th,td{border-bottom:1px solid #ddd;padding:3px 10px;text-align:left}\
.cols{display:flex;gap:40px;flex-wrap:wrap}svg.chart{display:block;max-width:100%;height:auto}";
