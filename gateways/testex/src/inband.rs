//! The frames of a venue whose book snapshot comes in-band (OKX v5, Kraken WebSocket v2) as the
//! venue reads them from a capture: which stream a frame belongs to, and a book push's levels
//! keyed for the venue's own book.
//!
//! OKX (<https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-order-book-channel>):
//! `{"arg":{"channel":"books","instId":..},"action":"snapshot"|"update","data":[{"asks":
//! [["px","sz","0","n"]],"bids":..,"ts":..,"checksum":..,"seqId":..,"prevSeqId":..}]}`.
//! Kraken (<https://docs.kraken.com/api/docs/websocket-v2/book>): `{"channel":"book","type":"snapshot"|
//! "update","data":[{"symbol":..,"bids":[{"price":P,"qty":Q}],"asks":..,"checksum":..}]}`,
//! prices and quantities JSON numbers. Bybit v5: [`crate::bybit`]; Coinbase Advanced Trade:
//! [`crate::coinbase`].

use serde_json::Value;

use crate::book::{KeyedLevel, Level, PriceKey};
use crate::protocol::Protocol;

/// A capture frame of an in-band venue, by what the venue does with it.
#[derive(Debug)]
pub(crate) enum InBandFrame {
    /// A book push, played to the book's subscribers and applied to the venue's book.
    Book(BookPush),
    /// Another channel's push, played to the subscribers of `key` (`trades:BTC-USDT`,
    /// `ticker:BTC/USD`, `heartbeat`); `symbol` is `None` for a venue-wide one.
    Stream { key: String, symbol: Option<String> },
    /// Kraken's `instrument` snapshot: served on an `instrument` subscription, and the pairs'
    /// decimals the checksum writes numbers with.
    Instruments(Vec<(String, Precision)>),
    /// Kraken's reply to the recorder's book subscription: the depth its book was kept at.
    BookDepth(usize),
    /// Replies to the recorder's requests, status: the venue answers its own clients.
    Control,
}

/// One book push, its levels validated.
#[derive(Debug)]
pub(crate) struct BookPush {
    pub symbol: String,
    pub snapshot: bool,
    pub bids: Vec<KeyedLevel>,
    pub asks: Vec<KeyedLevel>,
    /// Bybit: the topic's depth and the push's captured `u`.
    pub bybit: Option<BybitPush>,
    /// Coinbase: an update from a gap in the recording's `sequence_num` up to its book's next
    /// captured snapshot, neither applied nor sent (the lost message's book is unknown).
    pub held: bool,
}

/// What a Bybit `orderbook` push says beyond its levels, and how it follows the capture's
/// previous push of its book (filled in by the timeline).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct BybitPush {
    /// The topic's depth (`orderbook.{depth}.{symbol}`).
    pub depth: usize,
    /// `data.u` as captured.
    pub u: u64,
    /// A delta whose `u` does not follow the captured previous one: a gap in the recording.
    pub capture_gap: bool,
    /// A depth-1 snapshot repeating the previous `u` ("no change for 3 s").
    pub repeat: bool,
    /// A delta from a recording's gap up to the book's next captured snapshot: it does not
    /// follow the book the venue holds (the lost delta's change is unknown), so the venue
    /// neither applies nor sends it.
    pub held: bool,
}

/// A Kraken pair's decimals, as the `instrument` channel gives them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Precision {
    pub price: u32,
    pub qty: u32,
}

/// The stream key of a symbol's book: what a client subscribes to and a frame is routed by.
pub(crate) fn book_key(protocol: Protocol, symbol: &str) -> String {
    match protocol {
        Protocol::Okx => format!("books:{symbol}"),
        Protocol::Coinbase => format!("level2:{symbol}"),
        _ => format!("book:{symbol}"),
    }
}

/// The stream key of a book push: Bybit's topic (`orderbook.50.BTCUSDT`), else [`book_key`].
pub(crate) fn push_key(protocol: Protocol, push: &BookPush) -> String {
    match &push.bybit {
        Some(b) => format!("orderbook.{}.{}", b.depth, push.symbol),
        None => book_key(protocol, &push.symbol),
    }
}

/// Reads one `okx:ws` or `kraken:ws` payload.
pub(crate) fn classify(protocol: Protocol, text: &str) -> Result<InBandFrame, String> {
    let value: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    match protocol {
        Protocol::Okx => okx(&value),
        Protocol::BybitSpot | Protocol::BybitLinear => crate::bybit::classify(&value),
        Protocol::Coinbase => crate::coinbase::classify(&value),
        _ => kraken(&value),
    }
}

