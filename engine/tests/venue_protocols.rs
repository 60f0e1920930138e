//! `pulse venue --protocol okx|kraken|bybit-spot|bybit-linear` as a client meets it over a real
//! socket: the path it
//! serves, the subscription replies, each book's snapshot after its subscription (its checksum
//! recomputed here from the snapshot's own strings), the keepalive replies and the errors.

use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;

use serde_json::Value;
use tungstenite::{connect, Message};

mod common;

use common::{pulse_venue, VenueProcess};

type Ws = tungstenite::WebSocket<tungstenite::stream::MaybeTlsStream<std::net::TcpStream>>;

/// Starts `pulse venue` on a free port; returns it and the address its banner names.
fn start(protocol: &str, capture: &str) -> (VenueProcess, String) {
    let capture = common::repo_root().join(capture);
    let args: [&OsStr; 9] = [
        "--protocol".as_ref(),
        protocol.as_ref(),
        "--listen".as_ref(),
        "127.0.0.1:0".as_ref(),
        "--speed".as_ref(),
        "0".as_ref(),
        "--wait-for-client".as_ref(),
        "--capture".as_ref(),
        capture.as_os_str(),
    ];
    let (venue, banner) = pulse_venue(&args, 2);
    (venue, format!("{}|{}", banner[0], banner[1]))
}

