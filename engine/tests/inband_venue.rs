//! Pulse's live OKX, Kraken v2, Bybit v5 (spot, linear) and Coinbase Advanced Trade feeds
//! against `pulse venue --protocol okx|kraken|bybit-spot|bybit-linear|coinbase` over real
//! loopback sockets, one injected fault per run: the feed (built from config exactly as `pulse
//! run` builds it) and the book stage are driven on this thread; the venue plays a bundled
//! capture at a few times its pace and sends each book's snapshot after its subscription,
//! rendered from its own book with its own checksum.
//!
//! For every fault: no crossed book is ever published; a fault that loses or corrupts a book's
//! pushes (drop, close, checksum, silence beyond the timeout) makes that book stale and it
//! resyncs by resubscribing; one that does not (delay, a Kraken duplicate, a sequence reset, a
//! Bybit restart) leaves it live; and at the end every rebuilt book equals the venue's own,
//! level for level.

use std::time::Duration;

use pulse_feeds::ws::session::CloseReason;
use pulse_testex::{Fault, Protocol, Venue as LocalVenue, VenueConfig};

mod inband_support;
mod support;

use inband_support::{
    assert_resynced, closed, repo, run, run_with, sync, Case, BYBIT_LINEAR, BYBIT_LINEAR_1,
    BYBIT_LINEAR_200, BYBIT_SPOT, BYBIT_SPOT_200, COINBASE, KRAKEN, OKX,
};

#[test]
fn okx_without_fault_syncs_each_book_once() {
    let out = run(&OKX, "clean", vec![], 3_000);
    for i in 0..3 {
        let s = sync(&out.feed, i);
        assert_eq!((s.snapshots, s.gaps, s.resyncs), (1, 0, 0), "{i}: {s:?}");
        assert!(s.applied > 80, "{i}: {s:?}");
    }
    assert_eq!(out.observed.stale_after_live, [0, 0, 0]);
    assert_eq!(out.feed.session().counters.opened, 1);
    assert!(out.took < Duration::from_secs(10), "{:?}", out.took);
}

#[test]
fn okx_dropped_update_is_a_gap_then_a_resubscription() {
    let at = OKX.book_update("BTC-USDT", 20);
    let out = run(&OKX, "drop", vec![Fault::Drop { at }], 3_000);
    assert!(sync(&out.feed, 2).gaps >= 1, "{:?}", sync(&out.feed, 2));
    assert_resynced(&out, 2);
    assert!(out.feed.counters().resubscriptions >= 1);
    // The other books were not touched.
    assert_eq!(out.observed.stale_after_live[..2], [0, 0]);
}

#[test]
fn okx_wrong_checksum_resubscribes_that_book_alone() {
    let at = OKX.book_update("BTC-USD-220527", 30);
    let out = run(&OKX, "checksum", vec![Fault::Checksum { at }], 3_000);
    assert!(
        sync(&out.feed, 0).checksum_mismatch >= 1,
        "{:?}",
        sync(&out.feed, 0)
    );
    assert_resynced(&out, 0);
    assert_eq!(out.observed.stale_after_live[1..], [0, 0]);
    assert_eq!(out.feed.session().counters.opened, 1, "no reconnect");
}

#[test]
fn okx_sequence_reset_is_accepted() {
    let at = OKX.book_update("UNI-USD-SWAP", 10);
    let out = run(&OKX, "seq-reset", vec![Fault::SeqReset { at }], 3_000);
    let s = sync(&out.feed, 1);
    assert_eq!((s.gaps, s.resyncs), (0, 0), "{s:?}");
    assert_eq!(out.observed.stale_after_live, [0, 0, 0]);
    assert_eq!(s.sequence_resets, 1, "{s:?}");
}

#[test]
fn okx_over_wss_with_a_wrong_checksum() {
    let at = OKX.book_update("BTC-USDT", 25);
    let out = run_with(&OKX, "wss", vec![Fault::Checksum { at }], 3_000, true);
    assert!(sync(&out.feed, 2).checksum_mismatch >= 1);
    assert_resynced(&out, 2);
}

#[test]
fn okx_closed_connection_reconnects_and_resyncs_every_book() {
    let out = run(&OKX, "close", vec!["close@150".parse().unwrap()], 3_000);
    assert!(out.feed.session().counters.opened >= 2);
    for i in 0..3 {
        assert!(sync(&out.feed, i).snapshots >= 2, "{i}");
    }
}

