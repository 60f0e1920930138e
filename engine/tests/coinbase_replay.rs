//! `pulse replay --verify` over the bundled Coinbase Exchange `level2` capture (10 products,
//! 9,719 updates), held to an independent rebuild: `scripts/coinbase_book_reference.py`, plain
//! Python dicts and Decimal following Coinbase's documented procedure. Every product's counts
//! and final top five levels a side must equal the script's; then doctored copies fail
//! `--verify` with the reason.

use std::path::{Path, PathBuf};

use serde_json::Value;

mod common;

use common::{replay_verify as replay, repo_root, TempDir};

const CAPTURE: &str = "data/coinbase_exchange_level2_2021-04-17.cap";

/// The script's rebuild, one object per product.
fn reference(input: &Path) -> Vec<Value> {
    common::python_reference("coinbase_book_reference.py", input)
}

fn report(json: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap()
}

#[test]
fn the_bundled_capture_rebuilds_every_book_as_the_reference_does() {
    let dir = TempDir::new("coinbase-replay");
    let json = dir.0.join("report.json");
    let input = repo_root().join(CAPTURE);
    let out = replay(&input, &json);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("verify    ok: 10 instrument(s), 0 venue ticker checks, all matched"),
        "{stdout}"
    );
    let report = report(&json);
    let ours = report["instruments"].as_array().unwrap();
    let theirs = reference(&input);
    assert_eq!(ours.len(), 10);
    assert_eq!(theirs.len(), 10);
    for (o, t) in ours.iter().zip(&theirs) {
        assert_eq!(o["venue"], "coinbase-exchange");
        assert_eq!(o["symbol"], t["product"]);
        let product = &t["product"];
        for (our_key, their_key) in [
            ("applied", "applied"),
            ("snapshots", "snapshots"),
            ("dropped", "dropped"),
            ("crossed", "crossed"),
            ("tickers", "tickers"),
            ("trades", "trades"),
        ] {
            assert_eq!(o[our_key], t[their_key], "{product} {our_key}");
        }
        assert_eq!(o["top"], t["top"], "{product} top of book");
        assert_eq!(o["book"], "live", "{product}");
        assert_eq!((&o["gaps"], &o["resyncs"]), (&0.into(), &0.into()));
    }
    // The script's figures, pinned so that a change to both sides at once is seen.
    let applied: Vec<u64> = ours
        .iter()
        .map(|i| i["applied"].as_u64().unwrap())
        .collect();
    assert_eq!(
        applied,
        [471, 289, 76, 487, 1539, 670, 1005, 1925, 665, 2592]
    );
    assert_eq!(applied.iter().sum::<u64>(), 9_719);
    assert_eq!(
        ours[9]["top"]["bids"][0],
        serde_json::json!(["0.79020000", "468.00000000"])
    );
}

/// The bundled capture with `edit` applied to its lines.
fn doctored(dir: &TempDir, edit: impl Fn(Vec<String>) -> Vec<String>) -> PathBuf {
    common::doctored(&dir.0, CAPTURE, edit)
}

#[test]
fn verify_fails_on_a_crossed_book_and_on_a_product_never_synced() {
    let dir = TempDir::new("coinbase-doctored");
    let json = dir.0.join("report.json");
    // A bid far above every ask of SKL-USD, right after its snapshot: the book crosses, goes
    // stale, and no later snapshot repairs it.
    let crossed = doctored(&dir, |mut lines| {
        let at = lines
            .iter()
            .position(|l| l.contains(r#""type":"snapshot","product_id":"SKL-USD""#))
            .unwrap();
        let ts = lines[at].split('\t').next().unwrap().to_owned();
        lines.insert(
            at + 1,
            format!(
                "{ts}\tcoinbase-exchange:ws\t{}",
                r#"{"type":"l2update","product_id":"SKL-USD","changes":[["buy","5.0000","1.0"]]}"#
            ),
        );
        lines
    });
    let out = replay(&crossed, &json);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("verify    FAILED coinbase-exchange SKL-USD: book crossed at 1 commit(s)"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "only SKL-USD fails: {stderr}");
    let report = report(&json);
    assert_eq!(report["instruments"][9]["book"], "stale");
    assert_eq!(report["input"]["resync_requests"], 1);

    // Without its snapshot, NU-GBP's updates are all dropped: never synced.
    let unsynced = doctored(&dir, |lines| {
        lines
            .into_iter()
            .filter(|l| !l.contains(r#""type":"snapshot","product_id":"NU-GBP""#))
            .collect()
    });
    let out = replay(&unsynced, &json);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.trim_end(),
        "verify    FAILED coinbase-exchange NU-GBP: never synced (no usable snapshot)"
    );
    assert_eq!(report_of(&json, "NU-GBP")["dropped"], 76);
}

fn report_of(json: &Path, symbol: &str) -> Value {
    report(json)["instruments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["symbol"] == symbol)
        .cloned()
        .unwrap()
}
