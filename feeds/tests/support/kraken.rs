//! Kraken test support: a capture run through the real
//! capture feed and book stage without threads, gathering what each book went through.

use std::io::Cursor;
use std::path::Path;

use pulse_feeds::book::Level;
use pulse_feeds::book_stage::{BookCounters, BookStage};
use pulse_feeds::capture::CaptureReader;
use pulse_feeds::clock::ReplayTime;
use pulse_feeds::event::{BookState, MarketEvent};
use pulse_feeds::instrument::InstrumentRegistry;
use pulse_feeds::latency::LatencyProbe;
use pulse_feeds::log::DistinctLog;
use pulse_feeds::num::{Nanos, Side};
use pulse_feeds::replay::CaptureFeed;
use pulse_feeds::stage::Stage;
use pulse_feeds::sync_counters::SyncCounters;

pub fn data(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../data")
        .join(name)
}

/// What one book went through in a run.
#[derive(Debug, Default, Clone)]
pub struct BookRun {
    pub sync: SyncCounters,
    pub book: BookCounters,
    /// Commits published live, and of them crossed ones.
    pub live_tops: u64,
    pub crossed_tops: u64,
    pub state: Option<BookState>,
    /// Levels the book stage holds at the end, bids and asks.
    pub depths: (usize, usize),
    /// The final book, best first, ten levels a side at most.
    pub bids: Vec<Level>,
    pub asks: Vec<Level>,
}

/// Runs `capture` through a capture feed and the book stage over `registry`.
pub fn run(capture: String, registry: &InstrumentRegistry) -> (Vec<BookRun>, CaptureFeed) {
    let reader = CaptureReader::from_reader(Box::new(Cursor::new(capture.into_bytes())));
    let clock = quanta::Clock::new();
    let (md_tx, md_rx) = rtrb::RingBuffer::new(4096);
    let (out_tx, mut out_rx) = rtrb::RingBuffer::new(1024);
    let (control_tx, control_rx) = rtrb::RingBuffer::new(64);
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
        BookStage::new(registry, 8192, md_rx, vec![out_tx], probe).with_control(control_tx);
    let mut runs = vec![BookRun::default(); registry.len()];
    loop {
        let work = feed.do_work(Nanos(0)) + book.do_work(Nanos(0));
        while let Ok(ev) = out_rx.pop() {
            if let MarketEvent::Book(top) = ev {
                let r = &mut runs[top.meta.instrument.0 as usize];
                r.state = Some(top.state);
                if top.state == BookState::Live {
                    r.live_tops += 1;
                    if let (Some(b), Some(a)) = (top.best_bid(), top.best_ask()) {
                        r.crossed_tops += u64::from(b.px >= a.px);
                    }
                }
            }
        }
        if work == 0 && feed.intake_done() {
            break;
        }
    }
    for (i, r) in runs.iter_mut().enumerate() {
        let id = pulse_feeds::num::InstrumentId(i as u16);
        r.sync = feed.sync_counters(id).copied().unwrap_or_default();
        r.book = book.counters(i).copied().unwrap_or_default();
        let mut levels = [Level::default(); 10];
        if let Some(b) = book.book(i) {
            r.depths = (b.depth(Side::Buy), b.depth(Side::Sell));
            let n = b.top(Side::Buy, &mut levels);
            r.bids = levels[..n].to_vec();
            let n = b.top(Side::Sell, &mut levels);
            r.asks = levels[..n].to_vec();
        }
    }
    (runs, feed)
}