#[test]
fn okx_silence_beyond_the_timeout_reconnects() {
    let out = run(
        &OKX,
        "silence",
        vec!["silence@120:1200".parse().unwrap()],
        400,
    );
    assert!(closed(&out.feed, CloseReason::Watchdog) >= 1);
    assert!(out.feed.session().counters.opened >= 2);
    for i in 0..3 {
        assert!(out.observed.stale_after_live[i] >= 1, "{:?}", out.observed);
    }
}

#[test]
fn okx_delay_and_malformed_lose_nothing() {
    let faults = vec![
        "delay@100:300".parse().unwrap(),
        "malformed@140".parse().unwrap(),
    ];
    let out = run(&OKX, "benign", faults, 3_000);
    assert!(out.feed.counters().bad_frames.iter().sum::<u64>() >= 1);
    for i in 0..3 {
        let s = sync(&out.feed, i);
        assert_eq!((s.gaps, s.resyncs), (0, 0), "{i}: {s:?}");
    }
    assert_eq!(out.observed.stale_after_live, [0, 0, 0]);
}

/// OKX chains pushes by `prevSeqId`: a duplicate does not chain, so it is a gap, and the book
/// resyncs rather than apply an update twice.
#[test]
fn okx_duplicate_is_a_gap_not_a_corruption() {
    let at = OKX.book_update("BTC-USDT", 40);
    let out = run(&OKX, "duplicate", vec![Fault::Duplicate { at }], 3_000);
    assert!(sync(&out.feed, 2).gaps >= 1);
    assert_resynced(&out, 2);
}

/// The generated capture carries one wrong checksum of its own (BTC/USD's), and the
/// resubscription's snapshot after it: played live, BTC/USD resyncs once.
#[test]
fn kraken_without_fault_resyncs_only_the_captures_own_checksum_fault() {
    let out = run(&KRAKEN, "clean", vec![], 3_000);
    let s = sync(&out.feed, 0);
    assert_eq!((s.gaps, s.resyncs, s.checksum_mismatch), (0, 1, 1), "{s:?}");
    assert!(s.applied > 150 && s.checksum_ok > 150, "{s:?}");
    // ETH/USD and MATIC/USD have one update each, which the snapshot holds already when the
    // market played it before the client's subscription.
    for i in [1, 2] {
        let s = sync(&out.feed, i);
        assert_eq!(
            (s.snapshots, s.resyncs, s.checksum_mismatch),
            (1, 0, 0),
            "{i}: {s:?}"
        );
        assert!(s.checksum_ok >= 1, "{i}: {s:?}");
    }
    assert_eq!(out.observed.stale_after_live, [1, 0, 0]);
    assert_eq!(out.feed.session().counters.opened, 1);
}

#[test]
fn kraken_wrong_checksum_resubscribes_that_book_alone() {
    let at = KRAKEN.book_update("BTC/USD", 50);
    let out = run(&KRAKEN, "checksum", vec![Fault::Checksum { at }], 3_000);
    assert!(
        sync(&out.feed, 0).checksum_mismatch >= 2,
        "the fault's and the capture's own"
    );
    assert_resynced(&out, 0);
    assert_eq!(out.observed.stale_after_live[1..], [0, 0]);
    assert_eq!(out.feed.session().counters.opened, 1, "no reconnect");
}

#[test]
fn kraken_dropped_update_fails_the_next_checksum_and_resyncs() {
    let at = KRAKEN.book_update("BTC/USD", 60);
    let out = run(&KRAKEN, "drop", vec![Fault::Drop { at }], 3_000);
    assert!(
        sync(&out.feed, 0).checksum_mismatch >= 2,
        "{:?}",
        sync(&out.feed, 0)
    );
    assert_resynced(&out, 0);
}

#[test]
fn kraken_closed_connection_reconnects_and_resyncs() {
    let at = KRAKEN.book_update("BTC/USD", 100);
    let out = run(&KRAKEN, "close", vec![Fault::Close { at }], 3_000);
    assert!(out.feed.session().counters.opened >= 2);
    for i in 0..3 {
        assert!(sync(&out.feed, i).snapshots >= 2, "{i}");
    }
}

