//! One connection's requests to an in-band venue and what it receives: OKX's `op`
//! subscriptions and text `ping`, Kraken v2's `method` requests and `{"method":"ping"}`,
//! answered as the venues answer them, and after each book (re)subscription that book's
//! snapshot rendered from the venue's own book. Shapes: OKX
//! <https://www.okx.com/docs-v5/en/#overview-websocket-subscribe>, Kraken
//! <https://docs.kraken.com/api/docs/websocket-v2/ping> and `.../websocket-v2/book`; Bybit's
//! ops are answered in [`crate::bybit`], Coinbase's requests in [`crate::coinbase`]. The replies leave out what no client here reads (OKX's
//! real `connId`, Kraken's `time_in` and `time_out`).
//!
//! A book the venue does not know yet (the capture has not reached its first snapshot) is
//! subscribed all the same, and that first snapshot goes out as captured when it is played;
//! a connection that got a snapshot rendered for it meanwhile does not get the captured one.
//!
//! A snapshot holds every frame the venue applied up to it; frames of that book still queued
//! for this connection from before it are not sent (the client would see them as stale or as a
//! gap), exactly as a venue's snapshot and the pushes after it are one sequence.

use std::collections::{BTreeSet, HashMap};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use crate::inband::{book_key, Precision};
use crate::inband_render::{kraken_snapshot, okx_snapshot};
use crate::protocol::Protocol;
use crate::shared::Shared;
use crate::timeline::Frame;

/// Kraken's default book depth.
const KRAKEN_DEFAULT_DEPTH: usize = 10;
const KRAKEN_DEPTHS: [usize; 5] = [10, 25, 100, 500, 1000];

pub(crate) struct InBandSubscriptions {
    pub(crate) protocol: Protocol,
    pub(crate) keys: BTreeSet<String>,
    /// By book key, once a snapshot rendered from the venue's book went out on its
    /// subscription: the last frame that snapshot holds (`None`: only the captured first
    /// snapshot, which it replaces).
    pub(crate) covered: HashMap<String, Option<u64>>,
}

impl InBandSubscriptions {
    pub fn new(protocol: Protocol) -> InBandSubscriptions {
        InBandSubscriptions {
            protocol,
            keys: BTreeSet::new(),
            covered: HashMap::new(),
        }
    }

    pub fn any(&self) -> bool {
        !self.keys.is_empty()
    }

    /// Heartbeats go to any subscribed connection; a book's pushes from after its snapshot,
    /// and its captured first snapshot only where no snapshot was rendered (else the client
    /// would get its first snapshot twice).
    pub fn wants(&self, frame: &Frame) -> bool {
        let subscribed = if frame.stream == "heartbeat" {
            self.any()
        } else {
            self.keys.contains(&frame.stream)
        };
        subscribed
            && match self.covered.get(&frame.stream) {
                None => true,
                Some(covered) => !frame.announce && covered.is_none_or(|c| frame.index > c),
            }
    }

    /// A snapshot rendered from `book` went out for `key`: the frames it holds are not sent.
    pub(crate) fn cover(&mut self, key: &str, book: &crate::book::TrueBook) {
        self.covered.insert(key.to_string(), book.last_frame());
    }

    /// What the venue sends a new connection before anything is asked (Kraken's status).
    pub fn greeting(&self) -> Option<String> {
        (self.protocol == Protocol::Kraken).then(|| {
            r#"{"channel":"status","type":"update","data":[{"api_version":"v2","connection_id":1,"system":"online","version":"2.0.9"}]}"#
                .to_string()
        })
    }

    /// The replies to one client message, in order: acknowledgements, then snapshots.
    pub fn handle(&mut self, text: &str, shared: &Shared) -> Vec<String> {
        match self.protocol {
            Protocol::Okx => self.okx(text, shared),
            Protocol::BybitSpot | Protocol::BybitLinear => self.bybit(text, shared),
            Protocol::Coinbase => self.coinbase(text, shared),
            _ => self.kraken(text, shared),
        }
    }

