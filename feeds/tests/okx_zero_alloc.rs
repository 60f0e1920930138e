//! The OKX adapter's per-frame path allocates nothing after warm-up: every frame of the bundled
//! capture (snapshots of 400 levels a side, updates, trades, tickers, replies), then a copy with
//! a corrupted checksum (the stale path) and a malformed frame, decoded, synced, checksummed and
//! drained, under a counting global allocator.
//!
//! Its own test binary with one test, so nothing else allocates on the measured thread.

#[path = "../../engine/tests/counting/mod.rs"]
mod counting;
#[path = "support/frame_pass.rs"]
mod frame_pass;
#[path = "support/okx.rs"]
mod okx;

use frame_pass::FramePass;
use pulse_feeds::num::InstrumentId;
use pulse_feeds::okx::OkxAdapter;

#[test]
fn on_frame_allocates_nothing_after_warm_up() {
    let text = okx::capture_text();
    // The same capture with one checksum off: that book goes stale on the way.
    let corrupted = text.replacen(r#""checksum":-914047754"#, r#""checksum":-914047753"#, 1);
    assert_ne!(corrupted, text);
    let mut lines: Vec<Vec<u8>> = Vec::new();
    for t in [&text, &corrupted] {
        lines.extend(t.lines().map(|l| l.as_bytes().to_vec()));
        lines.push(b"1\tokx:ws\t{\"arg\":".to_vec());
    }
    let mut adapter = OkxAdapter::new(okx::registry());
    let mut pass = FramePass::new(lines, OkxAdapter::outbox_capacity());
    let warm = pass.run(&mut adapter);
    let (again, allocations) = counting::measure(|| pass.run(&mut adapter));
    assert_eq!((warm.frames, warm.errors, warm.stale), (820, 2, 1));
    assert_eq!(again, warm);
    assert_eq!(allocations, 0, "allocations per pass after warm-up");
    let btc_fut = adapter.sync(InstrumentId(0)).unwrap().counters;
    assert_eq!(btc_fut.checksum_mismatch, 2, "one per pass");
}
