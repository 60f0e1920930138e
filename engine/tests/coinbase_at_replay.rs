//! `pulse replay --verify` over the generated Coinbase Advanced Trade capture, held to an
//! independent rebuild: `scripts/coinbase_at_book_reference.py`, plain Python dicts and Decimal
//! following the `level2` procedure and the connection's `sequence_num`. Every product's
//! counts, faults (the gap, the resyncs, the duplicate, the absent deletes), tickers counted and
//! final top five levels a side must equal the script's, and the figures the script printed
//! when the capture was made are pinned here too; then a copy whose resubscriptions bring no
//! snapshot fails `--verify` with the reason.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

mod common;

use common::{replay_verify as replay, repo_root, TempDir};

const CAPTURE: &str = "data/coinbase_at_generated.cap.gz";
const PRODUCTS: [&str; 3] = ["BTC-USD", "ETH-USD", "SOL-USD"];

fn report(json: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap()
}

fn capture_text() -> String {
    let gz = std::fs::read(repo_root().join(CAPTURE)).unwrap();
    let mut text = String::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_string(&mut text)
        .unwrap();
    text
}

/// The capture with `edit` applied to its lines, written (plain) to `dir/doctored.cap`.
fn doctored(dir: &Path, edit: impl Fn(Vec<String>) -> Vec<String>) -> PathBuf {
    let lines = edit(capture_text().lines().map(str::to_owned).collect());
    let path = dir.join("doctored.cap");
    let mut file = std::fs::File::create(&path).unwrap();
    file.write_all((lines.join("\n") + "\n").as_bytes())
        .unwrap();
    path
}

#[test]
fn the_capture_rebuilds_every_book_as_the_reference_does() {
    let dir = TempDir::new("coinbase-at-replay");
    let json = dir.0.join("report.json");
    let input = repo_root().join(CAPTURE);
    let out = replay(&input, &json);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains(
            "verify    ok: 3 instrument(s), 0 venue ticker checks, all matched; 3 fault(s) \
             detected (gaps, checksum mismatches), each followed by a completed resync"
        ),
        "{stdout}"
    );
    let report = report(&json);
    assert_eq!(report["input"]["lines"], 292);
    assert_eq!(report["input"]["malformed_lines"], 0);
    assert_eq!(report["input"]["decode_errors"], json!({}));
    let ours = report["instruments"].as_array().unwrap();
    let theirs = common::python_reference("coinbase_at_book_reference.py", &input);
    let names: Vec<&str> = ours.iter().map(|i| i["symbol"].as_str().unwrap()).collect();
    assert_eq!(names, PRODUCTS);
    assert_eq!(theirs.len(), PRODUCTS.len());
    for (o, t) in ours.iter().zip(&theirs) {
        let symbol = &t["symbol"];
        assert_eq!((&o["venue"], &o["symbol"]), (&t["venue"], symbol));
        for key in [
            "messages",
            "applied",
            "dropped",
            "duplicates",
            "gaps",
            "snapshots",
            "resyncs",
            "stale_marks",
            "last_update_id",
            "trades",
            "tickers",
            "ticker_check",
            "book",
            "top",
        ] {
            assert_eq!(o[key], t[key], "{symbol} {key}");
        }
        // Left out of the report when none.
        for key in ["absent_deletes", "sequence_resets"] {
            let ours = o.get(key).cloned().unwrap_or(0.into());
            assert_eq!(ours, t[key], "{symbol} {key}");
        }
        assert_eq!(o["crossed"], 0, "{symbol}");
        assert!(o.get("checksum").is_none(), "Coinbase sends no checksum");
    }
    // What the reference printed when the capture was made (rebuilt independently of Pulse):
    // (messages, applied, dropped, duplicates, gaps, snapshots, resyncs, absent deletes,
    // tickers counted, last update id). Tickers are counted, never held to the book.
    let expected = [
        (107, 48, 1, 0, 1, 2, 1, 1, 20, 275),
        (102, 57, 0, 0, 1, 2, 1, 1, 6, 277),
        (86, 50, 1, 1, 1, 2, 1, 1, 15, 270),
    ];
    for (i, e) in ours.iter().zip(expected) {
        let n = |key: &str| i.get(key).and_then(Value::as_u64).unwrap_or(0);
        let got = (
            n("messages"),
            n("applied"),
            n("dropped"),
            n("duplicates"),
            n("gaps"),
            n("snapshots"),
            n("resyncs"),
            n("absent_deletes"),
            n("tickers"),
            n("last_update_id"),
        );
        assert_eq!(got, e, "{}", i["symbol"]);
    }
    let top = |i: usize, side: &str| ours[i]["top"][side][0].clone();
    assert_eq!(top(0, "bids"), json!(["21921.71", "5.98025823"]));
    assert_eq!(top(0, "asks"), json!(["21921.74", "7.60370799"]));
    assert_eq!(top(1, "bids"), json!(["1260.01", "3.77303520"]));
    assert_eq!(top(1, "asks"), json!(["1260.04", "2.91822261"]));
    assert_eq!(top(2, "bids"), json!(["23.47", "4.909"]));
    assert_eq!(top(2, "asks"), json!(["23.50", "0.660"]));
}