#[test]
fn kraken_silence_beyond_the_timeout_reconnects() {
    let at = KRAKEN.book_update("BTC/USD", 100);
    let out = run(
        &KRAKEN,
        "silence",
        vec![Fault::Silence { at, ms: 1_200 }],
        400,
    );
    assert!(closed(&out.feed, CloseReason::Watchdog) >= 1);
    assert!(out.feed.session().counters.opened >= 2);
}

#[test]
fn kraken_duplicate_delay_and_malformed_lose_nothing() {
    let faults = vec![
        Fault::Duplicate {
            at: KRAKEN.book_update("BTC/USD", 30),
        },
        Fault::Delay {
            at: KRAKEN.book_update("BTC/USD", 80),
            ms: 300,
        },
        Fault::Malformed {
            at: KRAKEN.book_update("BTC/USD", 120),
        },
    ];
    let out = run(&KRAKEN, "benign", faults, 3_000);
    assert!(out.feed.counters().bad_frames.iter().sum::<u64>() >= 1);
    // BTC/USD resyncs once, for the capture's own wrong checksum, as without a fault.
    let s = sync(&out.feed, 0);
    assert_eq!((s.gaps, s.resyncs, s.checksum_mismatch), (0, 1, 1), "{s:?}");
    assert_eq!(out.observed.stale_after_live, [1, 0, 0]);
}

#[test]
fn a_fault_the_protocol_cannot_carry_is_refused() {
    let mut vc = VenueConfig::new(repo(KRAKEN.capture));
    vc.protocol = Protocol::Kraken;
    vc.faults = vec![Fault::SeqReset { at: 3 }];
    let err = LocalVenue::start(vc).err().expect("refused").to_string();
    assert_eq!(err, "seq-reset@3: kraken's book pushes carry no such field");
}

// Bybit: no checksum, `u` continuity alone. The venue numbers the pushes itself, so the
// recordings' own gaps (counted by the venue, which holds that book's deltas until its next
// captured snapshot) reach no client; a duplicate repeats a `u`: a gap. Spot's BTCUSDT updates
// 60 and 61 are held (the lost delta's successor and one in flight): no fault targets them.

/// The capture's lost delta never reaches the feed; its later snapshot (the recorder's
/// resubscription) and ETHUSDT's restart are applied without going stale.
#[test]
fn bybit_spot_without_fault_hides_the_recordings_gap() {
    let out = run(&BYBIT_SPOT, "clean", vec![], 3_000);
    // The lost delta's successor and the one in flight after it: held until the snapshot.
    assert_eq!((out.venue.capture_gaps, out.venue.held_deltas), (1, 2));
    let btc = sync(&out.feed, 0);
    assert_eq!((btc.snapshots, btc.gaps, btc.resyncs), (2, 0, 0), "{btc:?}");
    assert!(btc.applied > 150, "{btc:?}");
    let eth = sync(&out.feed, 1);
    assert_eq!(
        (eth.gaps, eth.resyncs, eth.sequence_resets),
        (0, 0, 1),
        "{eth:?}"
    );
    assert_eq!(out.observed.stale_after_live, [0, 0]);
    assert_eq!(out.feed.session().counters.opened, 1);
}

#[test]
fn bybit_linear_without_fault_hides_the_recordings_gap() {
    let out = run(&BYBIT_LINEAR, "clean", vec![], 3_000);
    assert_eq!(
        (out.venue.capture_gaps, out.venue.held_deltas),
        (1, 1),
        "the docs' delta after the docs' snapshot"
    );
    let s = sync(&out.feed, 0);
    assert_eq!((s.snapshots, s.gaps, s.resyncs), (2, 0, 0), "{s:?}");
    assert!(s.applied > 150, "{s:?}");
    assert_eq!(out.observed.stale_after_live, [0]);
    assert!(out.venue.misplaced_faults.is_empty());
}

