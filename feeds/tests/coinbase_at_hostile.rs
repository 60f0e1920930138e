//! Hostile Coinbase Advanced Trade input through the public API: malformed and mistyped
//! frames, huge level counts, absurd sequence numbers, deep nesting, every truncation of the
//! documented messages. Each is refused with the error that names it (counted per kind by the
//! feed) or taken by the sequence rules (a gap, a duplicate, a corrupt number); nothing panics;
//! a book message that cannot be read stales every book; and a property test mutates the
//! generated capture's frames through the adapter.

#[path = "support/coinbase_at.rs"]
mod coinbase_at;
#[path = "support/mutation.rs"]
mod mutation;

use coinbase_at::{heartbeat, numbered, Driver, DOC_HEARTBEAT, DOC_L2, DOC_TICKER, DOC_TRADES};
use mutation::{mutate, mutation};
use proptest::prelude::*;
use pulse_feeds::coinbase_at::codec::{
    CoinbaseAtCodec, DecodeError, Decoded, MAX_BOOK_EVENTS, MAX_LEVELS_PER_MESSAGE,
    MAX_SEQUENCE_JUMP, MAX_TRADES_PER_MESSAGE,
};
use pulse_feeds::event::{MdEvent, StaleReason};
use pulse_feeds::num::{DecimalError, InstrumentId};
use pulse_feeds::venue::FrameVerdict;

const BTC: InstrumentId = InstrumentId(0);

fn decode(frame: &str) -> Result<Decoded, DecodeError> {
    CoinbaseAtCodec::new().decode(&coinbase_at::registry(), frame.as_bytes())
}

/// An `l2_data` message numbered 1 with `events` as its events.
fn events(events: &str) -> String {
    format!(
        r#"{{"channel":"l2_data","client_id":"","timestamp":"","sequence_num":1,"events":{events}}}"#
    )
}

/// A BTC-USD update with `updates` as its updates.
fn updates(updates: &str) -> String {
    events(&format!(
        r#"[{{"type":"update","product_id":"BTC-USD","updates":{updates}}}]"#
    ))
}

