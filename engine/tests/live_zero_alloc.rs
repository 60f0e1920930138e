//! Steady state of the live path: the live feed (socket reads, WebSocket framing, decoding,
//! book sync) and the book stage, against `pulse venue` over loopback. After a warm-up, a
//! counting global allocator measures allocations per received frame.
//!
//! Its own test binary with one test, so nothing else allocates meanwhile (the venue's threads
//! do allocate, so only this thread's allocations are counted).

use std::path::Path;
use std::time::{Duration, Instant};

use pulse_feeds::clock::Clock;
use pulse_feeds::stage::Stage;
use pulse_testex::{Venue as LocalVenue, VenueConfig};

mod counting;
mod support;

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
    let mut step = || {
        let now = wall.now();
        feed.do_work(now);
        book.do_work(now);
        while top_rx.pop().is_ok() {}
        let frames = feed.counters().frames;
        assert!(Instant::now() < deadline, "stalled at {frames} frames");
        (
            frames,
            feed.adapter().binance().expect("a Binance feed").syncs()[0].is_synced(),
        )
    };
    // Warm-up: synced, and 5,000 frames of every kind seen.
    let measuring_from = loop {
        let (frames, synced) = step();
        if frames >= 5_000 && synced {
            break frames;
        }
    };
    let (last, allocations) = counting::measure(|| loop {
        let (frames, _) = step();
        if venue.finished() && frames >= 41_000 {
            break frames;
        }
    });
    let measured = last - measuring_from;
    println!(
        "{allocations} allocations over {measured} frames ({:.3} per frame)",
        allocations as f64 / measured as f64
    );
    assert_eq!(
        feed.adapter().binance().expect("a Binance feed").syncs()[0]
            .counters
            .gaps,
        0
    );
    assert!(measured > 30_000);
    assert_eq!(
        allocations, 0,
        "{allocations} allocations over {measured} frames after warm-up"
    );
}
