//! Hostile input to the Kraken adapters, both protocols: malformed frames, wrong types, deep
//! nesting, huge level counts and absurd numbers are each refused with the error that names
//! them, staged nothing, and left the books as they were; nothing panics. A property test
//! mutates real frames (the bundled v1 capture's, the generated v2 capture's) and checks that
//! the adapter survives every mutation with its books sorted and within their depth.

use std::sync::OnceLock;

use proptest::prelude::*;
use pulse_feeds::capture::SourceKind;
use pulse_feeds::decode_error::DecodeError;
use pulse_feeds::event::EventMeta;
use pulse_feeds::instrument::{InstrumentRegistry, Venue};
use pulse_feeds::kraken::frame::MAX_LEVELS_PER_MESSAGE;
use pulse_feeds::kraken::{KrakenAdapter, KrakenProtocol};
use pulse_feeds::num::{DecimalError, InstrumentId, Px, Qty};
use pulse_feeds::outbox::Outbox;
use pulse_feeds::venue::MarketAdapter;

fn registry() -> InstrumentRegistry {
    let mut registry = InstrumentRegistry::new();
    registry
        .add(Venue::Kraken, "BTC/USD", 1, 8, Px(1), Qty(1))
        .unwrap();
    registry
        .add(Venue::KrakenV1, "XBT/USD", 5, 8, Px(1), Qty(1))
        .unwrap();
    // Two pairs of the bundled v1 capture, for its real frames.
    registry
        .add(Venue::KrakenV1, "WAVES/EUR", 6, 8, Px(1), Qty(1))
        .unwrap();
    registry
        .add(Venue::KrakenV1, "XMR/USD", 8, 8, Px(1), Qty(1))
        .unwrap();
    registry
}

struct Harness {
    adapter: KrakenAdapter,
    out: Outbox,
}

impl Harness {
    fn new(protocol: KrakenProtocol) -> Harness {
        let adapter = KrakenAdapter::new(protocol, registry());
        let out = Outbox::with_capacity(adapter.outbox_capacity());
        Harness { adapter, out }
    }

    /// The frame's result, and how many events it staged.
    fn frame(&mut self, frame: &[u8]) -> (Result<(), DecodeError>, usize) {
        let r = self
            .adapter
            .on_frame(SourceKind::Ws, frame, EventMeta::default(), &mut self.out);
        let mut staged = 0;
        self.out.discard_pending(|_| false, |_| staged += 1);
        (r.map(drop), staged)
    }

    fn refused(&mut self, frame: &[u8]) -> DecodeError {
        match self.frame(frame) {
            (Err(e), 0) => e,
            other => panic!("{:?} accepted: {other:?}", String::from_utf8_lossy(frame)),
        }
    }
}

const V2_SNAPSHOT: &str = r#"{"channel":"book","type":"snapshot","data":[{"symbol":"BTC/USD","bids":[{"price":100.0,"qty":1.5}],"asks":[{"price":100.5,"qty":2}],"checksum":1}]}"#;