fn level(px: &str, qty: &str) -> String {
    format!(r#"[{{"side":"bid","event_time":"","price_level":"{px}","new_quantity":"{qty}"}}]"#)
}

/// `n` bid levels of distinct prices.
fn bids(n: usize) -> String {
    let levels: Vec<String> = (0..n)
        .map(|i| {
            format!(
                r#"{{"side":"bid","event_time":"","price_level":"{}.01","new_quantity":"1"}}"#,
                i + 1
            )
        })
        .collect();
    format!("[{}]", levels.join(","))
}

#[test]
fn malformed_and_mistyped_frames_are_refused_by_kind() {
    use DecodeError::*;
    let trade = |t: &str| {
        format!(
            r#"{{"channel":"market_trades","sequence_num":1,"events":[{{"type":"update","trades":[{t}]}}]}}"#
        )
    };
    let ticker = |t: &str| {
        format!(
            r#"{{"channel":"ticker","sequence_num":1,"events":[{{"type":"update","tickers":[{t}]}}]}}"#
        )
    };
    let cases: Vec<(String, DecodeError)> = vec![
        ("".into(), Json),
        ("{".into(), Json),
        ("[1,2]".into(), NotAnObject),
        ("\"l2_data\"".into(), NotAnObject),
        ("{}".into(), MissingField("type")),
        (r#"{"type":"subscriptions"}"#.into(), UnknownEvent),
        (
            r#"{"channel":7,"sequence_num":1,"events":[]}"#.into(),
            WrongType("channel"),
        ),
        (
            r#"{"channel":"l2_data","events":[]}"#.into(),
            MissingField("sequence_num"),
        ),
        (
            r#"{"channel":"l2_data","sequence_num":"1","events":[]}"#.into(),
            WrongType("sequence_num"),
        ),
        (
            r#"{"channel":"l2_data","sequence_num":-1,"events":[]}"#.into(),
            WrongType("sequence_num"),
        ),
        (
            r#"{"channel":"l2_data","sequence_num":1.5,"events":[]}"#.into(),
            WrongType("sequence_num"),
        ),
        (
            r#"{"channel":"l2_data","sequence_num":1e30,"events":[]}"#.into(),
            WrongType("sequence_num"),
        ),
        // Beyond any number simd-json reads: not JSON to it.
        (
            r#"{"channel":"l2_data","sequence_num":99999999999999999999999,"events":[]}"#.into(),
            Json,
        ),
        (
            r#"{"channel":"l2_data","sequence_num":1}"#.into(),
            MissingField("events"),
        ),
        (events("{}"), WrongType("events")),
        (events("[7]"), WrongType("events")),
        (
            events(r#"[{"type":"update","updates":[]}]"#),
            MissingField("product_id"),
        ),
        (
            events(r#"[{"type":"update","product_id":5,"updates":[]}]"#),
            WrongType("product_id"),
        ),
        (
            events(r#"[{"type":"merge","product_id":"BTC-USD","updates":[]}]"#),
            WrongType("type"),
        ),
        (
            events(r#"[{"product_id":"BTC-USD","updates":[]}]"#),
            MissingField("type"),
        ),
        (
            events(r#"[{"type":"update","product_id":"BTC-USD"}]"#),
            MissingField("updates"),
        ),
        (
            events(r#"[{"type":"update","product_id":"BTC-USD","updates":{}}]"#),
            WrongType("updates"),
        ),
        (
            events(r#"[{"type":"update","product_id":"DOGE-USD","updates":[]}]"#),
            UnknownSymbol,
        ),
        (updates("[1]"), WrongType("updates")),
        (
            updates(r#"[{"side":"buy","price_level":"1","new_quantity":"1"}]"#),
            WrongType("side"),
        ),
        (
            updates(r#"[{"side":"bid","new_quantity":"1"}]"#),
            MissingField("price_level"),
        ),
        (
            updates(r#"[{"side":"bid","price_level":1,"new_quantity":"1"}]"#),
            WrongType("price_level"),
        ),
        (updates(&level("0", "1")), WrongType("price_level")),
        (updates(&level("-5", "1")), WrongType("price_level")),
        (updates(&level("5", "-1")), WrongType("new_quantity")),
        (
            updates(&level("1.001", "1")),
            Decimal("price_level", DecimalError::TooPrecise),
        ),
        (
            updates(&level("1e999", "1")),
            Decimal("price_level", DecimalError::Overflow),
        ),
        (
            updates(&level("99999999999999999999", "1")),
            Decimal("price_level", DecimalError::Overflow),
        ),
        (
            updates(&level("1", "abc")),
            Decimal("new_quantity", DecimalError::Syntax),
        ),
        (
            trade(r#"{"trade_id":"1","product_id":"ETH-USD","price":"1","size":"1","side":"UP"}"#),
            WrongType("side"),
        ),
        (
            trade(r#"{"trade_id":"x","product_id":"ETH-USD","price":"1","size":"1","side":"BUY"}"#),
            WrongType("trade_id"),
        ),
        (
            trade(r#"{"trade_id":"1","product_id":"ETH-USD","price":"0","size":"1","side":"BUY"}"#),
            WrongType("price"),
        ),
        (
            trade(r#"{"trade_id":"1","product_id":"ETH-USD","size":"1","side":"BUY"}"#),
            MissingField("price"),
        ),
        (
            trade(
                r#"{"trade_id":"1","product_id":"DOGE-USD","price":"1","size":"1","side":"BUY"}"#,
            ),
            UnknownSymbol,
        ),
        (trade("7"), WrongType("product_id")),
        (
            ticker(
                r#"{"product_id":"BTC-USD","best_bid":1,"best_bid_quantity":"1","best_ask":"2","best_ask_quantity":"1"}"#,
            ),
            WrongType("best_bid"),
        ),
        (
            ticker(
                r#"{"product_id":"BTC-USD","best_bid":"1","best_bid_quantity":"x","best_ask":"2","best_ask_quantity":"1"}"#,
            ),
            Decimal("best_bid_quantity", DecimalError::Syntax),
        ),
        (
            r#"{"channel":"ticker","sequence_num":1,"events":[{"tickers":"x"}]}"#.into(),
            WrongType("tickers"),
        ),
    ];
    for (frame, expected) in cases {
        assert_eq!(decode(&frame), Err(expected), "{frame}");
    }
    // A ticker with an empty side says nothing to hold the book to: no event, no error.
    let empty = ticker(
        r#"{"product_id":"BTC-USD","best_bid":"","best_bid_quantity":"","best_ask":"2","best_ask_quantity":"1"}"#,
    );
    assert!(decode(&empty).is_ok());
}

#[test]
fn huge_counts_and_deep_nesting_are_refused() {
    let at_limit = updates(&bids(MAX_LEVELS_PER_MESSAGE));
    assert!(decode(&at_limit).is_ok());
    let over = updates(&bids(MAX_LEVELS_PER_MESSAGE + 1));
    assert_eq!(decode(&over), Err(DecodeError::TooManyLevels));
    let event = r#"{"type":"update","product_id":"SOL-USD","updates":[]}"#;
    let many = |n| format!("[{}]", vec![event; n].join(","));
    assert!(decode(&events(&many(MAX_BOOK_EVENTS))).is_ok());
    assert_eq!(
        decode(&events(&many(MAX_BOOK_EVENTS + 1))),
        Err(DecodeError::TooManyLevels)
    );
    let trade = r#"{"trade_id":"1","product_id":"ETH-USD","price":"1","size":"1","side":"BUY"}"#;
    let trades = format!(
        r#"{{"channel":"market_trades","sequence_num":1,"events":[{{"type":"update","trades":[{}]}}]}}"#,
        vec![trade; MAX_TRADES_PER_MESSAGE + 1].join(",")
    );
    assert_eq!(decode(&trades), Err(DecodeError::TooManyLevels));
    let deep = "[".repeat(100_000) + &"]".repeat(100_000);
    assert!(decode(&deep).is_err());
    let deep_events = events(&("[".repeat(10_000) + &"]".repeat(10_000)));
    assert!(decode(&deep_events).is_err());
    // More levels a side than a book holds: the book refuses the snapshot, no panic.
    let mut d = Driver::new();
    let over_side = events(&format!(
        r#"[{{"type":"snapshot","product_id":"BTC-USD","updates":{}}}]"#,
        bids(MAX_LEVELS_PER_MESSAGE / 2 + 1)
    ));
    let (verdict, events) = d.frame(&over_side);
    assert_eq!(verdict, Ok(FrameVerdict::Ok));
    assert!(events.is_empty(), "never synced: nothing published");
    assert!(!d.adapter.sync(BTC).unwrap().is_synced());
}

#[test]
fn absurd_sequence_numbers_are_refused_or_taken_as_gaps_never_panics() {
    let mut d = Driver::new();
    assert_eq!(
        d.frame(&numbered(DOC_L2, 1)).0,
        Ok(FrameVerdict::Ok),
        "synced"
    );
    // Four billion messages ahead: a corrupt number, refused; the sequence stays at 1.
    let absurd = numbered(DOC_HEARTBEAT, 2 + MAX_SEQUENCE_JUMP);
    assert_eq!(
        d.frame(&absurd).0,
        Err(DecodeError::WrongType("sequence_num"))
    );
    assert_eq!(
        d.frame(&heartbeat(u64::MAX)).0,
        Err(DecodeError::WrongType("sequence_num"))
    );
    assert_eq!(d.adapter.last_sequence(), Some(1));
    assert_eq!(d.frame(&heartbeat(2)).0, Ok(FrameVerdict::Ok));
    // A large but plausible jump is a gap: every book stale, resubscribed.
    let (verdict, events) = d.frame(&heartbeat(1_000_000));
    assert_eq!(verdict, Ok(FrameVerdict::Resubscribe));
    assert_eq!(events.len(), 1, "BTC-USD was the only synced book");
    let c = d.adapter.sequence_counters;
    assert_eq!((c.corrupt, c.gaps), (2, 1));
    // After u64::MAX on a new connection, everything but 0 is a duplicate; 0 a new connection.
    let mut d = Driver::new();
    assert_eq!(d.frame(&heartbeat(u64::MAX)).0, Ok(FrameVerdict::Ok));
    assert_eq!(d.frame(&heartbeat(5)).0, Ok(FrameVerdict::Ok));
    assert_eq!(d.frame(&heartbeat(0)).0, Ok(FrameVerdict::Ok));
    let c = d.adapter.sequence_counters;
    assert_eq!((c.duplicates, c.restarts), (1, 1));
}

#[test]
fn an_unreadable_book_message_stales_every_book() {
    let mut d = Driver::new();
    assert_eq!(d.frame(&numbered(DOC_L2, 1)).0, Ok(FrameVerdict::Ok));
    let bad = updates(&level("abc", "1")).replace(r#""sequence_num":1"#, r#""sequence_num":2"#);
    let (verdict, events) = d.frame(&bad);
    assert_eq!(
        verdict,
        Err(DecodeError::Decimal("price_level", DecimalError::Syntax))
    );
    assert!(matches!(
        events[..],
        [MdEvent::BookStale {
            reason: StaleReason::Gap,
            ..
        }]
    ));
    // The resubscription rides on the next frame that decodes.
    assert_eq!(d.frame(&heartbeat(3)).0, Ok(FrameVerdict::Resubscribe));
    assert_eq!(d.sends().len(), 6);
    // A trade or ticker that cannot be read costs no book.
    let bad_trade = numbered(DOC_TRADES, 4).replace("\"BUY\"", "\"UP\"");
    let (verdict, events) = d.frame(&bad_trade);
    assert!(verdict.is_err() && events.is_empty());
}

#[test]
fn every_truncation_of_a_documented_message_is_refused() {
    let mut d = Driver::new();
    for frame in [DOC_L2, DOC_HEARTBEAT, DOC_TICKER, DOC_TRADES] {
        for end in 0..frame.len() {
            let (verdict, events) = d.frame(&frame[..end]);
            assert!(verdict.is_err(), "{}", &frame[..end]);
            assert!(events.is_empty());
        }
    }
}

/// The generated capture's received frames, but for the two whole-book snapshots (MBs each:
/// the property test would spend its time copying them).
fn real_frames() -> &'static [String] {
    static FRAMES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    FRAMES.get_or_init(|| {
        coinbase_at::capture_text()
            .lines()
            .filter(|l| l.contains("coinbase:ws\t") && l.len() < 200_000)
            .filter_map(|l| l.split('\t').nth(2))
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
        let mut d = Driver::new();
        let capacity = d.adapter.outbox_capacity();
        for (n, pick) in picks.iter().enumerate() {
            let mut frame = pick.get(frames).clone().into_bytes();
            if n + 1 == picks.len() {
                mutate(&mut frame, &mutations);
            }
            let frame = String::from_utf8_lossy(&frame);
            let (_, events) = d.frame(&frame);
            prop_assert!(events.len() <= capacity);
            for e in events {
                if let MdEvent::BookCommit { meta, .. } = e {
                    prop_assert!(meta.instrument.0 < 3);
                }
            }
        }
    }
}