    fn okx(&mut self, text: &str, shared: &Shared) -> Vec<String> {
        if text == "ping" {
            return vec!["pong".into()];
        }
        let error = |msg: &str| {
            vec![json!({"event":"error","code":"60012","msg":msg,"connId":"0"}).to_string()]
        };
        let Ok(request) = serde_json::from_str::<Value>(text) else {
            return error(&format!("Invalid request: {text}"));
        };
        let op = request.get("op").and_then(Value::as_str).unwrap_or("");
        let args = request.get("args").and_then(Value::as_array);
        let (Some(args), "subscribe" | "unsubscribe") = (args, op) else {
            return error(&format!("Invalid request: {text}"));
        };
        let mut out = Vec::new();
        for arg in args {
            let channel = arg.get("channel").and_then(Value::as_str);
            let inst = arg.get("instId").and_then(Value::as_str);
            let (Some(channel), Some(inst)) = (channel, inst) else {
                out.extend(error(&format!("Invalid request: {text}")));
                continue;
            };
            let key = format!("{channel}:{inst}");
            let ack = json!({"event":op,"arg":{"channel":channel,"instId":inst},"connId":"0"});
            if op == "unsubscribe" {
                self.keys.remove(&key);
                self.covered.remove(&key);
                out.push(ack.to_string());
                continue;
            }
            if channel != "books" {
                self.keys.insert(key);
                out.push(ack.to_string());
                continue;
            }
            out.push(ack.to_string());
            let books = shared.books();
            let Some(book) = books.get(&inst.to_ascii_uppercase()) else {
                // Not known yet: its first snapshot goes out when the capture reaches it.
                self.keys.insert(key);
                continue;
            };
            out.push(okx_snapshot(inst, book, now_ms()));
            self.cover(&key, book);
            self.keys.insert(key);
        }
        out
    }

