//! The Coinbase Advanced Trade live path after warm-up, over a real loopback WebSocket: the
//! generic live feed (socket reads, WebSocket frames, the adapter, the outbox and ring) takes
//! hundreds of small messages (book updates, tickers, trades, heartbeats) with no allocation,
//! under a counting global allocator that counts this thread only (the test's server runs on
//! another); and a second whole-book snapshot (4.8 MB in one message), measured apart, none
//! either: the first grew the buffers it needs. Printed with `--nocapture`.
//!
//! Its own test binary with one test, so nothing else allocates on the measured thread.

#[path = "support/coinbase_at.rs"]
mod coinbase_at;
#[path = "../../engine/tests/counting/mod.rs"]
mod counting;
#[path = "support/loopback.rs"]
mod loopback;

use std::net::TcpListener;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use coinbase_at::{heartbeat, l2, numbered, DOC_TICKER, DOC_TRADES};
use pulse_feeds::capture;
use pulse_feeds::clock::Clock;
use pulse_feeds::coinbase_at::CoinbaseAtAdapter;
use pulse_feeds::event::MdEvent;
use pulse_feeds::live::LiveFeed;
use pulse_feeds::num::{InstrumentId, Nanos};
use pulse_feeds::stage::Stage;
use tungstenite::Message;

const BTC: InstrumentId = InstrumentId(0);
/// Small messages per round.
const ROUND: u64 = 400;

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

/// `ROUND` small messages numbered from `from`: updates near BTC-USD's touch, tickers, trades
/// and heartbeats in turn.
fn small(from: u64) -> Vec<String> {
    (from..from + ROUND)
        .map(|seq| match seq % 4 {
            0 => numbered(DOC_TICKER, seq),
            1 => numbered(DOC_TRADES, seq),
            2 => heartbeat(seq),
            _ => {
                let qty = format!("0.{}", seq % 97 + 1);
                l2(seq, "update", "BTC-USD", &[("bid", "21921.70", &qty)])
            }
        })
        .collect()
}

fn serve(listener: TcpListener, next: mpsc::Receiver<()>) {
    let (stream, _) = listener.accept().expect("client connects");
    let mut ws = tungstenite::accept(stream).expect("handshake");
    for _ in 0..4 {
        ws.read().expect("a subscription");
    }
    let book = whole_book(1);
    let mut send = |frames: &[String]| {
        for f in frames {
            ws.send(Message::text(f.clone())).unwrap();
        }
    };
    // Warm-up: a whole book and a round; then a measured round; then a whole book again.
    send(std::slice::from_ref(&book));
    send(&small(2));
    next.recv().unwrap();
    send(&small(2 + ROUND));
    next.recv().unwrap();
    send(&[book.replacen(
        r#""sequence_num":1,"#,
        &format!(r#""sequence_num":{},"#, 2 + 2 * ROUND),
        1,
    )]);
    let _ = next.recv_timeout(Duration::from_secs(10));
}

/// Runs the feed until its book has applied `updates` updates and taken `snapshots` snapshots.
fn run_until(
    feed: &mut LiveFeed<CoinbaseAtAdapter>,
    md: &mut rtrb::Consumer<MdEvent>,
    clock: &Clock,
    updates: u64,
    snapshots: u64,
) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        feed.do_work(clock.now());
        while md.pop().is_ok() {}
        let k = feed.adapter().sync(BTC).unwrap().counters;
        if k.applied >= updates && k.snapshots >= snapshots {
            return;
        }
        assert!(Instant::now() < deadline, "stalled: {k:?}");
    }
}

#[test]
fn small_messages_and_a_whole_book_allocate_nothing_after_warm_up() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::channel();
    let server = std::thread::spawn(move || serve(listener, rx));
    let adapter = CoinbaseAtAdapter::new(coinbase_at::registry());
    let (mut feed, mut md) =
        loopback::live_feed_with_ring(adapter, addr, Nanos::from_millis(600_000), 16_384);
    let clock = Clock::live();
    run_until(&mut feed, &mut md, &clock, ROUND / 4, 1);
    tx.send(()).unwrap();
    let ((), small) = counting::measure(|| run_until(&mut feed, &mut md, &clock, ROUND / 2, 1));
    tx.send(()).unwrap();
    let ((), book) = counting::measure(|| run_until(&mut feed, &mut md, &clock, ROUND / 2, 2));
    let _ = tx.send(());
    println!(
        "allocations: {small} over {ROUND} small messages after warm-up; {book} for a second \
         4.8 MB whole-book message"
    );
    let k = feed.adapter().sync(BTC).unwrap().counters;
    assert_eq!((k.applied, k.snapshots, k.gaps), (ROUND / 2, 2, 0));
    assert_eq!(small, 0, "allocations over {ROUND} small messages");
    assert_eq!(book, 0, "allocations for the second whole book");
    drop(feed);
    server.join().expect("server thread");
}
