//! Every sync rule, spot and USD-M futures, on hand-made update ids. Where Binance's documented
//! examples apply (`data/binance_spot_doc_examples.json`: a `depthUpdate` with `U=157, u=160` and
//! a partial book with `lastUpdateId=160`), their ids are used.

use super::*;
use crate::event::ResyncRequest;
use crate::num::{Nanos, Px, Qty, Side};
use crate::stale::StaleRules;

/// What a test looks at in the staged events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ev {
    Reset,
    Level(Side, i64, i64),
    Commit(u64),
    Stale(StaleReason),
}

struct Harness {
    sync: DepthSync,
    out: Outbox,
}

const ID: InstrumentId = InstrumentId(3);

fn meta() -> EventMeta {
    EventMeta {
        instrument: ID,
        recv_ts: Nanos(1),
        ..EventMeta::default()
    }
}

fn bid(px: i64, qty: i64) -> LevelUpdate {
    LevelUpdate {
        side: Side::Buy,
        px: Px(px),
        qty: Qty(qty),
    }
}

fn ask(px: i64, qty: i64) -> LevelUpdate {
    LevelUpdate {
        side: Side::Sell,
        px: Px(px),
        qty: Qty(qty),
    }
}

impl Harness {
    fn spot() -> Harness {
        Harness::new(BinanceMarket::Spot)
    }

    fn futures() -> Harness {
        Harness::new(BinanceMarket::UsdmFutures)
    }

    fn new(market: BinanceMarket) -> Harness {
        Harness {
            sync: DepthSync::for_market(ID, market),
            out: Outbox::with_capacity(DepthSync::max_staged(16)),
        }
    }

    /// A spot diff (`pu` absent) with one bid level at price `u`.
    fn diff(&mut self, first: u64, last: u64) -> Vec<Ev> {
        self.diff_pu(first, last, None)
    }

    fn diff_pu(&mut self, first: u64, last: u64, pu: Option<u64>) -> Vec<Ev> {
        let levels = [bid(last as i64, 1)];
        self.sync
            .on_diff(meta(), first, last, pu, &levels, &mut self.out);
        self.take()
    }

    fn snapshot(&mut self, last_update_id: u64) -> Vec<Ev> {
        let levels = [bid(10, 5), ask(20, 7)];
        self.sync
            .on_snapshot(meta(), last_update_id, &levels, &mut self.out);
        self.take()
    }

    fn take(&mut self) -> Vec<Ev> {
        let (mut tx, mut rx) = rtrb::RingBuffer::new(DepthSync::max_staged(16));
        self.out.drain_into(&mut tx);
        assert!(self.out.is_drained());
        let mut events = Vec::new();
        while let Ok(event) = rx.pop() {
            events.push(match event {
                MdEvent::BookReset { meta } => {
                    assert_eq!(meta.instrument, ID);
                    Ev::Reset
                }
                MdEvent::Levels { .. } => {
                    let (instrument, n, levels) = LevelBatch::read(&event).expect("a batch");
                    assert_eq!(instrument, ID);
                    assert!(n > 0);
                    events.extend(levels.map(|(side, px, qty)| Ev::Level(side, px.0, qty.0)));
                    continue;
                }
                MdEvent::BookCommit { meta, update_id } => {
                    assert_eq!(meta.instrument, ID);
                    Ev::Commit(update_id)
                }
                MdEvent::BookStale { meta, reason } => {
                    assert_eq!(meta.instrument, ID);
                    Ev::Stale(reason)
                }
                other => panic!("the sync staged {other:?}"),
            });
        }
        events
    }

    fn counters(&self) -> SyncCounters {
        self.sync.counters
    }
}

/// The events of applying the snapshot from [`Harness::snapshot`].
fn snapshot_events(id: u64) -> Vec<Ev> {
    vec![
        Ev::Reset,
        Ev::Level(Side::Buy, 10, 5),
        Ev::Level(Side::Sell, 20, 7),
        Ev::Commit(id),
    ]
}

/// The events of applying a diff from [`Harness::diff`].
fn diff_events(last: u64) -> Vec<Ev> {
    vec![Ev::Level(Side::Buy, last as i64, 1), Ev::Commit(last)]
}

fn concat(parts: &[Vec<Ev>]) -> Vec<Ev> {
    parts.concat()
}

