//! The Coinbase Advanced Trade adapter on the generic live feed over a real loopback
//! WebSocket: it subscribes heartbeats, level2, market_trades and ticker on connect (one
//! channel a message); the generated capture's whole-book BTC-USD snapshot (a 4.8 MB message)
//! syncs the book; a `sequence_num` that skips one makes every book stale and the feed
//! resubscribes each product's level2 (`unsubscribe`, then `subscribe`); the venue's new
//! snapshot resyncs it, and a ticker after it is counted (never held to the book).

#[path = "support/coinbase_at.rs"]
mod coinbase_at;
#[path = "support/loopback.rs"]
mod loopback;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use coinbase_at::{heartbeat, l2, numbered, DOC_TICKER};
use pulse_feeds::capture;
use pulse_feeds::clock::Clock;
use pulse_feeds::coinbase_at::CoinbaseAtAdapter;
use pulse_feeds::event::{MdEvent, StaleReason};
use pulse_feeds::num::{InstrumentId, Nanos};
use pulse_feeds::stage::Stage;
use pulse_feeds::venue::MarketAdapter;
use tungstenite::Message;

type Ws = tungstenite::WebSocket<std::net::TcpStream>;

const BTC: InstrumentId = InstrumentId(0);

/// The next text frame from the client.
fn read_text(ws: &mut Ws) -> String {
    loop {
        if let Message::Text(t) = ws.read().expect("server read") {
            return t.as_str().to_owned();
        }
    }
}

fn send(ws: &mut Ws, frames: &[String]) {
    for frame in frames {
        ws.send(Message::text(frame.clone())).unwrap();
    }
}

fn subscriptions(seq: u64) -> String {
    format!(
        r#"{{"channel":"subscriptions","client_id":"","timestamp":"","sequence_num":{seq},"events":[{{"subscriptions":{{"level2":["BTC-USD","ETH-USD","SOL-USD"]}}}}]}}"#
    )
}

/// The generated capture's BTC-USD whole book, numbered `seq`.
fn whole_book(seq: u64) -> String {
    let text = coinbase_at::capture_text();
    let line = text
        .lines()
        .find(|l| l.contains(r#""type":"snapshot","product_id":"BTC-USD""#))
        .expect("BTC-USD's snapshot");
    let payload = capture::parse_line(line.as_bytes()).unwrap().payload;
    let payload = std::str::from_utf8(payload).unwrap();
    let at = payload.find(r#""sequence_num":"#).unwrap() + r#""sequence_num":"#.len();
    let end = at + payload[at..].find(',').unwrap();
    format!("{}{seq}{}", &payload[..at], &payload[end..])
}

fn serve(listener: TcpListener) -> Vec<String> {
    let (stream, _) = listener.accept().expect("client connects");
    let mut ws = tungstenite::accept(stream).expect("handshake");
    let mut seen: Vec<String> = (0..4).map(|_| read_text(&mut ws)).collect();
    send(
        &mut ws,
        &[
            subscriptions(0),
            whole_book(1),
            l2(2, "update", "BTC-USD", &[("bid", "21921.72", "1.5")]),
            heartbeat(3),
            // 4 never arrives.
            l2(5, "update", "BTC-USD", &[("bid", "21921.71", "0")]),
        ],
    );
    // Each product's resubscription.
    seen.extend((0..6).map(|_| read_text(&mut ws)));
    send(
        &mut ws,
        &[
            // In flight: dropped while the book waits.
            l2(6, "update", "BTC-USD", &[("bid", "21921.70", "0")]),
            subscriptions(7),
            l2(
                8,
                "snapshot",
                "BTC-USD",
                &[
                    ("bid", "21931.98", "8000.21"),
                    ("offer", "21933.98", "8038.07770938"),
                ],
            ),
            l2(9, "update", "BTC-USD", &[("bid", "21930", "1")]),
            // The docs' ticker: the rebuilt book's touch.
            numbered(DOC_TICKER, 10),
        ],
    );
    // Hold the connection until the client is done.
    let _ = ws.get_ref().set_read_timeout(Some(Duration::from_secs(5)));
    let _ = ws.read();
    seen
}

#[test]
fn a_sequence_gap_resubscribes_every_product_and_the_snapshot_resyncs() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || serve(listener));
    let adapter = CoinbaseAtAdapter::new(coinbase_at::registry());
    assert_eq!(adapter.stream_path(), "/");
    assert_eq!(adapter.source(), "coinbase");
    assert_eq!(
        adapter.keepalive(),
        None,
        "the heartbeats channel keeps it open"
    );
    // A whole book crosses the ring in one go: 11,502 events.
    let (mut feed, mut md_rx) =
        loopback::live_feed_with_ring(adapter, addr, Nanos::from_millis(600_000), 16_384);
    let clock = Clock::live();
    let deadline = Instant::now() + Duration::from_secs(30);
    let (mut resets, mut levels, mut stale, mut commits, mut tickers) =
        (0, 0, Vec::new(), Vec::new(), Vec::new());
    let counters = loop {
        feed.do_work(clock.now());
        while let Ok(event) = md_rx.pop() {
            match event {
                MdEvent::BookReset { .. } => resets += 1,
                MdEvent::Levels { len, .. } => levels += usize::from(len),
                MdEvent::BookStale { meta, reason } => stale.push((meta.instrument, reason)),
                MdEvent::BookCommit { update_id, .. } => commits.push(update_id),
                MdEvent::Ticker(t) => tickers.push(t.update_id),
                MdEvent::Trade(_) => {}
            }
        }
        let k = feed.adapter().sync(BTC).unwrap().counters;
        if k.snapshots == 2 && k.applied == 2 && !tickers.is_empty() {
            break k;
        }
        assert!(
            Instant::now() < deadline,
            "stalled: {k:?} {:?}",
            feed.counters()
        );
    };
    assert_eq!(feed.counters().resubscriptions, 3, "one per product");
    drop(feed);
    let seen = server.join().expect("server thread");
    assert_eq!(
        (
            counters.gaps,
            counters.resyncs,
            counters.dropped,
            counters.last_update_id
        ),
        (1, 1, 2, 9)
    );
    assert_eq!(resets, 2);
    assert_eq!(levels, 46_000 + 1 + 2 + 1);
    // Only BTC-USD was in sync: ETH-USD and SOL-USD had nothing to mark, but are
    // resubscribed all the same (the gap may have taken their snapshots).
    assert_eq!(stale, [(BTC, StaleReason::Gap)]);
    assert_eq!(commits, [1, 2, 8, 9]);
    assert_eq!(tickers, [0], "counted, never held to a commit");
    let products = r#"["BTC-USD","ETH-USD","SOL-USD"]"#;
    let mut expected = vec![
        r#"{"type":"subscribe","channel":"heartbeats"}"#.to_owned(),
        format!(r#"{{"type":"subscribe","product_ids":{products},"channel":"level2"}}"#),
        format!(r#"{{"type":"subscribe","product_ids":{products},"channel":"market_trades"}}"#),
        format!(r#"{{"type":"subscribe","product_ids":{products},"channel":"ticker"}}"#),
    ];
    for p in ["BTC-USD", "ETH-USD", "SOL-USD"] {
        for kind in ["unsubscribe", "subscribe"] {
            expected.push(format!(
                r#"{{"type":"{kind}","product_ids":["{p}"],"channel":"level2"}}"#
            ));
        }
    }
    assert_eq!(seen, expected);
}