fn text(ws: &mut Ws) -> String {
    loop {
        match ws.read().expect("the venue answers") {
            Message::Text(t) => return t.as_str().to_string(),
            Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
}

fn json(ws: &mut Ws) -> Value {
    serde_json::from_str(&text(ws)).unwrap()
}

#[test]
fn okx_subscription_snapshot_and_ping() {
    let (_venue, banner) = start("okx", "data/okx_books_2022-05-13.cap");
    let (addr, streams) = banner.split_once('|').unwrap();
    assert!(
        streams.contains(&format!("ws://{addr}/ws/v5/public")),
        "{streams}"
    );
    assert!(
        connect(format!("ws://{addr}/ws/v5/private")).is_err(),
        "only the public path"
    );
    let (mut ws, _) = connect(format!("ws://{addr}/ws/v5/public")).unwrap();
    ws.send(Message::text("ping")).unwrap();
    assert_eq!(text(&mut ws), "pong");
    ws.send(Message::text(
        r#"{"op":"subscribe","args":[{"channel":"books","instId":"BTC-USDT"}]}"#,
    ))
    .unwrap();
    let ack = json(&mut ws);
    assert_eq!(ack["event"], "subscribe");
    assert_eq!(ack["arg"]["instId"], "BTC-USDT");
    let snapshot = json(&mut ws);
    assert_eq!(snapshot["action"], "snapshot");
    let data = &snapshot["data"][0];
    assert_eq!(data["prevSeqId"], -1);
    assert!(data["seqId"].as_i64().unwrap() > 0);
    // OKX's checksum, from the snapshot's own strings: the top 25 interleaved.
    let side = |key: &str| data[key].as_array().unwrap().clone();
    let (bids, asks) = (side("bids"), side("asks"));
    assert!(bids.len() > 25 && asks.len() > 25);
    let mut parts = Vec::new();
    for i in 0..25 {
        for level in [&bids[i], &asks[i]] {
            parts.push(level[0].as_str().unwrap().to_string());
            parts.push(level[1].as_str().unwrap().to_string());
        }
    }
    let expected = crc32fast::hash(parts.join(":").as_bytes()) as i32;
    assert_eq!(data["checksum"].as_i64(), Some(i64::from(expected)));
    // The first update chains onto the snapshot.
    let update = loop {
        let v = json(&mut ws);
        if v["action"] == "update" {
            break v;
        }
    };
    assert_eq!(update["data"][0]["prevSeqId"], data["seqId"]);
    ws.send(Message::text(r#"{"op":"explode"}"#)).unwrap();
    let error = loop {
        let v = json(&mut ws);
        if v["event"] == "error" {
            break v;
        }
    };
    assert_eq!(error["code"], "60012");
}

#[test]
fn kraken_status_subscription_snapshot_and_ping() {
    let (_venue, banner) = start("kraken", "data/kraken_v2_book_generated.cap");
    let (addr, _) = banner.split_once('|').unwrap();
    let (mut ws, _) = connect(format!("ws://{addr}/v2")).unwrap();
    assert_eq!(json(&mut ws)["channel"], "status");
    ws.send(Message::text(r#"{"method":"ping","req_id":7}"#))
        .unwrap();
    assert_eq!(
        json(&mut ws),
        serde_json::json!({"method":"pong","req_id":7})
    );
    ws.send(Message::text(
        r#"{"method":"subscribe","params":{"channel":"book","symbol":["MATIC/USD"],"depth":10}}"#,
    ))
    .unwrap();
    let ack = json(&mut ws);
    assert_eq!(ack["success"], true);
    assert_eq!(ack["result"]["symbol"], "MATIC/USD");
    assert_eq!(ack["result"]["depth"], 10);
    let snapshot = json(&mut ws);
    assert_eq!(snapshot["type"], "snapshot");
    let data = &snapshot["data"][0];
    assert_eq!(data["bids"].as_array().unwrap().len(), 10);
    // Kraken's checksum at MATIC/USD's decimals (price 4, quantity 8), recomputed from the
    // raw numbers of the snapshot: asks then bids, point removed, leading zeros stripped.
    let raw = text_of_levels(&snapshot);
    let expected = crc32fast::hash(raw.as_bytes());
    assert_eq!(data["checksum"].as_u64(), Some(u64::from(expected)));
    ws.send(Message::text(
        r#"{"method":"subscribe","params":{"channel":"book","symbol":["MATIC/USD"],"depth":7}}"#,
    ))
    .unwrap();
    let refused = loop {
        let v = json(&mut ws);
        if v["method"] == "subscribe" {
            break v;
        }
    };
    assert_eq!(refused["success"], false);
    assert_eq!(refused["error"], "Invalid depth");
}

/// Kraken's checksum input of a v2 book message: each level at the pair's decimals.
fn text_of_levels(message: &Value) -> String {
    let data = &message["data"][0];
    let digits = |n: &Value, places: usize| {
        let s = format!("{:.*}", places, n.as_f64().unwrap());
        s.replace('.', "").trim_start_matches('0').to_string()
    };
    let mut out = String::new();
    for side in ["asks", "bids"] {
        for level in data[side].as_array().unwrap().iter().take(10) {
            out += &digits(&level["price"], 4);
            out += &digits(&level["qty"], 8);
        }
    }
    out
}

/// The next reply to an op (`"op"` is `op`), past the book pushes streaming meanwhile.
fn reply_to(ws: &mut Ws, op: &str) -> Value {
    loop {
        let v = json(ws);
        if v.get("topic").is_none() && v["op"] == op {
            return v;
        }
    }
}

#[test]
fn bybit_spot_subscription_snapshot_deltas_pong_and_refusals() {
    let (_venue, banner) = start("bybit-spot", "data/bybit_spot_generated.cap");
    let (addr, streams) = banner.split_once('|').unwrap();
    assert!(
        streams.contains(&format!("ws://{addr}/v5/public/spot")),
        "{streams}"
    );
    assert!(
        connect(format!("ws://{addr}/v5/public/linear")).is_err(),
        "only spot's path"
    );
    let (mut ws, _) = connect(format!("ws://{addr}/v5/public/spot")).unwrap();
    ws.send(Message::text(r#"{"op":"ping","req_id":"p1"}"#))
        .unwrap();
    let pong = json(&mut ws);
    assert_eq!(
        (&pong["op"], &pong["req_id"]),
        (&"pong".into(), &"p1".into())
    );
    assert!(pong["args"][0].as_str().unwrap().parse::<u64>().is_ok());
    ws.send(Message::text(
        r#"{"op":"subscribe","args":["orderbook.50.ETHUSDT","tickers.ETHUSDT"],"req_id":"s1"}"#,
    ))
    .unwrap();
    let ack = json(&mut ws);
    let expected = serde_json::json!({"success":true,"ret_msg":"subscribe",
        "conn_id":"pulse-venue","req_id":"s1","op":"subscribe"});
    assert_eq!(ack, expected);
    let snapshot = json(&mut ws);
    assert_eq!(
        (&snapshot["topic"], &snapshot["type"]),
        (&"orderbook.50.ETHUSDT".into(), &"snapshot".into())
    );
    let data = &snapshot["data"];
    assert_eq!(data["s"], "ETHUSDT");
    // The capture's first snapshot: 12 levels a side, best first, the captured `u`.
    assert_eq!(data["b"].as_array().unwrap().len(), 12);
    assert_eq!(data["b"][0], serde_json::json!(["3890.49", "0.15372"]));
    assert_eq!(data["a"][0], serde_json::json!(["3890.51", "0.11078"]));
    assert_eq!(data["u"], 812_400);
    // The deltas chain on from the snapshot's `u`.
    let mut u = data["u"].as_u64().unwrap();
    for _ in 0..5 {
        let delta = loop {
            let v = json(&mut ws);
            if v["topic"] == "orderbook.50.ETHUSDT" {
                break v;
            }
        };
        assert_eq!(delta["type"], "delta");
        assert_eq!(delta["data"]["u"].as_u64(), Some(u + 1));
        u += 1;
    }
    let refusals = [
        (
            r#"{"op":"subscribe","args":["orderbook.50.ETHUSDT"]}"#,
            "error:already subscribed,topic:orderbook.50.ETHUSDT",
        ),
        (
            r#"{"op":"subscribe","args":["orderbook.200.ETHUSDT"]}"#,
            "error:handler not found,topic:orderbook.200.ETHUSDT",
        ),
        (
            r#"{"op":"subscribe","args":["publicTrade.DOGEUSDT"]}"#,
            "error:handler not found,topic:publicTrade.DOGEUSDT",
        ),
    ];
    for (request, why) in refusals {
        ws.send(Message::text(request)).unwrap();
        let refused = reply_to(&mut ws, "subscribe");
        assert_eq!(
            (&refused["success"], &refused["ret_msg"]),
            (&false.into(), &why.into())
        );
    }
    let eleven: Vec<String> = (0..11).map(|i| format!("\"publicTrade.S{i}\"")).collect();
    ws.send(Message::text(format!(
        r#"{{"op":"subscribe","args":[{}]}}"#,
        eleven.join(",")
    )))
    .unwrap();
    let refused = reply_to(&mut ws, "subscribe");
    assert_eq!(
        (&refused["success"], &refused["ret_msg"]),
        (&false.into(), &"args size >10".into())
    );
    // Unsubscribed, then subscribed again: a fresh snapshot at the venue's current `u`.
    ws.send(Message::text(
        r#"{"op":"unsubscribe","args":["orderbook.50.ETHUSDT"]}"#,
    ))
    .unwrap();
    assert_eq!(reply_to(&mut ws, "unsubscribe")["success"], true);
    ws.send(Message::text(
        r#"{"op":"subscribe","args":["orderbook.50.ETHUSDT"]}"#,
    ))
    .unwrap();
    assert_eq!(reply_to(&mut ws, "subscribe")["success"], true);
    let again = loop {
        let v = json(&mut ws);
        if v["topic"] == "orderbook.50.ETHUSDT" {
            break v;
        }
    };
    assert_eq!(again["type"], "snapshot");
    // The venue's current `u` is one the book took at or after the last delta read: later than
    // `u`, or (once the venue has run past the capture's service restart, `u == 1`) counted again
    // from 1. `--speed 0` lets the venue be anywhere in the capture by now.
    let path: Vec<u64> = ethusdt_book_updates("data/bybit_spot_generated.cap");
    let seen = path
        .iter()
        .position(|&v| v == u)
        .expect("the last delta's u is captured");
    let now = again["data"]["u"].as_u64().unwrap();
    assert!(path[seen..].contains(&now), "{again} after u {u}");
}

/// Every `u` of ETHUSDT's 50-level book in the capture, in the order the venue replays them.
fn ethusdt_book_updates(capture: &str) -> Vec<u64> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let text = std::fs::read_to_string(root.join(capture)).unwrap();
    text.lines()
        .filter_map(|line| line.splitn(3, '\t').nth(2))
        .filter_map(|body| serde_json::from_str::<Value>(body).ok())
        .filter(|v| v["topic"] == "orderbook.50.ETHUSDT")
        .filter_map(|v| v["data"]["u"].as_u64())
        .collect()
}

#[test]
fn bybit_linear_pong_depth_one_snapshot_and_a_refused_checksum_fault() {
    let (_venue, banner) = start("bybit-linear", "data/bybit_linear_generated.cap");
    let (addr, _) = banner.split_once('|').unwrap();
    let (mut ws, _) = connect(format!("ws://{addr}/v5/public/linear")).unwrap();
    ws.send(Message::text(r#"{"op":"ping"}"#)).unwrap();
    assert_eq!(
        json(&mut ws),
        serde_json::json!({"success":true,"ret_msg":"pong","conn_id":"pulse-venue",
            "req_id":"","op":"ping"})
    );
    ws.send(Message::text(
        r#"{"op":"subscribe","args":["orderbook.50.BTCUSDT","publicTrade.BTCUSDT"],"req_id":"7"}"#,
    ))
    .unwrap();
    let ack = json(&mut ws);
    assert_eq!(
        (&ack["success"], &ack["ret_msg"], &ack["req_id"]),
        (&true.into(), &"".into(), &"7".into())
    );
    let snapshot = json(&mut ws);
    // The docs' example snapshot, which the venue knows from the capture's start.
    assert_eq!(snapshot["data"]["u"], 18_521_288);
    assert_eq!(
        snapshot["data"]["b"][0],
        serde_json::json!(["16493.50", "0.006"])
    );
    // SOLUSDT at depth 1: snapshots only, one level a side.
    ws.send(Message::text(
        r#"{"op":"subscribe","args":["orderbook.1.SOLUSDT"]}"#,
    ))
    .unwrap();
    for _ in 0..3 {
        let push = loop {
            let v = json(&mut ws);
            if v["topic"] == "orderbook.1.SOLUSDT" {
                break v;
            }
        };
        assert_eq!(push["type"], "snapshot");
        let data = &push["data"];
        assert_eq!(
            (
                data["b"].as_array().unwrap().len(),
                data["a"].as_array().unwrap().len()
            ),
            (1, 1)
        );
    }
    // Linear has no 10-topic limit; an unknown symbol is still refused.
    let many: Vec<String> = (0..11)
        .map(|_| "\"publicTrade.BTCUSDTX\"".to_string())
        .collect();
    ws.send(Message::text(format!(
        r#"{{"op":"subscribe","args":[{}]}}"#,
        many.join(",")
    )))
    .unwrap();
    let refused = reply_to(&mut ws, "subscribe");
    assert_eq!(
        refused["ret_msg"],
        "error:handler not found,topic:publicTrade.BTCUSDTX"
    );
    ws.send(Message::text(r#"{"op":"explode"}"#)).unwrap();
    assert_eq!(reply_to(&mut ws, "explode")["success"], false);

    let out = Command::new(env!("CARGO_BIN_EXE_pulse"))
        .args([
            "venue",
            "--protocol",
            "bybit-linear",
            "--listen",
            "127.0.0.1:0",
        ])
        .args(["--fault", "checksum@3", "--capture"])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/bybit_linear_generated.cap"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "pulse venue: checksum@3: bybit-linear's book pushes carry no checksum (Bybit sends \
         none; restart@N is its venue fault)"
    );
}

/// Coinbase Advanced Trade: every message on a connection numbered from 0 across channels by
/// the venue itself; a `level2` subscription answered with the subscriptions, then the
/// product's whole book; an error takes no number; `checksum@N` refused.
#[test]
fn coinbase_subscriptions_whole_book_snapshot_and_one_sequence() {
    let (_venue, banner) = start("coinbase", "data/coinbase_at_generated.cap.gz");
    let (addr, streams) = banner.split_once('|').unwrap();
    assert!(streams.contains(&format!("ws://{addr}/ ")), "{streams}");
    let (mut ws, _) = connect(format!("ws://{addr}/")).unwrap();
    ws.send(Message::text(
        r#"{"type":"subscribe","channel":"nonsense"}"#,
    ))
    .unwrap();
    let error = json(&mut ws);
    assert_eq!(error["type"], "error");
    assert!(error.get("sequence_num").is_none(), "{error}");
    ws.send(Message::text(
        r#"{"type":"subscribe","product_ids":["BTC-USD","SOL-USD"],"channel":"level2"}"#,
    ))
    .unwrap();
    let subscriptions = json(&mut ws);
    assert_eq!(subscriptions["channel"], "subscriptions");
    assert_eq!(subscriptions["sequence_num"], 0);
    assert_eq!(
        subscriptions["events"][0]["subscriptions"],
        serde_json::json!({"level2":["BTC-USD","SOL-USD"]})
    );
    let mut last = 0;
    let mut snapshots = Vec::new();
    let mut channels = std::collections::BTreeSet::new();
    ws.send(Message::text(
        r#"{"type":"subscribe","channel":"heartbeats"}"#,
    ))
    .unwrap();
    for _ in 0..60 {
        let message = json(&mut ws);
        let seq = message["sequence_num"].as_u64().expect("numbered");
        assert_eq!(
            seq,
            last + 1,
            "one sequence across channels: {message:.200}"
        );
        last = seq;
        let channel = message["channel"].as_str().unwrap().to_string();
        let event = &message["events"][0];
        if channel == "l2_data" {
            let product = event["product_id"].as_str().unwrap();
            assert!(["BTC-USD", "SOL-USD"].contains(&product), "{product}");
            if event["type"] == "snapshot" {
                snapshots.push((
                    product.to_string(),
                    event["updates"].as_array().unwrap().len(),
                ));
            }
        }
        channels.insert(channel);
    }
    assert_eq!(snapshots[0].0, "BTC-USD");
    assert_eq!(snapshots[1].0, "SOL-USD");
    // The whole book: 46,000 levels at the capture's start, give or take the updates played.
    assert!((45_000..47_000).contains(&snapshots[0].1), "{snapshots:?}");
    assert!(channels.contains("heartbeats") && channels.contains("subscriptions"));
    assert!(!channels.contains("ticker") && !channels.contains("market_trades"));
    drop(ws);
    // A new connection counts from 0 again.
    let (mut ws, _) = connect(format!("ws://{addr}/")).unwrap();
    ws.send(Message::text(
        r#"{"type":"subscribe","product_ids":["ETH-USD"],"channel":"ticker"}"#,
    ))
    .unwrap();
    assert_eq!(json(&mut ws)["sequence_num"], 0);

    let out = Command::new(env!("CARGO_BIN_EXE_pulse"))
        .args(["venue", "--protocol", "coinbase", "--listen", "127.0.0.1:0"])
        .args(["--fault", "checksum@3", "--capture"])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/coinbase_at_generated.cap.gz"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "pulse venue: checksum@3: coinbase's level2 messages carry no checksum (Coinbase sends \
         none; drop@N makes its venue fault, a gap in the connection's sequence_num)"
    );
}
