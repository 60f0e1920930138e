//! What an in-band venue writes itself: a book's snapshot after a subscription, rendered from
//! the venue's own book, with the venue's checksum; and the edits it makes to a captured push
//! (its own `seqId`/`prevSeqId`, a corrupted checksum).
//!
//! The checksums are computed here from the level strings, independently of pulse-feeds' code,
//! so that a test comparing the two is a real cross-check:
//! - OKX (<https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-order-book-channel>,
//!   its checksum section): the top 25 levels interleaved,
//!   `bid px:bid sz:ask px:ask sz:...` (a side that ran out is left out), CRC32 as a signed
//!   32-bit integer.
//! - Kraken v2 (<https://docs.kraken.com/api/docs/guides/spot-ws-book-v2>): the top 10 asks ascending,
//!   then the top 10 bids descending, each price and quantity written at the pair's decimals,
//!   the point removed and leading zeros stripped, concatenated; CRC32 unsigned.

use crate::book::{Level, TrueBook};
use crate::inband::Precision;

/// Levels a side of an OKX `books` snapshot.
pub(crate) const OKX_SNAPSHOT_LEVELS: usize = 400;
const OKX_CHECKSUM_LEVELS: usize = 25;
const KRAKEN_CHECKSUM_LEVELS: usize = 10;

pub(crate) fn okx_checksum(bids: &[&Level], asks: &[&Level]) -> i32 {
    let mut parts: Vec<&str> = Vec::with_capacity(4 * OKX_CHECKSUM_LEVELS);
    for i in 0..OKX_CHECKSUM_LEVELS {
        for side in [bids, asks] {
            if let Some(level) = side.get(i) {
                parts.push(&level.price);
                parts.push(&level.qty);
            }
        }
    }
    crc32fast::hash(parts.join(":").as_bytes()) as i32
}

pub(crate) fn kraken_checksum<'a>(
    bids: &'a [&'a Level],
    asks: &'a [&'a Level],
    precision: Precision,
) -> u32 {
    let mut text = String::new();
    let top = |side: &'a [&'a Level]| side.iter().take(KRAKEN_CHECKSUM_LEVELS);
    for level in top(asks).chain(top(bids)) {
        text.push_str(&checksum_digits(&level.price, precision.price));
        text.push_str(&checksum_digits(&level.qty, precision.qty));
    }
    crc32fast::hash(text.as_bytes())
}

/// A plain decimal at `decimals` places (padded with zeros, or cut), the point removed and
/// leading zeros stripped: `0.5666` at 4 is `5666`, `93886.2` at 1 is `938862`.
fn checksum_digits(decimal: &str, decimals: u32) -> String {
    let (int, frac) = decimal.split_once('.').unwrap_or((decimal, ""));
    let mut digits = String::from(int);
    let places = decimals as usize;
    digits.extend(frac.chars().chain(std::iter::repeat('0')).take(places));
    let trimmed = digits.trim_start_matches('0');
    if trimmed.is_empty() {
        "0".to_string()
    } else {
        trimmed.to_string()
    }
}

/// OKX's snapshot of `inst_id` from the venue's book: its 400 best levels a side, `seqId` the
/// book's last, `prevSeqId` -1.
pub(crate) fn okx_snapshot(inst_id: &str, book: &TrueBook, ts_ms: u64) -> String {
    let (bids, asks) = book.top_levels(OKX_SNAPSHOT_LEVELS);
    let side = |levels: &[&Level]| {
        levels
            .iter()
            .map(|l| format!("[\"{}\",\"{}\"{}]", l.price, l.qty, l.tail))
            .collect::<Vec<_>>()
            .join(",")
    };
    format!(
        "{{\"arg\":{{\"channel\":\"books\",\"instId\":\"{inst_id}\"}},\"action\":\"snapshot\",\
         \"data\":[{{\"asks\":[{}],\"bids\":[{}],\"ts\":\"{ts_ms}\",\"checksum\":{},\
         \"seqId\":{},\"prevSeqId\":-1}}]}}",
        side(&asks),
        side(&bids),
        okx_checksum(&bids, &asks),
        book.last_update_id()
    )
}

/// Kraken v2's snapshot of `symbol` at `depth` levels a side from the venue's book.
pub(crate) fn kraken_snapshot(
    symbol: &str,
    book: &TrueBook,
    depth: usize,
    precision: Precision,
) -> String {
    let (bids, asks) = book.top_levels(depth);
    let side = |levels: &[&Level]| {
        levels
            .iter()
            .map(|l| format!("{{\"price\":{},\"qty\":{}}}", l.price, l.qty))
            .collect::<Vec<_>>()
            .join(",")
    };
    format!(
        "{{\"channel\":\"book\",\"type\":\"snapshot\",\"data\":[{{\"symbol\":\"{symbol}\",\
         \"bids\":[{}],\"asks\":[{}],\"checksum\":{}}}]}}",
        side(&bids),
        side(&asks),
        kraken_checksum(&bids, &asks, precision)
    )
}

/// The push with its `seqId` and `prevSeqId` set to the venue's (any the capture carried are
/// replaced), placed just before its `checksum`.
pub(crate) fn with_sequence(push: &str, seq: i64, prev: i64) -> String {
    let mut text = push.to_string();
    for key in ["\"seqId\":", "\"prevSeqId\":"] {
        if let Some(at) = text.find(key) {
            let end = number_end(&text, at + key.len());
            // The field and the comma that joins it to its neighbour.
            let (from, to) = if text[end..].starts_with(',') {
                (at, end + 1)
            } else {
                (at.saturating_sub(1), end)
            };
            text.replace_range(from..to, "");
        }
    }
    if let Some(at) = text.find("\"checksum\":") {
        text.insert_str(at, &format!("\"seqId\":{seq},\"prevSeqId\":{prev},"));
    }
    text
}

