//! `risk`: per-intent latency of the full pre-trade check chain (`RiskChecks::check`) on the
//! state of `risk_cases`: the approve path (every check, the longest path) and the reject
//! paths at the first check (kill switch) and the last (committed capital); the approve path
//! again with the portfolio limits on (VaR, correlated exposure, stress, on published
//! figures: `approve_portfolio`); and the cold path that computes those figures, the
//! portfolio model's update for 20 instruments over 500 return rows with four stress
//! scenarios (`portfolio_update_20`, once per sampling interval, beside the hot path). The
//! baseline,
//! measured in the same run and the same way, is an empty timed region: two reads of the TSC,
//! the floor every sample here includes.

use std::hint::black_box;
use std::time::Duration;

use anyhow::{anyhow, Result};
use pulse_engine::intent::OrderIntent;
use pulse_engine::risk::checks::{Context, RiskChecks};
use pulse_engine::risk::portfolio::{
    Figures, PortfolioModel, RiskModelConfig, StressScenario, Z99,
};
use pulse_engine::risk::portfolio_stage::publication;
use pulse_engine::risk::TradingMode;

use crate::report::Measured;
use crate::risk_cases::RiskCases;
use crate::sample;

pub fn run(duration: Duration, core: Option<usize>) -> Result<Vec<Measured>> {
    if let Some(id) = core {
        core_affinity::set_for_current(core_affinity::CoreId { id });
    }
    let cases = RiskCases::new();
    cases.verify().map_err(|e| anyhow!(e))?;
    let clock = quanta::Clock::new();
    let armed = cases.context(TradingMode::Armed);
    let killed = cases.context(TradingMode::Killed);
    let with_figures = cases.context_with_figures(TradingMode::Armed);
    let runs: [(&'static str, &RiskChecks, &OrderIntent, &Context<'_>); 4] = [
        ("approve", &cases.checks, &cases.approve, &armed),
        (
            "approve_portfolio",
            &cases.portfolio,
            &cases.approve,
            &with_figures,
        ),
        ("reject_first", &cases.checks, &cases.approve, &killed),
        ("reject_last", &cases.checks, &cases.reject_last, &armed),
    ];
    let mut results = Vec::new();
    for (case, checks, intent, ctx) in runs {
        let histogram = sample::each(duration, &clock, || {
            let _ = black_box(checks.check(black_box(intent), black_box(ctx)));
        });
        results.push(Measured {
            name: "pulse",
            case: Some(case),
            histogram,
            extra: Vec::new(),
        });
    }
    results.push(portfolio_update(duration, &clock)?);
    results.push(sample::clock_floor(duration, &clock));
    Ok(results)
}

/// The portfolio stage's update for 20 instruments: 500 rows of seeded one-factor returns,
/// signed exposures of 1,000 to 10,000, four stress scenarios (a shock, volatility x2,
/// correlations to one, an outage); one sample per full recomputation and publication.
fn portfolio_update(duration: Duration, clock: &quanta::Clock) -> Result<Measured> {
    const N: usize = 20;
    let config = RiskModelConfig {
        window: 500,
        ..RiskModelConfig::default()
    };
    let mut model = PortfolioModel::new(N, config)?;
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut uniform = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    };
    for _ in 0..500 {
        let f = uniform();
        let row: Vec<f64> = (0..N).map(|_| 0.004 * f + 0.002 * uniform()).collect();
        model.sampler_mut().push_row(&row);
    }
    let exposures: Vec<f64> = (0..N)
        .map(|i| (1_000 + 450 * i) as f64 * if i % 3 == 0 { -1.0 } else { 1.0 })
        .collect();
    let scenarios = vec![
        StressScenario::Shock {
            name: "shock".into(),
            shocks: (0..N).map(|i| (i, -0.10)).collect(),
        },
        StressScenario::VolScale {
            name: "vol".into(),
            factor: 2.0,
        },
        StressScenario::CorrelationOne { name: "one".into() },
        StressScenario::Outage {
            name: "outage".into(),
            instruments: (0..N / 2).collect(),
            horizon_intervals: 600.0,
        },
    ];
    let mut figures = Figures::new(N, scenarios.len());
    let histogram = sample::each_slow(duration, 64, clock, || {
        model.compute(&exposures, 100_000.0, &scenarios, &mut figures);
        let _ = black_box(publication(&figures, &exposures, 100_000.0, Z99));
    });
    Ok(Measured {
        name: "pulse",
        case: Some("portfolio_update_20"),
        histogram,
        extra: Vec::new(),
    })
}
