//! Bybit v5 public market data as the venue speaks it, spot (`/v5/public/spot`) and linear
//! (`/v5/public/linear`): the capture's frames read, the `subscribe`/`unsubscribe`/`ping` ops
//! answered, each book's snapshot rendered from the venue's own book after its subscription,
//! and the venue's own `u` written into the deltas it plays.
//!
//! Followed: Bybit API v5, WebSocket "Connect" (<https://bybit-exchange.github.io/docs/v5/ws/connect>:
//! `{"op":"subscribe","args":[topics],"req_id":..}` answered
//! `{"success":true,"ret_msg":"subscribe","conn_id":..,"req_id":..,"op":"subscribe"}`, spot's
//! pong `{"op":"pong","args":[ms],..}`, linear's `{"success":true,"ret_msg":"pong","op":"ping",..}`,
//! at most 10 args a spot request) and "Orderbook"
//! (<https://bybit-exchange.github.io/docs/v5/websocket/public/orderbook>: a snapshot after
//! subscribing, then deltas with `u` rising by one; a snapshot with `u == 1` after a service
//! restart). Replies take the forms the bundled captures recorded (linear's acks with an empty
//! `ret_msg`, refusals `error:handler not found,topic:..`, spot's `args size >10`).
//!
//! Where the docs are silent, the venue decides:
//! - a book topic is served at the depth the capture carries it (read once at start), trades
//!   and tickers of any symbol the capture has; another depth of a book, or a symbol not in
//!   the capture, is refused as Bybit refuses an unknown topic;
//! - the venue numbers each book's pushes itself: a delta is the book's `u` plus one, whatever
//!   the capture said, so the recording's own gaps (counted) never reach a client as a gap; a
//!   later snapshot of the capture is one more (its book replaces the venue's), a captured
//!   `u == 1` stays 1, and a depth-1 snapshot repeating its `u` keeps the book's;
//! - a snapshot's `seq` is its `u` (clients record `seq`, nothing chains on it).

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::Context;
use pulse_feeds::capture::{CaptureReader, SourceKind};
use serde_json::{json, Value};

use crate::book::{Level, TrueBook};
use crate::inband::{okx_levels, BookPush, BybitPush, InBandFrame};
use crate::inband_control::{now_ms, InBandSubscriptions};
use crate::inband_render::number_end;
use crate::protocol::Protocol;
use crate::shared::Shared;

/// Spot's limit of topics in one request.
const SPOT_MAX_ARGS: usize = 10;
/// The `conn_id` of every reply (a real one names the connection; no client here reads it).
const CONN_ID: &str = "pulse-venue";

/// Reads one `bybit-spot:ws` or `bybit-linear:ws` payload.
pub(crate) fn classify(value: &Value) -> Result<InBandFrame, String> {
    if value.get("op").is_some() || value.get("success").is_some() {
        return Ok(InBandFrame::Control);
    }
    let topic = value
        .get("topic")
        .and_then(Value::as_str)
        .ok_or("no topic")?;
    let Some(book) = topic.strip_prefix("orderbook.") else {
        let (_, symbol) = topic
            .rsplit_once('.')
            .ok_or_else(|| format!("topic `{topic}` names no symbol"))?;
        return Ok(InBandFrame::Stream {
            key: topic.to_string(),
            symbol: Some(symbol.to_string()),
        });
    };
    let (depth, symbol) = book
        .split_once('.')
        .and_then(|(d, s)| Some((d.parse::<usize>().ok()?, s)))
        .ok_or_else(|| format!("topic `{topic}` is not orderbook.{{depth}}.{{symbol}}"))?;
    let snapshot = match value.get("type").and_then(Value::as_str) {
        Some("snapshot") => true,
        Some("delta") => false,
        _ => return Err(format!("`{topic}` push neither snapshot nor delta")),
    };
    let data = value.get("data").ok_or("no `data`")?;
    if data.get("s").and_then(Value::as_str) != Some(symbol) {
        return Err(format!("`{topic}` push whose data.s is not {symbol}"));
    }
    let u = data
        .get("u")
        .and_then(Value::as_u64)
        .ok_or_else(|| format!("`{topic}` push without a numeric data.u"))?;
    Ok(InBandFrame::Book(BookPush {
        symbol: symbol.to_string(),
        snapshot,
        bids: okx_levels(data.get("b"))?,
        asks: okx_levels(data.get("a"))?,
        bybit: Some(BybitPush {
            depth,
            u,
            ..BybitPush::default()
        }),
        held: false,
    }))
}

