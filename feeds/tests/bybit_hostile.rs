//! Hostile Bybit input through the public API: malformed and mistyped frames, huge level
//! counts, absurd update ids, deep nesting, every truncation of real frames. Each is refused
//! with the error that names it (counted per kind by the feed) or taken as a gap; nothing
//! panics; and a property test mutates the generated captures' frames through the adapter.

#[path = "support/bybit.rs"]
mod bybit;
#[path = "support/mutation.rs"]
mod mutation;

use bybit::{Driver, DOC_DELTA, DOC_SNAPSHOT, DOC_TICKER, DOC_TRADE};
use mutation::{mutate, mutation};
use proptest::prelude::*;
use pulse_feeds::bybit::codec::{BybitCodec, DecodeError, Decoded, MAX_LEVELS_PER_MESSAGE};
use pulse_feeds::bybit::{BybitAdapter, BybitMarket};
use pulse_feeds::event::MdEvent;
use pulse_feeds::instrument::Venue;
use pulse_feeds::num::{DecimalError, InstrumentId};
use pulse_feeds::venue::FrameVerdict;

fn decode(frame: &str) -> Result<Decoded, DecodeError> {
    BybitCodec::new(Venue::BybitLinear).decode_ws(&bybit::registry(), frame.as_bytes())
}

