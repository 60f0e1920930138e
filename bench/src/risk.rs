//! `risk`: per-intent latency of the full pre-trade check chain (`RiskChecks::check`) on the
//! state of `risk_cases`: the approve path (every check, the longest path) and the reject
//! paths at the first check (kill switch) and the last (committed capital). The baseline,
//! measured in the same run and the same way, is an empty timed region: two reads of the TSC,
//! the floor every sample here includes.

use std::hint::black_box;
use std::time::Duration;

use anyhow::{anyhow, Result};
use pulse_engine::intent::OrderIntent;
use pulse_engine::risk::checks::Context;
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
    let runs: [(&'static str, &OrderIntent, &Context<'_>); 3] = [
        ("approve", &cases.approve, &armed),
        ("reject_first", &cases.approve, &killed),
        ("reject_last", &cases.reject_last, &armed),
    ];
    let mut results = Vec::new();
    for (case, intent, ctx) in runs {
        let histogram = sample::each(duration, &clock, || {
            let _ = black_box(cases.checks.check(black_box(intent), black_box(ctx)));
        });
        results.push(Measured {
            name: "pulse",
            case: Some(case),
            histogram,
            extra: Vec::new(),
        });
    }
    results.push(sample::clock_floor(duration, &clock));
    Ok(results)
}
