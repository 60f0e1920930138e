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
#[path = "support/frame_pass.rs"]
mod frame_pass;

use frame_pass::FramePass;
use pulse_feeds::bybit::{BybitAdapter, BybitMarket};
use pulse_feeds::num::InstrumentId;

#[test]
fn on_frame_allocates_nothing_after_warm_up_on_both_markets() {
    for (market, want, first) in [
        (BybitMarket::Spot, (532, 1), InstrumentId(0)),
        (BybitMarket::Linear, (566, 1), InstrumentId(3)),
    ] {
        let mut lines: Vec<Vec<u8>> = bybit::capture_text(market)
            .lines()
            .map(|l| l.as_bytes().to_vec())
            .collect();
        lines.push(b"1\tbybit-spot:ws\t{\"topic\":".to_vec());
        let mut adapter = BybitAdapter::new(market, bybit::registry());
        let mut pass = FramePass::new(lines, BybitAdapter::outbox_capacity());
        let warm = pass.run(&mut adapter);
        let (again, allocations) = counting::measure(|| pass.run(&mut adapter));
        assert_eq!((warm.frames, warm.errors), want, "{market:?}");
        assert_eq!(warm.stale, 1, "{market:?}: the gap");
        assert_eq!(again, warm, "{market:?}");
        assert_eq!(
            allocations, 0,
            "{market:?}: allocations per pass after warm-up"
        );
        let k = adapter.sync(first).unwrap().counters;
        assert_eq!(k.gaps, 2, "{market:?}: one gap per pass");
    }
}