/// A linear BTCUSDT `orderbook.50` delta with `data` as its data object.
fn book(data: &str) -> String {
    format!(r#"{{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1,"data":{data},"cts":1}}"#)
}

fn levels(n: usize) -> String {
    let levels: Vec<String> = (0..n)
        .map(|i| format!(r#"["{}.5","1"]"#, 20_000 + i))
        .collect();
    format!("[{}]", levels.join(","))
}

#[test]
fn malformed_and_mistyped_frames_are_refused_by_kind() {
    use DecodeError::*;
    let ok = r#""s":"BTCUSDT","u":1,"seq":1"#;
    let cases: Vec<(String, DecodeError)> = vec![
        ("{".into(), Json),
        ("".into(), Json),
        ("[1,2]".into(), NotAnObject),
        ("7".into(), NotAnObject),
        (r#"{"data":{}}"#.into(), MissingField("op")),
        (r#"{"op":"subscribe","success":"yes"}"#.into(), WrongType("success")),
        (r#"{"op":"subscribe"}"#.into(), MissingField("success")),
        (r#"{"topic":5}"#.into(), WrongType("topic")),
        (r#"{"topic":"orderbook"}"#.into(), WrongType("topic")),
        (r#"{"topic":"orderbook.BTCUSDT","data":{}}"#.into(), WrongType("topic")),
        (r#"{"topic":"orderbook.99999.BTCUSDT","data":{}}"#.into(), WrongType("topic")),
        (r#"{"topic":"kline.1.BTCUSDT","data":{}}"#.into(), UnknownEvent),
        (r#"{"topic":"orderbook.50.DOGEUSDT","data":{}}"#.into(), UnknownSymbol),
        (r#"{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1}"#.into(), MissingField("data")),
        (r#"{"topic":"orderbook.50.BTCUSDT","type":"merge","ts":1,"data":{}}"#.into(), WrongType("type")),
        (r#"{"topic":"orderbook.50.BTCUSDT","type":7,"ts":1,"data":{}}"#.into(), WrongType("type")),
        (book("[]"), WrongType("data")),
        (book(r#"{"s":"ETHUSDT","b":[],"a":[],"u":1}"#), WrongType("s")),
        (book(r#"{"s":"BTCUSDT","b":"x","a":[],"u":1}"#), WrongType("b")),
        (book(r#"{"s":"BTCUSDT","b":[[1,2]],"a":[],"u":1}"#), WrongType("b")),
        (book(r#"{"s":"BTCUSDT","b":[["1"]],"a":[],"u":1}"#), WrongType("b")),
        (book(r#"{"s":"BTCUSDT","b":[["1","1","1"]],"a":[],"u":1}"#), WrongType("b")),
        (book(r#"{"s":"BTCUSDT","b":[],"u":1}"#), MissingField("a")),
        (book(r#"{"s":"BTCUSDT","b":[],"a":[]}"#), MissingField("u")),
        (book(r#"{"s":"BTCUSDT","b":[],"a":[],"u":"7"}"#), WrongType("u")),
        (book(r#"{"s":"BTCUSDT","b":[],"a":[],"u":-1}"#), WrongType("u")),
        (book(r#"{"s":"BTCUSDT","b":[],"a":[],"u":1.5}"#), WrongType("u")),
        (book(r#"{"s":"BTCUSDT","b":[],"a":[],"u":1e30}"#), WrongType("u")),
        (book(r#"{"s":"BTCUSDT","b":[],"a":[],"u":1,"seq":"x"}"#), WrongType("seq")),
        (
            format!(r#"{{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":"1","data":{{{ok},"b":[],"a":[]}}}}"#),
            WrongType("ts"),
        ),
        (book(r#"{"s":"BTCUSDT","b":[["1e999","1"]],"a":[],"u":1}"#), Decimal("b", DecimalError::Overflow)),
        (book(r#"{"s":"BTCUSDT","b":[["99999999999999999999","1"]],"a":[],"u":1}"#), Decimal("b", DecimalError::Overflow)),
        (book(r#"{"s":"BTCUSDT","b":[["1.001","1"]],"a":[],"u":1}"#), Decimal("b", DecimalError::TooPrecise)),
        (book(r#"{"s":"BTCUSDT","b":[["abc","1"]],"a":[],"u":1}"#), Decimal("b", DecimalError::Syntax)),
        (book(r#"{"s":"BTCUSDT","b":[["-1","1"]],"a":[],"u":1}"#), WrongType("b")),
        (book(r#"{"s":"BTCUSDT","b":[],"a":[["1","-0.5"]],"u":1}"#), WrongType("b")),
        (
            r#"{"topic":"publicTrade.BTCUSDT","data":{}}"#.into(),
            WrongType("data"),
        ),
        (
            r#"{"topic":"publicTrade.BTCUSDT","data":[{"S":"Up","v":"1","p":"1","i":"1"}]}"#.into(),
            WrongType("S"),
        ),
        (
            r#"{"topic":"publicTrade.BTCUSDT","data":[{"S":"Buy","v":"1","p":"1","i":"not-an-id"}]}"#.into(),
            WrongType("i"),
        ),
        (
            r#"{"topic":"publicTrade.BTCUSDT","data":[{"S":"Buy","v":"1","i":"1"}]}"#.into(),
            MissingField("p"),
        ),
        (
            r#"{"topic":"tickers.BTCUSDT","data":{"bid1Price":5}}"#.into(),
            WrongType("bid1Price"),
        ),
        (
            r#"{"topic":"tickers.BTCUSDT","data":{"ask1Size":"x"}}"#.into(),
            Decimal("ask1Size", DecimalError::Syntax),
        ),
        (r#"{"topic":"tickers.BTCUSDT","data":[]}"#.into(), WrongType("data")),
    ];
    for (frame, expected) in cases {
        assert_eq!(decode(&frame), Err(expected), "{frame}");
    }
}

#[test]
fn hostile_lines_in_a_capture_are_counted_per_kind_and_skipped() {
    let frames = [
        "{".to_owned(),
        "[1]".to_owned(),
        book(r#"{"s":"BTCUSDT","b":"x","a":[],"u":1}"#),
        book(r#"{"s":"BTCUSDT","b":[["1e999","1"]],"a":[],"u":1}"#),
        book(&format!(
            r#"{{"s":"BTCUSDT","b":{},"a":{},"u":1}}"#,
            levels(MAX_LEVELS_PER_MESSAGE),
            levels(1)
        )),
        r#"{"topic":"orderbook.50.DOGEUSDT","data":{}}"#.to_owned(),
    ];
    let mut d = Driver::new(BybitMarket::Linear);
    let errors: Vec<usize> = frames
        .iter()
        .map(|f| d.frame(f).0.expect_err("refused").code())
        .collect();
    let codes = [
        DecodeError::Json,
        DecodeError::NotAnObject,
        DecodeError::WrongType(""),
        DecodeError::Decimal("", DecimalError::Overflow),
        DecodeError::TooManyLevels,
        DecodeError::UnknownSymbol,
    ];
    assert_eq!(errors, codes.map(DecodeError::code));
    // Nothing reached a book.
    let k = d.adapter.sync(InstrumentId(3)).unwrap().counters;
    assert_eq!(k.messages, 0);
}

#[test]
fn huge_level_counts_and_deep_nesting_are_refused() {
    let at_limit = book(&format!(
        r#"{{"s":"BTCUSDT","b":[],"a":{},"u":1}}"#,
        levels(MAX_LEVELS_PER_MESSAGE)
    ));
    assert!(decode(&at_limit).is_ok());
    let over = book(&format!(
        r#"{{"s":"BTCUSDT","b":{},"a":{},"u":1}}"#,
        levels(MAX_LEVELS_PER_MESSAGE),
        levels(1)
    ));
    assert_eq!(decode(&over), Err(DecodeError::TooManyLevels));
    let deep = "[".repeat(100_000) + &"]".repeat(100_000);
    assert!(decode(&deep).is_err());
    let deep_object = book(&format!(
        r#"{{"s":"BTCUSDT","b":{}{},"a":[],"u":1}}"#,
        "[".repeat(10_000),
        "]".repeat(10_000)
    ));
    assert!(decode(&deep_object).is_err());
    // A snapshot of more levels a side than any Bybit book: the book refuses it (stale), no panic.
    let mut d = Driver::new(BybitMarket::Linear);
    let huge = format!(
        r#"{{"topic":"orderbook.50.BTCUSDT","type":"snapshot","ts":1,"data":{{"s":"BTCUSDT","b":{},"a":[],"u":1}},"cts":1}}"#,
        levels(MAX_LEVELS_PER_MESSAGE)
    );
    let (verdict, events) = d.frame(&huge);
    assert_eq!(verdict, Ok(FrameVerdict::Ok));
    assert!(events.is_empty(), "never synced: nothing published");
    assert!(!d.adapter.sync(InstrumentId(3)).unwrap().is_synced());
}

fn push(kind: &str, u: u64) -> String {
    format!(
        r#"{{"topic":"orderbook.50.BTCUSDT","type":"{kind}","ts":1,"data":{{"s":"BTCUSDT","b":[["1","1"]],"a":[["2","1"]],"u":{u},"seq":{u}}},"cts":1}}"#
    )
}

#[test]
fn absurd_update_ids_are_gaps_never_panics() {
    let mut d = Driver::new(BybitMarket::Linear);
    let verdicts: Vec<FrameVerdict> = [
        push("snapshot", u64::MAX),
        // u64::MAX + 1 does not exist: a gap.
        push("delta", 0),
        push("snapshot", 7),
        push("delta", 7),
        push("snapshot", 9),
        push("delta", 10),
    ]
    .iter()
    .map(|f| d.frame(f).0.expect("well-formed"))
    .collect();
    use FrameVerdict::{Ok, Resubscribe};
    assert_eq!(verdicts, [Ok, Resubscribe, Ok, Resubscribe, Ok, Ok]);
    let k = d.adapter.sync(InstrumentId(3)).unwrap().counters;
    assert_eq!(
        (k.snapshots, k.applied, k.gaps, k.resyncs, k.last_update_id),
        (3, 1, 2, 2, 10)
    );
    // A resubscription is asked for once per stale episode.
    let mut sent = Vec::new();
    d.frame(&push("delta", 99)).0.expect("well-formed");
    assert_eq!(
        pulse_feeds::venue::MarketAdapter::take_sends(&mut d.adapter, &mut |f| {
            sent.push(f.to_owned());
            true
        }),
        1
    );
    assert_eq!(
        sent,
        [
            r#"{"op":"unsubscribe","args":["orderbook.50.BTCUSDT"]}"#,
            r#"{"op":"subscribe","args":["orderbook.50.BTCUSDT"]}"#
        ]
    );
}

#[test]
fn every_truncation_of_a_documented_frame_is_refused() {
    let mut d = Driver::new(BybitMarket::Linear);
    for frame in [DOC_SNAPSHOT, DOC_DELTA, DOC_TRADE, DOC_TICKER] {
        for end in 0..frame.len() {
            let (verdict, events) = d.frame(&frame[..end]);
            assert!(verdict.is_err(), "{}", &frame[..end]);
            assert!(events.is_empty());
        }
    }
}

/// The generated captures' market-data frames, of both markets.
fn real_frames() -> &'static [(BybitMarket, String)] {
    static FRAMES: std::sync::OnceLock<Vec<(BybitMarket, String)>> = std::sync::OnceLock::new();
    FRAMES.get_or_init(|| {
        [BybitMarket::Spot, BybitMarket::Linear]
            .into_iter()
            .flat_map(|m| {
                bybit::capture_text(m)
                    .lines()
                    .filter(|l| l.contains(":ws\t"))
                    .filter_map(|l| l.split('\t').nth(2))
                    .map(|p| (m, p.to_owned()))
                    .collect::<Vec<_>>()
            })
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
        let mut drivers = [Driver::new(BybitMarket::Spot), Driver::new(BybitMarket::Linear)];
        for (n, pick) in picks.iter().enumerate() {
            let (market, frame) = pick.get(frames);
            let mut frame = frame.clone().into_bytes();
            if n + 1 == picks.len() {
                mutate(&mut frame, &mutations);
            }
            let d = &mut drivers[usize::from(*market == BybitMarket::Linear)];
            let frame = String::from_utf8_lossy(&frame);
            let (_, events) = d.frame(&frame);
            prop_assert!(events.len() <= BybitAdapter::outbox_capacity());
            for e in events {
                if let MdEvent::BookCommit { meta, .. } = e {
                    prop_assert!(meta.instrument.0 < 6);
                }
            }
        }
    }
}
