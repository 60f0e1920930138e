//! The Coinbase Advanced Trade scanner (the fast path for book and ticker messages in the
//! venue's layout) against the tape path: on every received frame of the generated capture, on
//! frames just off the layout, and on mutated frames, `decode` (scanner first) and
//! `decode_tape` give the same answer, the same levels and tickers; and the scanner claims every
//! book and ticker message the capture holds.

#[path = "support/coinbase_at.rs"]
mod coinbase_at;
#[path = "support/mutation.rs"]
mod mutation;

use coinbase_at::{l2, DOC_L2, DOC_TICKER};
use mutation::{mutate, mutation};
use proptest::prelude::*;
use pulse_feeds::coinbase_at::codec::CoinbaseAtCodec;
use pulse_feeds::instrument::InstrumentRegistry;

/// Both paths' answers to `frame`, with what each decoded.
fn both(registry: &InstrumentRegistry, fast: &mut CoinbaseAtCodec, frame: &[u8]) -> [String; 2] {
    let mut tape = CoinbaseAtCodec::new();
    let a = fast.decode(registry, frame);
    let a = format!(
        "{a:?} {:?} {:?} {:?} {:?}",
        fast.header(),
        fast.books(),
        fast.levels(),
        fast.tickers()
    );
    let b = tape.decode_tape(registry, frame);
    let b = format!(
        "{b:?} {:?} {:?} {:?} {:?}",
        tape.header(),
        tape.books(),
        tape.levels(),
        tape.tickers()
    );
    [a, b]
}

fn received() -> Vec<String> {
    coinbase_at::capture_text()
        .lines()
        .filter(|l| l.contains("\tcoinbase:ws\t"))
        .filter_map(|l| l.split('\t').nth(2))
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_scanner_agrees_with_the_tape_on_every_captured_frame() {
    let registry = coinbase_at::registry();
    let mut fast = CoinbaseAtCodec::new();
    let frames = received();
    for frame in &frames {
        let [a, b] = both(&registry, &mut fast, frame.as_bytes());
        assert!(a == b, "{}", &frame[..frame.len().min(300)]);
    }
    let books = frames.iter().filter(|f| f.contains("l2_data")).count();
    let tickers = frames
        .iter()
        .filter(|f| f.starts_with(r#"{"channel":"ticker""#))
        .count();
    assert_eq!(
        fast.scanned,
        (books + tickers) as u64,
        "every book and ticker message scanned"
    );
    assert_eq!((books, tickers), (164, 41));
}

#[test]
fn frames_off_the_layout_go_to_the_tape_with_the_same_answer() {
    let registry = coinbase_at::registry();
    let update = l2(7, "update", "ETH-USD", &[("bid", "1260.01", "0.5")]);
    let cases = [
        DOC_L2.to_owned(),
        update.clone(),
        update.replace(r#""channel":"l2_data","#, r#""channel": "l2_data","#),
        update.replace(
            r#""client_id":"","timestamp""#,
            r#""timestamp":"x","client_id":"","timestamp""#,
        ),
        update.replace("1260.01", "1260.011"),
        update.replace("1260.01", "-1260.01"),
        update.replace("0.5", "0"),
        update.replace("0.5", "-0.5"),
        update.replace("ETH-USD", "DOGE-USD"),
        update.replace("ETH-USD", r"ETH\u002dUSD"),
        update.replace(r#""sequence_num":7"#, r#""sequence_num":07"#),
        update.replace(r#""sequence_num":7"#, r#""sequence_num":7.0"#),
        update.replace(
            r#""sequence_num":7"#,
            r#""sequence_num":18446744073709551615"#,
        ),
        update.replace(
            r#""sequence_num":7"#,
            r#""sequence_num":18446744073709551616"#,
        ),
        update.replace(r#""side":"bid""#, r#""side":"ask""#),
        update.replace(r#""type":"update""#, r#""type":"merge""#),
        update.replace(r#""updates":[{"#, r#""updates":[],"x":[{"#),
        update.clone() + " ",
        update.clone() + "}",
        update.replace("]}]}", "]}]"),
        l2(8, "snapshot", "SOL-USD", &[]),
        update.replace(r#""events":[{"#, r#""events":[],"e":[{"#),
        // The production feed sends no client_id (Coinbase's AsyncAPI description).
        update.replace(r#""client_id":"","#, ""),
    ];
    let mut fast = CoinbaseAtCodec::new();
    for frame in &cases {
        let [a, b] = both(&registry, &mut fast, frame.as_bytes());
        assert_eq!(a, b, "{frame}");
    }
    // The first two, the zero quantity, the largest u64, the empty snapshot and the one with
    // no client_id are the venue's layouts.
    assert_eq!(fast.scanned, 6);
    let ticker = DOC_TICKER.to_owned();
    let cases = [
        ticker.clone(),
        ticker.replace(r#""channel":"ticker""#, r#""channel":"ticker_batch""#),
        ticker.replace(r#""best_bid":"21931.98""#, r#""best_bid":"""#),
        ticker.replace(r#""best_bid":"21931.98","#, ""),
        ticker.replace(r#""best_bid":"21931.98""#, r#""best_bid":21931.98"#),
        ticker.replace(r#""best_ask":"21933.98""#, r#""best_ask":"21933.985""#),
        ticker.replace(r#""best_ask":"21933.98""#, r#""best_ask":"abc""#),
        ticker.replace(
            r#""best_bid":"21931.98""#,
            r#""best_bid":"","best_ask_quantity":"x""#,
        ),
        ticker.replace(
            r#""price":"21932.98""#,
            r#""best_bid":"1","price":"21932.98""#,
        ),
        ticker.replace("BTC-USD", "DOGE-USD"),
        ticker.replace(r#""product_id":"BTC-USD","#, ""),
        ticker.replace(r#""low_52_w":"15460""#, r#""low_52_w":15460"#),
        ticker.replace(r#""best_bid":"21931.98""#, r#""best\u005fbid":"21931.98""#),
        ticker.replace(r#""tickers":["#, r#""tickers":[],"t":["#),
        ticker.replace(r#""type":"snapshot","#, ""),
        ticker.replace(r#""client_id":"","#, ""),
    ];
    let mut fast = CoinbaseAtCodec::new();
    for frame in &cases {
        let [a, b] = both(&registry, &mut fast, frame.as_bytes());
        assert_eq!(a, b, "{frame}");
    }
    // The docs' ticker, as a batch, with an empty side, with a side missing and with no
    // client_id; a key read twice (the two cases that add one) goes to the tape.
    assert_eq!(fast.scanned, 5);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    #[test]
    fn mutated_messages_get_the_same_answer_from_both_paths(
        pick in any::<prop::sample::Index>(),
        mutations in proptest::collection::vec(mutation(), 0..4),
    ) {
        static FRAMES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
        let frames = FRAMES.get_or_init(|| {
            received()
                .into_iter()
                .filter(|f| !f.contains("heartbeats") && f.len() < 200_000)
                .collect()
        });
        let mut frame = pick.get(frames).clone().into_bytes();
        mutate(&mut frame, &mutations);
        let registry = coinbase_at::registry();
        let [a, b] = both(&registry, &mut CoinbaseAtCodec::new(), &frame);
        prop_assert_eq!(a, b);
    }
}