fn okx(value: &Value) -> Result<InBandFrame, String> {
    if value.get("event").is_some() {
        return Ok(InBandFrame::Control);
    }
    let arg = value.get("arg").ok_or("no `arg`")?;
    let channel = arg
        .get("channel")
        .and_then(Value::as_str)
        .ok_or("no channel")?;
    let inst = arg
        .get("instId")
        .and_then(Value::as_str)
        .ok_or("no instId")?;
    if channel != "books" {
        return Ok(InBandFrame::Stream {
            key: format!("{channel}:{inst}"),
            symbol: Some(inst.to_string()),
        });
    }
    let action = value.get("action").and_then(Value::as_str);
    let data = first_data(value)?;
    Ok(InBandFrame::Book(BookPush {
        symbol: inst.to_string(),
        snapshot: action == Some("snapshot"),
        bids: okx_levels(data.get("bids"))?,
        asks: okx_levels(data.get("asks"))?,
        bybit: None,
        held: false,
    }))
}

/// Levels as arrays of strings, `["px","sz",...]` (OKX, Bybit): the fields after the
/// quantity kept as the level's tail.
pub(crate) fn okx_levels(side: Option<&Value>) -> Result<Vec<KeyedLevel>, String> {
    levels(side, |entry| {
        let fields = entry
            .as_array()
            .filter(|f| f.len() >= 2 && f.iter().all(Value::is_string))
            .ok_or_else(|| format!("level {entry} is not [\"px\",\"sz\",...]"))?;
        let text = |i: usize| fields[i].as_str().unwrap_or_default();
        let tail: String = fields[2..].iter().map(|f| format!(",{f}")).collect();
        keyed(text(0), text(1), tail)
    })
}

/// A side's levels, each read by `level`.
fn levels(
    side: Option<&Value>,
    level: impl Fn(&Value) -> Result<KeyedLevel, String>,
) -> Result<Vec<KeyedLevel>, String> {
    let entries = side
        .and_then(Value::as_array)
        .ok_or("a side is not an array")?;
    entries.iter().map(level).collect()
}

fn kraken(value: &Value) -> Result<InBandFrame, String> {
    if value.get("method").is_some() && value.get("result").is_none() {
        // A reply without a result: `pong`, an error.
        return Ok(InBandFrame::Control);
    }
    if let Some(result) = value.get("result") {
        let depth = result.get("depth").and_then(Value::as_u64);
        return Ok(
            match (result.get("channel").and_then(Value::as_str), depth) {
                (Some("book"), Some(depth)) => InBandFrame::BookDepth(depth as usize),
                _ => InBandFrame::Control,
            },
        );
    }
    let channel = value
        .get("channel")
        .and_then(Value::as_str)
        .ok_or("no channel")?;
    match channel {
        "heartbeat" => Ok(InBandFrame::Stream {
            key: "heartbeat".into(),
            symbol: None,
        }),
        "instrument" => instruments(value),
        "book" => {
            let data = first_data(value)?;
            let symbol = data
                .get("symbol")
                .and_then(Value::as_str)
                .ok_or("no symbol")?;
            Ok(InBandFrame::Book(BookPush {
                symbol: symbol.to_string(),
                snapshot: value.get("type").and_then(Value::as_str) == Some("snapshot"),
                bids: kraken_levels(data.get("bids"))?,
                asks: kraken_levels(data.get("asks"))?,
                bybit: None,
                held: false,
            }))
        }
        "status" => Ok(InBandFrame::Control),
        other => {
            let symbol = first_data(value)
                .ok()
                .and_then(|d| d.get("symbol"))
                .and_then(Value::as_str)
                .ok_or_else(|| format!("a `{other}` push without a symbol"))?;
            Ok(InBandFrame::Stream {
                key: format!("{other}:{symbol}"),
                symbol: Some(symbol.to_string()),
            })
        }
    }
}

fn instruments(value: &Value) -> Result<InBandFrame, String> {
    let pairs = value
        .get("data")
        .and_then(|d| d.get("pairs"))
        .and_then(Value::as_array)
        .ok_or("an instrument push without pairs")?;
    let decimals = |p: &Value, key: &str| p.get(key).and_then(Value::as_u64).map(|d| d as u32);
    Ok(InBandFrame::Instruments(
        pairs
            .iter()
            .filter_map(|p| {
                let symbol = p.get("symbol").and_then(Value::as_str)?;
                let precision = Precision {
                    price: decimals(p, "price_precision")?,
                    qty: decimals(p, "qty_precision")?,
                };
                Some((symbol.to_string(), precision))
            })
            .collect(),
    ))
}

