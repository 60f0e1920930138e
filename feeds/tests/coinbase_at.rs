//! The Coinbase Advanced Trade codec and adapter on the documented examples and on made-up
//! sequences whose answers are known: exact integers from the docs' strings, the staged
//! events of a snapshot (per side the best, then worst first) and of updates, absent deletes, the connection's
//! sequence (a gap stales and resubscribes every book; a duplicate is dropped; 0 again is a
//! new connection), tickers held to the book's last commit, and the generated capture's whole
//! book.

#[path = "support/coinbase_at.rs"]
mod coinbase_at;

use coinbase_at::{heartbeat, l2, numbered, Driver, DOC_HEARTBEAT, DOC_L2, DOC_TICKER, DOC_TRADES};
use pulse_feeds::capture::{self, SourceKind};
use pulse_feeds::coinbase_at::codec::{
    AtTicker, AtTrade, BookEvent, BookKind, Channel, CoinbaseAtCodec, Decoded, Header,
};
use pulse_feeds::event::{EventMeta, Level, LevelBatch, MdEvent, StaleReason};
use pulse_feeds::levels::LevelUpdate;
use pulse_feeds::num::{InstrumentId, Px, Qty, Side};
use pulse_feeds::venue::{FrameVerdict, MarketAdapter};

const BTC: InstrumentId = InstrumentId(0);
const ETH: InstrumentId = InstrumentId(1);
const SOL: InstrumentId = InstrumentId(2);

fn header(channel: Channel, sequence_num: u64) -> Decoded {
    Decoded::Message(Header {
        channel,
        sequence_num,
    })
}

#[test]
fn the_documented_messages_decode_exactly() {
    let registry = coinbase_at::registry();
    let mut codec = CoinbaseAtCodec::new();
    assert_eq!(
        codec.decode(&registry, DOC_L2.as_bytes()),
        Ok(header(Channel::Level2, 0))
    );
    let book = BookEvent {
        instrument: BTC,
        kind: BookKind::Snapshot,
        start: 0,
        end: 2,
    };
    assert_eq!(codec.books(), [book]);
    let level = |px, qty| LevelUpdate {
        side: Side::Buy,
        px: Px(px),
        qty: Qty(qty),
    };
    // "21921.73" / "0.06317902" and "21921.3" / "0.02" at BTC-USD's 2 and 8 decimals.
    assert_eq!(
        codec.levels_of(&book),
        [level(2_192_173, 6_317_902), level(2_192_130, 2_000_000)]
    );

    assert_eq!(
        codec.decode(&registry, DOC_TRADES.as_bytes()),
        Ok(header(Channel::MarketTrades, 0))
    );
    // The maker bought ("BUY"): a seller took it.
    let trade = AtTrade {
        instrument: ETH,
        trade_id: 0,
        px: Px(126_001),
        qty: Qty(30_000_000),
        aggressor: Side::Sell,
    };
    assert_eq!(codec.trades(), [trade]);

    assert_eq!(
        codec.decode(&registry, DOC_TICKER.as_bytes()),
        Ok(header(Channel::Ticker, 0))
    );
    let ticker = AtTicker {
        instrument: BTC,
        bid: Level {
            px: Px(2_193_198),
            qty: Qty(800_021_000_000),
        },
        ask: Level {
            px: Px(2_193_398),
            qty: Qty(803_807_770_938),
        },
    };
    assert_eq!(codec.tickers(), [ticker]);

    assert_eq!(
        codec.decode(&registry, DOC_HEARTBEAT.as_bytes()),
        Ok(header(Channel::Heartbeats, 0))
    );
    assert!(codec.books().is_empty() && codec.trades().is_empty());
    let refusal = br#"{"type":"error","message":"failure to subscribe"}"#;
    assert_eq!(codec.decode(&registry, refusal), Ok(Decoded::VenueError));
    let status = br#"{"channel":"status","client_id":"","timestamp":"","sequence_num":9,"events":[{"type":"snapshot","products":[]}]}"#;
    assert_eq!(
        codec.decode(&registry, status),
        Ok(header(Channel::Other, 9))
    );
}

