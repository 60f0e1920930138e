//! Hostile OKX input through the public API: malformed and mistyped frames, huge level counts,
//! absurd numbers and sequence ids, deep nesting. Each is refused with the error that names it
//! (counted per kind by the feed), nothing panics, and a property test mutates the capture's real
//! frames through the adapter and its sync rules.

#[path = "support/mutation.rs"]
mod mutation;
#[path = "support/okx.rs"]
mod okx;

use mutation::{mutate, mutation};
use proptest::prelude::*;
use pulse_feeds::capture::SourceKind;
use pulse_feeds::event::{EventMeta, MdEvent};
use pulse_feeds::num::{DecimalError, InstrumentId};
use pulse_feeds::okx::codec::{DecodeError, Decoded, OkxCodec, MAX_LEVELS_PER_MESSAGE};
use pulse_feeds::okx::OkxAdapter;
use pulse_feeds::outbox::Outbox;

fn decode(frame: &str) -> Result<Decoded, DecodeError> {
    OkxCodec::new().decode_ws(&okx::registry(), frame.as_bytes())
}

/// A BTC-USDT `books` update with `body` as its data object.
fn books(body: &str) -> String {
    format!(
        r#"{{"arg":{{"channel":"books","instId":"BTC-USDT"}},"action":"update","data":[{body}]}}"#
    )
}

