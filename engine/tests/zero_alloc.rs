//! Steady state allocates nothing: the real hot stages, built from the demo config, driven over
//! the bundled capture on this thread. After a warm-up that includes the REST snapshot (the
//! largest message), a counting global allocator must see zero allocations for the rest of the
//! capture, about 39,000 messages and 160,000 events.
//!
//! This file is its own test binary with a single test, so no other test allocates meanwhile.

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use pulse_engine::config;
use pulse_engine::pipeline::{self, HotStage};
use pulse_feeds::num::Nanos;
use pulse_feeds::stage::Stage;

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every method forwards to the system allocator with the caller's own arguments, so
// the `GlobalAlloc` contract is the system allocator's; the counter has no effect on memory.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same layout the caller gave us, which `GlobalAlloc::alloc` requires be valid.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as in `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: `ptr` was allocated by `System` with `layout` (every allocation goes there).
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn feed_lines(stages: &[HotStage]) -> u64 {
    match &stages[0] {
        HotStage::Feed(feed) => feed.counters.lines,
        _ => unreachable!("the feed is the first stage"),
    }
}

#[test]
fn hot_stages_do_not_allocate_after_warm_up() {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs/demo.toml");
    let cfg = config::load(&demo).expect("demo config loads");
    let tsc = quanta::Clock::new();
    let mut stages = pipeline::build(&cfg, &tsc).expect("pipeline builds").stages;

    let pass = |stages: &mut Vec<HotStage>| {
        stages
            .iter_mut()
            .map(|s| s.do_work(Nanos(0)))
            .sum::<usize>()
    };
    // Warm-up: the snapshot arrives at line 8; 2,000 lines see every message kind many times.
    while feed_lines(&stages) < 2_000 {
        pass(&mut stages);
    }
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    let lines_before = feed_lines(&stages);
    while pass(&mut stages) > 0 || !stages.iter().all(|s| s.intake_done()) {}
    let allocations = ALLOCATIONS.load(Ordering::Relaxed) - before;
    let lines = feed_lines(&stages) - lines_before;

    let (orders, book_updates) = stages.iter().fold((0, 0), |(o, b), s| match s {
        HotStage::Risk(r) => (r.orders().counters.sent, b),
        HotStage::Book(k) => (o, k.counters(0).map_or(0, |c| c.commits)),
        _ => (o, b),
    });
    assert_eq!(lines, 41_249 - 2_000);
    assert!(
        orders > 100 && book_updates > 3_000,
        "the measured window must trade: {orders} orders"
    );
    assert_eq!(
        allocations, 0,
        "{allocations} allocations over {lines} messages after warm-up"
    );
}