/// The levels of every batch event, in order.
fn levels_of(events: &[MdEvent]) -> Vec<(Side, i64, i64)> {
    events
        .iter()
        .filter_map(LevelBatch::read)
        .flat_map(|(_, _, levels)| levels.map(|(s, p, q)| (s, p.0, q.0)))
        .collect()
}

fn commits(events: &[MdEvent]) -> Vec<u64> {
    events
        .iter()
        .filter_map(|e| match e {
            MdEvent::BookCommit { update_id, .. } => Some(*update_id),
            _ => None,
        })
        .collect()
}

fn stale(events: &[MdEvent]) -> Vec<(InstrumentId, StaleReason)> {
    events
        .iter()
        .filter_map(|e| match e {
            MdEvent::BookStale { meta, reason } => Some((meta.instrument, *reason)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_snapshot_goes_to_the_book_best_then_worst_first_and_updates_as_sent() {
    let mut d = Driver::new();
    let snapshot = l2(
        4,
        "snapshot",
        "SOL-USD",
        &[
            ("bid", "23.45", "1"),
            ("bid", "23.44", "2"),
            ("bid", "0.01", "5"),
            ("offer", "23.47", "3"),
            ("offer", "23.5", "4"),
            ("offer", "1000", "0"),
        ],
    );
    let (verdict, events) = d.frame(&snapshot);
    assert_eq!(verdict, Ok(FrameVerdict::Ok));
    assert!(matches!(events[0], MdEvent::BookReset { .. }));
    // Each side's best, then the rest worst first (bids ascending, asks descending); the
    // zero-quantity level left out.
    assert_eq!(
        levels_of(&events),
        [
            (Side::Buy, 2_345, 1_000),
            (Side::Buy, 1, 5_000),
            (Side::Buy, 2_344, 2_000),
            (Side::Sell, 2_347, 3_000),
            (Side::Sell, 2_350, 4_000),
        ]
    );
    assert_eq!(commits(&events), [4]);
    // The same book in another order, a price twice: the same levels handed on.
    let shuffled = l2(
        5,
        "snapshot",
        "SOL-USD",
        &[
            ("offer", "23.5", "4"),
            ("bid", "0.01", "5"),
            ("bid", "23.45", "1"),
            ("offer", "23.47", "3"),
            ("bid", "23.44", "2"),
            ("bid", "23.45", "1"),
        ],
    );
    let mut again = Driver::new();
    assert_eq!(levels_of(&again.frame(&shuffled).1), levels_of(&events));
    let sync = d.adapter.sync(SOL).unwrap();
    let bids: Vec<Px> = sync.prices(Side::Buy).collect();
    assert_eq!(bids, [Px(2_345), Px(2_344), Px(1)]);
    assert_eq!(sync.depth(Side::Sell), 2);

    let update = l2(
        5,
        "update",
        "SOL-USD",
        &[
            ("offer", "23.47", "0"),
            ("bid", "23.46", "0.5"),
            ("bid", "23.40", "0"),
            ("offer", "23.5", "7.25"),
        ],
    );
    let (verdict, events) = d.frame(&update);
    assert_eq!(verdict, Ok(FrameVerdict::Ok));
    // The delete of 23.40, which the book does not hold, is not handed on.
    assert_eq!(
        levels_of(&events),
        [
            (Side::Sell, 2_347, 0),
            (Side::Buy, 2_346, 500),
            (Side::Sell, 2_350, 7_250),
        ]
    );
    assert_eq!(commits(&events), [5]);
    let k = d.adapter.sync(SOL).unwrap().counters;
    assert_eq!(
        (
            k.messages,
            k.snapshots,
            k.applied,
            k.absent_deletes,
            k.last_update_id
        ),
        (2, 1, 1, 1, 5)
    );
}

#[test]
fn a_snapshot_with_an_empty_side_or_none_at_all_syncs_the_book() {
    let mut d = Driver::new();
    for (seq, levels) in [
        (1, &[("offer", "23.5", "1")][..]),
        (2, &[][..]),
        (3, &[("bid", "23.4", "1")][..]),
    ] {
        let (verdict, events) = d.frame(&l2(seq, "snapshot", "SOL-USD", levels));
        assert_eq!(verdict, Ok(FrameVerdict::Ok));
        assert_eq!(commits(&events), [seq]);
        assert_eq!(levels_of(&events).len(), levels.len());
    }
    assert_eq!(d.adapter.sync(SOL).unwrap().counters.snapshots, 3);
}

#[test]
fn a_sequence_gap_stales_and_resubscribes_every_book() {
    let mut d = Driver::new();
    for (seq, product) in [(1, "BTC-USD"), (2, "ETH-USD"), (3, "SOL-USD")] {
        let (_, events) = d.frame(&l2(seq, "snapshot", product, &[("bid", "1", "1")]));
        assert_eq!(commits(&events), [seq]);
    }
    assert_eq!(d.frame(&heartbeat(4)).0, Ok(FrameVerdict::Ok));
    // 5 never arrives; 6 is an update of one book, but every book may have missed 5.
    let (verdict, events) = d.frame(&l2(6, "update", "ETH-USD", &[("bid", "2", "1")]));
    assert_eq!(verdict, Ok(FrameVerdict::Resubscribe));
    assert_eq!(
        stale(&events),
        [
            (BTC, StaleReason::Gap),
            (ETH, StaleReason::Gap),
            (SOL, StaleReason::Gap)
        ]
    );
    assert!(commits(&events).is_empty(), "the update is dropped");
    assert_eq!(
        d.sends(),
        [
            r#"{"type":"unsubscribe","product_ids":["BTC-USD"],"channel":"level2"}"#,
            r#"{"type":"subscribe","product_ids":["BTC-USD"],"channel":"level2"}"#,
            r#"{"type":"unsubscribe","product_ids":["ETH-USD"],"channel":"level2"}"#,
            r#"{"type":"subscribe","product_ids":["ETH-USD"],"channel":"level2"}"#,
            r#"{"type":"unsubscribe","product_ids":["SOL-USD"],"channel":"level2"}"#,
            r#"{"type":"subscribe","product_ids":["SOL-USD"],"channel":"level2"}"#,
        ]
    );
    assert!(d.sends().is_empty(), "sent once");
    assert_eq!(d.frame(&heartbeat(7)).0, Ok(FrameVerdict::Ok));
    // A message received twice is dropped: no commit although the book is synced again.
    let (_, events) = d.frame(&l2(8, "snapshot", "ETH-USD", &[("bid", "3", "1")]));
    assert_eq!(commits(&events), [8]);
    let (_, events) = d.frame(&l2(8, "snapshot", "ETH-USD", &[("bid", "4", "1")]));
    assert!(events.is_empty());
    let k = d.adapter.sync(ETH).unwrap().counters;
    assert_eq!(
        (k.gaps, k.dropped, k.snapshots, k.resyncs, k.duplicates),
        (1, 1, 2, 1, 1)
    );
    let c = d.adapter.sequence_counters;
    assert_eq!((c.gaps, c.duplicates, c.restarts), (1, 1, 0));
    assert_eq!(d.adapter.sync_counters(BTC).unwrap().gaps, 1);
    assert_eq!(d.adapter.control_frames(), 2);
}

#[test]
fn a_sequence_from_zero_again_is_a_new_connection() {
    let mut d = Driver::new();
    assert_eq!(
        d.frame(&l2(0, "snapshot", "BTC-USD", &[("bid", "1", "1")]))
            .0,
        Ok(FrameVerdict::Ok)
    );
    assert_eq!(
        d.frame(&l2(1, "update", "BTC-USD", &[("bid", "2", "1")])).0,
        Ok(FrameVerdict::Ok)
    );
    let (verdict, events) = d.frame(&heartbeat(0));
    // Stale until the new connection's snapshot, which its subscription brings: nothing to
    // resubscribe.
    assert_eq!(verdict, Ok(FrameVerdict::Ok));
    assert_eq!(stale(&events), [(BTC, StaleReason::Disconnected)]);
    assert!(d.sends().is_empty());
    let (_, events) = d.frame(&l2(1, "snapshot", "BTC-USD", &[("bid", "3", "1")]));
    assert_eq!(commits(&events), [1]);
    let k = d.adapter.sync(BTC).unwrap().counters;
    assert_eq!((k.sequence_resets, k.resyncs, k.gaps), (1, 1, 0));
    // The live feed's lost connection ends the sequence too: the next starts anywhere.
    let meta = EventMeta {
        instrument: BTC,
        ..EventMeta::default()
    };
    assert!(d
        .adapter
        .force_resync(meta, StaleReason::Disconnected, &mut d.out));
    assert_eq!(d.adapter.last_sequence(), None);
}

#[test]
fn tickers_are_counted_never_held_to_a_commit() {
    let mut d = Driver::new();
    let ticker = |seq| numbered(DOC_TICKER, seq);
    let update_id = |events: &[MdEvent]| match events {
        [MdEvent::Ticker(t)] => t.update_id,
        _ => panic!("one ticker: {events:?}"),
    };
    // Update id 0, never a commit's, before its book and after: the book stage counts the
    // ticker and checks nothing (its place in the sequence names no book state).
    assert_eq!(update_id(&d.frame(&ticker(0)).1), 0);
    assert_eq!(d.frame(&numbered(DOC_L2, 1)).0, Ok(FrameVerdict::Ok));
    assert_eq!(d.frame(&heartbeat(2)).0, Ok(FrameVerdict::Ok));
    assert_eq!(update_id(&d.frame(&ticker(3)).1), 0);
    assert_eq!(
        d.frame(&l2(4, "update", "BTC-USD", &[("bid", "21921.3", "0")]))
            .0,
        Ok(FrameVerdict::Ok)
    );
    assert_eq!(update_id(&d.frame(&ticker(5)).1), 0);
    let trades = d.frame(&numbered(DOC_TRADES, 6)).1;
    assert!(
        matches!(trades[..], [MdEvent::Trade(t)] if t.meta.instrument == ETH && t.px == Px(126_001))
    );
}

#[test]
fn the_generated_whole_book_is_held_level_for_level() {
    let text = coinbase_at::capture_text();
    let line = text
        .lines()
        .find(|l| l.contains(r#""type":"snapshot","product_id":"BTC-USD""#))
        .expect("BTC-USD's snapshot");
    let record = capture::parse_line(line.as_bytes()).unwrap();
    assert!(record.payload.len() > 4 << 20, "{}", record.payload.len());
    let mut d = Driver::new();
    let (verdict, events) = d.frame(std::str::from_utf8(record.payload).unwrap());
    assert_eq!(verdict, Ok(FrameVerdict::Ok));
    let sync = d.adapter.sync(BTC).unwrap();
    assert_eq!(
        (sync.depth(Side::Buy), sync.depth(Side::Sell)),
        (23_000, 23_000)
    );
    // From 0.01 to the touch, and from the touch to 1,000,000.
    assert_eq!(sync.prices(Side::Buy).next(), Some(Px(2_192_173)));
    assert_eq!(sync.prices(Side::Buy).last(), Some(Px(1)));
    assert_eq!(sync.prices(Side::Sell).next(), Some(Px(2_192_201)));
    assert_eq!(sync.prices(Side::Sell).last(), Some(Px(100_000_000)));
    // A reset, 11,500 batches of four levels and a commit.
    assert_eq!(events.len(), 1 + 46_000 / 4 + 1);
    assert_eq!(levels_of(&events).len(), 46_000);
    assert_eq!(record.kind, SourceKind::Ws);
}