/// The push with a checksum that cannot be right: the captured one with its lowest bit flipped.
pub(crate) fn with_wrong_checksum(push: &str) -> String {
    let key = "\"checksum\":";
    let Some(at) = push.find(key) else {
        return push.to_string();
    };
    let start = at + key.len();
    let end = number_end(push, start);
    let Ok(value) = push[start..end].parse::<i64>() else {
        return push.to_string();
    };
    format!("{}{}{}", &push[..start], value ^ 1, &push[end..])
}

pub(crate) fn number_end(text: &str, start: usize) -> usize {
    start
        + text[start..]
            .bytes()
            .position(|b| !(b.is_ascii_digit() || b == b'-'))
            .unwrap_or(text.len() - start)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::protocol::Protocol;
    use crate::timeline::{Change, Step, Timeline};

    fn level(price: &str, qty: &str) -> Level {
        Level {
            price: price.into(),
            qty: qty.into(),
            tail: String::new(),
        }
    }

    /// OKX's documented example: bids 3366.1:7, 3366:6; asks 3366.8:9, 3368:8 gives
    /// "3366.1:7:3366.8:9:3366:6:3368:8".
    #[test]
    fn okx_checksum_interleaves_the_sides() {
        let bids = [level("3366.1", "7"), level("3366", "6")];
        let asks = [level("3366.8", "9"), level("3368", "8")];
        fn refs(s: &[Level]) -> Vec<&Level> {
            s.iter().collect()
        }
        let expected = crc32fast::hash(b"3366.1:7:3366.8:9:3366:6:3368:8") as i32;
        assert_eq!(okx_checksum(&refs(&bids), &refs(&asks)), expected);
        let one_sided = crc32fast::hash(b"3366.1:7:3366:6") as i32;
        assert_eq!(okx_checksum(&refs(&bids), &[]), one_sided);
    }

    #[test]
    fn kraken_digits_are_at_the_pair_decimals() {
        assert_eq!(checksum_digits("0.5666", 4), "5666");
        assert_eq!(checksum_digits("0.566", 4), "5660");
        assert_eq!(checksum_digits("93886.2", 1), "938862");
        assert_eq!(checksum_digits("93886", 1), "938860");
        assert_eq!(checksum_digits("0.00005325", 8), "5325");
        assert_eq!(checksum_digits("0", 8), "0");
    }

    #[test]
    fn pushes_take_the_venue_sequence_and_a_wrong_checksum() {
        let push = r#"{"arg":{"channel":"books","instId":"A"},"action":"update","data":[{"asks":[],"bids":[],"ts":"1","checksum":-5}]}"#;
        let numbered = with_sequence(push, 12, 11);
        assert!(numbered.ends_with(r#""ts":"1","seqId":12,"prevSeqId":11,"checksum":-5}]}"#));
        let again = with_sequence(&numbered, 1, 12);
        assert!(
            again.ends_with(r#""ts":"1","seqId":1,"prevSeqId":12,"checksum":-5}]}"#),
            "{again}"
        );
        assert!(with_wrong_checksum(push).ends_with(r#""checksum":-6}]}"#));
        let value: serde_json::Value = serde_json::from_str(&again).unwrap();
        assert_eq!(value["data"][0]["seqId"], 1);
    }

    /// Replays a bundled capture through the venue's timeline and book: after every book push
    /// the venue's checksum of its own book equals the one the real venue sent. Returns the
    /// pushes that matched and those that did not.
    fn capture_checksums(capture: &str, protocol: Protocol) -> (u64, u64) {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../data")
            .join(capture);
        let mut timeline = Timeline::open(&path, protocol).unwrap();
        let mut books: HashMap<String, TrueBook> = HashMap::new();
        let mut pairs: HashMap<String, Precision> = HashMap::new();
        let (mut ok, mut bad) = (0, 0);
        while let Some(step) = timeline.next_step().unwrap() {
            let (frame, push) = match step {
                Step::Snapshot { symbol, book, .. } => {
                    books.insert(symbol, book);
                    continue;
                }
                Step::Instruments { pairs: p, .. } => {
                    pairs.extend(p);
                    continue;
                }
                Step::Frame {
                    frame,
                    change: Some(Change::Push(push)),
                } => (frame, push),
                Step::Frame { .. } => continue,
            };
            let book = books.get_mut(&push.symbol.to_ascii_uppercase()).unwrap();
            if push.snapshot {
                *book = TrueBook::from_levels(0, push.bids, push.asks);
            } else {
                book.set_levels(0, push.bids, push.asks);
            }
            if let Some(depth) = timeline.book_depth {
                book.truncate(depth);
            }
            let sent: serde_json::Value = serde_json::from_str(frame.raw.as_str()).unwrap();
            let sent = sent["data"][0]["checksum"].as_i64().unwrap();
            let (bids, asks) = book.top_levels(usize::MAX);
            let ours = match protocol {
                Protocol::Okx => i64::from(okx_checksum(&bids, &asks)),
                _ => i64::from(kraken_checksum(&bids, &asks, pairs[&push.symbol])),
            };
            if ours == sent {
                ok += 1;
            } else {
                bad += 1;
            }
        }
        (ok, bad)
    }

    #[test]
    fn the_venues_checksums_reproduce_the_captured_ones() {
        assert_eq!(
            capture_checksums("okx_books_2022-05-13.cap", Protocol::Okx),
            (287, 0)
        );
        // The generated capture corrupts one checksum on purpose.
        assert_eq!(
            capture_checksums("kraken_v2_book_generated.cap", Protocol::Kraken),
            (218, 1)
        );
    }
}
