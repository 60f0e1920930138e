//! Each Tardis dataset through the Tardis adapter, for instruments of several venues: a
//! `book_snapshot_25` row is a whole top-of-book (empty columns where the book is shallower),
//! quotes are tickers that name no update, trades keep their taker side and id, Tardis's
//! exchange ids find the Pulse venue, and a crossed book's resync request stales the book
//! until the next snapshot.

use pulse_feeds::capture::SourceKind;
use pulse_feeds::decode_error::DecodeError;
use pulse_feeds::event::LevelBatch;
use pulse_feeds::event::{EventMeta, MdEvent, ResyncRequest, StaleReason};
use pulse_feeds::instrument::{InstrumentRegistry, Venue};
use pulse_feeds::levels::LevelUpdate;
use pulse_feeds::num::{InstrumentId, Nanos, Px, Qty, Side};
use pulse_feeds::outbox::Outbox;
use pulse_feeds::tardis::TardisAdapter;
use pulse_feeds::venue::MarketAdapter;

fn registry() -> InstrumentRegistry {
    let mut r = InstrumentRegistry::new();
    r.add(Venue::Okx, "BTC-USDT-SWAP", 1, 2, Px(1), Qty(1))
        .expect("okx");
    r.add(Venue::KrakenV1, "XBT/USD", 1, 8, Px(1), Qty(1))
        .expect("kraken");
    r.add(Venue::BybitLinear, "BTCUSDT", 2, 3, Px(1), Qty(1))
        .expect("bybit");
    r.add(Venue::CoinbaseExchange, "BTC-USD", 2, 8, Px(1), Qty(1))
        .expect("coinbase");
    r
}

/// Decodes `payload` and returns the events it staged.
fn decode(adapter: &mut TardisAdapter, payload: &str) -> Result<Vec<MdEvent>, DecodeError> {
    let mut out = Outbox::with_capacity(adapter.outbox_capacity());
    let meta = EventMeta {
        recv_ts: Nanos(7_000),
        ..EventMeta::default()
    };
    adapter.on_frame(SourceKind::Ws, payload.as_bytes(), meta, &mut out)?;
    let (mut tx, mut rx) = rtrb::RingBuffer::new(adapter.outbox_capacity());
    out.drain_into(&mut tx);
    Ok(std::iter::from_fn(|| rx.pop().ok()).collect())
}

