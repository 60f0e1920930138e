//! `pulse replay --verify --report-json` over the three bundled Binance captures, through the
//! real binary, and `--verify` failing on doctored copies.
//!
//! The expected figures were computed independently, once, by
//! `scripts/binance_book_reference.py data/<capture>`: a plain-Python rebuild of every book with
//! Binance's documented rules (dicts and `Decimal`, no Pulse code), which prints these counts,
//! the update ids, the ticker checks and the top five levels of each book.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{json, Value};

mod common;

fn repo(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(relative)
}

/// A per-test scratch folder, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("pulse-replay-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn pulse_replay(input: &Path, json: &Path) -> Output {
    common::replay_verify(input, json)
}
/// Runs `--verify` on a bundled capture, requires it to pass, and returns the JSON report.
fn verified(capture: &str, test: &str) -> (Value, String) {
    let scratch = Scratch::new(test);
    let json = scratch.0.join("report.json");
    let out = pulse_replay(&repo(&format!("data/{capture}")), &json);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "pulse replay --verify {capture} failed: {}\n{stdout}{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&json).expect("the report was written");
    (
        serde_json::from_str(&text).expect("the report is JSON"),
        stdout,
    )
}

/// The per-instrument figures the reference script prints.
struct Expected {
    venue: &'static str,
    symbol: &'static str,
    messages: u64,
    applied: u64,
    dropped: u64,
    tickers: u64,
    ticker_ok: u64,
    last_update_id: u64,
    best_bid: [&'static str; 2],
    best_ask: [&'static str; 2],
    fifth_bid: [&'static str; 2],
    fifth_ask: [&'static str; 2],
}

fn check(report: &Value, expected: &[Expected]) {
    let instruments = report["instruments"].as_array().expect("instruments");
    assert_eq!(instruments.len(), expected.len());
    for (got, want) in instruments.iter().zip(expected) {
        let who = format!("{} {}", want.venue, want.symbol);
        let n = |key: &str| got[key].as_u64().unwrap_or_else(|| panic!("{who}: {key}"));
        assert_eq!(got["venue"], want.venue, "{who}");
        assert_eq!(got["symbol"], want.symbol, "{who}");
        assert_eq!(n("messages"), want.messages, "{who}: messages");
        assert_eq!(n("applied"), want.applied, "{who}: applied");
        assert_eq!(n("dropped"), want.dropped, "{who}: dropped");
        assert_eq!(n("tickers"), want.tickers, "{who}: tickers");
        assert_eq!(n("last_update_id"), want.last_update_id, "{who}");
        for zero in ["duplicates", "gaps", "resyncs", "crossed", "stale_marks"] {
            assert_eq!(n(zero), 0, "{who}: {zero}");
        }
        assert_eq!(n("snapshots"), 1, "{who}: snapshots");
        assert_eq!(
            got["ticker_check"]["ok"], want.ticker_ok,
            "{who}: ticker ok"
        );
        assert_eq!(got["ticker_check"]["mismatch"], 0, "{who}: ticker mismatch");
        let side = |key: &str| got["top"][key].as_array().unwrap().clone();
        let (bids, asks) = (side("bids"), side("asks"));
        assert_eq!((bids.len(), asks.len()), (5, 5), "{who}: top depth");
        assert_eq!(bids[0], serde_json::json!(want.best_bid), "{who}");
        assert_eq!(asks[0], serde_json::json!(want.best_ask), "{who}");
        assert_eq!(bids[4], serde_json::json!(want.fifth_bid), "{who}");
        assert_eq!(asks[4], serde_json::json!(want.fifth_ask), "{who}");
    }
}

#[test]
fn spot_btcusdt_verifies() {
    let (report, stdout) = verified("binance_spot_btcusdt_2024-08-08.cap.gz", "spot");
    check(
        &report,
        &[Expected {
            venue: "binance",
            symbol: "BTCUSDT",
            messages: 41_249,
            applied: 3_449,
            dropped: 2,
            tickers: 28_040,
            ticker_ok: 564,
            last_update_id: 50_093_421_584,
            best_bid: ["61685.99000000", "1.00870000"],
            best_ask: ["61686.00000000", "2.29327000"],
            fifth_bid: ["61685.51000000", "0.32412000"],
            fifth_ask: ["61687.49000000", "0.38071000"],
        }],
    );
    assert_eq!(report["input"]["messages"], 41_249);
    assert!(stdout.contains("verify    ok: 1 instrument(s), 564 venue ticker checks, all matched"));
}

#[test]
fn usdm_btcusdt_verifies() {
    let (report, stdout) = verified("binance_usdm_btcusdt_2024-08-08.cap.gz", "usdm");
    check(
        &report,
        &[Expected {
            venue: "binance-usdm",
            symbol: "BTCUSDT",
            messages: 93_954,
            applied: 6_547,
            dropped: 4,
            tickers: 66_089,
            ticker_ok: 629,
            last_update_id: 5_123_135_475_514,
            best_bid: ["61659.70000000", "1.48600000"],
            best_ask: ["61659.80000000", "0.98100000"],
            fifth_bid: ["61657.90000000", "0.00700000"],
            fifth_ask: ["61663.00000000", "0.13000000"],
        }],
    );
    assert!(stdout.contains("629 venue ticker checks, all matched"));
}

#[test]
fn spot_four_symbols_verify() {
    let (report, stdout) = verified("binance_spot_4symbols_2021-10-12.cap", "four");
    check(
        &report,
        &[
            Expected {
                venue: "binance",
                symbol: "NKNUSDT",
                messages: 226,
                applied: 149,
                // Its first diff ends exactly at lastUpdateId (u == 499869752).
                dropped: 1,
                tickers: 74,
                ticker_ok: 19,
                last_update_id: 499_870_179,
                best_bid: ["0.35270000", "9602.00000000"],
                best_ask: ["0.35310000", "152.00000000"],
                fifth_bid: ["0.35220000", "7231.00000000"],
                fifth_ask: ["0.35350000", "4229.00000000"],
            },
            Expected {
                venue: "binance",
                symbol: "BLZETH",
                messages: 12,
                applied: 9,
                dropped: 1,
                tickers: 1,
                ticker_ok: 1,
                last_update_id: 281_916_638,
                best_bid: ["0.00006547", "100.00000000"],
                best_ask: ["0.00006560", "1528.00000000"],
                fifth_bid: ["0.00006524", "1332.00000000"],
                fifth_ask: ["0.00006618", "12872.00000000"],
            },
            Expected {
                venue: "binance",
                symbol: "LRCBTC",
                messages: 26,
                applied: 13,
                dropped: 2,
                tickers: 9,
                ticker_ok: 6,
                last_update_id: 259_345_563,
                best_bid: ["0.00000637", "2500.00000000"],
                best_ask: ["0.00000638", "2285.00000000"],
                fifth_bid: ["0.00000633", "66703.00000000"],
                fifth_ask: ["0.00000642", "17978.00000000"],
            },
            Expected {
                venue: "binance",
                symbol: "RUNEEUR",
                messages: 3,
                applied: 1,
                dropped: 1,
                tickers: 0,
                ticker_ok: 0,
                last_update_id: 15_602_513,
                best_bid: ["6.25100000", "69.30000000"],
                best_ask: ["6.26900000", "69.30000000"],
                fifth_bid: ["6.24000000", "110.30000000"],
                fifth_ask: ["6.28500000", "47.70000000"],
            },
        ],
    );
    // The two kline_1m frames are counted and skipped, not fatal.
    assert_eq!(report["input"]["decode_errors"]["unknown_event"], 2);
    assert_eq!(report["input"]["messages"], 267);
    assert!(stdout.contains("verify    unchecked binance RUNEEUR: the capture has no bookTicker"));
    assert!(stdout.contains("verify    ok: 4 instrument(s), 26 venue ticker checks, all matched"));
}

/// The book lays its levels out by tick, which a capture does not state: the scan derives each
/// instrument's from its prices at 8 decimals (BTCUSDT 0.01 on spot, 0.1 on USD-M; LRCBTC and
/// BLZETH quote in units of the 8th decimal).
#[test]
fn scan_derives_each_instruments_tick_from_its_prices() {
    let ticks = |capture: &str| -> Vec<(String, i64)> {
        pulse_engine::replay_cmd::scan_instruments(&repo(&format!("data/{capture}")))
            .expect("the capture scans")
            .iter()
            .map(|i| (i.symbol.clone(), i.tick.0))
            .collect()
    };
    let named = |pairs: &[(&str, i64)]| -> Vec<(String, i64)> {
        pairs.iter().map(|&(s, t)| (s.to_owned(), t)).collect()
    };
    assert_eq!(
        ticks("binance_spot_btcusdt_2024-08-08.cap.gz"),
        named(&[("BTCUSDT", 1_000_000)])
    );
    assert_eq!(
        ticks("binance_usdm_btcusdt_2024-08-08.cap.gz"),
        named(&[("BTCUSDT", 10_000_000)])
    );
    let mut four = ticks("binance_spot_4symbols_2021-10-12.cap");
    four.sort();
    assert_eq!(
        four,
        named(&[
            ("BLZETH", 1),
            ("LRCBTC", 1),
            ("NKNUSDT", 1_000),
            ("RUNEEUR", 100_000)
        ])
    );
}

/// The 4-symbol capture with `edit` applied to its lines.
fn doctored(scratch: &Scratch, edit: impl Fn(Vec<String>) -> Vec<String>) -> PathBuf {
    common::doctored(
        &scratch.0,
        "data/binance_spot_4symbols_2021-10-12.cap",
        edit,
    )
}

#[test]
fn verify_fails_on_a_gap_and_on_a_ticker_mismatch_naming_the_instrument() {
    let scratch = Scratch::new("doctored");
    let json = scratch.0.join("report.json");
    // Drop NKNUSDT's diff U=499869761..u=499869764: the next one no longer continues.
    let gap = doctored(&scratch, |lines| {
        lines
            .into_iter()
            .filter(|l| !l.contains("\"U\":499869761,"))
            .collect()
    });
    let out = pulse_replay(&gap, &json);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("verify    FAILED binance NKNUSDT: 1 update id gap(s)"),
        "{stderr}"
    );
    assert!(!stderr.contains("LRCBTC"), "{stderr}");

    // Change LRCBTC's best ask quantity in every one of its tickers: each checked one disagrees.
    let mismatch = doctored(&scratch, |lines| {
        lines
            .into_iter()
            .map(|l| {
                if l.contains("lrcbtc@bookTicker") {
                    l.replace("\"A\":\"", "\"A\":\"1")
                } else {
                    l
                }
            })
            .collect()
    });
    let out = pulse_replay(&mismatch, &json);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "verify    FAILED binance LRCBTC: 6 of 6 venue ticker(s) disagree with the rebuilt book"
        ),
        "{stderr}"
    );
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["instruments"][2]["ticker_check"]["mismatch"], 6);

