//! Coinbase Advanced Trade market data as the venue speaks it (`/`): the capture's messages
//! read, `subscribe`/`unsubscribe` answered with a `subscriptions` message, each product's
//! `level2` snapshot rendered from the venue's own book (the whole book) after its
//! subscription, and every message the venue sends numbered by the connection's own
//! `sequence_num` (written by the connection as it sends: see [`with_sequence_num`]).
//!
//! Followed: "Advanced Trade WebSocket Channels"
//! (<https://docs.cdp.coinbase.com/advanced-trade/docs/ws-channels>): a subscription is
//! `{"type":"subscribe","product_ids":[..],"channel":"level2"}` (one channel a message,
//! `heartbeats` without products), answered on the `subscriptions` channel with every
//! subscription of the connection; `level2` sends `l2_data` events, a `snapshot` of the whole
//! book, then `update`s with absolute quantities (`"0"` deletes); every message carries
//! `sequence_num`, one counter per connection across channels, from 0.
//!
//! Where the docs are silent, the venue decides:
//! - the capture's `sequence_num` is read only to tell the recording's own faults: a number
//!   at or below the last is a message recorded twice (not played, counted), a number skipped
//!   is a message the recorder lost: every book's updates are held (neither applied nor sent)
//!   from there to that book's next captured snapshot, since which book the lost message
//!   changed is unknown (counted as a gap in the capture);
//! - a captured snapshot after a product's first (the recorder's resubscription) replaces the
//!   venue's book and goes to that product's `level2` subscribers;
//! - heartbeats are the capture's, renumbered, to connections subscribed to `heartbeats`;
//! - a `level2` subscription of a product already subscribed sends a new snapshot; a refused
//!   request is answered `{"type":"error","message":..}`, which carries no `sequence_num`
//!   and uses none up.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use crate::book::{Level, TrueBook};
use crate::inband::{book_key, keyed, BookPush, InBandFrame};
use crate::inband_control::InBandSubscriptions;
use crate::inband_render::number_end;
use crate::protocol::Protocol;
use crate::shared::Shared;

const SEQUENCE_KEY: &str = "\"sequence_num\":";
const CHANNELS: [&str; 4] = ["heartbeats", "level2", "market_trades", "ticker"];

/// Reads one `coinbase:ws` payload.
pub(crate) fn classify(value: &Value) -> Result<InBandFrame, String> {
    if value.get("type").and_then(Value::as_str) == Some("error") {
        return Ok(InBandFrame::Control);
    }
    let channel = value
        .get("channel")
        .and_then(Value::as_str)
        .ok_or("no channel")?;
    let events = value
        .get("events")
        .and_then(Value::as_array)
        .ok_or("no events")?;
    match channel {
        "subscriptions" => Ok(InBandFrame::Control),
        "heartbeats" => Ok(InBandFrame::Stream {
            key: "heartbeats".into(),
            symbol: None,
        }),
        "l2_data" => book_push(events),
        "market_trades" | "ticker" => {
            let list = if channel == "ticker" {
                "tickers"
            } else {
                "trades"
            };
            let product = events
                .iter()
                .filter_map(|e| e.get(list).and_then(Value::as_array))
                .flatten()
                .find_map(|t| t.get("product_id").and_then(Value::as_str))
                .ok_or_else(|| format!("a `{channel}` message without a product_id"))?;
            Ok(InBandFrame::Stream {
                key: format!("{channel}:{product}"),
                symbol: Some(product.to_string()),
            })
        }
        other => Err(format!("unknown channel `{other}`")),
    }
}

/// An `l2_data` message: its events, all of one product, as one push (a snapshot if any is).
fn book_push(events: &[Value]) -> Result<InBandFrame, String> {
    let mut product: Option<&str> = None;
    let (mut snapshot, mut bids, mut asks) = (false, Vec::new(), Vec::new());
    for event in events {
        let id = event
            .get("product_id")
            .and_then(Value::as_str)
            .ok_or("an l2_data event without a product_id")?;
        if product.is_some_and(|p| p != id) {
            return Err("an l2_data message of two products".into());
        }
        product = Some(id);
        match event.get("type").and_then(Value::as_str) {
            Some("snapshot") => snapshot = true,
            Some("update") => {}
            _ => return Err("an l2_data event neither snapshot nor update".into()),
        }
        let updates = event
            .get("updates")
            .and_then(Value::as_array)
            .ok_or("an l2_data event without updates")?;
        for update in updates {
            let text = |key: &str| {
                update
                    .get(key)
                    .and_then(Value::as_str)
                    .ok_or_else(|| format!("a level without `{key}`"))
            };
            let level = keyed(text("price_level")?, text("new_quantity")?, String::new())?;
            match text("side")? {
                "bid" => bids.push(level),
                "offer" | "ask" => asks.push(level),
                side => return Err(format!("side `{side}`")),
            }
        }
    }
    let symbol = product.ok_or("an l2_data message without events")?;
    Ok(InBandFrame::Book(BookPush {
        symbol: symbol.to_string(),
        snapshot,
        bids,
        asks,
        bybit: None,
        held: false,
    }))
}