fn levels(events: &[MdEvent]) -> Vec<LevelUpdate> {
    events
        .iter()
        .filter_map(LevelBatch::read)
        .flat_map(|(_, _, l)| {
            l.map(|(side, px, qty)| LevelUpdate { side, px, qty })
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn a_book_snapshot_row_is_a_whole_book_and_empty_columns_are_no_level() {
    let mut adapter = TardisAdapter::new(registry());
    let mut row = String::from("book_snapshot_5|okex-swap,BTC-USDT-SWAP,1,7");
    // asks[i].price, asks[i].amount, bids[i].price, bids[i].amount; two levels a side.
    for (a, b) in [("30001.5,1.25", "30001,2"), ("30002,0.5", "30000.5,3")] {
        row += &format!(",{a},{b}");
    }
    row += &",,,,".repeat(3);
    let events = decode(&mut adapter, &row).expect("a snapshot row");
    assert!(matches!(events[0], MdEvent::BookReset { .. }));
    assert!(matches!(
        events.last(),
        Some(MdEvent::BookCommit { update_id: 1, .. })
    ));
    let l = |side, px, qty| LevelUpdate {
        side,
        px: Px(px),
        qty: Qty(qty),
    };
    assert_eq!(
        levels(&events),
        [
            l(Side::Sell, 300_015, 125),
            l(Side::Buy, 300_010, 200),
            l(Side::Sell, 300_020, 50),
            l(Side::Buy, 300_005, 300),
        ]
    );
    assert!(adapter.owns(InstrumentId(0)) && !adapter.owns(InstrumentId(1)));
    let sync = *adapter.sync_counters(InstrumentId(0)).expect("owned");
    assert_eq!((sync.snapshots, sync.last_update_id), (1, 1));
    // Too few columns for the dataset: refused.
    let short = "book_snapshot_5|okex-swap,BTC-USDT-SWAP,1,7,30001.5,1.25";
    assert_eq!(
        decode(&mut adapter, short).err(),
        Some(DecodeError::MissingField("columns"))
    );
}

#[test]
fn quotes_trades_and_venues_by_tardis_exchange_id() {
    let mut adapter = TardisAdapter::new(registry());
    let quote = "quotes|kraken,XBT/USD,1,7,0.5,30001.1,30000.9,1.25";
    let events = decode(&mut adapter, quote).expect("a quote");
    let [MdEvent::Ticker(t)] = events.as_slice() else {
        panic!("{events:?}")
    };
    assert_eq!(t.meta.instrument, InstrumentId(1), "kraken: v1's pair");
    assert_eq!(
        (t.update_id, t.bid.px, t.bid.qty),
        (0, Px(300_009), Qty(125_000_000))
    );
    assert_eq!((t.ask.px, t.ask.qty), (Px(300_011), Qty(50_000_000)));
    let empty = "quotes|kraken,XBT/USD,1,7,,,30000.9,1.25";
    assert_eq!(decode(&mut adapter, empty).expect("skipped"), []);
    assert_eq!(adapter.empty_quotes, 1);

    let trades = "trades|bybit,BTCUSDT,1,7,20f43950-d8dd-5b31-9112-a178eb6023af,sell,61000.5,0.001\
                  |bybit,BTCUSDT,1,7,x,unknown,61000.5,0.002|bybit,BTCUSDT,1,7,42,buy,61001,0.5";
    let events = decode(&mut adapter, trades).expect("trades");
    let trades: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            MdEvent::Trade(t) => Some((t.meta.instrument, t.trade_id, t.aggressor, t.px, t.qty)),
            _ => None,
        })
        .collect();
    assert_eq!(
        trades,
        [
            (
                InstrumentId(2),
                0x20f4_3950_d8dd_5b31,
                Side::Sell,
                Px(6_100_050),
                Qty(1)
            ),
            (InstrumentId(2), 42, Side::Buy, Px(6_100_100), Qty(500)),
        ],
        "bybit is linear; the unknown side is skipped"
    );
    assert_eq!(adapter.unknown_side, 1);
    let coinbase = "trades|coinbase,BTC-USD,1,7,99,buy,61000.01,0.1";
    let events = decode(&mut adapter, coinbase).expect("a trade");
    assert!(matches!(events[0], MdEvent::Trade(t) if t.meta.instrument == InstrumentId(3)));
    let other = "trades|bybit-spot,BTCUSDT,1,7,1,buy,1,1";
    assert_eq!(
        decode(&mut adapter, other).err(),
        Some(DecodeError::UnknownSymbol)
    );
    let mixed = "trades|bybit,BTCUSDT,1,7,1,buy,1,1|okex,BTCUSDT,1,7,1,buy,1,1";
    assert_eq!(
        decode(&mut adapter, mixed).err(),
        Some(DecodeError::WrongType("symbol"))
    );
}

#[test]
fn a_resync_request_stales_the_book_until_the_next_snapshot() {
    let mut adapter = TardisAdapter::new(registry());
    let snap = "incremental_book_L2|okex-swap,BTC-USDT-SWAP,1,7,true,bid,30000,1\
                |okex-swap,BTC-USDT-SWAP,1,7,true,ask,30001,1";
    let diff = "incremental_book_L2|okex-swap,BTC-USDT-SWAP,2,8,false,ask,30002,1";
    decode(&mut adapter, snap).expect("a snapshot");
    decode(&mut adapter, diff).expect("a diff");
    let mut out = Outbox::with_capacity(4);
    let meta = EventMeta {
        instrument: InstrumentId(0),
        ..EventMeta::default()
    };
    let request = ResyncRequest {
        instrument: InstrumentId(0),
        update_id: 2,
    };
    assert!(adapter.on_resync_request(request, meta, &mut out));
    assert!(
        !adapter.on_resync_request(request, meta, &mut out),
        "already stale"
    );
    let (mut tx, mut rx) = rtrb::RingBuffer::new(4);
    out.drain_into(&mut tx);
    assert!(matches!(
        rx.pop(),
        Ok(MdEvent::BookStale {
            reason: StaleReason::Crossed,
            ..
        })
    ));
    assert_eq!(decode(&mut adapter, diff).expect("dropped"), []);
    let events = decode(&mut adapter, snap).expect("a new snapshot");
    assert!(matches!(events[0], MdEvent::BookReset { .. }));
    let sync = *adapter.sync_counters(InstrumentId(0)).expect("owned");
    assert_eq!(
        (
            sync.snapshots,
            sync.resyncs,
            sync.applied,
            sync.dropped,
            sync.resync_requests
        ),
        (2, 1, 1, 1, 1)
    );
    // A request older than the latest snapshot is out of date.
    assert!(!adapter.on_resync_request(request, meta, &mut out));
    assert_eq!(
        sync.outdated_requests + 1,
        adapter
            .sync_counters(InstrumentId(0))
            .map_or(0, |s| s.outdated_requests)
    );
}
