//! A venue is a folder: a fake second venue, a few lines of codec over a tiny synthetic text
//! protocol (support/fake_venue.rs), runs beside Binance in one capture feed through the real
//! book stage, and both venues' books reach it. Only the [`MarketAdapter`] trait is
//! implemented: no line of the feeds changes for it.

use std::io::Cursor;

use pulse_feeds::book_stage::BookStage;
use pulse_feeds::capture::CaptureReader;
use pulse_feeds::clock::ReplayTime;
use pulse_feeds::event::{BookState, MarketEvent};
use pulse_feeds::instrument::{InstrumentRegistry, Venue};
use pulse_feeds::latency::LatencyProbe;
use pulse_feeds::log::DistinctLog;
use pulse_feeds::num::{InstrumentId, Nanos, Px, Qty};
use pulse_feeds::replay::CaptureFeed;
use pulse_feeds::stage::Stage;

#[path = "support/fake_venue.rs"]
mod fake_venue;

use fake_venue::FakeAdapter;

const BINANCE: InstrumentId = InstrumentId(0);
const FAKE: InstrumentId = InstrumentId(1);

/// Binance and the fake venue interleaved; the fake one skips sequence 4 (a gap: stale until
/// its next snapshot at 10).
const CAPTURE: &str = "\
1\tbinance:rest:/api/v3/depth?symbol=AAAUSDT&limit=1000\t{\"lastUpdateId\":100,\"bids\":[[\"10.00\",\"1\"]],\"asks\":[[\"11.00\",\"1\"]]}
2\tfake:ws\tS 1 5000 5100
3\tbinance:ws\t{\"e\":\"depthUpdate\",\"s\":\"AAAUSDT\",\"U\":101,\"u\":101,\"b\":[[\"10.50\",\"2\"]],\"a\":[]}
4\tfake:ws\tU 2 b 5050 3
5\tfake:ws\tU 3 a 5080 2
6\tbinance:ws\t{\"e\":\"depthUpdate\",\"s\":\"AAAUSDT\",\"U\":102,\"u\":102,\"b\":[],\"a\":[[\"10.90\",\"3\"]]}
7\tfake:ws\tU 5 b 5060 1
8\tfake:ws\tS 10 5000 5100
9\tfake:ws\tU 11 b 5070 4
";

#[test]
fn a_fake_venue_runs_beside_binance_in_one_feed() {
    let mut registry = InstrumentRegistry::new();
    registry
        .add(Venue::Binance, "AAAUSDT", 2, 0, Px(1), Qty(1))
        .unwrap();
    registry
        .add(Venue::BinanceUsdm, "FAKEUSD", 2, 0, Px(1), Qty(1))
        .unwrap();
    let reader = CaptureReader::from_reader(Box::new(Cursor::new(CAPTURE.as_bytes().to_vec())));
    let clock = quanta::Clock::new();
    let (md_tx, md_rx) = rtrb::RingBuffer::new(64);
    let (out_tx, mut out_rx) = rtrb::RingBuffer::new(64);
    let fake = FakeAdapter::new(FAKE, registry.len());
    let mut feed = CaptureFeed::new(
        reader,
        registry.clone(),
        md_tx,
        ReplayTime::default(),
        LatencyProbe::detached(clock.clone()),
        DistinctLog::new("feed", None),
    )
    .with_adapter(fake);
    let mut book = BookStage::new(
        &registry,
        64,
        md_rx,
        vec![out_tx],
        LatencyProbe::detached(clock),
    );
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
    assert_eq!(feed.counters.messages, 9);
    assert_eq!(feed.counters.unknown_venue, 0);
    assert_eq!(feed.counters.bad_frames_total(), 0);
    let live = |id: InstrumentId| -> Vec<u64> {
        tops[id.0 as usize]
            .iter()
            .filter(|(state, _)| *state == BookState::Live)
            .map(|&(_, id)| id)
            .collect()
    };
    assert_eq!(live(BINANCE), [100, 101, 102]);
    assert_eq!(live(FAKE), [1, 2, 3, 10, 11]);
    assert!(tops[FAKE.0 as usize].contains(&(BookState::Stale, 0)));
    let fake = feed.sync_counters(FAKE).copied().unwrap_or_default();
    assert_eq!(
        (fake.snapshots, fake.applied, fake.gaps, fake.resyncs),
        (2, 3, 1, 1)
    );
    assert_eq!(book.counters(FAKE.0 as usize).unwrap().commits, 5);
    assert_eq!(book.counters(BINANCE.0 as usize).unwrap().commits, 3);
    // The fake book as its venue left it: 50.70 x 4 over 51.00 x 1.
    let top = book.book(FAKE.0 as usize).unwrap();
    assert_eq!(
        top.best_bid().map(|l| (l.px, l.qty)),
        Some((Px(5070), Qty(4)))
    );
    assert_eq!(
        top.best_ask().map(|l| (l.px, l.qty)),
        Some((Px(5100), Qty(1)))
    );
}
