//! Shared by the live-feed tests (a directory module, so cargo does not build it as a test).

use pulse_engine::config::LiveSourceConfig;
use pulse_feeds::instrument::Venue;
use pulse_feeds::num::Nanos;

/// A live Binance spot source at `ws_url`/`rest_url` with test-sized timers: quick reconnects,
/// watchdogs that never trip on a healthy loopback venue.
pub fn live_source(ws_url: String, rest_url: String) -> LiveSourceConfig {
    LiveSourceConfig {
        venue: Venue::Binance,
        ws_url,
        rest_url,
        ca_file: None,
        depth_stream: "depth@100ms".into(),
        snapshot_limit: 1000,
        connect_timeout: Nanos::from_millis(3_000),
        no_data_timeout: Nanos::from_millis(10_000),
        stream_timeout: Nanos::from_millis(60_000),
        reconnect_min: Nanos::from_millis(50),
        reconnect_max: Nanos::from_millis(500),
        max_session_age: Nanos::from_millis(3_600_000),
    }
}
