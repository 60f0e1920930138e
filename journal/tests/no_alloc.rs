//! The hot path allocates nothing: appends, including roll-overs into prepared segments, make
//! no heap allocation on the appending thread (a counting global allocator proves it).

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::thread;
use std::time::{Duration, Instant};

use common::{small_config, temp_dir};
use pulse_journal::Appender;

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
fn appends_and_roll_overs_do_not_allocate() {
    let dir = temp_dir("no-alloc");
    let (mut appender, service) = Appender::open(small_config(dir.path(), "input")).expect("opens");
    let deadline = Instant::now() + Duration::from_secs(10);
    while service.status().segments_prepared < 2 && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(1));
    }
    let payload = [7u8; 64];
    let before = ALLOCATIONS.with(Cell::get);
    // About one and a half segments of 64 KiB: one roll-over into a prepared segment.
    for i in 0..1000u64 {
        appender.append(1, i, &payload).expect("appends");
        appender
            .append_with(2, i, 40, |buf| buf.fill(i as u8))
            .expect("appends");
    }
    let allocations = ALLOCATIONS.with(Cell::get) - before;
    let counters = appender.counters();
    drop(appender);
    service.shutdown().expect("stops");
    assert!(counters.rollovers >= 1, "{counters:?}");
    assert_eq!(counters.sync_fallbacks, 0, "{counters:?}");
    assert_eq!(allocations, 0, "allocations on the appending thread");
}
