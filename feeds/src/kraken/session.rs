//! Kraken's live session details (cold: strings made once, at start):
//!
//! - v2 (`wss://ws.kraken.com/v2`, docs.kraken.com/api/docs/websocket-v2/book and its
//!   siblings): one `subscribe` request per channel, `{"method":"subscribe","params":
//!   {"channel":"book","symbol":[...],"depth":N}}`, then `ticker`, `trade` and `instrument`
//!   (the pairs' decimals). The server sends a `heartbeat` every second while subscribed; a
//!   client `{"method":"ping"}` is only needed when the connection is otherwise idle, so the
//!   keepalive is a ping every [`PING_EVERY`], which costs nothing beside the heartbeats.
//! - v1 (`wss://ws.kraken.com`, for recorded data): `{"event":"subscribe","pair":[...],
//!   "subscription":{"name":"book","depth":N}}`; the server's heartbeats keep it open.
//!
//! A book whose checksum fails is resubscribed alone: an `unsubscribe` then a `subscribe` of
//! that pair's book, which makes Kraken send a fresh snapshot.

use crate::num::Nanos;
use crate::venue::Keepalive;

/// How often a v2 session pings.
pub const PING_EVERY: Nanos = Nanos(30_000_000_000);

/// The v2 keepalive.
pub const KEEPALIVE_V2: Keepalive = Keepalive {
    every: PING_EVERY,
    frame: r#"{"method":"ping"}"#,
};

/// `["A/B","C/D"]`.
fn symbols(pairs: &[&str]) -> String {
    let quoted: Vec<String> = pairs.iter().map(|p| format!("\"{p}\"")).collect();
    format!("[{}]", quoted.join(","))
}

/// A v2 request of `method` on `channel` for `pairs` (every pair when `None`).
fn request_v2(method: &str, channel: &str, pairs: Option<&[&str]>, depth: Option<usize>) -> String {
    let mut params = format!("\"channel\":\"{channel}\"");
    if let Some(pairs) = pairs {
        params += &format!(",\"symbol\":{}", symbols(pairs));
    }
    if let Some(depth) = depth {
        params += &format!(",\"depth\":{depth}");
    }
    format!("{{\"method\":\"{method}\",\"params\":{{{params}}}}}")
}

fn request_v1(event: &str, pairs: &[&str], depth: usize) -> String {
    format!(
        "{{\"event\":\"{event}\",\"pair\":{},\"subscription\":{{\"name\":\"book\",\"depth\":{depth}}}}}",
        symbols(pairs)
    )
}

/// The frames a new connection sends: every channel this adapter reads, for `pairs`.
pub fn subscriptions(v1: bool, pairs: &[&str], depth: usize) -> Vec<String> {
    if pairs.is_empty() {
        return Vec::new();
    }
    if v1 {
        return vec![request_v1("subscribe", pairs, depth)];
    }
    vec![
        request_v2("subscribe", "instrument", None, None),
        request_v2("subscribe", "book", Some(pairs), Some(depth)),
        request_v2("subscribe", "ticker", Some(pairs), None),
        request_v2("subscribe", "trade", Some(pairs), None),
    ]
}

/// The frames that resubscribe one pair's book: its unsubscribe and subscribe.
pub fn resubscription(v1: bool, pair: &str, depth: usize) -> [String; 2] {
    if v1 {
        return ["unsubscribe", "subscribe"].map(|e| request_v1(e, &[pair], depth));
    }
    ["unsubscribe", "subscribe"].map(|m| request_v2(m, "book", Some(&[pair]), Some(depth)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_read_as_kraken_documents_them() {
        let subs = subscriptions(false, &["BTC/USD", "ETH/USD"], 10);
        assert_eq!(
            subs[1],
            r#"{"method":"subscribe","params":{"channel":"book","symbol":["BTC/USD","ETH/USD"],"depth":10}}"#
        );
        assert_eq!(
            subs[0],
            r#"{"method":"subscribe","params":{"channel":"instrument"}}"#
        );
        let [un, sub] = resubscription(true, "XBT/USD", 1000);
        assert_eq!(
            un,
            r#"{"event":"unsubscribe","pair":["XBT/USD"],"subscription":{"name":"book","depth":1000}}"#
        );
        assert!(sub.starts_with(r#"{"event":"subscribe""#));
        assert!(subscriptions(false, &[], 10).is_empty());
    }
}
