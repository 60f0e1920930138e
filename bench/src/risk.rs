//! `risk`: per-intent latency of the full pre-trade check chain (`RiskChecks::check`) on the
//! state of `risk_cases`: the approve path (every check, the longest path) and the reject
//! paths at the first check (kill switch) and the last (committed capital). The baseline,
//! measured in the same run and the same way, is an empty timed region: two reads of the TSC,
//! the floor every sample here includes.

use std::hint::black_box;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Result};
use hdrhistogram::Histogram;
use pulse_engine::intent::OrderIntent;
use pulse_engine::risk::checks::Context;
use pulse_engine::risk::TradingMode;

use crate::report::Measured;
use crate::risk_cases::RiskCases;

/// Calls between two looks at the time left.
const BATCH: usize = 4_096;

fn measure(duration: Duration, clock: &quanta::Clock, mut once: impl FnMut()) -> Histogram<u64> {
    let mut h = Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("valid bounds");
    for _ in 0..BATCH * 16 {
        once();
    }
    let end = Instant::now() + duration;
    while Instant::now() < end {
        for _ in 0..BATCH {
            let start = clock.raw();
            once();
            let _ = h.record(clock.delta_as_nanos(start, clock.raw()).max(1));
        }
    }
    h
}

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
        let histogram = measure(duration, &clock, || {
            let _ = black_box(cases.checks.check(black_box(intent), black_box(ctx)));
        });
        results.push(Measured {
            name: "pulse",
            case: Some(case),
            histogram,
            extra: Vec::new(),
        });
    }
    results.push(Measured {
        name: "clock_floor",
        case: Some("empty"),
        histogram: measure(duration, &clock, || black_box(())),
        extra: Vec::new(),
    });
    Ok(results)
}
