//! Inputs that once passed `check-config` and then failed at run, and order endpoints that were
//! weaker than they looked, through the real binary: each is refused by `check-config` naming
//! its key, and `pulse run` refuses it the same way, without a panic or an abort; a capture that
//! cannot be read to its end fails the run with the reason.

mod common;

use std::path::{Path, PathBuf};

use common::{check_config, pulse, repo_config, repo_root};

fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pulse-inputs-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn replace_once(text: &str, from: &str, to: &str) -> String {
    assert_eq!(text.matches(from).count(), 1, "{from:?} must occur once");
    text.replacen(from, to, 1)
}

fn paper() -> String {
    std::fs::read_to_string(repo_root().join("configs/paper.toml")).unwrap()
}

const GATEWAY_WS: &str = "ws_api_url = \"ws://127.0.0.1:9443/ws-api/v3\"";
const GATEWAY_REST: &str = "rest_url = \"http://127.0.0.1:9443\"          # optional";

/// `pulse run` on `text`: its exit code and stderr. Refused configs never reach the keys.
fn run(dir: &Path, text: &str) -> (Option<i32>, String) {
    let path = dir.join("run.toml");
    std::fs::write(&path, text).unwrap();
    let out = pulse(&["run", "--config", path.to_str().unwrap()]);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn plain_order_endpoints_are_refused_unless_on_loopback() {
    let dir = scratch("plain");
    let refused = [
        (
            replace_once(
                &paper(),
                GATEWAY_WS,
                "ws_api_url = \"ws://10.0.0.7:9443/ws-api/v3\"",
            ),
            "gateway.ws_api_url",
            "10.0.0.7: use wss://",
        ),
        (
            replace_once(
                &paper(),
                GATEWAY_REST,
                "rest_url = \"http://api.binance.com\"          # optional",
            ),
            "gateway.rest_url",
            "api.binance.com: use https://",
        ),
    ];
    for (text, key, tail) in &refused {
        let (code, err) = check_config(&dir, "plain.toml", text);
        assert_eq!(code, Some(1), "{err}");
        assert!(
            err.contains(&format!("{key}: a plain scheme would send the API key")),
            "{err}"
        );
        assert!(err.contains(tail), "{err}");
        let (code, err) = run(&dir, text);
        assert_eq!(code, Some(1), "{err}");
        assert!(err.contains(key), "{err}");
    }
    for host in ["127.0.0.1", "127.3.2.1", "localhost", "[::1]"] {
        let text = paper().replace("127.0.0.1:9443", &format!("{host}:9443"));
        let (code, err) = check_config(&dir, "loopback.toml", &text);
        assert_eq!(code, Some(0), "{host}: {err}");
    }
    let tls = replace_once(
        &paper(),
        GATEWAY_WS,
        "ws_api_url = \"wss://ws-api.binance.com:443/ws-api/v3\"",
    );
    let tls = replace_once(
        &tls,
        GATEWAY_REST,
        "rest_url = \"https://api.binance.com\"          # optional",
    );
    assert_eq!(check_config(&dir, "tls.toml", &tls).0, Some(0));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_real_gateway_requires_a_journal() {
    let dir = scratch("journal");
    let text = paper();
    let start = text.find("[journal]").unwrap();
    let end = text.find("[metrics]").unwrap();
    let without = format!("{}{}", &text[..start], &text[end..]);
    let (code, err) = check_config(&dir, "nojournal.toml", &without);
    assert_eq!(code, Some(1), "{err}");
    let line = 1 + without
        .lines()
        .position(|l| l.starts_with("kind = \"binance\"  "))
        .unwrap();
    assert!(
        err.contains(&format!(
            "line {line}: journal: required when the gateway is not the simulated venue"
        )),
        "{err}"
    );
    let (code, err) = run(&dir, &without);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("journal: required"), "{err}");
    // The simulated venue needs none: the demo has no [journal].
    let demo = std::fs::read_to_string(repo_root().join("configs/demo.toml")).unwrap();
    assert!(!demo.contains("\n[journal]"));
    let demo_path = repo_root().join("configs/demo.toml");
    let out = pulse(&["check-config", "--config", demo_path.to_str().unwrap()]);
    assert!(out.status.success());
    let _ = std::fs::remove_dir_all(&dir);
}

/// `configs/imbalance.toml` trading `symbol`, with `[metrics] stats` as given.
fn with_symbol(dir: &Path, symbol: &str, stats: &str) -> String {
    let config = repo_config(
        "imbalance.toml",
        dir,
        None,
        &[
            ("symbol = \"BTCUSDT\"", &format!("symbol = \"{symbol}\"")),
            (
                "instrument = \"BTCUSDT\"",
                &format!("instrument = \"{symbol}\""),
            ),
            ("stats = true ", &format!("stats = {stats} ")),
        ],
    );
    std::fs::read_to_string(config).unwrap()
}

#[test]
fn symbols_too_long_or_not_ascii_are_refused_with_or_without_stats() {
    let dir = scratch("symbol");
    let long = "A".repeat(38);
    for symbol in [
        long.as_str(),
        "BTC\u{00dc}SDT",
        "BTC?USDT",
        "BTC USDT",
        &"B".repeat(33),
    ] {
        for stats in ["true", "false"] {
            let text = with_symbol(&dir, symbol, stats);
            let (code, err) = check_config(&dir, "symbol.toml", &text);
            assert_eq!(code, Some(1), "{symbol}: {err}");
            assert!(
                err.contains("instruments[0].symbol: must be 1 to 32 characters of A-Z"),
                "{err}"
            );
            let (code, err) = run(&dir, &text);
            assert_eq!(code, Some(1), "{symbol} stats={stats}: {err}");
            assert!(!err.contains("panicked"), "{err}");
            assert!(err.contains("instruments[0].symbol"), "{err}");
        }
    }
    // 32 characters is the most, and runs whether or not the stats file is shared: its
    // per-instrument label fits the field.
    let symbol = "C".repeat(32);
    for stats in ["true", "false"] {
        let text = with_symbol(&dir, &symbol, stats);
        assert_eq!(check_config(&dir, "max.toml", &text).0, Some(0));
        let text = text.replace(
            "name = \"imbalance\"",
            &format!("name = \"inputs-{}-{stats}\"", std::process::id()),
        );
        let (code, err) = run(&dir, &text);
        assert_eq!(code, Some(0), "stats={stats}: {err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn rings_beyond_the_memory_budget_are_refused_by_name_and_total() {
    let dir = scratch("rings");
    let config = repo_config("imbalance.toml", &dir, None, &[]);
    let five = format!(
        "{}\n[rings]\nmarket_data = 16777216\nbook_events = 16777216\nintents = 16777216\n\
         orders = 16777216\nreports = 16777216\n",
        std::fs::read_to_string(&config).unwrap()
    );
    let (code, err) = check_config(&dir, "rings.toml", &five);
    assert_eq!(code, Some(1), "{err}");
    let book_line = 1 + five
        .lines()
        .position(|l| l == "book_events = 16777216")
        .unwrap();
    assert!(
        err.contains(&format!("line {book_line}: rings: the rings would take ")),
        "{err}"
    );
    for key in [
        "rings.market_data 16777216 slots",
        "rings.book_events 16777216 slots",
        "rings.intents 16777216 slots",
        "rings.orders 16777216 slots",
        "rings.reports 16777216 slots",
        "(rings.max_memory_mb = 1024)",
    ] {
        assert!(err.contains(key), "{key}: {err}");
    }
    let (code, err) = run(&dir, &five);
    assert_eq!(code, Some(1), "an error exit, not an abort: {err}");
    assert!(err.contains("rings: the rings would take"), "{err}");
    // The budget can be raised, but never past half of the machine.
    let raised = format!("{five}max_memory_mb = 4294967295\n");
    let (code, err) = check_config(&dir, "raised.toml", &raised);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("(half of this machine's memory)"), "{err}");
    // One big ring within the budget is fine.
    let one = format!(
        "{}\n[rings]\norders = 16777216\n",
        std::fs::read_to_string(&config).unwrap()
    );
    assert_eq!(check_config(&dir, "one.toml", &one).0, Some(0));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_truncated_capture_fails_the_run_with_the_reason() {
    let dir = scratch("truncated");
    let bundled = repo_root().join("data/binance_spot_btcusdt_2024-08-08.cap.gz");
    let bytes = std::fs::read(&bundled).unwrap();
    let truncated = dir.join("truncated.cap.gz");
    std::fs::write(&truncated, &bytes[..bytes.len() / 4]).unwrap();
    let config = repo_config("imbalance.toml", &dir, None, &[]);
    let text = replace_once(
        &std::fs::read_to_string(&config).unwrap(),
        &format!("{:?}", bundled.display().to_string()),
        &format!("{:?}", truncated.display().to_string()),
    );
    let path = dir.join("truncated.toml");
    std::fs::write(&path, &text).unwrap();
    let out = pulse(&["run", "--config", path.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let logged = err
        .lines()
        .find(|l| l.contains("capture read failed"))
        .expect("the feed logs where it stopped");
    let at = logged
        .split("first at line ")
        .nth(1)
        .and_then(|s| s.split(';').next())
        .unwrap();
    assert!(
        err.contains(&format!(
            "pulse: the run ended before its input did: incomplete deflate stream at line {at}; \
             the rest of the input cannot be read"
        )),
        "{err}"
    );
    assert!(
        !out.stdout.is_empty(),
        "the summary of what was read is still printed"
    );
    let out = pulse(&[
        "replay",
        "--input",
        truncated.to_str().unwrap(),
        "--config",
        path.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("incomplete deflate stream at line"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
