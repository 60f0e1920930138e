//! The OKX adapter on the generic live feed over a real loopback WebSocket: it subscribes on
//! connect, a push with a wrong checksum makes its book stale, and the feed resubscribes that
//! book alone (`unsubscribe`, then `subscribe`); the venue's new snapshot resyncs it.

#[path = "support/okx.rs"]
mod okx;

#[path = "support/loopback.rs"]
mod loopback;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use okx::{books_line, RefBook};
use pulse_feeds::clock::Clock;
use pulse_feeds::event::{MdEvent, StaleReason};
use pulse_feeds::instrument::{InstrumentRegistry, Venue};
use pulse_feeds::num::{InstrumentId, Nanos, Px, Qty};
use pulse_feeds::okx::OkxAdapter;
use pulse_feeds::stage::Stage;
use pulse_feeds::venue::MarketAdapter;
use tungstenite::Message;

type Ws = tungstenite::WebSocket<std::net::TcpStream>;

/// The payload of a generated `books` push, its checksum from `book` (plus `skew`).
fn push(book: &mut RefBook, action: &str, bid: (&str, &str), seq: (i64, i64), skew: i32) -> String {
    if action == "snapshot" {
        *book = RefBook::default();
        book.apply(&[("99.9", "1"), bid], &[("100.1", "2")]);
    } else {
        book.apply(&[bid], &[]);
    }
    let (bids, asks): (Vec<_>, Vec<_>) = if action == "snapshot" {
        (vec![("99.9", "1"), bid], vec![("100.1", "2")])
    } else {
        (vec![bid], vec![])
    };
    let line = books_line(
        1,
        "books",
        "T-USDT",
        Some(action),
        &bids,
        &asks,
        Some(seq),
        book.checksum() + skew,
    );
    line.trim_end().splitn(3, '\t').nth(2).unwrap().to_owned()
}

/// Reads client frames until one contains `needle`, skipping `ping`s; returns it.
fn read_until(ws: &mut Ws, needle: &str) -> String {
    loop {
        match ws.read().expect("server read") {
            Message::Text(t) if t.as_str() == "ping" => {}
            Message::Text(t) if t.as_str().contains(needle) => return t.as_str().to_owned(),
            Message::Text(t) => panic!("unexpected frame from the client: {t}"),
            _ => {}
        }
    }
}

fn serve(listener: TcpListener) -> Vec<String> {
    let (stream, _) = listener.accept().expect("client connects");
    let mut ws = tungstenite::accept(stream).expect("handshake");
    let mut seen = vec![read_until(&mut ws, r#""op":"subscribe""#)];
    ws.send(Message::text(
        r#"{"event":"subscribe","arg":{"channel":"books","instId":"T-USDT"}}"#,
    ))
    .unwrap();
    let mut book = RefBook::default();
    for frame in [
        push(&mut book, "snapshot", ("99.8", "3"), (1, -1), 0),
        push(&mut book, "update", ("99.7", "4"), (2, 1), 0),
        push(&mut book, "update", ("99.6", "5"), (3, 2), 1),
        // Sent before the resubscription lands: dropped while the book waits.
        push(&mut book, "update", ("99.5", "5"), (4, 3), 0),
    ] {
        ws.send(Message::text(frame)).unwrap();
    }
    seen.push(read_until(&mut ws, r#""op":"unsubscribe""#));
    seen.push(read_until(&mut ws, r#""op":"subscribe""#));
    for frame in [
        push(&mut book, "snapshot", ("99.8", "6"), (10, -1), 0),
        push(&mut book, "update", ("99.9", "0"), (11, 10), 0),
        "pong".to_owned(),
    ] {
        ws.send(Message::text(frame)).unwrap();
    }
    // Hold the connection until the client is done.
    let _ = ws.get_ref().set_read_timeout(Some(Duration::from_secs(5)));
    let _ = ws.read();
    seen
}

#[test]
fn a_checksum_mismatch_resubscribes_that_book_and_resyncs_it() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || serve(listener));
    let mut registry = InstrumentRegistry::new();
    registry
        .add(Venue::Okx, "T-USDT", 1, 0, Px(1), Qty(1))
        .unwrap();
    let adapter = OkxAdapter::new(registry);
    assert_eq!(adapter.stream_path(), "/ws/v5/public");
    let keepalive = adapter.keepalive().expect("OKX asks for pings");
    assert_eq!(
        (keepalive.every, keepalive.frame),
        (Nanos::from_millis(25_000), "ping")
    );
    let (mut feed, mut md_rx) = loopback::live_feed(adapter, addr, Nanos::from_millis(10_000));
    let clock = Clock::live();
    let deadline = Instant::now() + Duration::from_secs(20);
    let (mut resets, mut stale) = (0, Vec::new());
    let counters = loop {
        feed.do_work(clock.now());
        while let Ok(event) = md_rx.pop() {
            match event {
                MdEvent::BookReset { .. } => resets += 1,
                MdEvent::BookStale { reason, .. } => stale.push(reason),
                _ => {}
            }
        }
        let k = feed.adapter().sync(InstrumentId(0)).unwrap().counters;
        if k.snapshots == 2 && k.applied == 2 && feed.adapter().control == 2 {
            break k;
        }
        assert!(
            Instant::now() < deadline,
            "stalled: {k:?} {:?}",
            feed.counters()
        );
    };
    drop(feed);
    let seen = server.join().expect("server thread");
    assert_eq!(
        (
            counters.checksum_ok,
            counters.checksum_mismatch,
            counters.resyncs,
            counters.dropped
        ),
        (4, 1, 1, 1)
    );
    assert_eq!(resets, 2);
    assert_eq!(stale, [StaleReason::Checksum]);
    assert_eq!(
        seen,
        [
            r#"{"op":"subscribe","args":[{"channel":"books","instId":"T-USDT"},{"channel":"trades","instId":"T-USDT"},{"channel":"tickers","instId":"T-USDT"}]}"#,
            r#"{"op":"unsubscribe","args":[{"channel":"books","instId":"T-USDT"}]}"#,
            r#"{"op":"subscribe","args":[{"channel":"books","instId":"T-USDT"}]}"#,
        ]
    );
}