/// Every topic the capture's frames of `protocol` carry: what the venue serves.
pub(crate) fn capture_topics(path: &Path, protocol: Protocol) -> anyhow::Result<BTreeSet<String>> {
    let mut reader = CaptureReader::open(path)
        .with_context(|| format!("cannot open capture {}", path.display()))?;
    let mut topics = BTreeSet::new();
    while let Some(record) = reader.next_record() {
        let record = match record {
            Ok(record) => record,
            Err(Err(e)) => return Err(e).context("reading the capture for its topics"),
            Err(Ok(_)) => continue,
        };
        if record.venue != protocol.source().as_bytes() || record.kind != SourceKind::Ws {
            continue;
        }
        let topic = serde_json::from_slice::<Value>(record.payload)
            .ok()
            .and_then(|v| v.get("topic").and_then(Value::as_str).map(str::to_string));
        topics.extend(topic);
    }
    Ok(topics)
}

/// Bybit's snapshot of `symbol`'s book on `topic`: its best `depth` levels a side, `u` as given.
pub(crate) fn snapshot(topic: &str, symbol: &str, book: &TrueBook, depth: usize, u: u64) -> String {
    let (bids, asks) = book.top_levels(depth);
    let side = |levels: &[&Level]| {
        levels
            .iter()
            .map(|l| format!("[\"{}\",\"{}\"]", l.price, l.qty))
            .collect::<Vec<_>>()
            .join(",")
    };
    let ts = now_ms();
    format!(
        "{{\"topic\":\"{topic}\",\"type\":\"snapshot\",\"ts\":{ts},\"data\":{{\"s\":\"{symbol}\",\
         \"b\":[{}],\"a\":[{}],\"u\":{u},\"seq\":{u}}},\"cts\":{ts}}}",
        side(&bids),
        side(&asks),
    )
}

/// The push with its `data.u` set to the venue's.
pub(crate) fn with_update_id(push: &str, u: u64) -> String {
    let key = "\"u\":";
    let Some(at) = push.find(key) else {
        return push.to_string();
    };
    let start = at + key.len();
    let end = number_end(push, start);
    format!("{}{u}{}", &push[..start], &push[end..])
}

/// A topic the venue serves: a book topic the capture carries (at its depth), or another
/// channel's of a symbol the capture has (it may have had no traffic).
fn served(topics: &BTreeSet<String>, topic: &str) -> bool {
    if topics.contains(topic) {
        return true;
    }
    let symbol = match topic.split_once('.') {
        Some(("publicTrade" | "tickers", symbol)) => symbol,
        _ => return false,
    };
    topics
        .iter()
        .any(|t| t.rsplit_once('.').is_some_and(|(_, s)| s == symbol))
}

/// One reply to an op: `success`, `ret_msg`, the request's `req_id` and `op`.
fn reply(success: bool, ret_msg: &str, req_id: &str, op: &str) -> String {
    json!({"success":success,"ret_msg":ret_msg,"conn_id":CONN_ID,"req_id":req_id,"op":op})
        .to_string()
}

impl InBandSubscriptions {
    /// Bybit's ops: one reply per request (the first refused topic named when any is), then
    /// the snapshot of each book subscribed.
    pub(crate) fn bybit(&mut self, text: &str, shared: &Shared) -> Vec<String> {
        let Ok(request) = serde_json::from_str::<Value>(text) else {
            return vec![reply(false, "error:request is not JSON", "", "")];
        };
        let req_id = match request.get("req_id") {
            Some(Value::String(id)) => id.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => String::new(),
        };
        let op = request.get("op").and_then(Value::as_str).unwrap_or("");
        let spot = self.protocol == Protocol::BybitSpot;
        match op {
            "ping" if spot => {
                let pong = json!({"req_id":req_id,"op":"pong","args":[now_ms().to_string()],
                    "conn_id":CONN_ID});
                return vec![pong.to_string()];
            }
            "ping" => return vec![reply(true, "pong", &req_id, op)],
            "subscribe" | "unsubscribe" => {}
            _ => {
                return vec![reply(
                    false,
                    &format!("error:unknown op `{op}`"),
                    &req_id,
                    op,
                )]
            }
        }
        let topics: Option<Vec<&str>> = request
            .get("args")
            .and_then(Value::as_array)
            .and_then(|args| args.iter().map(Value::as_str).collect());
        let Some(topics) = topics.filter(|t| !t.is_empty()) else {
            return vec![reply(
                false,
                "error:args must be a list of topics",
                &req_id,
                op,
            )];
        };
        if spot && topics.len() > SPOT_MAX_ARGS {
            return vec![reply(false, "args size >10", &req_id, op)];
        }
        let mut refused = None;
        let mut snapshots = Vec::new();
        for topic in topics {
            let why = if op == "unsubscribe" {
                let had = self.keys.remove(topic);
                self.covered.remove(topic);
                (!had).then_some("error:topic not subscribed")
            } else if !served(&shared.topics, topic) {
                Some("error:handler not found")
            } else if !self.keys.insert(topic.to_string()) {
                Some("error:already subscribed")
            } else {
                snapshots.extend(self.book_snapshot(topic, shared));
                None
            };
            if let (Some(why), None) = (why, &refused) {
                refused = Some(format!("{why},topic:{topic}"));
            }
        }
        let ack = match &refused {
            Some(msg) => reply(false, msg, &req_id, op),
            None if spot => reply(true, op, &req_id, op),
            None => reply(true, "", &req_id, op),
        };
        std::iter::once(ack).chain(snapshots).collect()
    }

