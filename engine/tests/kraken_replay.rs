//! `pulse replay --verify --report-json` on Kraken captures, through the real binary, with no
//! config (the pairs and their decimals come from the capture): the bundled v1 capture
//! reproduces 4,269/4,269 checksums; a corrupted copy fails with the pair and the reason; the
//! generated v2 capture (one corrupted checksum by construction) fails the same way, and its
//! report and the v1 one equal the independent Python rebuild
//! (`scripts/kraken_book_reference.py`) figure for figure, when python3 is present.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn repo(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(relative)
}

fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pulse-kraken-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn replay(input: &Path, json: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pulse"))
        .args(["replay", "--verify", "--input"])
        .arg(input)
        .arg("--report-json")
        .arg(json)
        .output()
        .expect("pulse runs")
}

fn report(json: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(json).expect("the report was written"))
        .expect("the report is JSON")
}

/// The Python rebuild's lines, by symbol; `None` without python3.
fn reference(capture: &Path) -> Option<Vec<Value>> {
    let out = Command::new("python3")
        .arg(repo("scripts/kraken_book_reference.py"))
        .arg(capture)
        .output()
        .ok()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    Some(
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect(),
    )
}

/// Every figure the rebuild prints equals the report's.
fn agrees_with_reference(capture: &Path, report: &Value) {
    let Some(expected) = reference(capture) else {
        eprintln!("python3 not found: the reference comparison is skipped");
        return;
    };
    let instruments = report["instruments"].as_array().unwrap();
    assert_eq!(instruments.len(), expected.len());
    for want in expected {
        let symbol = want["symbol"].as_str().unwrap();
        let got = instruments
            .iter()
            .find(|i| i["symbol"] == symbol)
            .unwrap_or_else(|| panic!("{symbol} in the report"));
        for key in ["snapshots", "applied", "dropped", "resyncs"] {
            assert_eq!(got[key], want[key], "{symbol} {key}");
        }
        assert_eq!(got["checksum"]["ok"], want["checksum_ok"], "{symbol}");
        assert_eq!(
            got["checksum"]["mismatch"], want["checksum_mismatch"],
            "{symbol}"
        );
        // A book that ends stale holds nothing the venue vouches for: only live ones compare.
        if want["stale"] == false {
            assert_eq!(got["top"], want["top"], "{symbol}: the final book");
        }
    }
}

#[test]
fn the_v1_capture_verifies_every_checksum() {
    let dir = scratch("v1");
    let capture = repo("data/kraken_v1_book1000_2021-04-17.cap");
    let json = dir.join("report.json");
    let out = replay(&capture, &json);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("4269 venue checksums, all matched"),
        "{stdout}"
    );
    let report = report(&json);
    let instruments = report["instruments"].as_array().unwrap();
    assert_eq!(instruments.len(), 10);
    let mut ok = 0;
    for i in instruments {
        assert_eq!(i["venue"], "kraken-v1");
        assert_eq!(i["checksum"]["mismatch"], 0, "{}", i["symbol"]);
        assert_eq!(i["snapshots"], 1);
        assert_eq!(i["crossed"], 0);
        ok += i["checksum"]["ok"].as_u64().unwrap();
        // Registered at the decimals of the wire strings: 6 for WAVES/EUR's prices.
        if i["symbol"] == "WAVES/EUR" {
            assert_eq!(
                i["top"]["bids"][0],
                serde_json::json!(["13.233000", "651.13730823"])
            );
        }
    }
    assert_eq!(ok, 4_269);
    assert_eq!(report["input"]["malformed_lines"], 0);
    agrees_with_reference(&capture, &report);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_corrupted_v1_copy_fails_with_the_pair_and_the_reason() {
    let dir = scratch("v1-corrupt");
    let text = std::fs::read_to_string(repo("data/kraken_v1_book1000_2021-04-17.cap")).unwrap();
    // The first update of GRT/ETH gets another checksum.
    let mut done = false;
    let corrupted: String = text
        .lines()
        .map(|l| {
            let mut l = l.to_string();
            if !done && l.contains(r#""c":""#) && l.ends_with(r#""GRT/ETH"]"#) {
                let at = l.find(r#""c":""#).unwrap() + 5;
                let digit = if &l[at..=at] == "1" { "2" } else { "1" };
                l.replace_range(at..=at, digit);
                done = true;
            }
            l + "\n"
        })
        .collect();
    assert!(done);
    let (capture, json) = (dir.join("corrupt.cap"), dir.join("report.json"));
    std::fs::write(&capture, corrupted).unwrap();
    let out = replay(&capture, &json);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last = stderr.lines().last().unwrap_or_default();
    assert!(
        last.contains("kraken-v1 GRT/ETH") && last.contains("1 of 1 venue checksum(s) disagree"),
        "{stderr}"
    );
    let report = report(&json);
    for i in report["instruments"].as_array().unwrap() {
        let bad = u64::from(i["symbol"] == "GRT/ETH");
        assert_eq!(i["checksum"]["mismatch"], bad, "{}", i["symbol"]);
        assert_eq!(i["stale_marks"], bad, "only GRT/ETH went stale");
    }
    agrees_with_reference(&capture, &report);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_generated_v2_capture_matches_the_rebuild_and_recovers_from_its_corrupted_checksum() {
    let dir = scratch("v2");
    let capture = repo("data/kraken_v2_book_generated.cap");
    let json = dir.join("report.json");
    let out = replay(&capture, &json);
    // One checksum was corrupted on purpose and the resubscription's snapshot follows: a fault
    // detected and recovered, so --verify passes, naming it.
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.lines().last().unwrap_or_default().ends_with(
            "all matched; 1 fault(s) detected (gaps, checksum mismatches), each followed by a \
             completed resync"
        ),
        "{stdout}"
    );
    let report = report(&json);
    let btc = report["instruments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["symbol"] == "BTC/USD")
        .expect("BTC/USD, registered at the instrument channel's decimals");
    assert_eq!(btc["resyncs"], 1);
    assert_eq!(
        btc["top"]["asks"][2],
        serde_json::json!(["93890.0", "0.00005631"])
    );
    agrees_with_reference(&capture, &report);
    let _ = std::fs::remove_dir_all(dir);
}
