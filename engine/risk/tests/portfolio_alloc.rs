//! The portfolio model allocates only when it is made: sampling marks and computing every
//! figure, stress scenarios included, make no heap allocation (a counting global allocator
//! proves it), so the cold stage that runs it does not disturb the allocator the hot threads
//! share.

mod portfolio_support;

use portfolio_support::{factor_returns, loaded_model, Rng};
use pulse_core::num::Nanos;
use pulse_risk::portfolio::{Figures, StressScenario};

/// The engine's counting allocator (every allocating call, zeroed and realloc included).
#[path = "../../tests/counting/mod.rs"]
mod counting;

#[test]
fn sampling_and_computing_do_not_allocate() {
    let n = 6;
    let rows = factor_returns(&mut Rng::new(7), n, 100);
    let mut model = loaded_model(n, &rows, 120);
    let scenarios = vec![
        StressScenario::Shock {
            name: "crash".into(),
            shocks: vec![(0, -0.1), (5, -0.2)],
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
            instruments: vec![1, 2, 3],
            horizon_intervals: 30.0,
        },
    ];
    let exposures = [5_000.0, -2_000.0, 0.0, 3_000.0, 1_000.0, -4_000.0];
    let mut f = Figures::new(n, scenarios.len());

    // Marks over 50 slots (the window wraps), then three computations.
    let ((), allocations) = counting::measure(|| {
        for slot in 0..50u64 {
            for i in 0..n {
                let mid = 100.0 + (slot * 7 + i as u64 * 3) as f64 % 11.0;
                model.on_mark(i, mid, Nanos(slot * 1_000_000_000 + i as u64));
            }
        }
        model.sampler_mut().close_until(Nanos(51 * 1_000_000_000));
        for _ in 0..3 {
            model.compute(&exposures, 100_000.0, &scenarios, &mut f);
        }
    });

    assert_eq!(allocations, 0, "allocations while sampling and computing");
    assert_eq!(model.rows(), 120);
    assert!(
        f.ready && f.param.var99 > 0.0 && f.worst_stress.is_some(),
        "{f:?}"
    );
}
