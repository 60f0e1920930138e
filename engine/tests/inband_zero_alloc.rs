//! Steady state of the OKX, Kraken v2 and Bybit v5 live paths: the live feed (socket reads,
//! WebSocket framing, decoding, checksums, book sync) and the book stage, against `pulse venue
//! --protocol okx|kraken|bybit-spot|bybit-linear` over loopback. After a warm-up (every book synced from its in-band snapshot), a
//! counting global allocator measures this thread's allocations until the capture has played.

use std::path::Path;
use std::time::{Duration, Instant};

use pulse_engine::config::{LiveSourceConfig, LiveSync};
use pulse_feeds::clock::Clock;
use pulse_feeds::instrument::{InstrumentRegistry, Venue};
use pulse_feeds::num::{InstrumentId, Px, Qty};
use pulse_feeds::stage::Stage;
use pulse_feeds::venue::MarketAdapter;
use pulse_testex::{Protocol, Venue as LocalVenue, VenueConfig};

mod counting;
mod support;

/// Plays `capture` to the live feed of `venue` over `instruments`; after every book has synced
/// and `settled(feed)` holds, counts allocations until the venue has played it all and the feed
/// has read everything. Returns the allocations and the frames measured.
fn measure(
    protocol: Protocol,
    venue: Venue,
    capture: &str,
    instruments: &[(&str, u32, u32)],
    depth: u32,
    settled: impl Fn(&pulse_feeds::venues::VenueLiveFeed) -> bool,
) -> (u64, u64) {
    let mut vc = VenueConfig::new(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join(capture),
    );
    vc.protocol = protocol;
    vc.speed_milli = 0;
    vc.ping_interval = Duration::ZERO;
    vc.wait_for_client = true;
    let local = LocalVenue::start(vc).expect("venue starts");
    let live = LiveSourceConfig {
        venue,
        ws_url: format!("ws://{}", local.addr()),
        sync: LiveSync::InBand { depth },
        ..support::loopback_source(local.addr())
    };
    let mut reg = InstrumentRegistry::new();
    for &(symbol, px, qty) in instruments {
        reg.add(venue, symbol, px, qty, Px(1), Qty(1)).unwrap();
    }
    let support::LiveRig {
        mut feed,
        mut book,
        tops: mut top_rx,
    } = support::live_rig(&live, &reg, 65_536, false);
    let wall = Clock::live();
    let deadline = Instant::now() + Duration::from_secs(30);
    let synced = |feed: &pulse_feeds::venues::VenueLiveFeed| {
        (0..instruments.len()).all(|i| {
            let id = InstrumentId(i as u16);
            feed.adapter()
                .sync_counters(id)
                .is_some_and(|s| s.snapshots >= 1)
        })
    };
    let mut step = |feed: &mut pulse_feeds::venues::VenueLiveFeed| {
        let now = wall.now();
        let work = feed.do_work(now) + book.do_work(now);
        while top_rx.pop().is_ok() {}
        assert!(
            Instant::now() < deadline,
            "stalled at {:?}",
            feed.counters()
        );
        work
    };
    while !(synced(&feed) && settled(&feed)) {
        step(&mut feed);
    }
    let from = feed.counters().frames;
    let ((), allocations) = counting::measure(|| {
        let mut idle_since = None;
        loop {
            let work = step(&mut feed);
            if work > 0 || !local.finished() {
                idle_since = None;
                continue;
            }
            // Finished and nothing read for 200 ms: everything played has been taken in.
            let since = *idle_since.get_or_insert_with(Instant::now);
            if since.elapsed() > Duration::from_millis(200) {
                break;
            }
        }
    });
    let measured = feed.counters().frames - from;
    println!("{protocol}: {allocations} allocations over {measured} frames");
    feed.on_close();
    local.stop();
    (allocations, measured)
}

#[test]
fn okx_live_feed_allocates_nothing_after_warm_up() {
    let (allocations, frames) = measure(
        Protocol::Okx,
        Venue::Okx,
        "data/okx_books_2022-05-13.cap",
        &[
            ("BTC-USD-220527", 1, 0),
            ("UNI-USD-SWAP", 3, 0),
            ("BTC-USDT", 1, 8),
        ],
        400,
        |feed| feed.counters().frames >= 30,
    );
    assert!(frames > 200, "{frames} frames measured");
    assert_eq!(
        allocations, 0,
        "{allocations} allocations over {frames} frames"
    );
}

/// Measured once BTC/USD has resynced from the capture's own planted checksum mismatch (a
/// resubscription is a cold path); the rest of the capture is steady.
#[test]
fn kraken_live_feed_allocates_nothing_after_warm_up() {
    let (allocations, frames) = measure(
        Protocol::Kraken,
        Venue::Kraken,
        "data/kraken_v2_book_generated.cap",
        &[("BTC/USD", 1, 8), ("ETH/USD", 2, 8), ("MATIC/USD", 4, 8)],
        10,
        |feed| {
            feed.adapter()
                .sync_counters(InstrumentId(0))
                .is_some_and(|s| s.resyncs >= 1)
        },
    );
    assert!(frames > 20, "{frames} frames measured");
    assert_eq!(
        allocations, 0,
        "{allocations} allocations over {frames} frames"
    );
}

/// Measured once BTCUSDT's first 20 deltas are in (the codec's buffers have seen frames of
/// every kind); the rest of the capture, ETHUSDT's restart snapshot and BTCUSDT's later one
/// included, is steady.
#[test]
fn bybit_spot_live_feed_allocates_nothing_after_warm_up() {
    let (allocations, frames) = measure(
        Protocol::BybitSpot,
        Venue::BybitSpot,
        "data/bybit_spot_generated.cap",
        &[("BTCUSDT", 2, 6), ("ETHUSDT", 2, 5)],
        50,
        |feed| {
            feed.adapter()
                .sync_counters(InstrumentId(0))
                .is_some_and(|s| s.applied >= 20)
        },
    );
    assert!(frames > 200, "{frames} frames measured");
    assert_eq!(
        allocations, 0,
        "{allocations} allocations over {frames} frames"
    );
}

#[test]
fn bybit_linear_live_feed_allocates_nothing_after_warm_up() {
    let (allocations, frames) = measure(
        Protocol::BybitLinear,
        Venue::BybitLinear,
        "data/bybit_linear_generated.cap",
        &[("BTCUSDT", 2, 3)],
        50,
        |feed| {
            feed.adapter()
                .sync_counters(InstrumentId(0))
                .is_some_and(|s| s.applied >= 20)
        },
    );
    assert!(frames > 150, "{frames} frames measured");
    assert_eq!(
        allocations, 0,
        "{allocations} allocations over {frames} frames"
    );
}
