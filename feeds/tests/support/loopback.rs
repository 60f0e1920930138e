//! The generic live feed of an in-band-snapshot venue (OKX, Bybit, Coinbase) over a loopback
//! WebSocket to a test's own server: short connect and backoff timers, no REST worker.
#![allow(dead_code)]

use std::net::SocketAddr;

use pulse_feeds::event::MdEvent;
use pulse_feeds::latency::LatencyProbe;
use pulse_feeds::live::{LiveFeed, LiveParts};
use pulse_feeds::log::DistinctLog;
use pulse_feeds::num::Nanos;
use pulse_feeds::venue::MarketAdapter;
use pulse_feeds::ws::endpoint::Endpoint;
use pulse_feeds::ws::session::{SessionTimers, WsSession};

/// `adapter`'s live feed to `addr` (its stream path), closing a connection silent for
/// `no_data_timeout`; with the consumer of the ring it publishes to.
pub fn live_feed<A: MarketAdapter>(
    adapter: A,
    addr: SocketAddr,
    no_data_timeout: Nanos,
) -> (LiveFeed<A>, rtrb::Consumer<MdEvent>) {
    live_feed_with_ring(adapter, addr, no_data_timeout, 4_096)
}

/// [`live_feed`] publishing to a ring of `ring` events (a whole-book snapshot must fit it).
pub fn live_feed_with_ring<A: MarketAdapter>(
    adapter: A,
    addr: SocketAddr,
    no_data_timeout: Nanos,
    ring: usize,
) -> (LiveFeed<A>, rtrb::Consumer<MdEvent>) {
    let timers = SessionTimers {
        connect_timeout: Nanos::from_millis(2_000),
        no_data_timeout,
        max_age: Nanos(no_data_timeout.0.saturating_mul(10)),
        backoff_min: Nanos::from_millis(20),
        backoff_max: Nanos::from_millis(200),
    };
    let endpoint = Endpoint::parse(&format!("ws://{addr}{}", adapter.stream_path())).unwrap();
    let session = WsSession::new(endpoint, vec![addr], None, timers, 7).unwrap();
    let (md_tx, md_rx) = rtrb::RingBuffer::new(ring);
    let feed = LiveFeed::new(LiveParts {
        adapter,
        session,
        // The venue sends each book's snapshot after its subscription: no REST worker.
        rest: None,
        snapshot_limit: 400,
        stream_timeout: Nanos(no_data_timeout.0.saturating_mul(6)),
        ring: md_tx,
        resync: None,
        probe: LatencyProbe::detached(quanta::Clock::new()),
        log: DistinctLog::new("feed", None),
        tap: None,
        journal: None,
    })
    .expect("feed builds");
    (feed, md_rx)
}
