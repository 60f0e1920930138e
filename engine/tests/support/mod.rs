//! Shared by the live-feed tests (a directory module, so cargo does not build it as a test).
#![allow(dead_code)]

use pulse_engine::config::{LiveSourceConfig, LiveSync};
use pulse_feeds::instrument::Venue;
use pulse_feeds::num::Nanos;

/// A live Binance spot source at `ws_url`/`rest_url` with test-sized timers: quick reconnects,
/// watchdogs that never trip on a healthy loopback venue.
pub fn live_source(ws_url: String, rest_url: String) -> LiveSourceConfig {
    LiveSourceConfig {
        venue: Venue::Binance,
        ws_url,
        ca_file: None,
        sync: LiveSync::Rest {
            rest_url,
            depth_stream: "depth@100ms".into(),
            snapshot_limit: 1000,
        },
        connect_timeout: Nanos::from_millis(3_000),
        no_data_timeout: Nanos::from_millis(10_000),
        stream_timeout: Nanos::from_millis(60_000),
        reconnect_min: Nanos::from_millis(50),
        reconnect_max: Nanos::from_millis(500),
        max_session_age: Nanos::from_millis(3_600_000),
    }
}

/// [`live_source`] for a local venue at `addr`, over ws and http.
pub fn loopback_source(addr: std::net::SocketAddr) -> LiveSourceConfig {
    live_source(format!("ws://{addr}"), format!("http://{addr}"))
}

/// BTCUSDT (BTC in USDT) on Binance spot at the wire's scales (price 2, quantity 8), lot
/// 0.00001.
pub fn btcusdt() -> pulse_feeds::instrument::InstrumentRegistry {
    let mut r = pulse_feeds::instrument::InstrumentRegistry::new();
    let id = r
        .add(
            Venue::Binance,
            "BTCUSDT",
            2,
            8,
            pulse_feeds::num::Px(1),
            pulse_feeds::num::Qty(1_000),
        )
        .expect("a fresh registry takes BTCUSDT");
    r.set_assets(id, "BTC", "USDT");
    r
}

/// A live feed built from `live` exactly as `pulse run` builds it, feeding a book stage whose
/// tops come out of `tops`; with `control`, crossed books ask the feed for a resync.
pub struct LiveRig {
    pub feed: pulse_feeds::venues::VenueLiveFeed,
    pub book: pulse_feeds::book_stage::BookStage,
    pub tops: rtrb::Consumer<pulse_feeds::event::MarketEvent>,
}

pub fn live_rig(
    live: &LiveSourceConfig,
    registry: &pulse_feeds::instrument::InstrumentRegistry,
    md_capacity: usize,
    control: bool,
) -> LiveRig {
    use pulse_feeds::latency::LatencyProbe;
    let clock = quanta::Clock::new();
    let (md_tx, md_rx) = rtrb::RingBuffer::new(md_capacity);
    let (control_tx, control_rx) = rtrb::RingBuffer::new(64);
    let (top_tx, tops) = rtrb::RingBuffer::new(4_096);
    let rings = pulse_engine::live_source::LiveRings {
        md: md_tx,
        resync: control.then_some(control_rx),
        tap: None,
        journal: None,
    };
    let log = pulse_feeds::log::DistinctLog::new("feed", None);
    let feed = pulse_engine::live_source::build_feed(
        live,
        registry,
        rings,
        LatencyProbe::detached(clock.clone()),
        log,
    )
    .expect("live feed builds");
    let book = pulse_feeds::book_stage::BookStage::new(
        registry,
        8192,
        md_rx,
        vec![top_tx],
        LatencyProbe::detached(clock),
    );
    let book = if control {
        book.with_control(control_tx)
    } else {
        book
    };
    LiveRig { feed, book, tops }
}