    /// The snapshot of a book topic just subscribed, from the venue's book; `None` for another
    /// topic, or a book the venue does not know yet (its captured first snapshot goes out when
    /// played).
    fn book_snapshot(&mut self, topic: &str, shared: &Shared) -> Option<String> {
        let (depth, symbol) = topic.strip_prefix("orderbook.")?.split_once('.')?;
        let depth = depth.parse::<usize>().ok()?;
        let books = shared.books();
        let book = books.get(&symbol.to_ascii_uppercase())?;
        let text = snapshot(topic, symbol, book, depth, book.last_update_id());
        self.cover(topic, book);
        Some(text)
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
            read(r#"{"success":true,"ret_msg":"","op":"subscribe"}"#),
            Ok(InBandFrame::Control)
        ));
        assert!(matches!(
            read(r#"{"op":"pong","args":["1"]}"#),
            Ok(InBandFrame::Control)
        ));
        let delta = r#"{"topic":"orderbook.50.AB","type":"delta","ts":1,"data":{"s":"AB","b":[["1.5","2"]],"a":[],"u":41,"seq":7},"cts":1}"#;
        let Ok(InBandFrame::Book(push)) = read(delta) else {
            panic!("a book push")
        };
        assert_eq!((push.symbol.as_str(), push.snapshot), ("AB", false));
        assert_eq!(push.bybit.map(|b| (b.depth, b.u)), Some((50, 41)));
        assert_eq!(push.bids[0].2.price, "1.5");
        let Ok(InBandFrame::Stream { key, symbol }) =
            read(r#"{"topic":"publicTrade.AB","type":"snapshot","data":[]}"#)
        else {
            panic!("a stream")
        };
        assert_eq!(
            (key.as_str(), symbol.as_deref()),
            ("publicTrade.AB", Some("AB"))
        );
        assert!(read(r#"{"topic":"orderbook.x.AB","type":"delta","data":{}}"#).is_err());
        assert!(
            read(r#"{"topic":"orderbook.1.AB","type":"delta","data":{"s":"CD","u":1}}"#).is_err()
        );
        let renumbered = with_update_id(delta, 1000);
        assert!(
            renumbered.ends_with(r#""u":1000,"seq":7},"cts":1}"#),
            "{renumbered}"
        );
    }

    /// The generated captures as the venue plays them: each book known from its first
    /// snapshot, the recording's own gaps told, the depth-1 repeats marked.
    #[test]
    fn the_bybit_captures_play_whole() {
        for (capture, protocol, books, gaps, repeats) in [
            (
                "bybit_spot_generated.cap",
                Protocol::BybitSpot,
                vec!["BTCUSDT", "ETHUSDT", "XRPUSDT"],
                1,
                0,
            ),
            (
                "bybit_linear_generated.cap",
                Protocol::BybitLinear,
                vec!["BTCUSDT", "ETHUSDT", "SOLUSDT"],
                1,
                // SOLUSDT's snapshots repeated after 3 s without change.
                18,
            ),
        ] {
            let path = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../data")
                .join(capture);
            let mut timeline = Timeline::open(&path, protocol).unwrap();
            let (mut known, mut seen_gaps, mut seen_repeats, mut held) = (Vec::new(), 0, 0, 0);
            while let Some(step) = timeline.next_step().unwrap() {
                match step {
                    Step::Snapshot { symbol, .. } => known.push(symbol),
                    Step::Frame {
                        change: Some(crate::timeline::Change::Push(push)),
                        ..
                    } => {
                        let b = push.bybit.unwrap();
                        seen_gaps += u64::from(b.capture_gap);
                        seen_repeats += u64::from(b.repeat);
                        held += u64::from(b.held);
                    }
                    _ => {}
                }
            }
            assert_eq!(known, books, "{capture}");
            assert_eq!((seen_gaps, seen_repeats), (gaps, repeats), "{capture}");
            // Spot: the lost delta's successor and one in flight; linear: the docs' delta.
            assert_eq!(
                held,
                if gaps == 1 && repeats == 0 { 2 } else { 1 },
                "{capture}"
            );
            assert_eq!(timeline.stats.unusable_lines, 0, "{capture}");
            let topics = capture_topics(&path, protocol).unwrap();
            assert!(
                topics.contains("orderbook.200.XRPUSDT") || topics.contains("orderbook.1.SOLUSDT")
            );
            assert!(!topics.iter().any(|t| t.contains("BTCUSDTX")), "{topics:?}");
        }
    }
}