    let missing = Command::new(env!("CARGO_BIN_EXE_pulse"))
        .args(["replay", "--input", "/nonexistent/capture.cap"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
}

/// One instrument: a gap at update 103 (102 never came), then a new REST snapshot (105) that
/// the buffered diffs bridge, and a venue ticker checked before and after.
const RECOVERED_GAP: &str = r#"1	binance:rest:/api/v3/depth?symbol=AAAUSDT&limit=1000	{"lastUpdateId":100,"bids":[["10.00","1.0"]],"asks":[["11.00","1.0"]]}
2	binance:ws	{"e":"depthUpdate","E":2,"s":"AAAUSDT","U":101,"u":101,"b":[["10.50","2.0"]],"a":[]}
3	binance:ws	{"u":101,"s":"AAAUSDT","b":"10.50","B":"2.0","a":"11.00","A":"1.0"}
4	binance:ws	{"e":"depthUpdate","E":4,"s":"AAAUSDT","U":103,"u":103,"b":[["10.55","1.0"]],"a":[]}
5	binance:ws	{"e":"depthUpdate","E":5,"s":"AAAUSDT","U":104,"u":105,"b":[["10.56","1.0"]],"a":[]}
6	binance:rest:/api/v3/depth?symbol=AAAUSDT&limit=1000	{"lastUpdateId":105,"bids":[["10.60","1.0"]],"asks":[["10.90","1.0"]]}
7	binance:ws	{"e":"depthUpdate","E":7,"s":"AAAUSDT","U":106,"u":106,"b":[["10.70","3.0"]],"a":[]}
8	binance:ws	{"u":106,"s":"AAAUSDT","b":"10.70","B":"3.0","a":"10.90","A":"1.0"}
"#;

#[test]
fn verify_passes_a_gap_followed_by_a_completed_resync_and_fails_one_never_recovered() {
    let scratch = Scratch::new("recovered");
    let json = scratch.0.join("report.json");
    let input = scratch.0.join("gap.cap");
    std::fs::write(&input, RECOVERED_GAP).unwrap();
    let out = pulse_replay(&input, &json);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.trim_end().ends_with(
            "verify    ok: 1 instrument(s), 2 venue ticker checks, all matched; 1 fault(s) \
             detected (gaps, checksum mismatches), each followed by a completed resync"
        ),
        "{stdout}"
    );
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let i = &report["instruments"][0];
    assert_eq!(
        (&i["gaps"], &i["resyncs"], &i["snapshots"], &i["book"]),
        (&json!(1), &json!(1), &json!(2), &json!("live"))
    );
    assert_eq!(i["top"]["bids"][0], json!(["10.70000000", "3.00000000"]));

    // Cut before the new snapshot: the gap is detected and never recovered.
    let cut: String = RECOVERED_GAP
        .lines()
        .take(5)
        .map(|l| l.to_owned() + "\n")
        .collect();
    std::fs::write(&input, cut).unwrap();
    let out = pulse_replay(&input, &json);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.trim_end().lines().last(),
        Some(
            "verify    FAILED binance AAAUSDT: 1 update id gap(s), 0 resync(s): the book is \
             stale at the end (a fault never recovered)"
        ),
        "{stderr}"
    );
}
