//! Coinbase Exchange `level2`: the codec on real frames of the bundled capture and on hostile
//! ones, the adapter's book sync (updates before the snapshot dropped, a snapshot rebuilds the
//! whole book, a crossed book goes stale until the next snapshot), and no allocation per frame
//! after warm-up (a counting global allocator; only this test's thread is counted).

use std::path::Path;

use pulse_feeds::book::Level;
use pulse_feeds::capture::{CaptureReader, SourceKind};
use pulse_feeds::coinbase::{CoinbaseAdapter, CoinbaseCodec, Decoded, MAX_LEVELS_PER_MESSAGE};
use pulse_feeds::decode_error::DecodeError;
use pulse_feeds::event::{EventMeta, MdEvent, ResyncRequest, StaleReason, TickerEvent, TradeEvent};
use pulse_feeds::instrument::{InstrumentRegistry, Venue};
use pulse_feeds::num::{InstrumentId, Px, Qty, Side};
use pulse_feeds::outbox::Outbox;
use pulse_feeds::venue::MarketAdapter;

#[path = "../../engine/tests/counting/mod.rs"]
mod counting;

const SCALE: u32 = 8;

fn registry() -> InstrumentRegistry {
    let mut registry = InstrumentRegistry::new();
    for product in ["BAND-GBP", "SKL-USD"] {
        registry
            .add(
                Venue::CoinbaseExchange,
                product,
                SCALE,
                SCALE,
                Px(1),
                Qty(1),
            )
            .expect("registered");
    }
    registry
}

const BAND: InstrumentId = InstrumentId(0);

fn band_meta() -> EventMeta {
    EventMeta {
        instrument: BAND,
        ..EventMeta::default()
    }
}

fn px(text: &str) -> Px {
    Px(pulse_feeds::num::parse_decimal(text.as_bytes(), SCALE).unwrap())
}

fn qty(text: &str) -> Qty {
    Qty(pulse_feeds::num::parse_decimal(text.as_bytes(), SCALE).unwrap())
}

#[test]
fn real_frames_decode_to_exact_integers() {
    let reg = registry();
    let mut codec = CoinbaseCodec::new();
    let update = br#"{"type":"l2update","product_id":"BAND-GBP","changes":[["sell","14.8024","0.00"],["buy","14.7550","3.1"]],"time":"2021-04-17T16:43:37.075687Z"}"#;
    assert_eq!(
        codec.decode(&reg, update),
        Ok(Decoded::Update { instrument: BAND })
    );
    let levels: Vec<_> = codec
        .levels()
        .iter()
        .map(|l| (l.side, l.px, l.qty))
        .collect();
    assert_eq!(
        levels,
        [
            (Side::Sell, px("14.8024"), Qty(0)),
            (Side::Buy, px("14.7550"), qty("3.1"))
        ]
    );
    // `side` is the maker's: a sell maker was hit by a buyer.
    let trade = br#"{"type":"match","trade_id":881613,"maker_order_id":"a","taker_order_id":"b","side":"sell","size":"0.04","price":"14.7775","product_id":"BAND-GBP","sequence":333938798,"time":"2021-04-17T16:43:30.244075Z"}"#;
    assert_eq!(
        codec.decode(&reg, trade),
        Ok(Decoded::Trade(TradeEvent {
            meta: band_meta(),
            trade_id: 881613,
            px: px("14.7775"),
            qty: qty("0.04"),
            aggressor: Side::Buy,
        }))
    );
    // The 2021 ticker has no sizes: quantity 0 (unknown).
    let ticker = br#"{"type":"ticker","sequence":333938798,"product_id":"BAND-GBP","price":"14.7775","best_bid":"14.7550","best_ask":"14.8060","side":"buy","trade_id":881613,"last_size":"0.04"}"#;
    assert_eq!(
        codec.decode(&reg, ticker),
        Ok(Decoded::Ticker(TickerEvent {
            meta: band_meta(),
            update_id: 0,
            bid: Level {
                px: px("14.7550"),
                qty: Qty(0)
            },
            ask: Level {
                px: px("14.8060"),
                qty: Qty(0)
            },
        }))
    );
    for control in [
        &br#"{"type":"subscriptions","channels":[]}"#[..],
        br#"{"type":"heartbeat","sequence":1,"last_trade_id":2,"product_id":"BAND-GBP","time":"x"}"#,
        br#"{"type":"last_match","trade_id":1,"side":"buy","size":"1","price":"1","product_id":"BAND-GBP"}"#,
    ] {
        assert_eq!(codec.decode(&reg, control), Ok(Decoded::Control));
    }
}

