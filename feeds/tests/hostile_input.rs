//! Hostile input through the public API: truncated, deeply nested, oversized and mistyped
//! frames, huge exponents, bytes that are not UTF-8, empty frames and malformed capture lines
//! are each refused with the error that names them, and nothing panics. A property test mutates
//! real frames from the bundled capture (byte flips, truncations, insertions) and checks that
//! every frame still accepted names the instrument the original named.

use std::io::Cursor;
use std::path::Path;
use std::sync::OnceLock;

use proptest::prelude::*;
use pulse_feeds::binance::codec::{BinanceCodec, DecodeError, Decoded, MAX_LEVELS_PER_MESSAGE};
use pulse_feeds::binance::BinanceAdapter;
use pulse_feeds::capture::{self, CaptureReader, LineError, SourceKind};
use pulse_feeds::event::EventMeta;
use pulse_feeds::instrument::{InstrumentRegistry, Venue};
use pulse_feeds::num::{DecimalError, InstrumentId, Px, Qty};
use pulse_feeds::outbox::Outbox;

const BTCUSDT: InstrumentId = InstrumentId(0);

/// Real frames from the start of the bundled capture, one of each kind.
struct Frames {
    depth: Vec<u8>,
    ticker: Vec<u8>,
    trade: Vec<u8>,
    /// The REST depth snapshot: 1,000 levels a side, about 64 KB.
    snapshot: Vec<u8>,
}

