//! `report.json`: everything the HTML shows, as numbers, but latency (measured on the wall
//! clock, it differs run to run: `latency.json`). Its bytes are a function of the run
//! alone (no wall-clock time, no host name, maps in key order, floats in their shortest exact
//! form; a figure that does not exist, such as a Sharpe ratio without variance, is `null`).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::ledger::Ledger;
use crate::metrics::{self, Portfolio, Trades};
use crate::model::Run;

#[derive(Debug, Serialize)]
pub struct Report {
    pub meta: Meta,
    pub portfolio: Portfolio,
    pub trades: Trades,
    pub activity: Activity,
    pub slippage: Slippage,
    pub agents: Vec<AgentRow>,
    pub instruments: Vec<InstrumentRow>,
    pub orders_by_outcome: BTreeMap<String, u64>,
    pub rejections_by_reason: BTreeMap<String, u64>,
    /// VaR, CVaR, correlated exposure and stress over the run (`null` without `[portfolio]`).
    pub portfolio_risk: Option<crate::risk_figures::PortfolioRisk>,
}

#[derive(Debug, Serialize)]
pub struct Meta {
    pub name: String,
    /// The stress scenario (`[scenario] name`), or empty.
    pub scenario: String,
    pub inputs: Vec<String>,
    pub currency: String,
    pub capital: f64,
    pub interval_s: f64,
    pub start_ts: u64,
    pub end_ts: u64,
    pub market_events: u64,
    pub instruments: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Activity {
    pub intents: u64,
    pub rejected: u64,
    pub orders: u64,
    pub fills: u64,
    /// Traded notional over the starting capital.
    pub turnover: f64,
    pub traded_notional: f64,
    pub fees: f64,
    /// Share of grid times with a position open.
    pub exposure_time: f64,
    /// Shares of traded notional filled as maker and as taker.
    pub maker_share: f64,
    pub taker_share: f64,
    /// Round trips still open at the end (marked at the last mid, not in `trades`).
    pub open_round_trips: u64,
}

/// Implementation shortfall of filled orders against their arrival mid, bps.
#[derive(Debug, Serialize)]
pub struct Slippage {
    pub orders: u64,
    pub mean_bps: f64,
    pub median_bps: f64,
    pub p95_bps: f64,
    /// Weighted by filled notional.
    pub weighted_bps: f64,
}

#[derive(Debug, Serialize)]
pub struct AgentRow {
    pub origin: String,
    /// Intents it led.
    pub signals: u64,
    pub orders: u64,
    pub filled_orders: u64,
    /// Closed round trips opened by its orders.
    pub round_trips: u64,
    /// Share of those that made money.
    pub hit_rate: f64,
    pub pnl: f64,
}

#[derive(Debug, Serialize)]
pub struct InstrumentRow {
    pub instrument: String,
    pub fills: u64,
    pub traded_qty: f64,
    pub traded_notional: f64,
    pub fees: f64,
    pub end_position: f64,
    /// The change of its cash (fees paid) plus its position at the mid over the report's curve.
    pub pnl: f64,
}

pub fn build(run: &Run, ledger: &Ledger) -> Report {
    let equity: Vec<f64> = ledger.equity.iter().map(|r| r.equity).collect();
    let ts: Vec<u64> = ledger.equity.iter().map(|r| r.ts).collect();
    let portfolio = metrics::portfolio(&equity, &ts, run.interval_ns);
    let pnl: Vec<f64> = ledger.round_trips.iter().map(|t| t.pnl).collect();
    let notional: f64 = run
        .fills
        .iter()
        .map(|f| f.px * f.qty)
        .fold(0.0, |a, b| a + b);
    let maker: f64 = run
        .fills
        .iter()
        .filter(|f| f.maker)
        .map(|f| f.px * f.qty)
        .fold(0.0, |a, b| a + b);
    let exposed = ledger
        .equity
        .iter()
        .filter(|r| r.gross_exposure != 0.0)
        .count();
    let activity = Activity {
        intents: run.intents.len() as u64,
        rejected: run
            .decisions
            .iter()
            .filter(|d| d.rejected.is_some())
            .count() as u64,
        orders: run.orders.len() as u64,
        fills: run.fills.len() as u64,
        turnover: notional / run.capital,
        traded_notional: notional,
        fees: run.fills.iter().map(|f| f.fee).fold(0.0, |a, b| a + b),
        exposure_time: exposed as f64 / ledger.equity.len().max(1) as f64,
        maker_share: maker / notional,
        taker_share: (notional - maker) / notional,
        open_round_trips: ledger.open_trips.len() as u64,
    };
    let mut orders_by_outcome = BTreeMap::new();
    for o in &ledger.orders {
        *orders_by_outcome.entry(o.outcome.to_string()).or_insert(0) += 1;
    }
    let mut rejections_by_reason = BTreeMap::new();
    for d in &run.decisions {
        if let Some(reason) = &d.rejected {
            *rejections_by_reason.entry(reason.clone()).or_insert(0) += 1;
        }
    }
    Report {
        meta: Meta {
            name: run.name.clone(),
            scenario: run.scenario.clone(),
            inputs: run.inputs.clone(),
            currency: run.currency.clone(),
            capital: run.capital,
            interval_s: run.interval_ns as f64 / 1e9,
            start_ts: run.start_ts,
            end_ts: run.end_ts,
            market_events: run.market_events,
            instruments: run.instruments.iter().map(|i| i.name.clone()).collect(),
        },
        portfolio,
        trades: metrics::trades(&pnl),
        activity,
        slippage: slippage(ledger),
        agents: agents(run, ledger),
        instruments: instruments(run, ledger),
        orders_by_outcome,
        rejections_by_reason,
        portfolio_risk: crate::risk_figures::summarize(&run.risk_figures),
    }
}

fn slippage(ledger: &Ledger) -> Slippage {
    let filled: Vec<_> = ledger
        .orders
        .iter()
        .filter(|o| o.slippage_bps.is_finite())
        .collect();
    let mut bps: Vec<f64> = filled.iter().map(|o| o.slippage_bps).collect();
    bps.sort_by(f64::total_cmp);
    let pick = |q: f64| metrics::quantile(&bps, q);
    let weight: f64 = filled
        .iter()
        .map(|o| o.filled_qty * o.avg_px)
        .fold(0.0, |a, b| a + b);
    Slippage {
        orders: bps.len() as u64,
        mean_bps: bps.iter().fold(0.0, |a, b| a + b) / bps.len() as f64,
        median_bps: pick(0.5),
        p95_bps: pick(0.95),
        weighted_bps: filled
            .iter()
            .map(|o| o.slippage_bps * o.filled_qty * o.avg_px)
            .fold(0.0, |a, b| a + b)
            / weight,
    }
}

fn agents(run: &Run, ledger: &Ledger) -> Vec<AgentRow> {
    let mut rows: BTreeMap<&str, AgentRow> = BTreeMap::new();
    let get = |origin: &str| -> AgentRow {
        AgentRow {
            origin: origin.to_string(),
            signals: 0,
            orders: 0,
            filled_orders: 0,
            round_trips: 0,
            hit_rate: f64::NAN,
            pnl: 0.0,
        }
    };
    for i in &run.intents {
        rows.entry(i.origin.as_str())
            .or_insert_with(|| get(&i.origin))
            .signals += 1;
    }
    for o in &ledger.orders {
        let r = rows
            .entry(o.origin.as_str())
            .or_insert_with(|| get(&o.origin));
        r.orders += 1;
        if o.filled_qty > 0.0 {
            r.filled_orders += 1;
        }
    }
    let mut wins: BTreeMap<&str, u64> = BTreeMap::new();
    for t in &ledger.round_trips {
        let r = rows
            .entry(t.led_by.as_str())
            .or_insert_with(|| get(&t.led_by));
        r.round_trips += 1;
        r.pnl += t.pnl;
        if t.pnl > 0.0 {
            *wins.entry(t.led_by.as_str()).or_default() += 1;
        }
    }
    rows.into_iter()
        .map(|(origin, mut r)| {
            if r.round_trips > 0 {
                r.hit_rate = wins.get(origin).copied().unwrap_or(0) as f64 / r.round_trips as f64;
            }
            r
        })
        .collect()
}

fn instruments(run: &Run, ledger: &Ledger) -> Vec<InstrumentRow> {
    let (first, last) = (ledger.equity.first(), ledger.equity.last());
    run.instruments
        .iter()
        .enumerate()
        .map(|(i, inst)| {
            let fills: Vec<_> = run.fills.iter().filter(|f| f.instrument == i).collect();
            let value = |r: Option<&crate::ledger::EquityRow>| r.map_or(0.0, |r| r.values[i]);
            InstrumentRow {
                instrument: inst.name.clone(),
                fills: fills.len() as u64,
                traded_qty: fills.iter().map(|f| f.qty).fold(0.0, |a, b| a + b),
                traded_notional: fills.iter().map(|f| f.qty * f.px).fold(0.0, |a, b| a + b),
                fees: fills.iter().map(|f| f.fee).fold(0.0, |a, b| a + b),
                end_position: last.map_or(0.0, |r| r.positions[i]),
                pnl: value(last) - value(first),
            }
        })
        .collect()
}

/// The report as the bytes of `report.json`.
pub fn to_json(report: &Report) -> String {
    let mut s = serde_json::to_string_pretty(report).unwrap_or_default();
    s.push('\n');
    s
}
