//! The Bybit codec and adapter on the v5 docs' example frames: each decodes to exact values
//! (prices and sizes as integers at the instrument's scales, ids, times), and the adapter
//! applies Bybit's rules to them: tickers' best bid/ask kept across linear deltas, none from
//! spot tickers, depth 1's repeated snapshot dropped, a delete of an absent price ignored and
//! counted, replies counted as control frames or errors.

#[path = "support/bybit.rs"]
mod bybit;

use bybit::{Driver, DOC_DELTA, DOC_SNAPSHOT, DOC_SPOT_TICKER, DOC_TICKER, DOC_TRADE};
use pulse_feeds::bybit::codec::{BookKind, BybitCodec, BybitTrade, Decoded, TickerFields};
use pulse_feeds::bybit::BybitMarket;
use pulse_feeds::event::{Level, LevelBatch, MdEvent};
use pulse_feeds::instrument::Venue;
use pulse_feeds::levels::LevelUpdate;
use pulse_feeds::num::{InstrumentId, Px, Qty, Side};
use pulse_feeds::venue::FrameVerdict;

const LINEAR_BTC: InstrumentId = InstrumentId(3);

fn level(side: Side, px: i64, qty: i64) -> LevelUpdate {
    LevelUpdate {
        side,
        px: Px(px),
        qty: Qty(qty),
    }
}

fn linear() -> BybitCodec {
    BybitCodec::new(Venue::BybitLinear)
}

#[test]
fn the_documented_book_frames_decode_exactly() {
    let registry = bybit::registry();
    let mut codec = linear();
    assert_eq!(
        codec.decode_ws(&registry, DOC_SNAPSHOT.as_bytes()),
        Ok(Decoded::Book {
            instrument: LINEAR_BTC,
            kind: BookKind::Snapshot,
            depth: 50,
            update_id: 18_521_288,
            seq: 7_961_638_724,
            ts: 1_672_304_484_978,
        })
    );
    // Prices at 2 decimals, sizes at 3: bids then asks, each in message order.
    assert_eq!(
        codec.levels(),
        [
            level(Side::Buy, 1_649_350, 6),
            level(Side::Buy, 1_649_300, 100),
            level(Side::Sell, 1_661_100, 29),
            level(Side::Sell, 1_661_200, 213),
        ]
    );
    let Ok(Decoded::Book {
        kind, update_id, ..
    }) = codec.decode_ws(&registry, DOC_DELTA.as_bytes())
    else {
        panic!("a book delta");
    };
    assert_eq!((kind, update_id), (BookKind::Delta, 177_400_507));
    let levels = codec.levels();
    assert_eq!(levels.len(), 12);
    assert_eq!(levels[4], level(Side::Buy, 3_024_000, 0), "size 0 deletes");
    assert_eq!(levels[5], level(Side::Sell, 3_024_870, 0));
    assert_eq!(levels[11], level(Side::Sell, 3_025_250, 4_591));
}

#[test]
fn the_documented_trade_and_tickers_decode_exactly() {
    let registry = bybit::registry();
    let mut codec = linear();
    assert_eq!(
        codec.decode_ws(&registry, DOC_TRADE.as_bytes()),
        Ok(Decoded::Trades {
            instrument: LINEAR_BTC
        })
    );
    assert_eq!(
        codec.trades(),
        [BybitTrade {
            trade_id: 0x20f4_3950_d8dd_5b31,
            px: Px(1_657_850),
            qty: Qty(1),
            aggressor: Side::Buy,
        }]
    );
    assert_eq!(
        codec.decode_ws(&registry, DOC_TICKER.as_bytes()),
        Ok(Decoded::Ticker {
            instrument: LINEAR_BTC,
            fields: TickerFields {
                bid_px: Some(Px(1_721_550)),
                bid_qty: Some(Qty(84_489)),
                ask_px: Some(Px(1_721_600)),
                ask_qty: Some(Qty(83_020)),
            },
        })
    );
    // Spot's ticker: no best bid/ask at all.
    let mut spot = BybitCodec::new(Venue::BybitSpot);
    assert_eq!(
        spot.decode_ws(&registry, DOC_SPOT_TICKER.as_bytes()),
        Ok(Decoded::Ticker {
            instrument: InstrumentId(0),
            fields: TickerFields::default(),
        })
    );
    // A symbol of the other market is not this codec's.
    assert!(spot
        .decode_ws(
            &registry,
            b"{\"topic\":\"tickers.SOLUSDT\",\"type\":\"snapshot\",\"data\":{}}"
        )
        .is_err());
}

