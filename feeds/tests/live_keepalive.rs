//! A venue that asks for a keepalive (OKX's `ping`, Bybit's `{"op":"ping"}`): the generic live
//! feed sends the adapter's frame on schedule over a real loopback WebSocket, the server
//! receives every one, and after warm-up the feed thread allocates nothing while it keeps
//! reading frames and sending keepalives (a counting global allocator).
//!
//! Its own test binary with one test, so nothing else allocates on the measured thread.

use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use pulse_feeds::clock::Clock;
use pulse_feeds::latency::LatencyProbe;
use pulse_feeds::live::{LiveFeed, LiveParts};
use pulse_feeds::log::DistinctLog;
use pulse_feeds::num::{InstrumentId, Nanos};
use pulse_feeds::rest::RestWorker;
use pulse_feeds::stage::Stage;
use pulse_feeds::venue::Keepalive;
use pulse_feeds::ws::endpoint::Endpoint;
use pulse_feeds::ws::session::{SessionTimers, WsSession};
use tungstenite::Message;

#[path = "../../engine/tests/counting/mod.rs"]
mod counting;
#[path = "support/fake_venue.rs"]
mod fake_venue;

use fake_venue::FakeAdapter;

const PING: &str = "ping";

/// A fake venue's server: a snapshot, then one update about every millisecond until `stop`,
/// reading on until it has received `expected` keepalive frames; returns how many it received.
fn serve(listener: TcpListener, stop: Arc<AtomicBool>, expected: Arc<AtomicU64>) -> u64 {
    let (stream, _) = listener.accept().expect("client connects");
    let mut ws = tungstenite::accept(stream).expect("handshake");
    ws.get_ref()
        .set_read_timeout(Some(Duration::from_millis(1)))
        .expect("read timeout");
    ws.send(Message::text("S 1 5000 5100"))
        .expect("snapshot sent");
    let (mut pings, mut seq) = (0, 1u64);
    let deadline = Instant::now() + Duration::from_secs(60);
    while pings < expected.load(Ordering::Acquire) {
        assert!(Instant::now() < deadline, "{pings} keepalives received");
        match ws.read() {
            Ok(Message::Text(t)) if t.as_str() == PING => pings += 1,
            Ok(other) => panic!("unexpected frame from the client: {other:?}"),
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(e) => panic!("server read: {e}"),
        }
        if stop.load(Ordering::Acquire) {
            continue;
        }
        seq += 1;
        let update = format!("U {seq} b 5050 {}", 1 + seq % 7);
        ws.send(Message::text(update)).expect("update sent");
    }
    pings
}

#[test]
fn keepalives_go_out_on_schedule_without_allocating() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let expected = Arc::new(AtomicU64::new(u64::MAX));
    let server = {
        let (stop, expected) = (Arc::clone(&stop), Arc::clone(&expected));
        std::thread::spawn(move || serve(listener, stop, expected))
    };
    let every = Nanos::from_millis(1);
    let adapter =
        FakeAdapter::new(InstrumentId(0), 1).with_keepalive(Keepalive { every, frame: PING });
    let timers = SessionTimers {
        connect_timeout: Nanos::from_millis(2_000),
        no_data_timeout: Nanos::from_millis(5_000),
        max_age: Nanos::from_millis(600_000),
        backoff_min: Nanos::from_millis(20),
        backoff_max: Nanos::from_millis(200),
    };
    let endpoint = Endpoint::parse(&format!("ws://{addr}/fake")).unwrap();
    let session = WsSession::new(endpoint, vec![addr], None, timers, 7).unwrap();
    let rest_endpoint = Endpoint::parse(&format!("http://{addr}/")).unwrap();
    let rest = RestWorker::spawn(rest_endpoint, None, Duration::from_secs(1)).unwrap();
    let (md_tx, mut md_rx) = rtrb::RingBuffer::new(4_096);
    let mut feed = LiveFeed::new(LiveParts {
        adapter,
        session,
        rest: Some(rest),
        snapshot_limit: 1000,
        stream_timeout: Nanos::from_millis(60_000),
        ring: md_tx,
        resync: None,
        probe: LatencyProbe::detached(quanta::Clock::new()),
        log: DistinctLog::new("feed", None),
        tap: None,
        journal: None,
    })
    .expect("feed builds");

    let clock = Clock::live();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut step = || {
        feed.do_work(clock.now());
        while md_rx.pop().is_ok() {}
        assert!(Instant::now() < deadline, "stalled: {:?}", feed.counters());
        (feed.counters().keepalives, feed.counters().messages)
    };
    // Warm-up: the snapshot and updates read, write buffers grown by a few keepalives.
    let (warm_keepalives, warm_messages) = loop {
        let (keepalives, messages) = step();
        if keepalives >= 20 && messages >= 20 {
            break (keepalives, messages);
        }
    };
    let ((keepalives, messages), allocations) = counting::measure(|| loop {
        let (keepalives, messages) = step();
        if keepalives >= warm_keepalives + 200 {
            break (keepalives, messages);
        }
    });
    // The server stops sending and reads until it has every keepalive the feed counted as
    // sent by the end of the measurement; the feed runs on meanwhile (flushing anything queued).
    stop.store(true, Ordering::Release);
    expected.store(keepalives, Ordering::Release);
    while !server.is_finished() {
        step();
    }
    let received = server.join().expect("server thread");
    println!(
        "{allocations} allocations over {} keepalives and {} frames",
        keepalives - warm_keepalives,
        messages - warm_messages
    );
    assert_eq!(allocations, 0, "the live path allocated after warm-up");
    assert!(
        messages > warm_messages,
        "frames kept arriving while measured"
    );
    // No keepalive is lost: the server saw each one the feed counted as sent by then (and
    // perhaps some sent after).
    assert!(
        received >= keepalives && received <= feed.counters().keepalives,
        "server received {received} keepalives, the feed sent {keepalives} while measured \
         and {} in all",
        feed.counters().keepalives
    );
}
