//! Deterministic replay through the journal, over the real binary and real files.
//!
//! Two runs of the demo write identical output streams; replaying a run's own input journal
//! (with the same config) reproduces its output stream record for record and byte for byte;
//! and the replay's own input stream equals the one it read.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;

use common::{demo_config, journal_records, run_journaled, written_segments, RecordBytes};

struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("pulse-jr-{}-{test}", std::process::id()));
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

fn pulse(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_pulse"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pulse {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn run(config: &Path, journal: &Path, name: &str) {
    run_journaled(config, journal, name);
}

fn replay(config: &Path, input: &Path, journal: &Path) -> String {
    let out = pulse(&[
        "replay",
        "--input",
        input.to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
        "--journal",
        journal.to_str().unwrap(),
    ]);
    String::from_utf8(out.stdout).unwrap()
}

/// The demo with 4 MiB journal segments, so that each stream rolls over several times.
fn config(scratch: &Scratch) -> PathBuf {
    demo_config(
        &scratch.0,
        None,
        &[(
            "[metrics]\n",
            "[journal]\ndir = \"unused\"\nsegment_mb = 4\n\n[metrics]\n",
        )],
    )
}

fn kinds(records: &[RecordBytes], kind: u16) -> usize {
    records.iter().filter(|r| r.0 == kind).count()
}

#[test]
fn runs_and_replays_write_identical_output() {
    let scratch = Scratch::new("identical");
    let config = config(&scratch);
    let (a, b, c) = (
        scratch.0.join("a"),
        scratch.0.join("b"),
        scratch.0.join("c"),
    );
    run(&config, &a, "jr-a");
    run(&config, &b, "jr-b");

    let out_a = journal_records(&a, "output");
    // The demo decides: 386 intents, 272 orders, and a report or more per order.
    assert_eq!(kinds(&out_a, 0x0101), 386, "intents");
    assert_eq!(kinds(&out_a, 0x0102), 386, "decisions");
    assert_eq!(kinds(&out_a, 0x0103), 272, "orders");
    // The risk state: where the session starts, the new market day, and every fill.
    assert_eq!(kinds(&out_a, 0x0109), 2 + 273, "risk states");
    assert!(kinds(&out_a, 0x0104) >= 272, "reports");
    let in_a = journal_records(&a, "input");
    assert_eq!(kinds(&in_a, 0x0010), 41_249, "every message of the capture");
    assert!(
        written_segments(&a, "input").len() > 2,
        "the input stream rolled over"
    );

    assert!(
        out_a == journal_records(&b, "output"),
        "two runs decided differently"
    );
    assert!(written_segments(&a, "output") == written_segments(&b, "output"));

    let summary = replay(&config, &a, &c);
    assert!(
        summary.contains("risk      386 intents: 272 accepted"),
        "{summary}"
    );
    assert!(
        out_a == journal_records(&c, "output"),
        "the replay decided differently"
    );
    assert!(written_segments(&a, "output") == written_segments(&c, "output"));
    assert!(
        in_a == journal_records(&c, "input"),
        "the replay's input differs from what it read"
    );
}

#[test]
fn journal_tools_read_a_run() {
    let scratch = Scratch::new("tools");
    let config = config(&scratch);
    let j = scratch.0.join("j");
    run(&config, &j, "jr-tools");
    let dir = j.to_str().unwrap();

    let verify = String::from_utf8(pulse(&["journal", "verify", dir]).stdout).unwrap();
    for stream in ["events", "input", "output"] {
        assert!(verify.contains(&format!("{stream}: ok: ")), "{verify}");
    }
    let stats = String::from_utf8(pulse(&["journal", "stats", dir]).stdout).unwrap();
    assert!(stats.contains("message    41249"), "{stats}");
    assert!(stats.contains("intent     386"), "{stats}");

    let dump = pulse(&["journal", "dump", dir, "--stream", "output", "--json"]);
    let lines: Vec<serde_json::Value> = String::from_utf8(dump.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), journal_records(&j, "output").len());
    let rejected: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| l["kind"] == "decision" && l["verdict"] == "rejected")
        .collect();
    assert_eq!(rejected.len(), 114);
    assert!(rejected.iter().all(|l| l["reason"] == "position_limit"));
    let first_order = lines.iter().find(|l| l["kind"] == "order").unwrap();
    assert_eq!(first_order["client_id"], 1);
    assert_eq!(first_order["qty"], 200_000, "0.002 BTC at 8 decimals");

    // Corrupt one byte in the middle of the output stream: verify must fail and say where.
    let seg = std::fs::read_dir(j.join("output"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .min()
        .unwrap();
    let mut bytes = std::fs::read(&seg).unwrap();
    bytes[64 + 32 + 8 + 100] ^= 0xFF;
    std::fs::write(&seg, bytes).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_pulse"))
        .args(["journal", "verify", dir])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("output: FAILED"));
}