#[test]
fn spot_drops_a_buffered_diff_that_ends_at_last_update_id() {
    // The documented diff (U=157, u=160) under the documented partial book (lastUpdateId=160):
    // covered (`u <= lastUpdateId`), like NKNUSDT's first diff in the 4-symbol capture.
    let mut h = Harness::spot();
    assert_eq!(h.diff(157, 160), []);
    assert!(h.sync.needs_snapshot());
    assert_eq!(h.snapshot(160), snapshot_events(160));
    assert_eq!(h.counters().dropped, 1);
    assert_eq!(h.counters().applied, 0);
    // The next one bridges: U = 161 = lastUpdateId + 1.
    assert_eq!(h.diff(161, 163), diff_events(163));
    assert_eq!(h.counters().applied, 1);
    assert_eq!(h.counters().last_update_id, 163);
}

#[test]
fn futures_applies_a_diff_that_ends_at_last_update_id() {
    // Same ids, futures rules: only `u < lastUpdateId` is dropped, and U=157 <= 160 <= u=160
    // bridges.
    let mut h = Harness::futures();
    assert_eq!(h.diff_pu(150, 156, Some(149)), []);
    assert_eq!(h.diff_pu(157, 160, Some(156)), []);
    assert_eq!(
        h.snapshot(160),
        concat(&[snapshot_events(160), diff_events(160)])
    );
    assert_eq!(h.counters().dropped, 1, "u=156 < 160");
    assert_eq!(h.counters().applied, 1);
    assert!(h.sync.is_synced());
}

#[test]
fn spot_bridge_is_u_first_at_most_last_update_id_plus_one() {
    // The snapshot first, then the documented diff and its neighbours as the first live event.
    for (first, applies) in [(155, true), (157, true), (158, false)] {
        let mut h = Harness::spot();
        assert_eq!(h.snapshot(156), snapshot_events(156));
        let events = h.diff(first, 160);
        assert_eq!(h.sync.is_synced(), applies, "U={first}, lastUpdateId=156");
        if applies {
            assert_eq!(events, diff_events(160));
        } else {
            assert_eq!(events, [Ev::Stale(StaleReason::Gap)]);
        }
        assert_eq!(h.counters().gaps, u64::from(!applies));
    }
}

#[test]
fn futures_bridge_is_u_first_at_most_last_update_id() {
    // U = lastUpdateId + 1 bridges a spot book but not a futures one.
    for (first, applies) in [(150, true), (156, true), (157, false)] {
        let mut h = Harness::futures();
        h.snapshot(156);
        h.diff_pu(first, 160, Some(first - 1));
        assert_eq!(h.sync.is_synced(), applies, "U={first}, lastUpdateId=156");
        assert_eq!(h.counters().gaps, u64::from(!applies));
        assert_eq!(h.counters().applied, u64::from(applies));
    }
}

#[test]
fn a_buffered_first_event_that_does_not_bridge_marks_the_new_book_stale() {
    // Buffered diffs that follow the snapshot but skip an id: the snapshot is shown, then marked
    // stale at once, and the diff that did not bridge waits for the next snapshot.
    let mut h = Harness::spot();
    h.diff(150, 155);
    h.diff(158, 160);
    assert_eq!(
        h.snapshot(152),
        concat(&[
            snapshot_events(152),
            diff_events(155),
            vec![Ev::Stale(StaleReason::Gap)]
        ])
    );
    assert_eq!(h.counters().gaps, 1);
    assert!(h.sync.needs_snapshot());
    assert_eq!(
        h.snapshot(159),
        concat(&[snapshot_events(159), diff_events(160)])
    );
}

#[test]
fn a_first_event_that_does_not_bridge_is_rejected_and_kept_for_the_next_snapshot() {
    let mut h = Harness::spot();
    h.snapshot(100);
    // No buffered diff: the snapshot is applied; the first live diff must still bridge.
    assert_eq!(h.diff(105, 110), [Ev::Stale(StaleReason::Gap)]);
    assert!(!h.sync.is_synced());
    assert_eq!(h.counters().gaps, 1);
    assert!(h.sync.needs_snapshot(), "the rejected diff is kept");
    assert_eq!(
        h.snapshot(107),
        concat(&[snapshot_events(107), diff_events(110)])
    );
    assert_eq!(h.counters().resyncs, 1);
    assert_eq!(h.counters().snapshots, 2);
}

