//! The Coinbase Advanced Trade adapter's per-frame path allocates nothing after warm-up: every
//! frame of the generated capture (two whole-book snapshots of ~5 MB, updates with absent
//! deletes, the sequence gap and its resync, the duplicate, tickers, trades, heartbeats), then
//! a malformed frame, decoded, synced and drained, under a counting global allocator.
//!
//! Its own test binary with one test, so nothing else allocates on the measured thread.

#[path = "support/coinbase_at.rs"]
mod coinbase_at;
#[path = "../../engine/tests/counting/mod.rs"]
mod counting;
#[path = "support/frame_pass.rs"]
mod frame_pass;

use frame_pass::FramePass;
use pulse_feeds::coinbase_at::CoinbaseAtAdapter;
use pulse_feeds::num::InstrumentId;

#[test]
fn on_frame_allocates_nothing_after_warm_up() {
    let mut lines: Vec<Vec<u8>> = coinbase_at::capture_text()
        .lines()
        .map(|l| l.as_bytes().to_vec())
        .collect();
    lines.push(b"1\tcoinbase:ws\t{\"channel\":".to_vec());
    let mut adapter = CoinbaseAtAdapter::new(coinbase_at::registry());
    let mut pass = FramePass::new(lines, adapter.outbox_capacity());
    let warm = pass.run(&mut adapter);
    let (again, allocations) = counting::measure(|| pass.run(&mut adapter));
    // 282 received frames and the malformed one; the gap staled all three books.
    assert_eq!((warm.frames, warm.errors, warm.stale), (282, 1, 3));
    assert_eq!(allocations, 0, "allocations per pass after warm-up");
    // The second pass numbers from 0 again: a new connection to the adapter, whose books
    // went stale with it (three more marks) and resynced from its snapshots.
    assert_eq!((again.frames, again.errors, again.stale), (282, 1, 6));
    assert_eq!(adapter.sequence_counters.restarts, 1);
    let k = adapter.sync(InstrumentId(0)).unwrap().counters;
    assert_eq!(k.snapshots, 2 + 2, "both passes' BTC-USD snapshots");
}
