//! A damaged journal is never silently cut, through the real binary: one flipped byte in input
//! record 100 of the demo's journal makes `pulse run` refuse the stream (naming the segment and
//! offset) and `pulse journal verify` call it corruption; `pulse journal recover --apply` sets
//! the rest aside and the engine opens again. A corrupt output stream adds nothing to the
//! input stream however often the engine is started; `verify` refuses a FIFO named like a
//! segment; with `sync = "order"` and a journal fault, no order reaches the venue without its
//! record.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

mod common;

use common::{demo_config, journal_records, line, pulse, repo_config, run_with_journal};

fn temp(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pulse-jdamage-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(config: &Path, journal: &Path, name: &str) -> std::process::Output {
    run_with_journal(config, journal, name, None)
}

/// Flips one byte in the payload of record `n` of the stream's first segment; returns the
/// record's offset.
fn flip_record(journal: &Path, stream: &str, n: usize) -> u64 {
    let path = journal.join(stream).join("0000000000.seg");
    let mut bytes = std::fs::read(&path).unwrap();
    let mut off = 64usize;
    for _ in 0..n {
        let len = u32::from_le_bytes(bytes[off..off + 4].try_into().unwrap()) as usize;
        off += len.div_ceil(8) * 8;
    }
    bytes[off + 36] ^= 0x20;
    std::fs::write(&path, bytes).unwrap();
    off as u64
}

fn stream_files(journal: &Path, stream: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(journal.join(stream))
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| (p.clone(), std::fs::read(&p).unwrap()))
        .collect();
    files.sort();
    files
}