/// The other depths the captures carry, each its own topic: spot's XRPUSDT at 200, linear's
/// ETHUSDT at 200 (a restart in the recording) and SOLUSDT at 1 (snapshots only; the repeats
/// with the same `u` dropped as "no change").
#[test]
fn bybit_other_depths_sync_without_fault() {
    let out = run(&BYBIT_SPOT_200, "xrp-200", vec![], 3_000);
    let s = sync(&out.feed, 0);
    assert_eq!((s.snapshots, s.gaps, s.resyncs), (1, 0, 0), "{s:?}");
    assert!(s.applied > 150, "{s:?}");
    let out = run(&BYBIT_LINEAR_200, "eth-200", vec![], 3_000);
    let s = sync(&out.feed, 0);
    assert_eq!((s.gaps, s.resyncs, s.sequence_resets), (0, 0, 1), "{s:?}");
    let out = run(&BYBIT_LINEAR_1, "sol-1", vec![], 3_000);
    let s = sync(&out.feed, 0);
    assert_eq!((s.snapshots, s.gaps, s.resyncs), (1, 0, 0), "{s:?}");
    assert!(s.applied > 50 && s.dropped > 0, "{s:?}");
    assert_eq!(out.observed.stale_after_live, [0]);
}

fn bybit_cases() -> [(&'static Case, &'static str); 2] {
    [(&BYBIT_SPOT, "spot"), (&BYBIT_LINEAR, "linear")]
}

#[test]
fn bybit_dropped_delta_is_a_gap_then_a_resubscription() {
    for (case, name) in bybit_cases() {
        let at = case.book_update("BTCUSDT", 20);
        let out = run(
            case,
            &format!("drop-{name}"),
            vec![Fault::Drop { at }],
            3_000,
        );
        let s = sync(&out.feed, 0);
        assert_eq!(s.gaps, 1, "{name}: {s:?}");
        assert_resynced(&out, 0);
        assert!(out.feed.counters().resubscriptions >= 1, "{name}");
        assert_eq!(
            out.observed.stale_after_live[1..],
            vec![0; case.instruments.len() - 1]
        );
        assert_eq!(
            out.feed.session().counters.opened,
            1,
            "{name}: no reconnect"
        );
    }
}

#[test]
fn bybit_duplicate_is_a_gap_not_a_corruption() {
    for (case, name) in bybit_cases() {
        let at = case.book_update("BTCUSDT", 30);
        let out = run(
            case,
            &format!("dup-{name}"),
            vec![Fault::Duplicate { at }],
            3_000,
        );
        assert_eq!(sync(&out.feed, 0).gaps, 1, "{name}");
        assert_resynced(&out, 0);
    }
}

#[test]
fn bybit_restart_is_a_snapshot_with_u_1_and_accepted() {
    for (case, name) in bybit_cases() {
        let at = case.book_update("BTCUSDT", 40);
        let out = run(
            case,
            &format!("restart-{name}"),
            vec![Fault::Restart { at }],
            3_000,
        );
        let s = sync(&out.feed, 0);
        assert_eq!(
            (s.gaps, s.resyncs, s.sequence_resets),
            (0, 0, 1),
            "{name}: {s:?}"
        );
        assert_eq!(out.observed.stale_after_live[0], 0, "{name}");
        assert!(out.venue.misplaced_faults.is_empty(), "{name}");
    }
}

#[test]
fn bybit_closed_connection_reconnects_and_resyncs_every_book() {
    for (case, name) in bybit_cases() {
        let at = case.book_update("BTCUSDT", 50);
        let out = run(
            case,
            &format!("close-{name}"),
            vec![Fault::Close { at }],
            3_000,
        );
        assert!(out.feed.session().counters.opened >= 2, "{name}");
        for i in 0..case.instruments.len() {
            assert!(out.observed.stale_after_live[i] >= 1, "{name} {i}");
            assert!(out.observed.live_after_stale[i] >= 1, "{name} {i}");
        }
    }
}

#[test]
fn bybit_silence_beyond_the_timeout_reconnects() {
    for (case, name) in bybit_cases() {
        let at = case.book_update("BTCUSDT", 55);
        let fault = Fault::Silence { at, ms: 1_200 };
        let out = run(case, &format!("silence-{name}"), vec![fault], 400);
        assert!(closed(&out.feed, CloseReason::Watchdog) >= 1, "{name}");
        assert!(out.feed.session().counters.opened >= 2, "{name}");
        assert!(out.observed.stale_after_live[0] >= 1, "{name}");
    }
}