#[test]
fn spot_continuity_is_strict() {
    let mut h = Harness::spot();
    h.snapshot(100);
    assert_eq!(h.diff(101, 110), diff_events(110));
    assert_eq!(h.diff(111, 111), diff_events(111));
    // Overlapping (U <= previous u < u) is not U == previous u + 1: a gap, not an apply.
    assert_eq!(h.diff(110, 115), [Ev::Stale(StaleReason::Gap)]);
    assert_eq!(h.counters().applied, 2);
    assert_eq!(h.counters().gaps, 1);

    let mut h = Harness::spot();
    h.snapshot(100);
    h.diff(101, 110);
    assert_eq!(
        h.diff(112, 115),
        [Ev::Stale(StaleReason::Gap)],
        "missed 111"
    );
    // A `pu` is not looked at on spot.
    let mut h = Harness::spot();
    h.snapshot(100);
    h.diff(101, 110);
    assert_eq!(h.diff_pu(111, 115, Some(3)), diff_events(115));
}

#[test]
fn futures_continuity_is_pu_equals_previous_u() {
    let mut h = Harness::futures();
    h.snapshot(100);
    assert_eq!(h.diff_pu(95, 110, Some(94)), diff_events(110));
    // Futures ids are not consecutive across events: U far above u + 1 is fine when pu chains.
    assert_eq!(h.diff_pu(150, 160, Some(110)), diff_events(160));
    // U == u + 1 but pu does not chain: a gap.
    assert_eq!(
        h.diff_pu(161, 170, Some(155)),
        [Ev::Stale(StaleReason::Gap)]
    );
    assert_eq!(h.counters().applied, 2);
    assert_eq!(h.counters().gaps, 1);
    // A futures diff without pu cannot be chained: a gap too.
    let mut h = Harness::futures();
    h.snapshot(100);
    h.diff_pu(95, 110, Some(94));
    assert_eq!(h.diff_pu(111, 120, None), [Ev::Stale(StaleReason::Gap)]);
}

#[test]
fn a_gap_marks_the_book_stale_once_and_buffers_what_follows() {
    let mut h = Harness::spot();
    h.snapshot(100);
    h.diff(101, 110);
    assert_eq!(h.diff(120, 125), [Ev::Stale(StaleReason::Gap)]);
    assert_eq!(h.diff(126, 130), [], "buffered silently: already stale");
    assert_eq!(
        h.diff(140, 141),
        [],
        "gaps while stale are not counted again"
    );
    assert_eq!(h.counters().gaps, 1);
    assert_eq!(h.counters().last_update_id, 110);
}

#[test]
fn duplicates_after_the_bridge_are_dropped() {
    for mut h in [Harness::spot(), Harness::futures()] {
        h.snapshot(100);
        assert_eq!(h.diff_pu(100, 110, Some(99)), diff_events(110));
        assert_eq!(h.diff_pu(100, 110, Some(99)), [], "the same diff again");
        assert_eq!(h.diff_pu(105, 108, Some(104)), [], "an older one");
        assert_eq!(h.counters().duplicates, 2);
        assert_eq!(h.counters().dropped, 0);
        assert_eq!(h.counters().gaps, 0);
        assert!(h.sync.is_synced());
        assert_eq!(h.diff_pu(111, 112, Some(110)), diff_events(112));
    }
}

#[test]
fn a_snapshot_older_than_the_first_buffered_diff_is_ignored() {
    // Binance's step 4: "If the lastUpdateId from the snapshot is strictly less than the U from
    // step 2, go back to step 3", even at lastUpdateId = U - 1.
    let mut h = Harness::spot();
    h.diff(157, 160);
    assert_eq!(h.snapshot(155), [], "lastUpdateId 155 < U 157");
    assert_eq!(h.snapshot(156), [], "lastUpdateId 156 < U 157");
    assert_eq!(h.counters().stale_snapshots, 2);
    assert_eq!(h.counters().snapshots, 0);
    assert!(!h.sync.is_synced());
    assert_eq!(
        h.snapshot(157),
        concat(&[snapshot_events(157), diff_events(160)])
    );

    let mut h = Harness::futures();
    h.diff_pu(157, 160, Some(150));
    assert_eq!(h.snapshot(156), [], "futures too");
    assert_eq!(h.counters().stale_snapshots, 1);
}