#[test]
fn malformed_and_mistyped_v2_frames_are_refused_by_name() {
    let mut h = Harness::new(KrakenProtocol::V2);
    let deep = "[".repeat(10_000);
    let cases: Vec<(Vec<u8>, DecodeError)> = vec![
        (b"".to_vec(), DecodeError::NotAnObject),
        (b"[1,2]".to_vec(), DecodeError::NotAnObject),
        (b"{".to_vec(), DecodeError::Json),
        (b"{\"channel\":\"book\"".to_vec(), DecodeError::Json),
        (b"{\"channel\":\"book\"} trailing".to_vec(), DecodeError::Json),
        (format!(r#"{{"channel":"book","data":{deep}}}"#).into_bytes(), DecodeError::Json),
        (b"{\"channel\":\"\xff\xfe\"}".to_vec(), DecodeError::UnknownEvent),
        (br#"{"data":[]}"#.to_vec(), DecodeError::MissingField("channel")),
        (br#"{"channel":"book","data":[]}"#.to_vec(), DecodeError::MissingField("type")),
        (br#"{"channel":"book","type":"delta","data":[]}"#.to_vec(), DecodeError::WrongType("type")),
        (br#"{"channel":"book","type":"update"}"#.to_vec(), DecodeError::MissingField("data")),
        (br#"{"channel":"book","type":"update","data":{}}"#.to_vec(), DecodeError::WrongType("data")),
        (br#"{"channel":"book","type":"update","data":[{"bids":[]}]}"#.to_vec(), DecodeError::MissingField("symbol")),
        (br#"{"channel":"book","type":"update","data":[{"symbol":"DOGE/USD","bids":[]}]}"#.to_vec(), DecodeError::UnknownSymbol),
        (br#"{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[[1,2]]}]}"#.to_vec(), DecodeError::WrongType("level")),
        (br#"{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[{"price":{},"qty":1}]}]}"#.to_vec(), DecodeError::WrongType("price")),
        (br#"{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[{"qty":1}]}]}"#.to_vec(), DecodeError::MissingField("price")),
        (br#"{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[{"price":1e400,"qty":1}]}]}"#.to_vec(), DecodeError::Decimal("price", DecimalError::Overflow)),
        (br#"{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[{"price":100.05,"qty":1}]}]}"#.to_vec(), DecodeError::Decimal("price", DecimalError::TooPrecise)),
        (br#"{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[{"price":-100,"qty":1}]}]}"#.to_vec(), DecodeError::WrongType("price")),
        (br#"{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[{"price":0,"qty":1}]}]}"#.to_vec(), DecodeError::WrongType("price")),
        (br#"{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[{"price":100,"qty":-1}]}]}"#.to_vec(), DecodeError::WrongType("qty")),
        (br#"{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[{"price":100,"qty":1e30}]}]}"#.to_vec(), DecodeError::Decimal("qty", DecimalError::Overflow)),
        (br#"{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[],"checksum":99999999999}]}"#.to_vec(), DecodeError::WrongType("checksum")),
        (br#"{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[],"checksum":"x"}]}"#.to_vec(), DecodeError::WrongType("checksum")),
        (br#"{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[],"checksum":-1}]}"#.to_vec(), DecodeError::WrongType("checksum")),
        (br#"{"channel":"trade","type":"update","data":[{"symbol":"BTC/USD","side":"up","price":1,"qty":1,"trade_id":1}]}"#.to_vec(), DecodeError::WrongType("side")),
        (br#"{"channel":"ticker","type":"update","data":[{"symbol":"BTC/USD","bid":1,"ask":2,"ask_qty":1}]}"#.to_vec(), DecodeError::MissingField("bid_qty")),
        (br#"{"channel":"nonsense"}"#.to_vec(), DecodeError::UnknownEvent),
        (br#"{"method":"subscribe","result":{"channel":"book","depth":5000,"symbol":"BTC/USD"}}"#.to_vec(), DecodeError::WrongType("depth")),
        (br#"{"channel":"instrument","type":"snapshot","data":{"pairs":[{"symbol":"BTC/USD","price_precision":99,"qty_precision":8}]}}"#.to_vec(), DecodeError::WrongType("price_precision")),
    ];
    for (frame, want) in cases {
        assert_eq!(
            h.refused(&frame),
            want,
            "{}",
            String::from_utf8_lossy(&frame)
        );
    }
    // A well-formed book after all that syncs as usual (its checksum is wrong on purpose).
    assert_eq!(h.frame(V2_SNAPSHOT.as_bytes()).0, Ok(()));
    let k = h.adapter.sync_counters(InstrumentId(0)).unwrap();
    assert_eq!((k.checksum_mismatch, k.snapshots), (1, 0));
}

#[test]
fn malformed_and_mistyped_v1_frames_are_refused_by_name() {
    let mut h = Harness::new(KrakenProtocol::V1);
    let cases: [(&[u8], DecodeError); 12] = [
        (b"42", DecodeError::NotAnObject),
        (br#"{"event":"subscribe"}"#, DecodeError::UnknownEvent),
        (
            br#"{"status":"online"}"#,
            DecodeError::MissingField("event"),
        ),
        (
            br#"[1,{"a":[]},"book-10"]"#,
            DecodeError::MissingField("pair"),
        ),
        (
            br#"[1,{"a":[]},"trade","XBT/USD"]"#,
            DecodeError::UnknownEvent,
        ),
        (
            br#"[1,"book-10","XBT/USD"]"#,
            DecodeError::WrongType("channelName"),
        ),
        (
            br#"[1,{"a":[]},"book-0","XBT/USD"]"#,
            DecodeError::WrongType("channelName"),
        ),
        (
            br#"[1,{"a":[]},"book-99999999999999999999999","XBT/USD"]"#,
            DecodeError::WrongType("channelName"),
        ),
        (
            br#"[1,{"a":[["1.00000","1.00000000"]]},"book-10","XBT/USD"]"#,
            DecodeError::WrongType("level"),
        ),
        (
            br#"[1,{"a":[["1.00000","1.00000000","1","r","x"]]},"book-10","XBT/USD"]"#,
            DecodeError::WrongType("level"),
        ),
        (
            br#"[1,{"a":[[1,"1.00000000","1"]]},"book-10","XBT/USD"]"#,
            DecodeError::WrongType("level"),
        ),
        (
            br#"[1,{"a":[],"c":"12345678901"},"book-10","XBT/USD"]"#,
            DecodeError::WrongType("checksum"),
        ),
    ];
    for (frame, want) in cases {
        assert_eq!(h.refused(frame), want, "{}", String::from_utf8_lossy(frame));
    }
    // Control frames are counted, not refused.
    assert_eq!(h.frame(br#"{"event":"heartbeat"}"#), (Ok(()), 0));
    assert_eq!(h.adapter.control_frames(), 1);
}

#[test]
fn huge_level_counts_are_refused_before_anything_is_staged() {
    let mut h = Harness::new(KrakenProtocol::V2);
    let level = r#"{"price":100.0,"qty":1}"#;
    let many = vec![level; MAX_LEVELS_PER_MESSAGE + 1].join(",");
    let frame = format!(
        r#"{{"channel":"book","type":"snapshot","data":[{{"symbol":"BTC/USD","bids":[{many}],"asks":[]}}]}}"#
    );
    assert_eq!(h.refused(frame.as_bytes()), DecodeError::TooManyLevels);
    let entries = vec![r#"{"symbol":"BTC/USD","bids":[],"asks":[]}"#; 300].join(",");
    let frame = format!(r#"{{"channel":"book","type":"update","data":[{entries}]}}"#);
    assert_eq!(h.refused(frame.as_bytes()), DecodeError::TooManyLevels);
    let mut h = Harness::new(KrakenProtocol::V1);
    let level = r#"["1.00000","1.00000000","1"]"#;
    let many = vec![level; MAX_LEVELS_PER_MESSAGE + 1].join(",");
    let frame = format!(r#"[1,{{"as":[{many}],"bs":[]}},"book-1000","XBT/USD"]"#);
    assert_eq!(h.refused(frame.as_bytes()), DecodeError::TooManyLevels);
}

fn real_frames() -> &'static Vec<(KrakenProtocol, Vec<u8>)> {
    static FRAMES: OnceLock<Vec<(KrakenProtocol, Vec<u8>)>> = OnceLock::new();
    FRAMES.get_or_init(|| {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../data");
        let mut frames = Vec::new();
        for (file, source, protocol) in [
            (
                "kraken_v2_book_generated.cap",
                "kraken:ws",
                KrakenProtocol::V2,
            ),
            (
                "kraken_v1_book1000_2021-04-17.cap",
                "kraken-v1:ws",
                KrakenProtocol::V1,
            ),
        ] {
            let text = std::fs::read_to_string(root.join(file)).unwrap();
            for line in text.lines().take(120) {
                let mut parts = line.splitn(3, '\t');
                let (_, s, payload) = (parts.next(), parts.next(), parts.next());
                if s == Some(source) {
                    frames.push((protocol, payload.unwrap_or_default().as_bytes().to_vec()));
                }
            }
        }
        frames
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn mutated_real_frames_never_panic_and_books_stay_sorted(
        picks in proptest::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..40)
    ) {
        let frames = real_frames();
        let mut v1 = Harness::new(KrakenProtocol::V1);
        let mut v2 = Harness::new(KrakenProtocol::V2);
        for (frame, at, byte, how) in picks {
            let (protocol, frame) = &frames[frame.index(frames.len())];
            let mut f = frame.clone();
            let i = at.index(f.len().max(1));
            match how {
                0 if i < f.len() => f[i] = byte,
                1 => f.truncate(i),
                _ => f.insert(i.min(f.len()), byte),
            }
            let h = if *protocol == KrakenProtocol::V1 { &mut v1 } else { &mut v2 };
            let _ = h.frame(&f);
            for id in (0..4).map(InstrumentId) {
                if let Some(sync) = h.adapter.sync(id) {
                    prop_assert!(sync.asks().zip(sync.asks().skip(1)).all(|(a, b)| a.px < b.px));
                    prop_assert!(sync.bids().zip(sync.bids().skip(1)).all(|(a, b)| a.px > b.px));
                    prop_assert!(sync.asks().len() <= sync.depth());
                    prop_assert!(sync.bids().len() <= sync.depth());
                    prop_assert!(sync.asks().chain(sync.bids()).all(|l| l.qty.0 > 0));
                }
            }
        }
    }
}