fn frames() -> &'static Frames {
    static FRAMES: OnceLock<Frames> = OnceLock::new();
    FRAMES.get_or_init(|| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../data/binance_spot_btcusdt_2024-08-08.cap.gz");
        let mut reader = CaptureReader::open(&path).expect("the bundled capture opens");
        let (mut depth, mut ticker, mut trade, mut snapshot) = (None, None, None, None);
        while depth.is_none() || ticker.is_none() || trade.is_none() || snapshot.is_none() {
            let record = reader
                .next_record()
                .expect("the capture holds every kind")
                .expect("the capture is well-formed");
            let payload = record.payload;
            let slot = match record.kind {
                SourceKind::Rest { .. } => &mut snapshot,
                _ if contains(payload, br#""e":"depthUpdate""#) => &mut depth,
                _ if contains(payload, br#""e":"trade""#) => &mut trade,
                _ if contains(payload, b"@bookTicker") => &mut ticker,
                _ => continue,
            };
            slot.get_or_insert_with(|| payload.to_vec());
        }
        Frames {
            depth: depth.unwrap_or_default(),
            ticker: ticker.unwrap_or_default(),
            trade: trade.unwrap_or_default(),
            snapshot: snapshot.unwrap_or_default(),
        }
    })
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn registry() -> InstrumentRegistry {
    let mut registry = InstrumentRegistry::new();
    registry
        .add(Venue::Binance, "BTCUSDT", 2, 8, Px(1), Qty(1))
        .expect("first instrument");
    registry
        .add(Venue::Binance, "ETHUSDT", 2, 4, Px(1), Qty(1))
        .expect("second instrument");
    registry
}

fn ws(frame: &[u8]) -> Result<Decoded, DecodeError> {
    BinanceCodec::new().decode_ws(&registry(), frame)
}

fn rest(body: &[u8]) -> Result<Decoded, DecodeError> {
    BinanceCodec::new().decode_rest_depth(&registry(), b"BTCUSDT", body)
}

/// `frame` with `from` (which must occur) replaced by `to`, once.
fn edit(frame: &[u8], from: &str, to: &str) -> Vec<u8> {
    let text = std::str::from_utf8(frame).expect("real frames are UTF-8");
    assert!(text.contains(from), "{from:?} not in the frame");
    text.replacen(from, to, 1).into_bytes()
}

/// `n` distinct levels as a JSON array, prices counting up from `base`.
fn levels_json(n: usize, base: usize) -> String {
    let levels: Vec<String> = (0..n)
        .map(|i| format!(r#"["{}.01","0.5"]"#, base + i))
        .collect();
    format!("[{}]", levels.join(","))
}

/// A spot depthUpdate with `bids` and `asks` levels.
fn depth_with_levels(bids: usize, asks: usize) -> Vec<u8> {
    format!(
        r#"{{"stream":"btcusdt@depth","data":{{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":10,"u":20,"b":{},"a":{}}}}}"#,
        levels_json(bids, 10_000),
        levels_json(asks, 60_000)
    )
    .into_bytes()
}

/// A REST depth body with `bids` and `asks` levels.
fn snapshot_with_levels(bids: usize, asks: usize) -> Vec<u8> {
    format!(
        r#"{{"lastUpdateId":20,"bids":{},"asks":{}}}"#,
        levels_json(bids, 10_000),
        levels_json(asks, 60_000)
    )
    .into_bytes()
}

#[test]
fn the_real_frames_decode() {
    let f = frames();
    assert!(matches!(
        ws(&f.depth),
        Ok(Decoded::Depth {
            instrument: BTCUSDT,
            ..
        })
    ));
    assert!(matches!(
        ws(&f.ticker),
        Ok(Decoded::Ticker {
            instrument: BTCUSDT,
            ..
        })
    ));
    assert!(matches!(
        ws(&f.trade),
        Ok(Decoded::Trade {
            instrument: BTCUSDT,
            ..
        })
    ));
    assert!(matches!(
        rest(&f.snapshot),
        Ok(Decoded::Snapshot {
            instrument: BTCUSDT,
            ..
        })
    ));
}

#[test]
fn every_truncation_of_a_ws_frame_is_invalid_json() {
    let f = frames();
    let mut codec = BinanceCodec::new();
    let registry = registry();
    for frames in [&f.depth, &f.ticker, &f.trade] {
        for len in 0..frames.len() {
            assert_eq!(
                codec.decode_ws(&registry, &frames[..len]),
                Err(DecodeError::Json),
                "prefix of {len} bytes"
            );
        }
        assert!(
            codec.decode_ws(&registry, frames).is_ok(),
            "the codec recovers"
        );
    }
}

#[test]
fn every_truncation_of_the_rest_snapshot_is_invalid_json() {
    let mut codec = BinanceCodec::new();
    let registry = registry();
    let mut refused = |body: &[u8], len: usize| {
        assert_eq!(
            codec.decode_rest_depth(&registry, b"BTCUSDT", &body[..len]),
            Err(DecodeError::Json),
            "prefix of {len} bytes"
        );
    };
    // Every prefix of the snapshot cut to 20 levels a side.
    let trimmed = trimmed_snapshot();
    (0..trimmed.len()).for_each(|len| refused(trimmed, len));
    // The real 64 KB body: every prefix near both ends, 500 between (all 64,000 of them take
    // a minute in a debug build).
    let body = &frames().snapshot;
    let (head, tail) = (2_000, body.len() - 300);
    let step = (tail - head) / 500;
    for len in (0..head)
        .chain((head..tail).step_by(step))
        .chain(tail..body.len())
    {
        refused(body, len);
    }
    assert!(codec.decode_rest_depth(&registry, b"BTCUSDT", body).is_ok());
}

/// simd-json refuses nesting deeper than its `DEFAULT_MAX_DEPTH` (1,024) while building the
/// tape, so no walk over the tape can recurse deeply.
#[test]
fn deep_nesting_is_refused_without_overflowing_the_stack() {
    let nested = |depth: usize, open: &str, inner: &str, close: &str| {
        format!("{}{inner}{}", open.repeat(depth), close.repeat(depth)).into_bytes()
    };
    assert_eq!(ws(&"[".repeat(10_000).into_bytes()), Err(DecodeError::Json));
    for depth in [1_025, 10_000, 100_000] {
        assert_eq!(ws(&nested(depth, "[", "", "]")), Err(DecodeError::Json));
        assert_eq!(rest(&nested(depth, "[", "", "]")), Err(DecodeError::Json));
        assert_eq!(
            ws(&nested(depth, r#"{"a":"#, "1", "}")),
            Err(DecodeError::Json)
        );
    }
    // Below the limit, nesting is just a wrong shape.
    assert_eq!(
        ws(&nested(1_024, "[", "", "]")),
        Err(DecodeError::NotAnObject)
    );
    assert_eq!(
        ws(&nested(1_024, r#"{"a":"#, "1", "}")),
        Err(DecodeError::UnknownEvent)
    );
    let depth = frames().depth.as_slice();
    for (nesting, expected) in [
        (1_000, DecodeError::WrongType("b")),
        (10_000, DecodeError::Json),
    ] {
        let deep = String::from_utf8(nested(nesting, "[", "", "]")).unwrap_or_default();
        let frame = edit(depth, r#""b":["#, &format!(r#""b":[{deep},"#));
        assert_eq!(ws(&frame), Err(expected), "{nesting} deep in the levels");
        let frame = edit(depth, r#""E":"#, &format!(r#""x":{deep},"E":"#));
        let decoded = ws(&frame);
        match nesting {
            1_000 => assert!(matches!(decoded, Ok(Decoded::Depth { .. })), "{decoded:?}"),
            _ => assert_eq!(decoded, Err(DecodeError::Json)),
        }
    }
}

#[test]
fn more_levels_than_allowed_are_refused() {
    let max = MAX_LEVELS_PER_MESSAGE;
    assert!(matches!(
        ws(&depth_with_levels(max / 2, max / 2)),
        Ok(Decoded::Depth { .. })
    ));
    assert_eq!(
        ws(&depth_with_levels(max / 2, max / 2 + 1)),
        Err(DecodeError::TooManyLevels)
    );
    assert_eq!(
        ws(&depth_with_levels(max + 1, 0)),
        Err(DecodeError::TooManyLevels)
    );
    assert_eq!(
        ws(&depth_with_levels(0, 3 * max)),
        Err(DecodeError::TooManyLevels)
    );
    assert!(matches!(
        rest(&snapshot_with_levels(max, 0)),
        Ok(Decoded::Snapshot { .. })
    ));
    assert_eq!(
        rest(&snapshot_with_levels(max, 1)),
        Err(DecodeError::TooManyLevels)
    );

    // Through the adapter: refused, nothing staged, and the next frame decodes.
    let mut adapter = BinanceAdapter::new(registry());
    let mut outbox = Outbox::with_capacity(BinanceAdapter::outbox_capacity());
    let meta = EventMeta::default();
    let oversized = depth_with_levels(max, 1);
    assert_eq!(
        adapter.on_message(SourceKind::Ws, &oversized, meta, &mut outbox),
        Err(DecodeError::TooManyLevels)
    );
    assert_eq!(outbox.remaining(), BinanceAdapter::outbox_capacity());
    let ticker = &frames().ticker;
    assert_eq!(
        adapter.on_message(SourceKind::Ws, ticker, meta, &mut outbox),
        Ok(())
    );
    assert_eq!(outbox.remaining(), BinanceAdapter::outbox_capacity() - 1);
}

#[test]
fn numbers_where_strings_are_expected_and_strings_where_numbers_are() {
    let f = frames();
    let cases: [(&[u8], &str, &str, &'static str); 14] = [
        (&f.depth, r#""b":[[""#, r#""b":[[61737.63,""#, "b"),
        (&f.depth, r#"","0.00000000"]"#, r#"",0]"#, "b"),
        (&f.depth, r#""s":"BTCUSDT""#, r#""s":1"#, "s"),
        (&f.depth, r#""U":50093239189"#, r#""U":"50093239189""#, "U"),
        (&f.depth, r#""u":50093239202"#, r#""u":-50093239202"#, "u"),
        (&f.depth, r#""u":50093239202"#, r#""u":50093239202.5"#, "u"),
        (&f.depth, r#""b":["#, r#""b":{"x":1},"c":["#, "b"),
        (&f.ticker, r#""b":"61837.63000000""#, r#""b":61837.63"#, "b"),
        (&f.ticker, r#""A":"1.54698000""#, r#""A":null"#, "A"),
        (&f.ticker, r#""u":50093239212"#, r#""u":"50093239212""#, "u"),
        (&f.trade, r#""m":true"#, r#""m":"true""#, "m"),
        (&f.trade, r#""t":3735683259"#, r#""t":"3735683259""#, "t"),
        (&f.trade, r#""p":"61837.63000000""#, r#""p":61837.63"#, "p"),
        (
            &f.snapshot,
            r#""lastUpdateId":50093239218"#,
            r#""lastUpdateId":"50093239218""#,
            "lastUpdateId",
        ),
    ];
    for (frame, from, to, field) in cases {
        let edited = edit(frame, from, to);
        let decoded = if frame == f.snapshot.as_slice() {
            rest(&edited)
        } else {
            ws(&edited)
        };
        assert_eq!(
            decoded,
            Err(DecodeError::WrongType(field)),
            "{from} -> {to}"
        );
    }
    assert_eq!(
        ws(&edit(&f.trade, r#","m":true"#, "")),
        Err(DecodeError::MissingField("m"))
    );
    assert_eq!(ws(br#"{"e":7}"#), Err(DecodeError::UnknownEvent));
}

#[test]
fn huge_exponents_are_refused_or_exact() {
    let f = frames();
    let price = r#""p":"61837.63000000""#;
    let cases = [
        (
            r#""p":"1e99999999999999999999""#,
            Err(DecodeError::Decimal("p", DecimalError::Overflow)),
        ),
        (
            r#""p":"1e19""#,
            Err(DecodeError::Decimal("p", DecimalError::Overflow)),
        ),
        (
            r#""p":"1e-99999999999999999999""#,
            Err(DecodeError::Decimal("p", DecimalError::TooPrecise)),
        ),
        (r#""p":"0e99999999999999999999""#, Ok(0)),
        (r#""p":"6.183763e4""#, Ok(6_183_763)),
        (
            r#""p":"1e""#,
            Err(DecodeError::Decimal("p", DecimalError::Syntax)),
        ),
    ];
    for (to, expected) in cases {
        let decoded = ws(&edit(&f.trade, price, to)).map(|d| match d {
            Decoded::Trade { px, .. } => px.0,
            other => panic!("a trade decoded as {other:?}"),
        });
        assert_eq!(decoded, expected, "{to}");
    }
    // JSON numbers where an id is expected: simd-json refuses numbers it cannot represent, and
    // one that is representable but not an unsigned integer is of the wrong type.
    let id_cases = [
        ("1e999", DecodeError::Json),
        ("-1e999", DecodeError::Json),
        ("18446744073709551616", DecodeError::Json),
        ("1e19", DecodeError::WrongType("t")),
        ("-1", DecodeError::WrongType("t")),
    ];
    for (id, expected) in id_cases {
        let frame = edit(&f.trade, r#""t":3735683259"#, &format!(r#""t":{id}"#));
        assert_eq!(ws(&frame), Err(expected), "{id}");
    }
    assert!(matches!(
        ws(&edit(
            &f.trade,
            r#""t":3735683259"#,
            r#""t":18446744073709551615"#
        )),
        Ok(Decoded::Trade {
            trade_id: u64::MAX,
            ..
        })
    ));
}

#[test]
fn bytes_that_are_not_utf8_are_invalid_json() {
    let f = frames();
    for frame in [&f.depth, &f.ticker, &f.trade] {
        let mut bad = frame.clone();
        let at = bad
            .windows(7)
            .position(|w| w == b"BTCUSDT")
            .expect("a symbol")
            + 3;
        bad[at] = 0xff;
        assert_eq!(ws(&bad), Err(DecodeError::Json));
        bad[at] = 0xc3; // the lead byte of a two-byte sequence, then ASCII
        assert_eq!(ws(&bad), Err(DecodeError::Json));
    }
    assert_eq!(ws(b"\xff\xfe{}"), Err(DecodeError::Json));
    assert_eq!(ws(&[0x80; 300]), Err(DecodeError::Json));
    let control = edit(&f.ticker, "BTCUSDT", "BTC\u{0}USDT");
    assert_eq!(
        ws(&control),
        Err(DecodeError::Json),
        "a raw NUL in a string"
    );
}

#[test]
fn empty_and_degenerate_frames() {
    for frame in [
        &b""[..],
        b" ",
        b"\n",
        b"\0",
        b"{",
        b"}",
        b"\"",
        b"{\"e\":}",
        b"nul",
    ] {
        assert_eq!(ws(frame), Err(DecodeError::Json), "{frame:?}");
        assert_eq!(rest(frame), Err(DecodeError::Json), "{frame:?}");
    }
    for frame in [&b"[]"[..], b"null", b"1", b"\"depthUpdate\"", b"true"] {
        assert_eq!(ws(frame), Err(DecodeError::NotAnObject), "{frame:?}");
        assert_eq!(rest(frame), Err(DecodeError::NotAnObject), "{frame:?}");
    }
    assert_eq!(ws(b"{}"), Err(DecodeError::UnknownEvent));
    assert_eq!(
        ws(br#"{"stream":"x","data":[]}"#),
        Err(DecodeError::NotAnObject)
    );
    assert_eq!(rest(b"{}"), Err(DecodeError::MissingField("lastUpdateId")));
    assert_eq!(
        BinanceCodec::new().decode_rest_depth(&registry(), b"", &frames().snapshot),
        Err(DecodeError::UnknownSymbol)
    );
}

#[test]
fn malformed_capture_lines_are_classified() {
    let cases: [(&[u8], LineError); 9] = [
        (b"", LineError::FieldCount),
        (b"\xff\xfe", LineError::FieldCount),
        (b"1\tbinance:ws", LineError::FieldCount),
        (b"\t\t", LineError::Timestamp),
        (
            b"18446744073709551616\tbinance:ws\t{}",
            LineError::Timestamp,
        ),
        (b"1\xff\tbinance:ws\t{}", LineError::Timestamp),
        (b"1\t:ws\t{}", LineError::Source),
        (b"1\tbinance:wss\t{}", LineError::Source),
        (b"1\tbinance:rest:\t{}", LineError::Source),
    ];
    for (line, expected) in cases {
        assert_eq!(capture::parse_line(line), Err(expected), "{line:?}");
    }
    // The payload is bytes: not UTF-8 is the codec's business, not the reader's.
    let record = capture::parse_line(b"1\tbinance:ws\t\xff\t\xfe").expect("three fields");
    assert_eq!(record.payload, b"\xff\t\xfe");

    let mut text = b"1\tbinance:ws\t{}\n\xff\n".to_vec();
    text.extend(std::iter::repeat_n(b'\xff', capture::MAX_LINE_BYTES + 1));
    text.extend_from_slice(b"\n\n2\tbinance:ws\t{}");
    let mut reader = CaptureReader::from_reader(Box::new(Cursor::new(text)));
    let mut seen = Vec::new();
    while let Some(next) = reader.next_record() {
        seen.push(next.map(|r| r.recv_ts.0).map_err(|e| e.ok()));
    }
    assert_eq!(
        seen,
        [
            Ok(1),
            Err(Some(LineError::FieldCount)),
            Err(Some(LineError::TooLong)),
            Err(Some(LineError::FieldCount)),
            Ok(2)
        ]
    );
}

#[derive(Clone, Debug)]
enum Mutation {
    Flip { at: usize, bit: u8 },
    Truncate { to: usize },
    Insert { at: usize, byte: u8 },
    Delete { at: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<usize>(), 0u8..8).prop_map(|(at, bit)| Mutation::Flip { at, bit }),
        1 => any::<usize>().prop_map(|to| Mutation::Truncate { to }),
        2 => (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Insert { at, byte }),
        2 => any::<usize>().prop_map(|at| Mutation::Delete { at }),
    ]
}

fn mutate(frame: &[u8], mutations: &[Mutation]) -> Vec<u8> {
    let mut out = frame.to_vec();
    for m in mutations {
        match *m {
            Mutation::Flip { at, bit } if !out.is_empty() => {
                let at = at % out.len();
                out[at] ^= 1 << bit;
            }
            Mutation::Truncate { to } => out.truncate(to % (out.len() + 1)),
            Mutation::Insert { at, byte } => out.insert(at % (out.len() + 1), byte),
            Mutation::Delete { at } if !out.is_empty() => {
                let at = at % out.len();
                out.remove(at);
            }
            _ => {}
        }
    }
    out
}

fn instrument_of(decoded: Decoded) -> Option<InstrumentId> {
    match decoded {
        Decoded::Depth { instrument, .. }
        | Decoded::Snapshot { instrument, .. }
        | Decoded::Trade { instrument, .. }
        | Decoded::Ticker { instrument, .. } => Some(instrument),
        Decoded::Control => None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1_000, ..ProptestConfig::default() })]

    #[test]
    fn mutated_real_frames_never_panic_and_keep_their_instrument(
        which in 0usize..3,
        mutations in proptest::collection::vec(mutation(), 0..8),
    ) {
        let f = frames();
        let original = [&f.depth, &f.ticker, &f.trade][which];
        let frame = mutate(original, &mutations);
        let mut codec = BinanceCodec::new();
        let registry = registry();
        let decoded = codec.decode_ws(&registry, &frame);
        if mutations.is_empty() {
            prop_assert!(decoded.is_ok());
        }
        if let Ok(decoded) = decoded {
            prop_assert!(codec.levels().len() <= MAX_LEVELS_PER_MESSAGE);
            if contains(&frame, br#""s":"BTCUSDT""#) {
                prop_assert_eq!(instrument_of(decoded), Some(BTCUSDT), "{:?}", decoded);
            }
        }
        // The same bytes as a REST body: refused or a snapshot of the requested symbol.
        if let Ok(decoded) = codec.decode_rest_depth(&registry, b"BTCUSDT", &frame) {
            prop_assert!(
                matches!(decoded, Decoded::Snapshot { instrument: BTCUSDT, .. }),
                "{:?}",
                decoded
            );
        }
    }

    #[test]
    fn mutated_snapshots_never_panic(
        mutations in proptest::collection::vec(mutation(), 0..8),
    ) {
        // A 20-level snapshot: the full one makes each case cost milliseconds in debug.
        let body = trimmed_snapshot();
        let frame = mutate(body, &mutations);
        if let Ok(decoded) = rest(&frame) {
            prop_assert!(
                matches!(decoded, Decoded::Snapshot { instrument: BTCUSDT, .. }),
                "{:?}",
                decoded
            );
        }
        let _ = ws(&frame);
    }
}

/// The real snapshot cut to its first 20 levels a side.
fn trimmed_snapshot() -> &'static [u8] {
    static TRIMMED: OnceLock<Vec<u8>> = OnceLock::new();
    TRIMMED.get_or_init(|| {
        let text = std::str::from_utf8(&frames().snapshot).expect("UTF-8");
        let head = |side: &str| {
            let start = text.find(&format!(r#""{side}":[["#)).expect("a side") + side.len() + 5;
            let levels: Vec<&str> = text[start..].split("],[").take(20).collect();
            let mut levels = levels.join("],[");
            levels.truncate(levels.find("]]").unwrap_or(levels.len()));
            format!(r#""{side}":[[{levels}]]"#)
        };
        let id_end = text.find(',').expect("fields");
        format!("{},{},{}}}", &text[..id_end], head("bids"), head("asks")).into_bytes()
    })
}

#[test]
fn the_trimmed_snapshot_is_a_snapshot() {
    let mut codec = BinanceCodec::new();
    let decoded = codec.decode_rest_depth(&registry(), b"BTCUSDT", trimmed_snapshot());
    assert!(matches!(
        decoded,
        Ok(Decoded::Snapshot {
            instrument: BTCUSDT,
            ..
        })
    ));
    assert_eq!(codec.levels().len(), 40);
}
