//! `pulse replay --input data/okx_books_2022-05-13.cap --verify --report-json OUT` through the
//! real binary, with no config: the three OKX instruments are registered from the capture at
//! the scales their strings show, all 290 checksums match, and a corrupted copy fails `--verify`
//! naming the instrument and the reason.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn capture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/okx_books_2022-05-13.cap")
}

fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pulse-okx-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn pulse_replay(input: &Path, json: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pulse"))
        .arg("replay")
        .arg("--input")
        .arg(input)
        .arg("--verify")
        .arg("--report-json")
        .arg(json)
        .output()
        .expect("pulse runs")
}

#[test]
fn the_bundled_capture_verifies_with_every_checksum_matching() {
    let dir = scratch("bundled");
    let json = dir.join("report.json");
    let out = pulse_replay(&capture(), &json);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("verify    ok: 3 instrument(s), 0 venue ticker checks, 290 venue checksums, all matched"),
        "{stdout}"
    );
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let instruments = report["instruments"].as_array().unwrap();
    let rows: Vec<(&str, &str, u64, u64, u64, u64)> = instruments
        .iter()
        .map(|i| {
            (
                i["venue"].as_str().unwrap(),
                i["symbol"].as_str().unwrap(),
                i["snapshots"].as_u64().unwrap(),
                i["applied"].as_u64().unwrap(),
                i["checksum"]["ok"].as_u64().unwrap(),
                i["checksum"]["mismatch"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("okx", "BTC-USD-220527", 1, 98, 99, 0),
            ("okx", "UNI-USD-SWAP", 1, 92, 93, 0),
            ("okx", "BTC-USDT", 1, 97, 98, 0),
        ]
    );
    for i in instruments {
        assert_eq!(i["crossed"], 0);
        assert_eq!(i["gaps"], 0);
        // The schema is today's, with `checksum` added.
        for key in [
            "messages",
            "dropped",
            "resyncs",
            "tickers",
            "ticker_check",
            "top",
        ] {
            assert!(i.get(key).is_some(), "{key}");
        }
    }
    // The final touch, in the strings' own decimals (sizes at the instrument's size scale).
    let touch = |i: usize, side: &str| instruments[i]["top"][side][0].clone();
    assert_eq!(
        touch(2, "bids"),
        serde_json::json!(["30236.1", "0.18050747"])
    );
    assert_eq!(
        touch(2, "asks"),
        serde_json::json!(["30236.2", "0.00100000"])
    );
    assert_eq!(touch(1, "asks"), serde_json::json!(["5.145", "50"]));
}

#[test]
fn a_corrupted_copy_fails_verify_naming_the_instrument() {
    let dir = scratch("corrupted");
    let text = std::fs::read_to_string(capture()).unwrap();
    // BTC-USD-220527's first update sets bid 30182.6 to 452: make it 453.
    let from = r#"["30182.6","452","0","1"]"#;
    assert!(text.contains(from));
    let doctored = dir.join("doctored.cap");
    std::fs::write(
        &doctored,
        text.replacen(from, r#"["30182.6","453","0","1"]"#, 1),
    )
    .unwrap();
    let json = dir.join("report.json");
    let out = pulse_replay(&doctored, &json);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines,
        ["verify    FAILED okx BTC-USD-220527: 0 update id gap(s), 1 of 2 venue checksum(s) disagreed, 0 resync(s): the book is stale at the end (a fault never recovered)"]
    );
    let fut = &report["instruments"][0];
    assert_eq!(fut["checksum"], serde_json::json!({"ok": 1, "mismatch": 1}));
    assert_eq!(fut["stale_marks"], 1);
    assert_eq!(report["instruments"][1]["checksum"]["mismatch"], 0);
}

/// An OKX instrument in a config: `--instruments-from` replays feed and book at its scales,
/// and a full replay trades it against the simulated venue through every stage.
#[test]
fn an_okx_instrument_from_a_config_replays_and_trades() {
    let dir = scratch("config");
    let config = dir.join("okx.toml");
    let text = format!(
        r#"[engine]
name = "okx-replay"
[source]
kind = "capture"
path = "{}"
[[instruments]]
venue = "okx"
symbol = "BTC-USDT"
price_scale = 1
qty_scale = 8
tick_size = "0.1"
lot_size = "0.00000001"
[instruments.risk]
max_order_qty = "0.002"
max_order_notional = "150"
max_position = "0.01"
price_collar_bps = 50
max_ref_age_ms = 2000
[risk]
capital = "10000"
[strategy]
kind = "book-imbalance"
instrument = "BTC-USDT"
depth_levels = 5
threshold_bps = 3000
order_qty = "0.002"
max_position = "0.012"
cooldown_ms = 500
slippage_ticks = 2
[gateway]
kind = "sim"
taker_fee_bps = "10"
maker_fee_bps = "2"
[metrics]
stats = false
"#,
        capture().display()
    );
    std::fs::write(&config, text).unwrap();
    let pulse = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_pulse"))
            .args(args)
            .current_dir(&dir)
            .output()
            .expect("pulse runs")
    };
    let input = capture();
    let input = input.to_str().unwrap();
    let out = pulse(&[
        "replay",
        "--input",
        input,
        "--instruments-from",
        "okx.toml",
        "--verify",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("checksum  okx BTC-USDT: 98 ok, 0 mismatch"),
        "{stdout}"
    );
    let out = pulse(&["replay", "--input", input, "--config", "okx.toml"]);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("sync      BTC-USDT: 1 snapshot(s), 97 diffs applied"),
        "{stdout}"
    );
    assert!(stdout.contains("crossed 0, stale 0"), "{stdout}");
    assert!(
        stdout.contains("orders    13 sent, 13 acked, 7 filled"),
        "{stdout}"
    );
}