#[test]
fn the_whole_book_snapshot_is_one_line_of_several_megabytes() {
    let text = capture_text();
    let longest = text.lines().map(str::len).max().unwrap();
    // Above the 4 MiB the capture reader once took as its longest line.
    assert!(longest > 5_000_000, "{longest}");
    let levels = text
        .lines()
        .find(|l| l.contains(r#""type":"snapshot","product_id":"BTC-USD""#))
        .map(|l| l.matches("\"price_level\"").count());
    assert_eq!(levels, Some(46_000));
}

#[test]
fn resubscriptions_that_bring_no_snapshot_fail_verify() {
    let dir = TempDir::new("coinbase-at-unrecovered");
    let json = dir.0.join("report.json");
    // The recording ends before the new snapshots: every book is stale at the end.
    let cut = doctored(&dir.0, |lines| {
        let at = lines
            .iter()
            .position(|l| l.contains("coinbase:send\t{\"type\":\"unsubscribe\""))
            .unwrap();
        lines[..at].to_vec()
    });
    let out = replay(&cut, &json);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 3, "{stderr}");
    assert_eq!(
        stderr.lines().next().unwrap(),
        "verify    FAILED coinbase BTC-USD: 1 update id gap(s), 0 resync(s): the book is stale \
         at the end (a fault never recovered)"
    );
}

#[test]
fn the_capture_is_what_the_script_writes() {
    let dir = TempDir::new("coinbase-at-generate");
    let out = std::process::Command::new("python3")
        .arg(repo_root().join("scripts/coinbase_at_generate.py"))
        .arg(&dir.0)
        .output()
        .expect("python3 runs the generator");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let gz = std::fs::read(dir.0.join("coinbase_at_generated.cap.gz")).unwrap();
    let mut written = String::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_string(&mut written)
        .unwrap();
    // Compared after gzip: another zlib may compress the same text to other bytes.
    assert!(written == capture_text(), "the bundled capture is stale");
    assert!(gz.len() < 1_500_000, "{} bytes", gz.len());
}

#[test]
fn the_live_config_replays_the_capture_through_every_stage() {
    let config = repo_root().join("configs/coinbase-live.toml");
    let input = repo_root().join(CAPTURE);
    // The feed and book with the config's one product: the others' frames are counted.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pulse"))
        .args(["replay", "--verify", "--input"])
        .arg(&input)
        .arg("--instruments-from")
        .arg(&config)
        .output()
        .expect("pulse runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("skipped   161 x frame for a symbol that is not configured"),
        "{stdout}"
    );
    assert!(
        stdout.contains("verify    ok: 1 instrument(s), 0 venue ticker checks, all matched"),
        "{stdout}"
    );
    // `pulse run` with the live source replaced by the capture: strategy, risk, simulated venue.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pulse"))
        .args(["replay", "--input"])
        .arg(&input)
        .arg("--config")
        .arg(&config)
        .output()
        .expect("pulse runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains(
            "sync      BTC-USD: 2 snapshot(s), 48 diffs applied, 1 dropped (covered by the \
             snapshot), 1 gaps, 1 resyncs, last update id 275"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("venue ticker check 0 ok / 0 mismatch"),
        "{stdout}"
    );
}
