//! Resync of one symbol only: a crossed book is reported by the book stage on the control ring,
//! the feed marks that symbol stale and resyncs it from its next snapshot, and the other symbol
//! keeps going. Driven without threads over an in-memory capture, through the real stages.

use std::io::Cursor;

use pulse_feeds::book::Level;
use pulse_feeds::book_stage::BookStage;
use pulse_feeds::capture::CaptureReader;
use pulse_feeds::clock::ReplayTime;
use pulse_feeds::event::{BookState, EventMeta, LevelBatch, MarketEvent, MdEvent, ResyncRequest};
use pulse_feeds::instrument::{InstrumentRegistry, Venue};
use pulse_feeds::latency::LatencyProbe;
use pulse_feeds::log::DistinctLog;
use pulse_feeds::num::{InstrumentId, Nanos, Px, Qty, Side};
use pulse_feeds::replay::CaptureFeed;
use pulse_feeds::stage::Stage;

const A: InstrumentId = InstrumentId(0);
const B: InstrumentId = InstrumentId(1);

/// AAAUSDT crosses at update 101 (a bid of 12.00 over the 11.00 ask), is resynced from the
/// snapshot at 102; BBBUSDT carries on throughout and its venue ticker at 203 is checked.
const CAPTURE: &str = "\
1\tbinance:rest:/api/v3/depth?symbol=AAAUSDT&limit=1000\t{\"lastUpdateId\":100,\"bids\":[[\"10.00\",\"1\"]],\"asks\":[[\"11.00\",\"1\"]]}
2\tbinance:rest:/api/v3/depth?symbol=BBBUSDT&limit=1000\t{\"lastUpdateId\":200,\"bids\":[[\"20.00\",\"1\"]],\"asks\":[[\"21.00\",\"1\"]]}
3\tbinance:ws\t{\"e\":\"depthUpdate\",\"s\":\"AAAUSDT\",\"U\":101,\"u\":101,\"b\":[[\"12.00\",\"1\"]],\"a\":[]}
4\tbinance:ws\t{\"e\":\"depthUpdate\",\"s\":\"BBBUSDT\",\"U\":201,\"u\":201,\"b\":[[\"20.50\",\"2\"]],\"a\":[]}
5\tbinance:ws\t{\"e\":\"depthUpdate\",\"s\":\"AAAUSDT\",\"U\":102,\"u\":102,\"b\":[],\"a\":[[\"11.50\",\"1\"]]}
6\tbinance:ws\t{\"e\":\"depthUpdate\",\"s\":\"BBBUSDT\",\"U\":202,\"u\":202,\"b\":[],\"a\":[[\"20.90\",\"3\"]]}
7\tbinance:rest:/api/v3/depth?symbol=AAAUSDT&limit=1000\t{\"lastUpdateId\":102,\"bids\":[[\"10.00\",\"1\"]],\"asks\":[[\"11.00\",\"1\"]]}
8\tbinance:ws\t{\"e\":\"depthUpdate\",\"s\":\"AAAUSDT\",\"U\":103,\"u\":103,\"b\":[[\"10.50\",\"4\"]],\"a\":[]}
9\tbinance:ws\t{\"e\":\"depthUpdate\",\"s\":\"BBBUSDT\",\"U\":203,\"u\":203,\"b\":[],\"a\":[[\"21.00\",\"0\"]]}
10\tbinance:ws\t{\"u\":203,\"s\":\"BBBUSDT\",\"b\":\"20.50\",\"B\":\"2\",\"a\":\"20.90\",\"A\":\"3\"}
";

fn lvl(px: i64, qty: i64) -> Level {
    Level {
        px: Px(px),
        qty: Qty(qty),
    }
}

/// A and B, both ticked at one mantissa unit.
fn registry() -> InstrumentRegistry {
    let mut registry = InstrumentRegistry::new();
    for symbol in ["AAAUSDT", "BBBUSDT"] {
        registry
            .add(Venue::Binance, symbol, 2, 0, Px(1), Qty(1))
            .unwrap();
    }
    registry
}

#[test]
fn a_crossed_book_resyncs_its_symbol_only() {
    let registry = registry();
    let reader = CaptureReader::from_reader(Box::new(Cursor::new(CAPTURE.as_bytes().to_vec())));
    let clock = quanta::Clock::new();
    let (md_tx, md_rx) = rtrb::RingBuffer::new(64);
    let (out_tx, mut out_rx) = rtrb::RingBuffer::new(64);
    let (control_tx, control_rx) = rtrb::RingBuffer::new(4);
    let mut feed = CaptureFeed::new(
        reader,
        registry.clone(),
        md_tx,
        ReplayTime::default(),
        LatencyProbe::detached(clock.clone()),
        DistinctLog::new("feed", None),
    )
    .with_control(control_rx);
    let probe = LatencyProbe::detached(clock);
    let mut book =
        BookStage::new(&registry, 64, md_rx, vec![out_tx], probe).with_control(control_tx);
    let mut tops: [Vec<(BookState, u64)>; 2] = [Vec::new(), Vec::new()];
    loop {
        let work = feed.do_work(Nanos(0)) + book.do_work(Nanos(0));
        while let Ok(MarketEvent::Book(top)) = out_rx.pop() {
            tops[top.meta.instrument.0 as usize].push((top.state, top.update_id));
        }
        if work == 0 && feed.intake_done() {
            break;
        }
    }
    assert_eq!(feed.counters.messages, 10);
    assert_eq!(feed.counters.resync_requests, 1);

    // AAAUSDT: live, crossed at 101, stale at the feed's word, live again from the snapshot at
    // 102 (which covers the buffered diff 102), then 103 applies.
    assert_eq!(
        tops[0],
        [
            (BookState::Live, 100),
            (BookState::Crossed, 101),
            (BookState::Stale, 0),
            (BookState::Live, 102),
            (BookState::Live, 103)
        ]
    );
    let a = *feed.sync_counters(A).unwrap();
    assert_eq!(
        (
            a.snapshots,
            a.resyncs,
            a.resync_requests,
            a.applied,
            a.dropped,
            a.gaps
        ),
        (2, 1, 1, 2, 1, 0)
    );
    let ab = *book.counters(0).unwrap();
    assert_eq!(
        (
            ab.crossed,
            ab.resync_requests,
            ab.control_full,
            ab.stale_marks
        ),
        (1, 1, 0, 1)
    );
    assert_eq!(book.state(0), Some(BookState::Live));
    assert_eq!(book.book(0).unwrap().best_bid(), Some(lvl(1050, 4)));
    assert_eq!(book.book(0).unwrap().best_ask(), Some(lvl(1100, 1)));

    // BBBUSDT never noticed: every commit live, its ticker checked.
    assert_eq!(
        tops[1],
        [
            (BookState::Live, 200),
            (BookState::Live, 201),
            (BookState::Live, 202),
            (BookState::Live, 203)
        ]
    );
    let b = *feed.sync_counters(B).unwrap();
    assert_eq!(
        (b.snapshots, b.resyncs, b.resync_requests, b.applied, b.gaps),
        (1, 0, 0, 3, 0)
    );
    let bb = *book.counters(1).unwrap();
    assert_eq!(
        (bb.crossed, bb.stale_marks, bb.ticker_ok, bb.ticker_mismatch),
        (0, 0, 1, 0)
    );
}

fn meta(instrument: InstrumentId) -> EventMeta {
    EventMeta {
        instrument,
        ..EventMeta::default()
    }
}

/// One level, in a batch of its own.
fn level(side: Side, px: i64, qty: i64) -> MdEvent {
    let mut batch = LevelBatch::new(A);
    assert!(batch.push(side, Px(px), Qty(qty)));
    batch.event()
}

fn commit(update_id: u64) -> MdEvent {
    MdEvent::BookCommit {
        meta: meta(A),
        update_id,
    }
}

#[test]
fn a_full_control_ring_keeps_the_book_crossed_and_retries_at_the_next_commit() {
    let (mut md_tx, md_rx) = rtrb::RingBuffer::new(16);
    let (out_tx, mut out_rx) = rtrb::RingBuffer::new(16);
    let (mut control_tx, mut control_rx) = rtrb::RingBuffer::new(1);
    let stranger = ResyncRequest {
        instrument: B,
        update_id: 7,
    };
    control_tx.push(stranger).unwrap();
    let clock = quanta::Clock::new();
    let probe = LatencyProbe::detached(clock);
    let mut book =
        BookStage::new(&registry(), 8, md_rx, vec![out_tx], probe).with_control(control_tx);
    let mut run = |events: &[MdEvent], book: &mut BookStage| -> Vec<BookState> {
        for e in events {
            md_tx.push(*e).unwrap();
        }
        book.do_work(Nanos(0));
        let mut states = Vec::new();
        while let Ok(MarketEvent::Book(top)) = out_rx.pop() {
            states.push(top.state);
        }
        states
    };
    let reset = MdEvent::BookReset { meta: meta(A) };
    let crossing = [
        reset,
        level(Side::Buy, 12, 1),
        level(Side::Sell, 11, 1),
        commit(1),
    ];
    assert_eq!(run(&crossing, &mut book), [BookState::Crossed]);
    let c = *book.counters(0).unwrap();
    assert_eq!((c.crossed, c.resync_requests, c.control_full), (1, 0, 1));

    // Still full: the next commit, uncrossed, keeps the book crossed and tries again.
    let uncross = [level(Side::Buy, 12, 0), level(Side::Buy, 10, 1), commit(2)];
    assert_eq!(run(&uncross, &mut book), [BookState::Crossed]);
    assert_eq!(book.counters(0).unwrap().control_full, 2);

    // Room again: the request goes out, naming the commit that crossed.
    assert_eq!(control_rx.pop(), Ok(stranger));
    assert_eq!(run(&[commit(3)], &mut book), [BookState::Crossed]);
    assert_eq!(
        control_rx.pop(),
        Ok(ResyncRequest {
            instrument: A,
            update_id: 1
        })
    );
    let c = *book.counters(0).unwrap();
    assert_eq!((c.crossed, c.resync_requests, c.control_full), (1, 1, 2));
    // Sent once: no repeat until the book is reset.
    assert_eq!(run(&[commit(4)], &mut book), [BookState::Crossed]);
    assert!(control_rx.pop().is_err());
    // A reset and a sound snapshot make it live again.
    let snapshot = [
        reset,
        level(Side::Buy, 10, 1),
        level(Side::Sell, 11, 1),
        commit(9),
    ];
    assert_eq!(run(&snapshot, &mut book), [BookState::Live]);
    assert_eq!(book.counters(0).unwrap().resync_requests, 1);
}
