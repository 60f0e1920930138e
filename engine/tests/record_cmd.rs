//! `pulse record` from a local venue over loopback, then `pulse replay --verify` of what it
//! wrote: the recording holds every frame and the REST snapshot with its request path, and
//! replays into books that agree with the venue's own tickers.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use pulse_testex::{Protocol, Venue, VenueConfig};

#[test]
fn record_then_replay_verify() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = std::env::temp_dir().join(format!("pulse-record-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();

    let mut vc = VenueConfig::new(root.join("data/binance_spot_btcusdt_2024-08-08.cap.gz"));
    vc.speed_milli = 20_000;
    vc.ping_interval = Duration::from_millis(500);
    vc.wait_for_client = true;
    let venue = Venue::start(vc).unwrap();
    let demo = std::fs::read_to_string(root.join("configs/imbalance.toml")).unwrap();
    let capture_source = "kind = \"capture\"                # replay a capture file (the only kind for now)\npath = \"../data/binance_spot_btcusdt_2024-08-08.cap.gz\"\n";
    assert!(demo.contains(capture_source));
    let live = demo.replace(
        capture_source,
        &format!(
            "kind = \"binance\"\nws_url = \"ws://{0}\"\nrest_url = \"http://{0}\"\n",
            venue.addr()
        ),
    );
    let config = dir.join("live.toml");
    std::fs::write(&config, live).unwrap();
    let out = dir.join("recorded.cap.gz");

    record(&config, &out, "3");
    venue.stop();

    let text = {
        let gz = Command::new("gzip").arg("-dc").arg(&out).output().unwrap();
        String::from_utf8(gz.stdout).unwrap()
    };
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() > 1_000, "{} lines", lines.len());
    let rest: Vec<&&str> = lines
        .iter()
        .filter(|l| l.contains("\tbinance:rest:"))
        .collect();
    assert_eq!(rest.len(), 1, "one snapshot for one symbol");
    assert!(
        rest[0]
            .contains("\tbinance:rest:/api/v3/depth?symbol=BTCUSDT&limit=1000\t{\"lastUpdateId\":"),
        "{}",
        rest[0]
    );
    assert!(lines
        .iter()
        .all(|l| l.splitn(3, '\t').count() == 3
            && l.split('\t').next().unwrap().parse::<u64>().is_ok()));

    let json = replay_verify(&out, &dir);
    let btc = &json["instruments"][0];
    assert_eq!(btc["symbol"], "BTCUSDT");
    assert_eq!(btc["gaps"], 0);
    assert_eq!(btc["ticker_check"]["mismatch"], 0);
    assert!(btc["applied"].as_u64().unwrap() > 100, "{btc}");
    assert!(btc["ticker_check"]["ok"].as_u64().unwrap() > 10, "{btc}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `pulse record` of a live OKX session against `pulse venue --protocol okx`: the subscriptions
/// sent are recorded as `okx:send`, each book's snapshot and every push as `okx:ws`, and the
/// recording replays with every checksum agreeing.
#[test]
fn record_okx_then_replay_verify() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = std::env::temp_dir().join(format!("pulse-record-okx-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();

    let mut vc = VenueConfig::new(root.join("data/okx_books_2022-05-13.cap"));
    vc.protocol = Protocol::Okx;
    vc.speed_milli = 10_000;
    vc.ping_interval = Duration::from_millis(500);
    vc.wait_for_client = true;
    let venue = Venue::start(vc).unwrap();
    let okx = std::fs::read_to_string(root.join("configs/okx-live.toml")).unwrap();
    let endpoint = "ws_url = \"wss://ws.okx.com:8443/ws/v5/public\"";
    assert!(okx.contains(endpoint));
    let live = okx.replace(endpoint, &format!("ws_url = \"ws://{}\"", venue.addr()));
    let config = dir.join("okx.toml");
    std::fs::write(&config, live).unwrap();
    let out = dir.join("recorded.cap");

    record(&config, &out, "2");
    venue.stop();

    let text = std::fs::read_to_string(&out).unwrap();
    let sources: Vec<&str> = text
        .lines()
        .map(|l| l.split('\t').nth(1).unwrap())
        .collect();
    let sent: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("\tokx:send\t"))
        .map(|l| l.splitn(3, '\t').nth(2).unwrap())
        .collect();
    assert_eq!(
        sent,
        [
            r#"{"op":"subscribe","args":[{"channel":"books","instId":"BTC-USDT"},{"channel":"trades","instId":"BTC-USDT"},{"channel":"tickers","instId":"BTC-USDT"}]}"#
        ]
    );
    assert!(sources.iter().all(|s| *s == "okx:ws" || *s == "okx:send"));
    let snapshots = text
        .lines()
        .filter(|l| l.contains(r#""action":"snapshot""#))
        .count();
    assert_eq!(snapshots, 1, "BTC-USDT's, after its subscription");
    assert!(sources.len() > 90, "{} lines", sources.len());

    let json = replay_verify(&out, &dir);
    let btc = &json["instruments"][0];
    assert_eq!(btc["symbol"], "BTC-USDT");
    assert_eq!(btc["gaps"], 0);
    assert_eq!(btc["checksum"]["mismatch"], 0, "{btc}");
    assert!(btc["checksum"]["ok"].as_u64().unwrap() > 90, "{btc}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `pulse record` for `duration` seconds: it succeeds and loses nothing.
fn record(config: &Path, out: &Path, duration: &str) {
    let record = Command::new(env!("CARGO_BIN_EXE_pulse"))
        .args(["record", "--duration", duration, "--config"])
        .arg(config)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&record.stderr);
    assert!(record.status.success(), "{stderr}");
    assert!(stderr.contains("0 lost"), "{stderr}");
}

/// `pulse replay --verify` of `capture` passes; its JSON report.
fn replay_verify(capture: &Path, dir: &Path) -> serde_json::Value {
    let report = dir.join("report.json");
    let replay = Command::new(env!("CARGO_BIN_EXE_pulse"))
        .args(["replay", "--verify", "--input"])
        .arg(capture)
        .arg("--report-json")
        .arg(&report)
        .output()
        .unwrap();
    assert!(
        replay.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&replay.stdout),
        String::from_utf8_lossy(&replay.stderr)
    );
    serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap()
}

/// The same for Kraken v2: its four subscriptions recorded as `kraken:send`, the venue's
/// `instrument` snapshot and book snapshots as `kraken:ws`; the recording replays with the
/// pairs' decimals from that `instrument` snapshot and every checksum but the capture's own
/// planted one agreeing.
#[test]
fn record_kraken_then_replay_verify() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = std::env::temp_dir().join(format!("pulse-record-kraken-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();

    let mut vc = VenueConfig::new(root.join("data/kraken_v2_book_generated.cap"));
    vc.protocol = Protocol::Kraken;
    vc.speed_milli = 1_000;
    vc.wait_for_client = true;
    let venue = Venue::start(vc).unwrap();
    let kraken = std::fs::read_to_string(root.join("configs/kraken-live.toml")).unwrap();
    let endpoint = "ws_url = \"wss://ws.kraken.com/v2\"";
    assert!(kraken.contains(endpoint));
    let live = kraken.replace(endpoint, &format!("ws_url = \"ws://{}\"", venue.addr()));
    let config = dir.join("kraken.toml");
    std::fs::write(&config, live).unwrap();
    let out = dir.join("recorded.cap");
    record(&config, &out, "2");
    venue.stop();

    let text = std::fs::read_to_string(&out).unwrap();
    let sent: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("\tkraken:send\t"))
        .map(|l| l.splitn(3, '\t').nth(2).unwrap())
        .collect();
    assert_eq!(
        sent,
        [
            r#"{"method":"subscribe","params":{"channel":"instrument"}}"#,
            r#"{"method":"subscribe","params":{"channel":"book","symbol":["BTC/USD"],"depth":10}}"#,
            r#"{"method":"subscribe","params":{"channel":"ticker","symbol":["BTC/USD"]}}"#,
            r#"{"method":"subscribe","params":{"channel":"trade","symbol":["BTC/USD"]}}"#,
            // The capture's planted checksum mismatch: BTC/USD resubscribed alone.
            r#"{"method":"unsubscribe","params":{"channel":"book","symbol":["BTC/USD"],"depth":10}}"#,
            r#"{"method":"subscribe","params":{"channel":"book","symbol":["BTC/USD"],"depth":10}}"#,
        ]
    );
    assert!(text.contains(r#"kraken:ws	{"channel":"instrument","type":"snapshot""#));

    let json = replay_verify(&out, &dir);
    let btc = &json["instruments"][0];
    assert_eq!(btc["symbol"], "BTC/USD");
    assert_eq!(btc["gaps"], 0);
    assert_eq!(btc["checksum"]["mismatch"], 1, "{btc}");
    assert!(btc["checksum"]["ok"].as_u64().unwrap() > 150, "{btc}");
    assert_eq!(btc["resyncs"], 1, "{btc}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Records `config` (its `ws_url` line `endpoint` pointed at a local venue of `protocol`
/// serving `capture` on `path`, at `speed_milli`) for two seconds; the recording's lines.
fn record_from(
    (protocol, speed_milli): (Protocol, u64),
    capture: &str,
    config: &str,
    endpoint: &str,
    path: &str,
    dir: &Path,
) -> (String, std::path::PathBuf) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut vc = VenueConfig::new(root.join(capture));
    vc.protocol = protocol;
    vc.speed_milli = speed_milli;
    vc.ping_interval = Duration::from_millis(500);
    vc.wait_for_client = true;
    let venue = Venue::start(vc).unwrap();
    let text = std::fs::read_to_string(root.join(config)).unwrap();
    assert!(text.contains(endpoint), "{config}: {endpoint}");
    let url = format!("ws_url = \"ws://{}{path}\"", venue.addr());
    let live = dir.join("live.toml");
    std::fs::write(&live, text.replace(endpoint, &url)).unwrap();
    let out = dir.join("recorded.cap");
    record(&live, &out, "2");
    venue.stop();
    (std::fs::read_to_string(&out).unwrap(), out)
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("pulse-record-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Bybit linear: the subscription recorded as `bybit-linear:send`, the venue's acks, snapshot
/// and deltas as `bybit-linear:ws`; the recording replays with no gap.
#[test]
fn record_bybit_linear_then_replay_verify() {
    let dir = scratch("bybit");
    let (text, out) = record_from(
        (Protocol::BybitLinear, 10_000),
        "data/bybit_linear_generated.cap",
        "configs/bybit-linear-live.toml",
        "ws_url = \"wss://stream.bybit.com/v5/public/linear\"",
        "/v5/public/linear",
        &dir,
    );
    let sent: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("\tbybit-linear:send\t"))
        .map(|l| l.splitn(3, '\t').nth(2).unwrap())
        .collect();
    assert!(
        sent.iter().any(|s| s.contains(r#""orderbook.50.BTCUSDT""#)),
        "{sent:?}"
    );
    let json = replay_verify(&out, &dir);
    let btc = &json["instruments"][0];
    assert_eq!(btc["symbol"], "BTCUSDT");
    assert_eq!(btc["gaps"], 0, "{btc}");
    assert!(btc["snapshots"].as_u64().unwrap() >= 1, "{btc}");
    assert!(btc["applied"].as_u64().unwrap() > 20, "{btc}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Coinbase Advanced Trade: the four channel subscriptions recorded as `coinbase:send`, the
/// whole-book snapshot and updates as `coinbase:ws`; the recording replays with no gap in the
/// connection's sequence.
#[test]
fn record_coinbase_then_replay_verify() {
    let dir = scratch("coinbase");
    let (text, out) = record_from(
        (Protocol::Coinbase, 2_000),
        "data/coinbase_at_generated.cap.gz",
        "configs/coinbase-live.toml",
        "ws_url = \"wss://advanced-trade-ws.coinbase.com\"",
        "",
        &dir,
    );
    let channels: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("\tcoinbase:send\t"))
        .filter_map(|l| l.split(r#""channel":""#).nth(1))
        .map(|c| c.split('"').next().unwrap())
        .collect();
    for channel in ["heartbeats", "level2", "market_trades", "ticker"] {
        assert!(channels.contains(&channel), "{channels:?}");
    }
    let json = replay_verify(&out, &dir);
    let btc = &json["instruments"][0];
    assert_eq!(btc["symbol"], "BTC-USD");
    assert_eq!(btc["gaps"], 0, "{btc}");
    assert!(btc["snapshots"].as_u64().unwrap() >= 1, "{btc}");
    assert_eq!(btc["book"], "live", "{btc}");
    let _ = std::fs::remove_dir_all(&dir);
}
