//! The Bybit adapter on the generic live feed over a real loopback WebSocket: it subscribes on
//! connect, sends `{"op":"ping"}` when due, a delta whose `u` skips one makes its book stale and
//! the feed resubscribes that topic alone (`unsubscribe`, then `subscribe`); the venue's new
//! snapshot resyncs it; a later snapshot with `u == 1` (a service restart) resets the book.

#[path = "support/loopback.rs"]
mod loopback;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use pulse_feeds::bybit::{BybitAdapter, BybitMarket};
use pulse_feeds::clock::Clock;
use pulse_feeds::event::{MdEvent, StaleReason};
use pulse_feeds::instrument::{InstrumentRegistry, Venue};
use pulse_feeds::num::{InstrumentId, Nanos, Px, Qty};
use pulse_feeds::stage::Stage;
use pulse_feeds::venue::MarketAdapter;
use tungstenite::Message;

type Ws = tungstenite::WebSocket<std::net::TcpStream>;

const PING: &str = r#"{"op":"ping"}"#;

/// A book push of `TUSDT` at depth 50.
fn push(kind: &str, u: u64, bids: &str, asks: &str) -> String {
    format!(
        r#"{{"topic":"orderbook.50.TUSDT","type":"{kind}","ts":1,"data":{{"s":"TUSDT","b":[{bids}],"a":[{asks}],"u":{u},"seq":{}}},"cts":1}}"#,
        u + 7_000
    )
}

fn ack(op: &str) -> String {
    format!(r#"{{"success":true,"ret_msg":"","conn_id":"c","req_id":"","op":"{op}"}}"#)
}

/// Reads client frames until one is `needle` or contains it; returns it.
fn read_until(ws: &mut Ws, needle: &str) -> String {
    loop {
        match ws.read().expect("server read") {
            Message::Text(t) if t.as_str().contains(needle) => return t.as_str().to_owned(),
            Message::Text(t) if t.as_str() == PING => {}
            Message::Text(t) => panic!("unexpected frame from the client: {t}"),
            _ => {}
        }
    }
}

fn send(ws: &mut Ws, frames: &[String]) {
    for frame in frames {
        ws.send(Message::text(frame.clone())).unwrap();
    }
}

fn serve(listener: TcpListener) -> Vec<String> {
    let (stream, _) = listener.accept().expect("client connects");
    let mut ws = tungstenite::accept(stream).expect("handshake");
    let mut seen = vec![read_until(&mut ws, r#""op":"subscribe""#)];
    send(
        &mut ws,
        &[
            ack("subscribe"),
            push(
                "snapshot",
                100,
                r#"["99.9","1"],["99.8","3"]"#,
                r#"["100.1","2"]"#,
            ),
            push("delta", 101, r#"["99.7","4"]"#, ""),
        ],
    );
    seen.push(read_until(&mut ws, PING));
    send(
        &mut ws,
        &[
            r#"{"success":true,"ret_msg":"pong","conn_id":"c","req_id":"","op":"ping"}"#.into(),
            // u 102 never arrives.
            push("delta", 103, r#"["99.6","5"]"#, ""),
            // Sent before the resubscription lands: dropped while the book waits.
            push("delta", 104, r#"["99.5","5"]"#, ""),
        ],
    );
    seen.push(read_until(&mut ws, r#""op":"unsubscribe""#));
    seen.push(read_until(&mut ws, r#""op":"subscribe""#));
    send(
        &mut ws,
        &[
            ack("unsubscribe"),
            ack("subscribe"),
            push(
                "snapshot",
                200,
                r#"["99.9","6"],["99.8","1"]"#,
                r#"["100.1","2"]"#,
            ),
            push("delta", 201, r#"["99.9","0"]"#, ""),
            // A service restart: the update id starts again.
            push("snapshot", 1, r#"["99.0","9"]"#, r#"["101.0","9"]"#),
            push("delta", 2, "", r#"["100.5","1"]"#),
        ],
    );
    // Hold the connection until the client is done.
    let _ = ws.get_ref().set_read_timeout(Some(Duration::from_secs(5)));
    let _ = ws.read();
    seen
}

#[test]
fn a_gap_resubscribes_that_topic_and_a_restart_resets_the_book() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || serve(listener));
    let mut registry = InstrumentRegistry::new();
    registry
        .add(Venue::BybitLinear, "TUSDT", 1, 0, Px(1), Qty(1))
        .unwrap();
    let adapter = BybitAdapter::new(BybitMarket::Linear, registry);
    assert_eq!(adapter.stream_path(), "/v5/public/linear");
    assert_eq!(adapter.source(), "bybit-linear");
    let keepalive = adapter.keepalive().expect("Bybit asks for pings");
    assert_eq!(
        (keepalive.every, keepalive.frame),
        (Nanos::from_millis(20_000), PING)
    );
    let (mut feed, mut md_rx) = loopback::live_feed(adapter, addr, Nanos::from_millis(600_000));
    let clock = Clock::live();
    let deadline = Instant::now() + Duration::from_secs(20);
    let (mut resets, mut stale, mut commits) = (0, Vec::new(), Vec::new());
    // The clock the feed sees jumps 21 s once the book first synced: the ping is then due.
    let mut skew = Nanos::ZERO;
    let counters = loop {
        feed.do_work(Nanos(clock.now().0 + skew.0));
        while let Ok(event) = md_rx.pop() {
            match event {
                MdEvent::BookReset { .. } => resets += 1,
                MdEvent::BookStale { reason, .. } => stale.push(reason),
                MdEvent::BookCommit { update_id, .. } => commits.push(update_id),
                _ => {}
            }
        }
        let k = feed.adapter().sync(InstrumentId(0)).unwrap().counters;
        if k.applied == 1 {
            skew = Nanos::from_millis(21_000);
        }
        if k.snapshots == 3 && k.applied == 3 {
            break k;
        }
        assert!(
            Instant::now() < deadline,
            "stalled: {k:?} {:?}",
            feed.counters()
        );
    };
    assert_eq!(feed.counters().keepalives, 1);
    assert_eq!(feed.adapter().control, 4, "the pong and three acks");
    drop(feed);
    let seen = server.join().expect("server thread");
    assert_eq!(
        (
            counters.gaps,
            counters.resyncs,
            counters.dropped,
            counters.sequence_resets,
            counters.last_update_id
        ),
        (1, 1, 1, 1, 2)
    );
    assert_eq!(resets, 3);
    assert_eq!(stale, [StaleReason::Gap]);
    assert_eq!(commits, [100, 101, 200, 201, 1, 2]);
    assert_eq!(
        seen,
        [
            r#"{"op":"subscribe","args":["orderbook.50.TUSDT","publicTrade.TUSDT","tickers.TUSDT"]}"#,
            PING,
            r#"{"op":"unsubscribe","args":["orderbook.50.TUSDT"]}"#,
            r#"{"op":"subscribe","args":["orderbook.50.TUSDT"]}"#,
        ]
    );
}