/// The `sequence_num` a captured message carries (the recording's).
pub(crate) fn captured_sequence(text: &str) -> Option<u64> {
    let start = text.find(SEQUENCE_KEY)? + SEQUENCE_KEY.len();
    text[start..number_end(text, start)].parse().ok()
}

/// The message with its `sequence_num` set to `seq`; `None` for a message without one (an
/// error), which takes no number.
pub(crate) fn with_sequence_num(text: &str, seq: u64) -> Option<String> {
    let start = text.find(SEQUENCE_KEY)? + SEQUENCE_KEY.len();
    let end = number_end(text, start);
    let mut out = String::with_capacity(text.len() + 8);
    out.push_str(&text[..start]);
    out.push_str(&seq.to_string());
    out.push_str(&text[end..]);
    Some(out)
}

/// A message of `channel` as the venue writes it; `sequence_num` is the connection's, set
/// when it is sent.
fn message(channel: &str, events: &str) -> String {
    format!(
        "{{\"channel\":\"{channel}\",\"client_id\":\"\",\"timestamp\":\"{}\",\
         \"sequence_num\":0,\"events\":[{events}]}}",
        timestamp_now()
    )
}

/// The `l2_data` snapshot of `product` from the venue's book: every level, bids then offers,
/// each best first.
pub(crate) fn snapshot(product: &str, book: &TrueBook) -> String {
    let (bids, asks) = book.top_levels(usize::MAX);
    let time = timestamp_now();
    let mut updates = String::with_capacity(96 * (bids.len() + asks.len()));
    let mut push = |side: &str, level: &Level| {
        if !updates.is_empty() {
            updates.push(',');
        }
        updates.push_str(&format!(
            "{{\"side\":\"{side}\",\"event_time\":\"{time}\",\"price_level\":\"{}\",\
             \"new_quantity\":\"{}\"}}",
            level.price, level.qty
        ));
    };
    for level in bids {
        push("bid", level);
    }
    for level in asks {
        push("offer", level);
    }
    message(
        "l2_data",
        &format!("{{\"type\":\"snapshot\",\"product_id\":\"{product}\",\"updates\":[{updates}]}}"),
    )
}

fn error(msg: &str) -> String {
    json!({"type":"error","message":msg}).to_string()
}

/// Now as RFC 3339 in UTC with nanoseconds, as Coinbase writes its timestamps.
fn timestamp_now() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let mut out = String::with_capacity(30);
    pulse_feeds::clock::rfc3339(now.as_nanos() as u64, &mut out);
    out
}

impl InBandSubscriptions {
    /// Coinbase's requests: a `subscriptions` message after each, then a snapshot of each
    /// product a `level2` subscription names.
    pub(crate) fn coinbase(&mut self, text: &str, shared: &Shared) -> Vec<String> {
        let Ok(request) = serde_json::from_str::<Value>(text) else {
            return vec![error("malformed request")];
        };
        let kind = request.get("type").and_then(Value::as_str).unwrap_or("");
        if kind != "subscribe" && kind != "unsubscribe" {
            return vec![error(&format!("unknown request type `{kind}`"))];
        }
        let Some(channel) = request.get("channel").and_then(Value::as_str) else {
            return vec![error("a request names one channel")];
        };
        if !CHANNELS.contains(&channel) {
            return vec![error(&format!("unknown channel `{channel}`"))];
        }
        let products: Option<Vec<&str>> = request
            .get("product_ids")
            .and_then(Value::as_array)
            .and_then(|ids| ids.iter().map(Value::as_str).collect());
        let keys: Vec<String> = match (channel, products) {
            ("heartbeats", _) => vec!["heartbeats".into()],
            (_, Some(ids)) if !ids.is_empty() => ids
                .iter()
                .map(|id| match channel {
                    "level2" => book_key(Protocol::Coinbase, id),
                    _ => format!("{channel}:{id}"),
                })
                .collect(),
            _ => return vec![error(&format!("`{channel}` needs product_ids"))],
        };
        let mut snapshots = Vec::new();
        for key in keys {
            if kind == "unsubscribe" {
                self.keys.remove(&key);
                self.covered.remove(&key);
                continue;
            }
            if let Some(product) = key.strip_prefix("level2:") {
                let books = shared.books();
                // A book not known yet gets its captured first snapshot when played.
                if let Some(book) = books.get(&product.to_ascii_uppercase()) {
                    snapshots.push(snapshot(product, book));
                    self.cover(&key, book);
                }
            }
            self.keys.insert(key);
        }
        std::iter::once(self.coinbase_subscriptions())
            .chain(snapshots)
            .collect()
    }