fn kraken_levels(side: Option<&Value>) -> Result<Vec<KeyedLevel>, String> {
    levels(side, |entry| {
        let number = |key: &str| {
            entry
                .get(key)
                .and_then(Value::as_f64)
                .filter(|n| n.is_finite() && *n >= 0.0)
                .ok_or_else(|| format!("level {entry} without a numeric `{key}`"))
        };
        // `f64`'s Display is the shortest text that reads back as the same number, in plain
        // decimal: the digits Kraken sent, without an exponent (`5.325e-05` → `0.00005325`).
        keyed(
            &number("price")?.to_string(),
            &number("qty")?.to_string(),
            String::new(),
        )
    })
}

pub(crate) fn keyed(price: &str, qty: &str, tail: String) -> Result<KeyedLevel, String> {
    let px = PriceKey::parse(price).ok_or_else(|| format!("bad price `{price}`"))?;
    let q = PriceKey::parse(qty).ok_or_else(|| format!("bad quantity `{qty}`"))?;
    let level = Level {
        price: price.to_string(),
        qty: qty.to_string(),
        tail,
    };
    Ok((px, q, level))
}

fn first_data(value: &Value) -> Result<&Value, String> {
    value
        .get("data")
        .and_then(Value::as_array)
        .and_then(|d| d.first())
        .ok_or_else(|| "no `data`".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timeline::{Step, Timeline, TimelineStats};

    #[test]
    fn frames_are_told_apart() {
        let okx = |t: &str| classify(Protocol::Okx, t).unwrap();
        assert!(matches!(
            okx(r#"{"event":"subscribe","arg":{"channel":"books","instId":"A"}}"#),
            InBandFrame::Control
        ));
        let InBandFrame::Book(push) = okx(
            r#"{"arg":{"channel":"books","instId":"A-B"},"action":"update","data":[{"asks":[["1.5","2","0","3"]],"bids":[],"ts":"1","checksum":1}]}"#,
        ) else {
            panic!("a book push")
        };
        assert_eq!((push.symbol.as_str(), push.snapshot), ("A-B", false));
        assert_eq!(push.asks[0].2.tail, r#","0","3""#);
        let kraken = |t: &str| classify(Protocol::Kraken, t).unwrap();
        assert!(matches!(
            kraken(r#"{"method":"pong","req_id":7}"#),
            InBandFrame::Control
        ));
        assert!(matches!(
            kraken(
                r#"{"method":"subscribe","result":{"channel":"book","depth":25,"symbol":"A/B"},"success":true}"#
            ),
            InBandFrame::BookDepth(25)
        ));
        let InBandFrame::Book(push) = kraken(
            r#"{"channel":"book","type":"update","data":[{"symbol":"A/B","bids":[{"price":0.566,"qty":5.325e-05}],"asks":[],"checksum":1}]}"#,
        ) else {
            panic!("a book push")
        };
        assert_eq!(
            (push.bids[0].2.price.as_str(), push.bids[0].2.qty.as_str()),
            ("0.566", "0.00005325")
        );
        let InBandFrame::Stream { key, symbol } =
            kraken(r#"{"channel":"trade","type":"update","data":[{"symbol":"A/B"}]}"#)
        else {
            panic!("a stream")
        };
        assert_eq!(
            (key.as_str(), symbol.as_deref()),
            ("trade:A/B", Some("A/B"))
        );
        assert!(classify(Protocol::Kraken, r#"{"channel":"book","data":[]}"#).is_err());
        assert!(classify(Protocol::Okx, "{").is_err());
    }

    /// The generated Kraken capture as the venue plays it: every line used, three books known
    /// from their first snapshots, the recorder's resubscription snapshot streamed.
    #[test]
    fn the_kraken_capture_plays_whole() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../data/kraken_v2_book_generated.cap");
        let mut timeline = Timeline::open(&path, Protocol::Kraken).unwrap();
        let (mut books, mut frames, mut instruments) = (Vec::new(), 0, 0);
        while let Some(step) = timeline.next_step().unwrap() {
            match step {
                Step::Snapshot { symbol, .. } => books.push(symbol),
                Step::Frame { .. } => frames += 1,
                Step::Instruments { pairs, .. } => instruments += pairs.len(),
            }
        }
        assert_eq!(books, ["MATIC/USD", "ETH/USD", "BTC/USD"]);
        assert_eq!(
            (frames, instruments, timeline.book_depth),
            (319, 4, Some(10))
        );
        assert_eq!(
            timeline.stats,
            TimelineStats {
                skipped_before_snapshot: 0,
                unusable_lines: 0,
                bad_diffs: 0,
                later_snapshots: 1,
            }
        );
    }
}