#[test]
fn bybit_delay_and_malformed_lose_nothing() {
    for (case, name) in bybit_cases() {
        let faults = vec![
            Fault::Delay {
                at: case.book_update("BTCUSDT", 70),
                ms: 300,
            },
            Fault::Malformed {
                at: case.book_update("BTCUSDT", 80),
            },
        ];
        let out = run(case, &format!("benign-{name}"), faults, 3_000);
        assert_eq!(
            out.feed.counters().bad_frames.iter().sum::<u64>(),
            1,
            "{name}"
        );
        let s = sync(&out.feed, 0);
        assert_eq!((s.gaps, s.resyncs), (0, 0), "{name}: {s:?}");
        assert!(
            out.observed.stale_after_live.iter().all(|&n| n == 0),
            "{name}"
        );
    }
}

#[test]
fn bybit_over_wss_with_a_dropped_delta() {
    let at = BYBIT_SPOT.book_update("ETHUSDT", 25);
    let out = run_with(&BYBIT_SPOT, "wss", vec![Fault::Drop { at }], 3_000, true);
    assert_eq!(sync(&out.feed, 1).gaps, 1);
    assert_resynced(&out, 1);
}

#[test]
fn bybit_refuses_a_checksum_fault_and_reports_a_misplaced_restart() {
    let mut vc = VenueConfig::new(repo(BYBIT_SPOT.capture));
    vc.protocol = Protocol::BybitSpot;
    vc.faults = vec![Fault::Checksum { at: 3 }];
    let err = LocalVenue::start(vc).err().expect("refused").to_string();
    assert_eq!(
        err,
        "checksum@3: bybit-spot's book pushes carry no checksum (Bybit sends none; restart@N \
         is its venue fault)"
    );
    // A restart on the frame before BTCUSDT's first delta, the docs' trade: played unchanged,
    // and reported.
    let at = BYBIT_LINEAR.book_update("BTCUSDT", 0) - 1;
    let mut vc = VenueConfig::new(repo(BYBIT_LINEAR.capture));
    vc.protocol = Protocol::BybitLinear;
    vc.speed_milli = 0;
    vc.faults = vec![Fault::Restart { at }];
    let venue = LocalVenue::start(vc).expect("venue starts");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !venue.finished() {
        assert!(std::time::Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(5));
    }
    let stats = venue.stats();
    assert_eq!(stats.capture_gaps, 1);
    assert_eq!(
        stats.misplaced_faults,
        [format!(
            "restart@{at}: frame {at} is a `publicTrade.BTCUSDT` frame, not a book push: not \
             applied"
        )]
    );
}

// Coinbase Advanced Trade: no checksum, no book sequence; the connection's `sequence_num`
// (numbered by the venue per connection, from 0) guards every book at once. The recording's own
// gap is the venue's to hide (it holds every book's updates until that book's captured
// resubscription snapshot, which it then sends on); a gap the venue makes (drop) makes every
// book stale, and each resubscribes `level2` for its new snapshot.

fn coinbase_syncs(out: &inband_support::Outcome) -> Vec<pulse_feeds::sync_counters::SyncCounters> {
    (0..COINBASE.instruments.len())
        .map(|i| sync(&out.feed, i))
        .collect()
}

#[test]
fn coinbase_without_fault_hides_the_recordings_gap() {
    let out = run(&COINBASE, "clean", vec![], 3_000);
    assert_eq!(out.venue.capture_gaps, 1, "the recorder's lost message");
    assert_eq!(
        out.venue.held_deltas, 2,
        "its successor and the update in flight"
    );
    for (i, s) in coinbase_syncs(&out).iter().enumerate() {
        assert_eq!((s.gaps, s.resyncs), (0, 0), "{i}: {s:?}");
        assert!(s.snapshots >= 1, "{i}: {s:?}");
    }
    assert!(sync(&out.feed, 0).applied > 20, "{:?}", sync(&out.feed, 0));
    assert_eq!(out.observed.stale_after_live, [0, 0, 0]);
    assert_eq!(out.feed.session().counters.opened, 1);
    assert!(out.took < Duration::from_secs(15), "{:?}", out.took);
}

/// A message lost on the connection (any channel's) is a gap in `sequence_num`: every book
/// goes stale and resubscribes, without a reconnect.
#[test]
fn coinbase_dropped_message_is_a_gap_that_resyncs_every_book() {
    let at = COINBASE.book_update("BTC-USD", 10);
    let out = run(&COINBASE, "drop", vec![Fault::Drop { at }], 3_000);
    for i in 0..3 {
        assert_resynced(&out, i);
    }
    assert!(
        out.feed.counters().resubscriptions >= 3,
        "{:?}",
        out.feed.counters()
    );
    assert_eq!(out.feed.session().counters.opened, 1, "no reconnect");
}

