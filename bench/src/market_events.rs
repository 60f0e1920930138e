//! The bundled BTCUSDT capture as the strategy stage sees it: replayed once through the real
//! feed and book stages, every market event collected (3,450 book tops and 9,757 trades), for
//! benches that time strategies and indicators per event without the feed and book in the way.

use std::path::Path;

use pulse_feeds::book_stage::BookStage;
use pulse_feeds::capture::CaptureReader;
use pulse_feeds::clock::ReplayTime;
use pulse_feeds::event::MarketEvent;
use pulse_feeds::instrument::{InstrumentRegistry, Venue};
use pulse_feeds::latency::LatencyProbe;
use pulse_feeds::log::DistinctLog;
use pulse_feeds::num::{Nanos, Px, Qty};
use pulse_feeds::replay::CaptureFeed;
use pulse_feeds::stage::Stage;

/// BTCUSDT's price tick at price scale 2.
pub const TICK: Px = Px(1);

pub fn market_events() -> Vec<MarketEvent> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../data/binance_spot_btcusdt_2024-08-08.cap.gz");
    let mut registry = InstrumentRegistry::new();
    let _ = registry.add(Venue::Binance, "BTCUSDT", 2, 8, TICK, Qty(1000));
    let clock = quanta::Clock::new();
    let probe = || LatencyProbe::detached(clock.clone());
    let (md_tx, md_rx) = rtrb::RingBuffer::new(4096);
    let (out_tx, mut out_rx) = rtrb::RingBuffer::new(1024);
    let mut book = BookStage::new(&registry, 8192, md_rx, vec![out_tx], probe());
    let reader = CaptureReader::open(&path).expect("the bundled capture opens");
    let log = DistinctLog::new("feed", None);
    let mut feed = CaptureFeed::new(reader, registry, md_tx, ReplayTime::default(), probe(), log);
    let mut events = Vec::new();
    loop {
        let work = feed.do_work(Nanos(0)) + book.do_work(Nanos(0));
        while let Ok(event) = out_rx.pop() {
            events.push(event);
        }
        if work == 0 && feed.intake_done() {
            return events;
        }
    }
}