fn levels(n: usize) -> String {
    let levels: Vec<String> = (0..n)
        .map(|i| format!(r#"["{}.5","1","0","1"]"#, 20_000 + i))
        .collect();
    format!("[{}]", levels.join(","))
}

#[test]
fn malformed_and_mistyped_frames_are_refused_by_kind() {
    use DecodeError::*;
    let cases: Vec<(String, DecodeError)> = vec![
        ("{".into(), Json),
        ("".into(), Json),
        ("[1,2]".into(), NotAnObject),
        (r#"{"data":[]}"#.into(), MissingField("arg")),
        (r#"{"event":5}"#.into(), WrongType("event")),
        (
            r#"{"arg":{"channel":"books","instId":"ETH-USDT"},"data":[]}"#.into(),
            UnknownSymbol,
        ),
        (
            r#"{"arg":{"channel":"candle1m","instId":"BTC-USDT"},"data":[]}"#.into(),
            UnknownEvent,
        ),
        (
            r#"{"arg":{"channel":7,"instId":"BTC-USDT"},"data":[]}"#.into(),
            WrongType("channel"),
        ),
        (
            r#"{"arg":{"channel":"books","instId":"BTC-USDT"},"data":{}}"#.into(),
            WrongType("data"),
        ),
        (books(r#"{"asks":"x","bids":[],"ts":"1"}"#), WrongType("asks")),
        (books(r#"{"asks":[[1,2]],"bids":[],"ts":"1"}"#), WrongType("asks")),
        (books(r#"{"asks":[["1"]],"bids":[],"ts":"1"}"#), WrongType("asks")),
        (books(r#"{"asks":[],"ts":"1"}"#), MissingField("bids")),
        (
            books(r#"{"asks":[],"bids":[],"ts":"1","checksum":"5"}"#),
            WrongType("checksum"),
        ),
        (
            books(r#"{"asks":[],"bids":[],"ts":"1","checksum":4294967296}"#),
            WrongType("checksum"),
        ),
        (
            books(r#"{"asks":[],"bids":[],"ts":"1","seqId":"7"}"#),
            WrongType("seqId"),
        ),
        (books(r#"{"asks":[],"bids":[],"ts":"soon"}"#), WrongType("ts")),
        (books(r#"{"asks":[],"bids":[]}"#), MissingField("ts")),
        (
            books(r#"{"asks":[["1e999","1","0","1"]],"bids":[],"ts":"1"}"#),
            Decimal("asks", DecimalError::Overflow),
        ),
        (
            books(r#"{"asks":[["99999999999999999999","1","0","1"]],"bids":[],"ts":"1"}"#),
            Decimal("asks", DecimalError::Overflow),
        ),
        (
            books(r#"{"asks":[["1.00000000000000000000000000001","1","0","1"]],"bids":[],"ts":"1"}"#),
            Decimal("asks", DecimalError::TooPrecise),
        ),
        (
            // Exact at the scale, but longer than a wire string is kept.
            books(r#"{"asks":[["1.0000000000000000000000000000000","1","0","1"]],"bids":[],"ts":"1"}"#),
            Decimal("asks", DecimalError::Overflow),
        ),
        (
            books(r#"{"asks":[["-1","1","0","1"]],"bids":[],"ts":"1"}"#),
            WrongType("asks"),
        ),
        (
            books(r#"{"asks":[],"bids":[["1","-0.5","0","1"]],"ts":"1"}"#),
            WrongType("bids"),
        ),
        (
            books(r#"{"asks":[["abc","1","0","1"]],"bids":[],"ts":"1"}"#),
            Decimal("asks", DecimalError::Syntax),
        ),
        (
            format!(
                r#"{{"arg":{{"channel":"books","instId":"BTC-USDT"}},"action":"merge","data":[{}]}}"#,
                r#"{"asks":[],"bids":[],"ts":"1"}"#
            ),
            WrongType("action"),
        ),
        (
            format!(
                r#"{{"arg":{{"channel":"books","instId":"BTC-USDT"}},"action":"update","data":[{0},{0}]}}"#,
                r#"{"asks":[],"bids":[],"ts":"1"}"#
            ),
            WrongType("data"),
        ),
        (
            r#"{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"tradeId":"1","px":"1","sz":"1","side":"up"}]}"#.into(),
            WrongType("side"),
        ),
        (
            r#"{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"tradeId":"-1","px":"1","sz":"1","side":"buy"}]}"#.into(),
            WrongType("tradeId"),
        ),
        (
            r#"{"arg":{"channel":"tickers","instId":"BTC-USDT"},"data":[{"bidPx":"","bidSz":"1","askPx":"2","askSz":"1"}]}"#.into(),
            Decimal("bidPx", DecimalError::Syntax),
        ),
        (
            r#"{"arg":{"channel":"tickers","instId":"BTC-USDT"},"data":[]}"#.into(),
            MissingField("data"),
        ),
    ];
    for (frame, expected) in cases {
        assert_eq!(decode(&frame), Err(expected), "{frame}");
    }
    assert_eq!(decode("pong"), Ok(Decoded::Control));
    assert_eq!(
        decode(r#"{"event":"error","code":"60012","msg":"Invalid request"}"#),
        Ok(Decoded::Error)
    );
}

#[test]
fn hostile_lines_in_a_capture_are_counted_per_kind_and_skipped() {
    let frames = [
        "{".to_owned(),
        "[1]".to_owned(),
        books(r#"{"asks":"x","bids":[],"ts":"1"}"#),
        books(r#"{"asks":[["1e999","1","0","1"]],"bids":[],"ts":"1"}"#),
        books(&format!(
            r#"{{"asks":{},"bids":{},"ts":"1"}}"#,
            levels(2_000),
            levels(1)
        )),
        r#"{"arg":{"channel":"books","instId":"DOGE-USDT"},"data":[]}"#.to_owned(),
    ];
    let text: String = frames
        .iter()
        .enumerate()
        .map(|(i, f)| format!("{}\tokx:ws\t{f}\n", i + 1))
        .collect();
    let run = okx::replay(&text, &okx::registry());
    let c = &run.feed.counters;
    assert_eq!((c.lines, c.messages, c.bad_frames_total()), (6, 0, 6));
    let codes = [
        DecodeError::Json,
        DecodeError::NotAnObject,
        DecodeError::WrongType(""),
        DecodeError::Decimal("", DecimalError::Overflow),
        DecodeError::TooManyLevels,
        DecodeError::UnknownSymbol,
    ];
    for code in codes {
        assert_eq!(c.bad_frames[code.code()], 1, "{code:?}");
    }
}

#[test]
fn huge_level_counts_and_deep_nesting_are_refused() {
    let at_limit = books(&format!(
        r#"{{"asks":{},"bids":[],"ts":"1"}}"#,
        levels(MAX_LEVELS_PER_MESSAGE)
    ));
    assert!(decode(&at_limit).is_ok());
    let over = books(&format!(
        r#"{{"asks":{},"bids":{},"ts":"1"}}"#,
        levels(MAX_LEVELS_PER_MESSAGE),
        levels(1)
    ));
    assert_eq!(decode(&over), Err(DecodeError::TooManyLevels));
    let deep = "[".repeat(100_000) + &"]".repeat(100_000);
    assert!(decode(&deep).is_err());
    let deep_object = books(&format!(
        r#"{{"asks":{}{},"bids":[],"ts":"1"}}"#,
        "[".repeat(10_000),
        "]".repeat(10_000)
    ));
    assert!(decode(&deep_object).is_err());
}

#[test]
fn absurd_sequence_ids_are_gaps_or_resets_never_panics() {
    let mut adapter = OkxAdapter::new(okx::registry());
    let mut out = Outbox::with_capacity(OkxAdapter::outbox_capacity());
    let push = |action: &str, seq: i64, prev: i64| {
        format!(
            r#"{{"arg":{{"channel":"books","instId":"BTC-USDT"}},"action":"{action}","data":[{{"asks":[["2","1","0","1"]],"bids":[["1","1","0","1"]],"ts":"1","checksum":0,"seqId":{seq},"prevSeqId":{prev}}}]}}"#
        )
    };
    let frames = [
        push("snapshot", i64::MAX, -1),
        push("update", i64::MIN, i64::MAX),
        push("update", 0, i64::MIN),
        push("update", -5, -7),
        push("update", 1, 1),
    ];
    for frame in &frames {
        adapter
            .on_message(
                SourceKind::Ws,
                frame.as_bytes(),
                EventMeta::default(),
                &mut out,
            )
            .expect("well-formed");
    }
    let k = adapter.sync(InstrumentId(2)).unwrap().counters;
    // MIN after MAX is a reset (accepted), 0 after MIN continues, prev -7 breaks the chain.
    assert_eq!(
        (k.snapshots, k.applied, k.sequence_resets, k.gaps, k.dropped),
        (1, 2, 1, 1, 1)
    );
}

/// The capture's market-data frames.
fn real_frames() -> &'static [String] {
    static FRAMES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    FRAMES.get_or_init(|| {
        okx::capture_text()
            .lines()
            .filter_map(|l| l.split('\t').nth(2))
            .filter(|p| p.contains(r#""data""#))
            .map(str::to_owned)
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    #[test]
    fn mutated_real_frames_never_panic_and_stay_in_bounds(
        picks in proptest::collection::vec(any::<prop::sample::Index>(), 1..12),
        mutations in proptest::collection::vec(mutation(), 0..6),
    ) {
        let frames = real_frames();
        let mut adapter = OkxAdapter::new(okx::registry());
        let mut out = Outbox::with_capacity(OkxAdapter::outbox_capacity());
        for (n, pick) in picks.iter().enumerate() {
            let mut frame = pick.get(frames).clone().into_bytes();
            if n + 1 == picks.len() {
                mutate(&mut frame, &mutations);
            }
            let _ = adapter.on_message(SourceKind::Ws, &frame, EventMeta::default(), &mut out);
            let (mut rx_events, mut sent) = (0usize, Vec::new());
            let (mut tx, mut rx) = rtrb::RingBuffer::new(OkxAdapter::outbox_capacity());
            out.drain_into(&mut tx);
            while let Ok(e) = rx.pop() {
                rx_events += 1;
                sent.push(e);
            }
            prop_assert!(rx_events <= OkxAdapter::outbox_capacity());
            for e in sent {
                if let MdEvent::BookCommit { meta, .. } = e {
                    prop_assert!(meta.instrument.0 < 3);
                }
            }
        }
    }
}