#[test]
fn a_snapshot_while_in_sync_is_ignored() {
    let mut h = Harness::spot();
    h.snapshot(100);
    h.diff(101, 110);
    assert_eq!(h.snapshot(105), []);
    assert_eq!(h.counters().redundant_snapshots, 1);
    assert_eq!(h.diff(111, 111), diff_events(111), "the book carries on");
}

#[test]
fn buffer_overflow_restarts_the_buffer_from_the_overflowing_diff() {
    let mut h = Harness::spot();
    for i in 0..PRESYNC_DIFFS as u64 {
        assert_eq!(h.diff(1000 + i, 1000 + i), []);
    }
    assert_eq!(h.counters().overflows, 0);
    let next = 1000 + PRESYNC_DIFFS as u64;
    // Not synced, so no stale mark is due: the book was never live.
    assert_eq!(h.diff(next, next + 1), []);
    assert_eq!(h.counters().overflows, 1);
    // The earlier diffs are gone: a snapshot they would have bridged is now too old.
    assert_eq!(h.snapshot(1000), []);
    assert_eq!(h.counters().stale_snapshots, 1);
    assert_eq!(
        h.snapshot(next),
        concat(&[snapshot_events(next), diff_events(next + 1)])
    );

    // Too many levels overflows too.
    let mut h = Harness::spot();
    let wide = vec![bid(1, 1); PRESYNC_LEVELS / 2 + 1];
    h.sync.on_diff(meta(), 1, 1, None, &wide, &mut h.out);
    h.sync.on_diff(meta(), 2, 2, None, &wide, &mut h.out);
    assert_eq!(h.counters().overflows, 1);
}

#[test]
fn resync_after_a_gap_completes_on_the_next_snapshot() {
    let mut h = Harness::spot();
    h.diff(95, 101);
    assert_eq!(
        h.snapshot(100),
        concat(&[snapshot_events(100), diff_events(101)])
    );
    assert_eq!(h.diff(110, 112), [Ev::Stale(StaleReason::Gap)]);
    h.diff(113, 115);
    assert!(h.sync.needs_snapshot());
    // The next snapshot covers the first buffered diff and bridges the second.
    assert_eq!(
        h.snapshot(113),
        concat(&[snapshot_events(113), diff_events(115)])
    );
    let c = h.counters();
    assert_eq!(
        (c.snapshots, c.resyncs, c.gaps, c.applied, c.dropped),
        (2, 1, 1, 2, 1)
    );
    assert_eq!(c.last_update_id, 115);
    assert_eq!(h.diff(116, 116), diff_events(116));
}

#[test]
fn force_resync_marks_a_synced_book_stale_until_the_next_snapshot() {
    let mut h = Harness::spot();
    assert!(!h
        .sync
        .force_resync(meta(), StaleReason::RingFull, &mut h.out));
    h.snapshot(100);
    assert!(h
        .sync
        .force_resync(meta(), StaleReason::RingFull, &mut h.out));
    assert_eq!(h.take(), [Ev::Stale(StaleReason::RingFull)]);
    assert!(!h
        .sync
        .force_resync(meta(), StaleReason::RingFull, &mut h.out));
    assert_eq!(h.diff(101, 102), [], "buffered");
    assert_eq!(
        h.snapshot(101),
        concat(&[snapshot_events(101), diff_events(102)])
    );
    assert_eq!(h.counters().resyncs, 1);
}

#[test]
fn a_resync_request_acts_only_on_the_book_it_was_about() {
    let mut h = Harness::spot();
    h.snapshot(100);
    h.diff(101, 110);
    let crossed_at = |update_id| ResyncRequest {
        instrument: ID,
        update_id,
    };
    assert!(h
        .sync
        .on_resync_request(meta(), crossed_at(110), &mut h.out));
    assert_eq!(h.take(), [Ev::Stale(StaleReason::Crossed)]);
    assert!(!h
        .sync
        .on_resync_request(meta(), crossed_at(110), &mut h.out));
    h.diff(111, 120);
    h.snapshot(115);
    assert!(h.sync.is_synced());
    // A request about a commit before this snapshot is about the old book: ignored.
    assert!(!h
        .sync
        .on_resync_request(meta(), crossed_at(110), &mut h.out));
    assert_eq!(h.take(), []);
    let c = h.counters();
    assert_eq!(
        (c.resync_requests, c.outdated_requests, c.resyncs),
        (1, 2, 1)
    );
}