    /// The `subscriptions` message: every subscription of the connection, by channel.
    fn coinbase_subscriptions(&self) -> String {
        let mut by_channel: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for key in &self.keys {
            let (channel, product) = key.split_once(':').unwrap_or((key, key));
            by_channel.entry(channel).or_default().push(product);
        }
        let subscriptions = serde_json::to_string(&by_channel).unwrap_or_default();
        message(
            "subscriptions",
            &format!("{{\"subscriptions\":{subscriptions}}}"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timeline::{Step, Timeline};

    #[test]
    fn frames_are_told_apart_and_renumbered() {
        let read = |t: &str| classify(&serde_json::from_str(t).unwrap());
        assert!(matches!(
            read(r#"{"channel":"subscriptions","sequence_num":0,"events":[]}"#),
            Ok(InBandFrame::Control)
        ));
        let update = r#"{"channel":"l2_data","client_id":"","timestamp":"t","sequence_num":41,"events":[{"type":"update","product_id":"A-B","updates":[{"side":"bid","event_time":"t","price_level":"1.5","new_quantity":"2"},{"side":"offer","event_time":"t","price_level":"1.7","new_quantity":"0"}]}]}"#;
        let Ok(InBandFrame::Book(push)) = read(update) else {
            panic!("a book push")
        };
        assert_eq!((push.symbol.as_str(), push.snapshot), ("A-B", false));
        assert_eq!((push.bids.len(), push.asks.len()), (1, 1));
        assert!(push.asks[0].1.is_zero());
        let Ok(InBandFrame::Stream { key, symbol }) = read(
            r#"{"channel":"ticker","sequence_num":2,"events":[{"type":"update","tickers":[{"product_id":"A-B"}]}]}"#,
        ) else {
            panic!("a stream")
        };
        assert_eq!(
            (key.as_str(), symbol.as_deref()),
            ("ticker:A-B", Some("A-B"))
        );
        assert!(read(r#"{"channel":"l2_data","events":[{"type":"x","product_id":"A"}]}"#).is_err());
        assert_eq!(captured_sequence(update), Some(41));
        let renumbered = with_sequence_num(update, 7).unwrap();
        assert!(
            renumbered.contains(r#""sequence_num":7,"events""#),
            "{renumbered}"
        );
        assert_eq!(with_sequence_num(&error("x"), 3), None);
    }

    #[test]
    fn timestamps_are_rfc3339_with_nanoseconds() {
        // The dates themselves: pulse_core::clock's tests.
        let ts = timestamp_now();
        assert_eq!(ts.len(), "2024-12-06T00:00:00.000000000Z".len(), "{ts}");
        assert!(ts.starts_with("20") && ts.ends_with('Z'), "{ts}");
    }

    #[test]
    fn a_snapshot_is_the_whole_book() {
        let level = |p: &str, q: &str| keyed(p, q, String::new()).unwrap();
        let book = TrueBook::from_levels(
            1,
            vec![level("1.1", "2"), level("1.2", "3")],
            vec![level("1.5", "4")],
        );
        let text = snapshot("A-B", &book);
        let Ok(InBandFrame::Book(push)) = classify(&serde_json::from_str(&text).unwrap()) else {
            panic!("{text}")
        };
        assert!(push.snapshot);
        let prices: Vec<&str> = push.bids.iter().map(|l| l.2.price.as_str()).collect();
        assert_eq!(prices, ["1.2", "1.1"]);
        assert_eq!(push.asks[0].2.qty, "4");
    }

    /// The generated capture as the venue plays it: three books known from their first
    /// snapshots, the recorded duplicate not played, the recorder's lost message a gap after
    /// which every book's updates are held until its resubscription snapshot.
    #[test]
    fn the_coinbase_capture_plays_whole() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../data/coinbase_at_generated.cap.gz");
        let mut timeline = Timeline::open(&path, Protocol::Coinbase).unwrap();
        let (mut known, mut held, mut later) = (Vec::new(), 0, 0);
        while let Some(step) = timeline.next_step().unwrap() {
            match step {
                Step::Snapshot { symbol, .. } => known.push(symbol),
                Step::Frame {
                    change: Some(crate::timeline::Change::Push(push)),
                    ..
                } => {
                    held += u64::from(push.held);
                    later += u64::from(push.snapshot);
                }
                _ => {}
            }
        }
        assert_eq!(known, ["BTC-USD", "ETH-USD", "SOL-USD"]);
        assert_eq!((timeline.seq_gaps, timeline.seq_duplicates), (1, 1));
        assert_eq!(later, 3, "the recorder's resubscription snapshots");
        assert_eq!(held, 2, "the gap's successor and the update in flight");
        assert_eq!(timeline.stats.unusable_lines, 0);
    }
}
