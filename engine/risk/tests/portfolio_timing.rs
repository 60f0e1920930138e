//! How long one computation of every figure takes for 20 instruments over a full window of 500
//! rows with four stress scenarios. Ignored by default (no clock asserts); run with
//! `cargo test --release -p pulse-risk --test portfolio_timing -- --ignored --nocapture`.

mod portfolio_support;

use std::time::Instant;

use portfolio_support::{factor_returns, loaded_model, Rng};
use pulse_risk::portfolio::{Figures, StressScenario};

#[test]
#[ignore = "timing report, run by hand"]
fn compute_20_instruments_500_rows() {
    let n = 20;
    let mut rng = Rng::new(1);
    let rows = factor_returns(&mut rng, n, 500);
    let mut model = loaded_model(n, &rows, 500);
    let exposures: Vec<f64> = (0..n).map(|_| 50_000.0 * (rng.uniform() - 0.5)).collect();
    let scenarios = vec![
        StressScenario::Shock {
            name: "crash".into(),
            shocks: (0..n).map(|i| (i, -0.1)).collect(),
        },
        StressScenario::VolScale {
            name: "vol x2".into(),
            factor: 2.0,
        },
        StressScenario::CorrelationOne {
            name: "rho 1".into(),
        },
        StressScenario::Outage {
            name: "venue".into(),
            instruments: (0..n / 2).collect(),
            horizon_intervals: 60.0,
        },
    ];
    let mut f = Figures::new(n, scenarios.len());
    let runs = 1_000;
    let mut times: Vec<u128> = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        model.compute(&exposures, 1_000_000.0, &scenarios, &mut f);
        times.push(start.elapsed().as_nanos());
    }
    times.sort_unstable();
    let at = |q: f64| times[((runs - 1) as f64 * q) as usize];
    println!(
        "compute, {n} instruments x {} rows, 4 scenarios: p50 {} ns, p99 {} ns, max {} ns",
        f.rows,
        at(0.5),
        at(0.99),
        times[runs - 1]
    );
}