    fn kraken(&mut self, text: &str, shared: &Shared) -> Vec<String> {
        let Ok(request) = serde_json::from_str::<Value>(text) else {
            return vec![kraken_error("", "Malformed request", &Value::Null)];
        };
        let method = request.get("method").and_then(Value::as_str).unwrap_or("");
        let req_id = request.get("req_id").cloned().unwrap_or(Value::Null);
        let with_id = |mut reply: Value| {
            if !req_id.is_null() {
                reply["req_id"] = req_id.clone();
            }
            reply.to_string()
        };
        if method == "ping" {
            return vec![with_id(json!({"method":"pong"}))];
        }
        if method != "subscribe" && method != "unsubscribe" {
            return vec![kraken_error(method, "Method not found", &req_id)];
        }
        let params = request.get("params");
        let channel = params
            .and_then(|p| p.get("channel"))
            .and_then(Value::as_str);
        let Some(channel) = channel else {
            return vec![kraken_error(method, "Missing channel", &req_id)];
        };
        if channel == "instrument" {
            return self.kraken_instruments(method, shared, &with_id);
        }
        let depth = params
            .and_then(|p| p.get("depth"))
            .and_then(Value::as_u64)
            .map_or(KRAKEN_DEFAULT_DEPTH, |d| d as usize);
        if channel == "book" && !KRAKEN_DEPTHS.contains(&depth) {
            return vec![kraken_error(method, "Invalid depth", &req_id)];
        }
        let symbols: Vec<&str> = params
            .and_then(|p| p.get("symbol"))
            .and_then(Value::as_array)
            .map(|s| s.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if symbols.is_empty() {
            return vec![kraken_error(method, "Missing symbol", &req_id)];
        }
        let mut out = Vec::new();
        for symbol in symbols {
            let key = if channel == "book" {
                book_key(self.protocol, symbol)
            } else {
                format!("{channel}:{symbol}")
            };
            let mut result = json!({"channel":channel,"symbol":symbol});
            if channel == "book" {
                result["depth"] = depth.into();
            }
            if method == "unsubscribe" {
                self.keys.remove(&key);
                self.covered.remove(&key);
                out.push(with_id(
                    json!({"method":method,"result":result,"success":true}),
                ));
                continue;
            }
            if channel != "book" {
                self.keys.insert(key);
                out.push(with_id(
                    json!({"method":method,"result":result,"success":true}),
                ));
                continue;
            }
            result["snapshot"] = true.into();
            out.push(with_id(
                json!({"method":method,"result":result,"success":true}),
            ));
            let instruments = shared.instruments();
            let books = shared.books();
            let Some(book) = books.get(&symbol.to_ascii_uppercase()) else {
                // Not known yet: its first snapshot goes out when the capture reaches it.
                self.keys.insert(key);
                continue;
            };
            let precision = instruments
                .as_ref()
                .and_then(|(_, pairs)| pairs.get(symbol).copied())
                .unwrap_or_else(|| observed_precision(book));
            out.push(kraken_snapshot(symbol, book, depth, precision));
            self.cover(&key, book);
            self.keys.insert(key);
        }
        out
    }

    fn kraken_instruments(
        &mut self,
        method: &str,
        shared: &Shared,
        with_id: &dyn Fn(Value) -> String,
    ) -> Vec<String> {
        let result = json!({"channel":"instrument","snapshot":true});
        let mut out = vec![with_id(
            json!({"method":method,"result":result,"success":true}),
        )];
        if method == "subscribe" {
            self.keys.insert("instrument".into());
            if let Some((text, _)) = shared.instruments().as_ref() {
                out.push(text.as_str().to_string());
            }
        } else {
            self.keys.remove("instrument");
        }
        out
    }
}

fn kraken_error(method: &str, msg: &str, req_id: &Value) -> String {
    let mut reply = json!({"error":msg,"method":method,"success":false});
    if !req_id.is_null() {
        reply["req_id"] = req_id.clone();
    }
    reply.to_string()
}

/// Without the capture's `instrument` snapshot: the most decimals the book's own numbers show.
fn observed_precision(book: &crate::book::TrueBook) -> Precision {
    let (bids, asks) = book.top_levels(usize::MAX);
    let places = |text: &str| text.split_once('.').map_or(0, |(_, f)| f.len() as u32);
    let mut precision = Precision::default();
    for level in bids.into_iter().chain(asks) {
        precision.price = precision.price.max(places(&level.price));
        precision.qty = precision.qty.max(places(&level.qty));
    }
    precision
}

pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use tungstenite::Utf8Bytes;

    use super::*;
    use crate::book::TrueBook;

    /// A book subscribed before the venue knew it gets the captured first snapshot; once a
    /// snapshot was rendered for it (the subscription raced the market's announcement), the
    /// captured one is not sent again, and frames go out from after what the rendered one held.
    #[test]
    fn a_rendered_snapshot_covers_the_captured_first_one() {
        let mut subs = InBandSubscriptions::new(Protocol::Kraken);
        subs.keys.insert("book:A/B".into());
        let frame = |index, announce| Frame {
            index,
            recv_ts: 0,
            stream: "book:A/B".into(),
            combined: Utf8Bytes::from_static("{}"),
            raw: Utf8Bytes::from_static("{}"),
            announce,
        };
        assert!(subs.wants(&frame(5, true)));
        let mut book = TrueBook::from_levels(1, Vec::new(), Vec::new());
        subs.cover("book:A/B", &book);
        assert!(!subs.wants(&frame(5, true)));
        assert!(subs.wants(&frame(5, false)));
        book.mark_frame(7);
        subs.cover("book:A/B", &book);
        assert!(!subs.wants(&frame(7, false)));
        assert!(subs.wants(&frame(8, false)));
        assert!(!subs.wants(&Frame {
            stream: "book:C/D".into(),
            ..frame(9, false)
        }));
    }
}