/// A message received twice repeats its `sequence_num`: dropped, nothing goes stale.
#[test]
fn coinbase_duplicate_is_dropped_without_a_resync() {
    let at = COINBASE.book_update("BTC-USD", 15);
    let out = run(&COINBASE, "duplicate", vec![Fault::Duplicate { at }], 3_000);
    let btc = sync(&out.feed, 0);
    assert_eq!((btc.duplicates, btc.resyncs), (1, 0), "{btc:?}");
    for (i, s) in coinbase_syncs(&out).iter().enumerate() {
        assert_eq!((s.gaps, s.resyncs), (0, 0), "{i}: {s:?}");
    }
    assert_eq!(out.observed.stale_after_live, [0, 0, 0]);
}

/// A cut connection: the new one's sequence starts at 0 again, every book's new subscription
/// brings its snapshot.
#[test]
fn coinbase_closed_connection_reconnects_and_resyncs_every_book() {
    let at = COINBASE.book_update("SOL-USD", 10);
    let out = run(&COINBASE, "close", vec![Fault::Close { at }], 3_000);
    assert!(out.feed.session().counters.opened >= 2);
    for i in 0..3 {
        assert!(
            out.observed.stale_after_live[i] >= 1,
            "{i}: {:?}",
            out.observed
        );
        assert!(
            out.observed.live_after_stale[i] >= 1,
            "{i}: {:?}",
            out.observed
        );
        assert!(sync(&out.feed, i).snapshots >= 2, "{i}");
    }
}

#[test]
fn coinbase_silence_beyond_the_timeout_reconnects() {
    let at = COINBASE.book_update("BTC-USD", 20);
    let out = run(
        &COINBASE,
        "silence",
        vec![Fault::Silence { at, ms: 1_200 }],
        400,
    );
    assert!(closed(&out.feed, CloseReason::Watchdog) >= 1);
    assert!(out.feed.session().counters.opened >= 2);
    for i in 0..3 {
        assert!(
            out.observed.stale_after_live[i] >= 1,
            "{i}: {:?}",
            out.observed
        );
    }
}

/// A corrupt copy of a book message goes out just before it, with its number: the copy cannot
/// be read at all (its number neither), so it is a bad frame and nothing more; the real message
/// follows in order. A delay loses nothing either.
#[test]
fn coinbase_delay_and_malformed_lose_nothing() {
    let faults = vec![
        Fault::Delay {
            at: COINBASE.book_update("ETH-USD", 5),
            ms: 300,
        },
        Fault::Malformed {
            at: COINBASE.book_update("BTC-USD", 25),
        },
    ];
    let out = run(&COINBASE, "benign", faults, 3_000);
    assert_eq!(out.feed.counters().bad_frames.iter().sum::<u64>(), 1);
    for (i, s) in coinbase_syncs(&out).iter().enumerate() {
        assert_eq!((s.gaps, s.resyncs, s.duplicates), (0, 0, 0), "{i}: {s:?}");
    }
    assert_eq!(out.observed.stale_after_live, [0, 0, 0]);
}

#[test]
fn coinbase_over_wss_with_a_dropped_message() {
    let at = COINBASE.book_update("SOL-USD", 12);
    let out = run_with(&COINBASE, "wss", vec![Fault::Drop { at }], 3_000, true);
    for i in 0..3 {
        assert!(
            sync(&out.feed, i).resyncs >= 1,
            "{i}: {:?}",
            sync(&out.feed, i)
        );
    }
    assert_resynced(&out, 2);
}

#[test]
fn coinbase_refuses_checksum_and_restart_faults() {
    for (fault, why) in [
        (
            Fault::Checksum { at: 3 },
            "checksum@3: coinbase's level2 messages carry no checksum (Coinbase sends none; \
             drop@N makes its venue fault, a gap in the connection's sequence_num)",
        ),
        (
            Fault::Restart { at: 3 },
            "restart@3: coinbase's book pushes carry no such field",
        ),
    ] {
        let mut vc = VenueConfig::new(repo(COINBASE.capture));
        vc.protocol = Protocol::Coinbase;
        vc.faults = vec![fault];
        let err = LocalVenue::start(vc).err().expect("refused").to_string();
        assert_eq!(err, why);
    }
}