#[test]
fn hostile_frames_are_refused_by_name() {
    let reg = registry();
    let mut codec = CoinbaseCodec::new();
    let cases: [(&[u8], DecodeError); 9] = [
        (b"", DecodeError::Json),
        (b"[1,2]", DecodeError::NotAnObject),
        (
            br#"{"product_id":"BAND-GBP"}"#,
            DecodeError::MissingField("type"),
        ),
        (
            br#"{"type":"error","message":"Failed to subscribe"}"#,
            DecodeError::UnknownEvent,
        ),
        (
            br#"{"type":"l2update","product_id":"NOPE-USD","changes":[]}"#,
            DecodeError::UnknownSymbol,
        ),
        (
            br#"{"type":"l2update","product_id":"BAND-GBP","changes":[["hold","1","1"]]}"#,
            DecodeError::WrongType("changes"),
        ),
        (
            br#"{"type":"l2update","product_id":"BAND-GBP","changes":[["buy",1.5,"1"]]}"#,
            DecodeError::WrongType("changes"),
        ),
        (
            br#"{"type":"snapshot","product_id":"BAND-GBP","bids":[["1","1","1"]],"asks":[]}"#,
            DecodeError::WrongType("bids"),
        ),
        (
            br#"{"type":"snapshot","product_id":"BAND-GBP","bids":{},"asks":[]}"#,
            DecodeError::WrongType("bids"),
        ),
    ];
    for (frame, want) in cases {
        assert_eq!(
            codec.decode(&reg, frame),
            Err(want),
            "{}",
            String::from_utf8_lossy(frame)
        );
    }
    // A price too precise for the scale, and one too large for the mantissa.
    let precise =
        br#"{"type":"l2update","product_id":"BAND-GBP","changes":[["buy","0.000000001","1"]]}"#;
    assert!(matches!(
        codec.decode(&reg, precise),
        Err(DecodeError::Decimal("changes", _))
    ));
    let huge = br#"{"type":"l2update","product_id":"BAND-GBP","changes":[["buy","99999999999999999999","1"]]}"#;
    assert!(matches!(
        codec.decode(&reg, huge),
        Err(DecodeError::Decimal("changes", _))
    ));
    // A snapshot above the level limit is refused whole.
    let mut frame = String::from(r#"{"type":"snapshot","product_id":"BAND-GBP","bids":["#);
    for i in 0..=MAX_LEVELS_PER_MESSAGE {
        if i > 0 {
            frame.push(',');
        }
        frame.push_str(&format!(r#"["{}.5","1"]"#, i + 1));
    }
    frame.push_str(r#"],"asks":[]}"#);
    assert_eq!(
        codec.decode(&reg, frame.as_bytes()),
        Err(DecodeError::TooManyLevels)
    );
}

fn meta() -> EventMeta {
    EventMeta::default()
}

/// The adapter's outbox and a ring to drain it through, as a feed has.
struct Staged {
    out: Outbox,
    tx: rtrb::Producer<MdEvent>,
    rx: rtrb::Consumer<MdEvent>,
}

impl Staged {
    fn new(adapter: &CoinbaseAdapter) -> Staged {
        let (tx, rx) = rtrb::RingBuffer::new(adapter.outbox_capacity());
        Staged {
            out: Outbox::with_capacity(adapter.outbox_capacity()),
            tx,
            rx,
        }
    }

    /// How many events were staged, taken off the ring one by one.
    fn drain(&mut self, mut each: impl FnMut(MdEvent)) -> usize {
        self.out.drain_into(&mut self.tx);
        let mut n = 0;
        while let Ok(e) = self.rx.pop() {
            each(e);
            n += 1;
        }
        n
    }
}

fn frame(adapter: &mut CoinbaseAdapter, text: &str, s: &mut Staged) -> Vec<MdEvent> {
    adapter
        .on_frame(SourceKind::Ws, text.as_bytes(), meta(), &mut s.out)
        .expect("decodes");
    let mut events = Vec::new();
    s.drain(|e| events.push(e));
    events
}

#[test]
fn the_book_syncs_from_each_snapshot_and_goes_stale_when_crossed() {
    let mut adapter = CoinbaseAdapter::new(registry());
    let mut out = Staged::new(&adapter);
    let update = r#"{"type":"l2update","product_id":"BAND-GBP","changes":[["buy","14.70","2"]]}"#;
    // Before the first snapshot: dropped, nothing staged.
    assert!(frame(&mut adapter, update, &mut out).is_empty());
    let snapshot = r#"{"type":"snapshot","product_id":"BAND-GBP","bids":[["14.60","1"],["14.50","2"]],"asks":[["14.80","3"]]}"#;
    let events = frame(&mut adapter, snapshot, &mut out);
    assert!(matches!(events[0], MdEvent::BookReset { .. }));
    assert!(matches!(
        events.last(),
        Some(MdEvent::BookCommit { update_id: 1, .. })
    ));
    assert!(adapter.is_synced(BAND));
    let events = frame(&mut adapter, update, &mut out);
    assert!(matches!(
        events.last(),
        Some(MdEvent::BookCommit { update_id: 2, .. })
    ));
    // The book stage found commit 2 crossed: stale, updates dropped until the next snapshot.
    let request = ResyncRequest {
        instrument: BAND,
        update_id: 2,
    };
    assert!(adapter.on_resync_request(request, meta(), &mut out.out));
    let mut stale = Vec::new();
    out.drain(|e| stale.push(e));
    assert!(matches!(
        stale[..],
        [MdEvent::BookStale {
            reason: StaleReason::Crossed,
            ..
        }]
    ));
    assert!(frame(&mut adapter, update, &mut out).is_empty());
    frame(&mut adapter, snapshot, &mut out);
    // A request about a commit before that snapshot is out of date.
    assert!(!adapter.on_resync_request(request, meta(), &mut out.out));
    let k = adapter.sync_counters(BAND).copied().unwrap();
    assert_eq!(
        (k.snapshots, k.resyncs, k.applied, k.dropped, k.diffs),
        (2, 1, 1, 2, 3)
    );
    assert_eq!((k.resync_requests, k.outdated_requests), (1, 1));
    // The other product was never touched.
    assert_eq!(adapter.sync_counters(InstrumentId(1)).unwrap().messages, 0);
}

#[test]
fn no_allocation_per_frame_after_warm_up_on_the_bundled_capture() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../data/coinbase_exchange_level2_2021-04-17.cap");
    let mut frames = Vec::new();
    let mut reader = CaptureReader::open(&path).expect("the bundled capture opens");
    while let Some(record) = reader.next_record() {
        let record = record.expect("well-formed");
        if record.kind == SourceKind::Ws {
            frames.push(record.payload.to_vec());
        }
    }
    let mut registry = InstrumentRegistry::new();
    for product in [
        "BAND-GBP", "SKL-GBP", "NU-GBP", "YFI-BTC", "SKL-BTC", "CRV-EUR", "BAND-BTC", "DASH-BTC",
        "NMR-EUR", "SKL-USD",
    ] {
        registry
            .add(Venue::CoinbaseExchange, product, 8, 8, Px(1), Qty(1))
            .unwrap();
    }
    let mut adapter = CoinbaseAdapter::new(registry);
    let mut staged = Staged::new(&adapter);
    let mut run = |frames: &[Vec<u8>]| {
        let mut events = 0usize;
        for f in frames {
            adapter
                .on_frame(SourceKind::Ws, f, meta(), &mut staged.out)
                .expect("every frame of the capture decodes");
            events += staged.drain(|_| {});
        }
        events
    };
    // Warm-up: every snapshot (the largest frames) and the first updates.
    let warm = frames.len() / 4;
    run(&frames[..warm]);
    let (events, allocations) = counting::measure(|| run(&frames[warm..]));
    println!(
        "{allocations} allocations over {} frames",
        frames.len() - warm
    );
    assert!(events > 5_000, "{events} events");
    assert_eq!(allocations, 0);
}