#[test]
fn replies_are_control_frames_and_refusals_errors() {
    let registry = bybit::registry();
    let mut codec = linear();
    for (frame, want) in [
        (
            r#"{"success":true,"ret_msg":"pong","conn_id":"465772b1","req_id":"","op":"ping"}"#,
            Decoded::Control,
        ),
        (
            r#"{"req_id":"test","op":"pong","args":["1675418560633"],"conn_id":"cfcb4ocsvfriu23r3er0-1b"}"#,
            Decoded::Control,
        ),
        (
            r#"{"success":true,"ret_msg":"","conn_id":"cejreaspqfh3sjdnldmg-p","req_id":"","op":"subscribe"}"#,
            Decoded::Control,
        ),
        (
            r#"{"success":false,"ret_msg":"error:handler not found,topic:orderbook.50.XUSDT","conn_id":"c","req_id":"","op":"subscribe"}"#,
            Decoded::Error,
        ),
    ] {
        assert_eq!(
            codec.decode_ws(&registry, frame.as_bytes()),
            Ok(want),
            "{frame}"
        );
    }
    let mut d = Driver::new(BybitMarket::Linear);
    let (verdict, events) = d.frame(r#"{"success":false,"ret_msg":"bad","op":"subscribe"}"#);
    assert_eq!((verdict, events), (Ok(FrameVerdict::Ok), vec![]));
    assert_eq!((d.adapter.errors, d.adapter.control), (1, 0));
}

fn levels_of(events: &[MdEvent]) -> Vec<(Side, Px, Qty)> {
    events
        .iter()
        .filter_map(LevelBatch::read)
        .flat_map(|(_, _, levels)| levels.collect::<Vec<_>>())
        .collect()
}

#[test]
fn the_adapter_applies_the_documented_frames() {
    let mut d = Driver::new(BybitMarket::Linear);
    let (verdict, events) = d.frame(DOC_SNAPSHOT);
    assert_eq!(verdict, Ok(FrameVerdict::Ok));
    assert!(matches!(events[0], MdEvent::BookReset { .. }));
    assert!(matches!(
        events.last(),
        Some(MdEvent::BookCommit {
            update_id: 18_521_288,
            ..
        })
    ));
    assert_eq!(levels_of(&events).len(), 4);
    // The docs' delta does not follow their snapshot: a gap, the book wants resubscribing.
    let (verdict, events) = d.frame(DOC_DELTA);
    assert_eq!(verdict, Ok(FrameVerdict::Resubscribe));
    assert!(matches!(events[..], [MdEvent::BookStale { .. }]));
    let sync = d.adapter.sync(LINEAR_BTC).unwrap();
    assert_eq!((sync.counters.gaps, sync.last_seq), (1, 66_544_703_342));
    // The trade, and the ticker's best bid/ask.
    let (_, events) = d.frame(DOC_TRADE);
    assert!(matches!(events[..], [MdEvent::Trade(t)] if t.trade_id == 0x20f4_3950_d8dd_5b31));
    let (_, events) = d.frame(DOC_TICKER);
    let [MdEvent::Ticker(t)] = events[..] else {
        panic!("one ticker: {events:?}")
    };
    assert_eq!(
        (t.bid, t.ask, t.update_id),
        (
            Level {
                px: Px(1_721_550),
                qty: Qty(84_489)
            },
            Level {
                px: Px(1_721_600),
                qty: Qty(83_020)
            },
            0
        )
    );
    // A delta carrying only the ask price: the bid and the ask size are the last ones.
    let (_, events) = d.frame(
        r#"{"topic":"tickers.BTCUSDT","type":"delta","data":{"symbol":"BTCUSDT","ask1Price":"17216.50"},"cs":1,"ts":1}"#,
    );
    let [MdEvent::Ticker(t)] = events[..] else {
        panic!("one ticker: {events:?}")
    };
    assert_eq!(
        (t.bid.px, t.ask.px, t.ask.qty),
        (Px(1_721_550), Px(1_721_650), Qty(83_020))
    );
    // A delta without best bid/ask fields says nothing new about them.
    let (_, events) = d.frame(
        r#"{"topic":"tickers.BTCUSDT","type":"delta","data":{"symbol":"BTCUSDT","markPrice":"1"},"cs":2,"ts":2}"#,
    );
    assert!(events.is_empty());
    // Spot's tickers give no Ticker event.
    let mut spot = Driver::new(BybitMarket::Spot);
    let (verdict, events) = spot.frame(DOC_SPOT_TICKER);
    assert_eq!((verdict, events.len()), (Ok(FrameVerdict::Ok), 0));
    assert_eq!(
        spot.adapter
            .sync(InstrumentId(0))
            .unwrap()
            .counters
            .messages,
        1
    );
}

fn sol(kind: &str, u: u64, bid: &str, ask: &str) -> String {
    format!(
        r#"{{"topic":"orderbook.1.SOLUSDT","type":"{kind}","ts":1,"data":{{"s":"SOLUSDT","b":[{bid}],"a":[{ask}],"u":{u},"seq":1}},"cts":1}}"#
    )
}

#[test]
fn depth_one_snapshots_and_absent_deletes() {
    let mut d = Driver::new(BybitMarket::Linear);
    let sol_id = InstrumentId(5);
    let (verdict, _) = d.frame(&sol(
        "snapshot",
        10,
        r#"["236.120","5.0"]"#,
        r#"["236.130","1.5"]"#,
    ));
    assert_eq!(verdict, Ok(FrameVerdict::Ok));
    // A new touch: a whole one-level book.
    let (_, events) = d.frame(&sol(
        "snapshot",
        11,
        r#"["236.125","2.0"]"#,
        r#"["236.130","1.5"]"#,
    ));
    assert!(matches!(events[0], MdEvent::BookReset { .. }));
    assert_eq!(
        levels_of(&events),
        [
            (Side::Buy, Px(236_125), Qty(20)),
            (Side::Sell, Px(236_130), Qty(15))
        ]
    );
    // Nothing changed for 3 s: the same snapshot, same `u`, nothing staged.
    let (_, events) = d.frame(&sol(
        "snapshot",
        11,
        r#"["236.125","2.0"]"#,
        r#"["236.130","1.5"]"#,
    ));
    assert!(events.is_empty());
    let k = d.adapter.sync(sol_id).unwrap().counters;
    assert_eq!(
        (k.snapshots, k.applied, k.dropped, k.last_update_id),
        (1, 1, 1, 11)
    );

    // ETHUSDT at depth 200: a delete of a price the book does not hold is left out, counted.
    let eth = |kind: &str, u: u64, b: &str| {
        format!(
            r#"{{"topic":"orderbook.200.ETHUSDT","type":"{kind}","ts":1,"data":{{"s":"ETHUSDT","b":[{b}],"a":[["3900.00","1"]],"u":{u},"seq":1}},"cts":1}}"#
        )
    };
    let (verdict, _) = d.frame(&eth("snapshot", 5, r#"["3890.00","2"]"#));
    assert_eq!(verdict, Ok(FrameVerdict::Ok));
    let (_, events) = d.frame(&eth("delta", 6, r#"["3889.00","0"],["3890.00","0"]"#));
    assert_eq!(
        levels_of(&events),
        [
            (Side::Buy, Px(389_000), Qty(0)),
            (Side::Sell, Px(390_000), Qty(100))
        ]
    );
    let sync = d.adapter.sync(InstrumentId(4)).unwrap();
    assert_eq!((sync.absent_deletes, sync.counters.applied), (1, 1));
    assert_eq!(sync.prices(Side::Sell).collect::<Vec<_>>(), [Px(390_000)]);
    assert_eq!(sync.prices(Side::Buy).count(), 0);
    // A restart: `u == 1` resets the book, counted.
    let (_, events) = d.frame(&eth("snapshot", 1, r#"["3880.00","2"]"#));
    assert!(matches!(events[0], MdEvent::BookReset { .. }));
    let k = d.adapter.sync(InstrumentId(4)).unwrap().counters;
    assert_eq!(
        (k.sequence_resets, k.snapshots, k.last_update_id),
        (1, 2, 1)
    );
    let (verdict, _) = d.frame(&eth("delta", 2, r#"["3881.00","1"]"#));
    assert_eq!(verdict, Ok(FrameVerdict::Ok));
}
