//! Steady state of the live path: the live feed (socket reads, WebSocket framing, decoding,
//! book sync) and the book stage, against `pulse venue` over loopback. After a warm-up, a
//! counting global allocator measures allocations per received frame.
//!
//! Its own test binary with one test, so nothing else allocates meanwhile (the venue's threads
//! do allocate, so only this thread's allocations are counted).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use pulse_feeds::clock::Clock;
use pulse_feeds::stage::Stage;
use pulse_gateways::venue::{Venue as LocalVenue, VenueConfig};

mod support;

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

fn count() {
    if COUNTING.with(Cell::get) {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    }
}

// SAFETY: every method forwards to the system allocator with the caller's own arguments, so
// the `GlobalAlloc` contract is the system allocator's; the counter has no effect on memory.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: same layout the caller gave us, which `GlobalAlloc::alloc` requires be valid.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: as in `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
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

#[test]
fn live_feed_allocations_per_frame_after_warm_up() {
    let capture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../data/binance_spot_btcusdt_2024-08-08.cap.gz");
    let mut vc = VenueConfig::new(capture);
    vc.speed_milli = 0;
    vc.ping_interval = Duration::ZERO;
    vc.wait_for_client = true;
    let venue = LocalVenue::start(vc).expect("venue starts");
    let live = support::loopback_source(venue.addr());
    let reg = support::btcusdt();
    let support::LiveRig {
        mut feed,
        mut book,
        tops: mut top_rx,
    } = support::live_rig(&live, &reg, 65_536, false);
    let wall = Clock::live();
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut measuring_from = None;
    loop {
        let now = wall.now();
        feed.do_work(now);
        book.do_work(now);
        while top_rx.pop().is_ok() {}
        let frames = feed.counters().frames;
        if measuring_from.is_none() && frames >= 5_000 && feed.binance().syncs()[0].is_synced() {
            measuring_from = Some(frames);
            COUNTING.with(|c| c.set(true));
        }
        if venue.finished() && frames >= 41_000 {
            break;
        }
        assert!(Instant::now() < deadline, "stalled at {frames} frames");
    }
    COUNTING.with(|c| c.set(false));
    let measured = feed.counters().frames - measuring_from.unwrap();
    let allocations = ALLOCATIONS.load(Ordering::Relaxed);
    println!(
        "{allocations} allocations over {measured} frames ({:.3} per frame)",
        allocations as f64 / measured as f64
    );
    assert_eq!(feed.binance().syncs()[0].counters.gaps, 0);
    assert!(measured > 30_000);
    assert_eq!(
        allocations, 0,
        "{allocations} allocations over {measured} frames after warm-up"
    );
}
