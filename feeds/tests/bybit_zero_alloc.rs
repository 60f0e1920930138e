//! The Bybit adapter's per-frame path allocates nothing after warm-up, on both markets: every
//! frame of the generated captures (snapshots, deltas with deletes, a gap and its resync, a
//! `u == 1` restart, depth 1's snapshots, trades, tickers, replies), then a malformed frame,
//! decoded, synced and drained, under a counting global allocator.
//!
//! Its own test binary with one test, so nothing else allocates on the measured thread.

#[path = "support/bybit.rs"]
mod bybit;
#[path = "../../engine/tests/counting/mod.rs"]
mod counting;

use pulse_feeds::bybit::{BybitAdapter, BybitMarket};
use pulse_feeds::capture::{self, SourceKind};
use pulse_feeds::event::{EventMeta, MdEvent};
use pulse_feeds::num::InstrumentId;
use pulse_feeds::outbox::Outbox;
use pulse_feeds::venue::MarketAdapter;

#[test]
fn on_frame_allocates_nothing_after_warm_up_on_both_markets() {
    for (market, want, first) in [
        (BybitMarket::Spot, (532, 1, 1), InstrumentId(0)),
        (BybitMarket::Linear, (566, 1, 1), InstrumentId(3)),
    ] {
        let mut lines: Vec<Vec<u8>> = bybit::capture_text(market)
            .lines()
            .map(|l| l.as_bytes().to_vec())
            .collect();
        lines.push(b"1\tbybit-spot:ws\t{\"topic\":".to_vec());
        let mut adapter = BybitAdapter::new(market, bybit::registry());
        let capacity = BybitAdapter::outbox_capacity();
        let mut out = Outbox::with_capacity(capacity);
        let (mut tx, mut rx) = rtrb::RingBuffer::<MdEvent>::new(capacity);
        let mut pass = |adapter: &mut BybitAdapter| {
            let (mut frames, mut errors, mut stale) = (0u64, 0u64, 0u64);
            for line in &lines {
                let record = capture::parse_line(line).expect("well-formed capture lines");
                if record.kind == SourceKind::Send {
                    continue;
                }
                let meta = EventMeta {
                    recv_ts: record.recv_ts,
                    ..EventMeta::default()
                };
                match adapter.on_frame(record.kind, record.payload, meta, &mut out) {
                    Ok(_) => frames += 1,
                    Err(_) => errors += 1,
                }
                out.drain_into(&mut tx);
                while let Ok(event) = rx.pop() {
                    stale += u64::from(matches!(event, MdEvent::BookStale { .. }));
                }
            }
            (frames, errors, stale)
        };
        let warm = pass(&mut adapter);
        let (again, allocations) = counting::measure(|| pass(&mut adapter));
        assert_eq!(warm, want, "{market:?}");
        assert_eq!(again, warm, "{market:?}");
        assert_eq!(
            allocations, 0,
            "{market:?}: allocations per pass after warm-up"
        );
        let k = adapter.sync(first).unwrap().counters;
        assert_eq!(k.gaps, 2, "{market:?}: one gap per pass");
    }
}
