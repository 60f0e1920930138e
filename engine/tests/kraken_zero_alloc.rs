//! The Kraken path allocates nothing after warm-up: the adapter's `on_frame` over every frame
//! of the bundled v1 capture and of the generated v2 capture (a second pass, after a first
//! that saw the largest frames), and the real capture feed and book stage over the v1 capture
//! after its ten snapshots, as `pulse replay` runs them, measured with a counting global
//! allocator.

use std::path::{Path, PathBuf};

use pulse_engine::replay_cmd::scan_instruments;
use pulse_feeds::book_stage::BookStage;
use pulse_feeds::capture::{CaptureReader, SourceKind};
use pulse_feeds::clock::ReplayTime;
use pulse_feeds::event::EventMeta;
use pulse_feeds::kraken::{KrakenAdapter, KrakenProtocol};
use pulse_feeds::latency::LatencyProbe;
use pulse_feeds::log::DistinctLog;
use pulse_feeds::num::Nanos;
use pulse_feeds::outbox::Outbox;
use pulse_feeds::replay::CaptureFeed;
use pulse_feeds::stage::Stage;
use pulse_feeds::venue::MarketAdapter;

mod counting;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../data")
        .join(name)
}

/// The payloads of `source` lines.
fn frames(path: &Path, source: &str) -> Vec<Vec<u8>> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter_map(|l| {
            let mut parts = l.splitn(3, '\t');
            let (_, s, payload) = (parts.next(), parts.next(), parts.next()?);
            (s == Some(source)).then(|| payload.as_bytes().to_vec())
        })
        .collect()
}

#[test]
fn the_adapter_does_not_allocate_per_frame_after_warm_up() {
    for (file, source, protocol) in [
        (
            "kraken_v1_book1000_2021-04-17.cap",
            "kraken-v1",
            KrakenProtocol::V1,
        ),
        ("kraken_v2_book_generated.cap", "kraken", KrakenProtocol::V2),
    ] {
        let path = data(file);
        let registry = scan_instruments(&path).unwrap();
        let frames = frames(&path, &format!("{source}:ws"));
        let mut adapter = KrakenAdapter::new(protocol, registry);
        let mut out = Outbox::with_capacity(adapter.outbox_capacity());
        let pass = |adapter: &mut KrakenAdapter, out: &mut Outbox| {
            let mut staged = 0usize;
            for f in &frames {
                let _ = adapter.on_frame(SourceKind::Ws, f, EventMeta::default(), out);
                out.discard_pending(|_| false, |_| staged += 1);
            }
            staged
        };
        pass(&mut adapter, &mut out);
        let (staged, allocations) = counting::measure(|| pass(&mut adapter, &mut out));
        assert!(staged > 500, "{file}: {staged} events");
        assert_eq!(
            allocations,
            0,
            "{file}: allocations in {} frames",
            frames.len()
        );
    }
}

#[test]
fn the_replay_feed_and_book_do_not_allocate_after_the_snapshots() {
    let path = data("kraken_v1_book1000_2021-04-17.cap");
    let registry = scan_instruments(&path).unwrap();
    let clock = quanta::Clock::new();
    let (md_tx, md_rx) = rtrb::RingBuffer::new(4096);
    let (out_tx, mut out_rx) = rtrb::RingBuffer::new(1024);
    let mut feed = CaptureFeed::new(
        CaptureReader::open(&path).unwrap(),
        registry.clone(),
        md_tx,
        ReplayTime::default(),
        LatencyProbe::detached(clock.clone()),
        DistinctLog::new("feed", None),
    );
    let mut book = BookStage::new(
        &registry,
        pulse_engine::pipeline::BOOK_LEVELS_PER_SIDE,
        md_rx,
        vec![out_tx],
        LatencyProbe::detached(clock),
    );
    let mut pass = || {
        let work = feed.do_work(Nanos(0)) + book.do_work(Nanos(0));
        while out_rx.pop().is_ok() {}
        work
    };
    // Warm-up: the subscription replies and every pair's snapshot (lines 1 to 23), and a
    // few hundred updates.
    for _ in 0..2_000 {
        pass();
    }
    let (passes, allocations) = counting::measure(|| {
        let mut passes = 0;
        while pass() > 0 {
            passes += 1;
        }
        passes
    });
    assert!(passes > 2_000, "{passes} passes measured");
    assert_eq!(allocations, 0);
    assert!(feed.intake_done());
    let ok: u64 = (0..registry.len())
        .filter_map(|i| feed.sync_counters(pulse_feeds::num::InstrumentId(i as u16)))
        .map(|k| k.checksum_ok)
        .sum();
    assert_eq!(ok, 4_269);
}
