//! The full pre-trade check chain per intent (`RiskChecks::check`), on the state of
//! `bench/src/risk_cases.rs`: the approve path (every check passes, the longest path), the
//! reject path at the first check (kill switch) and at the last (committed capital).
//!
//! ```sh
//! cargo bench -p pulse-bench --bench risk
//! ```
#![forbid(unsafe_code)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use pulse_engine::risk::TradingMode;

#[path = "../src/risk_cases.rs"]
mod risk_cases;

use risk_cases::RiskCases;

fn checks(c: &mut Criterion) {
    let cases = RiskCases::new();
    cases.verify().expect("each case gets its verdict");
    let armed = cases.context(TradingMode::Armed);
    let killed = cases.context(TradingMode::Killed);
    let mut group = c.benchmark_group("risk_check");
    group.bench_function("approve", |b| {
        b.iter(|| {
            cases
                .checks
                .check(black_box(&cases.approve), black_box(&armed))
        })
    });
    group.bench_function("reject_first_kill_switch", |b| {
        b.iter(|| {
            cases
                .checks
                .check(black_box(&cases.approve), black_box(&killed))
        })
    });
    group.bench_function("reject_last_capital", |b| {
        b.iter(|| {
            cases
                .checks
                .check(black_box(&cases.reject_last), black_box(&armed))
        })
    });
    group.finish();
}

criterion_group!(benches, checks);
criterion_main!(benches);