#[test]
fn a_flipped_byte_in_input_record_100_is_refused_not_zeroed_until_recovered() {
    let dir = temp("flip");
    let config = repo_config("demo.toml", &dir, None, &[]);
    let journal = dir.join("journal");
    let first = run(&config, &journal, "jdamage-a");
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let records = journal_records(&journal, "input").len();
    assert!(records > 40_000, "{records}");
    let offset = flip_record(&journal, "input", 100);
    let damaged = stream_files(&journal, "input");

    let verify = pulse(&["journal", "verify", journal.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&verify.stdout);
    assert_eq!(verify.status.code(), Some(1), "{text}");
    assert!(
        text.contains(&format!(
            "input: FAILED after 100 valid records: corruption at segment 0 offset {offset}"
        )),
        "{text}"
    );

    let again = run(&config, &journal, "jdamage-b");
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(!again.status.success(), "a damaged input stream was opened");
    assert!(
        stderr.contains("input/0000000000.seg") && stderr.contains(&format!("offset {offset}")),
        "{stderr}"
    );
    assert_eq!(
        stream_files(&journal, "input"),
        damaged,
        "the refused run changed bytes"
    );

    let plan = pulse(&[
        "journal",
        "recover",
        journal.to_str().unwrap(),
        "--stream",
        "input",
    ]);
    let text = String::from_utf8_lossy(&plan.stdout);
    assert_eq!(plan.status.code(), Some(1), "{text}");
    assert!(text.contains("100 records kept"), "{text}");
    assert!(
        text.contains("would move") && text.contains("0000000000.seg.damaged-1"),
        "{text}"
    );
    assert_eq!(
        stream_files(&journal, "input"),
        damaged,
        "the plan changed bytes"
    );

    let apply = pulse(&[
        "journal",
        "recover",
        journal.to_str().unwrap(),
        "--stream",
        "input",
        "--apply",
    ]);
    assert_eq!(
        apply.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&apply.stdout)
    );
    let side = journal.join("input").join("0000000000.seg.damaged-1");
    assert_eq!(
        std::fs::read(&side).unwrap(),
        damaged[0].1,
        "the side file keeps every byte"
    );
    let verify = pulse(&["journal", "verify", journal.to_str().unwrap()]);
    assert_eq!(
        verify.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
    let third = run(&config, &journal, "jdamage-c");
    assert!(
        third.status.success(),
        "{}",
        String::from_utf8_lossy(&third.stderr)
    );
    assert_eq!(journal_records(&journal, "input").len(), 100 + records);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_corrupt_output_stream_adds_no_session_to_the_input_stream() {
    let dir = temp("output");
    let config = demo_config(&dir, None, &[]);
    let journal = dir.join("journal");
    let first = run(&config, &journal, "jdamage-o");
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    flip_record(&journal, "output", 5);
    let input = stream_files(&journal, "input");
    let events = stream_files(&journal, "events");
    for attempt in 0..2 {
        let out = run(&config, &journal, "jdamage-o2");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "attempt {attempt}: {stderr}");
        assert!(
            stderr.contains("cannot open journal stream output"),
            "{stderr}"
        );
    }
    assert_eq!(
        stream_files(&journal, "input"),
        input,
        "the input stream was written"
    );
    assert_eq!(
        stream_files(&journal, "events"),
        events,
        "the events stream was written"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn verify_refuses_a_fifo_named_like_a_segment() {
    let dir = temp("fifo");
    let stream = dir.join("journal").join("input");
    std::fs::create_dir_all(&stream).unwrap();
    let fifo = std::ffi::CString::new(stream.join("0000000000.seg").to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
    let mut child = Command::new(env!("CARGO_BIN_EXE_pulse"))
        .args(["journal", "verify"])
        .arg(dir.join("journal"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A hang detector, not a speed limit: the old binary blocked in open(2) for ever.
    let mut status = None;
    for _ in 0..600 {
        status = child.try_wait().unwrap();
        if status.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    if status.is_none() {
        let _ = child.kill();
        panic!("pulse journal verify waited on the FIFO");
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("0000000000.seg") && stderr.contains("not a regular file (a FIFO)"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn with_sync_order_a_journal_fault_sends_no_order_without_its_record() {
    let dir = temp("order");
    let config = demo_config(
        &dir,
        Some("100"),
        &[
            ("# [journal] ", "[journal]\nsync = \"order\"\n# "),
            (
                "# dir = \"/tmp/pulse-imbalance/journal\"",
                "dir = \"unused\"",
            ),
        ],
    );
    let journal = dir.join("journal");
    let out = run_with_journal(&config, &journal, "jdamage-s", Some(30));
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("-> critical (journal_fault)"), "{stderr}");
    let risk = line(&stdout, "risk ");
    assert!(
        risk.contains("journal_failed"),
        "the order at the fault was refused: {risk}"
    );
    let orders = journal_records(&journal, "output")
        .iter()
        .filter(|r| r.0 == 0x0103)
        .count() as u64;
    let venue = line(&stdout, "venue ");
    let sent: u64 = venue
        .split("simulated: ")
        .nth(1)
        .and_then(|v| v.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("orders at the venue: {venue}"));
    // Every order at the venue has its record; the one whose record the fault kept from the
    // disk has a record and was not sent.
    assert!(
        sent > 0 && (sent..=sent + 1).contains(&orders),
        "{sent} orders at the venue, {orders} ORDER records: {stdout}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sync_is_none_batch_or_order() {
    let dir = temp("sync");
    let demo = std::fs::read_to_string(common::repo_root().join("configs/demo.toml")).unwrap();
    for (value, ok) in [
        ("none", true),
        ("batch", true),
        ("order", true),
        ("always", false),
    ] {
        let text = demo.replace(
            "# [journal] ",
            &format!("[journal]\ndir = \"/tmp/x\"\nsync = \"{value}\"\n# "),
        );
        let (code, stderr) = common::check_config(&dir, "sync.toml", &text);
        assert_eq!(code == Some(0), ok, "sync = {value:?}: {stderr}");
        if !ok {
            assert!(
                stderr.contains("none") && stderr.contains("order"),
                "{stderr}"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
