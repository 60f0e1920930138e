//! The portfolio model allocates only when it is made: sampling marks and computing every
//! figure, stress scenarios included, make no heap allocation (a counting global allocator
//! proves it), so the cold stage that runs it does not disturb the allocator the hot threads
//! share.

mod portfolio_support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use portfolio_support::{factor_returns, loaded_model, Rng};
use pulse_core::num::Nanos;
use pulse_risk::portfolio::{Figures, StressScenario};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator unchanged; only counts calls on this thread.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        // SAFETY: the caller's contract is passed on unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract is passed on unchanged.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        // SAFETY: the caller's contract is passed on unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

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

    let before = ALLOCATIONS.with(Cell::get);
    // Marks over 50 slots (the window wraps), then three computations.
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
    let allocations = ALLOCATIONS.with(Cell::get) - before;

    assert_eq!(allocations, 0, "allocations while sampling and computing");
    assert_eq!(model.rows(), 120);
    assert!(
        f.ready && f.param.var99 > 0.0 && f.worst_stress.is_some(),
        "{f:?}"
    );
}
