//! Crash harness: a writer in a child process (this test binary, re-executed to run the
//! ignored `crash_child_writer`) is killed with SIGKILL at random moments, 100 times by default
//! (`PULSE_JOURNAL_CRASH_ROUNDS` to change). After every kill the journal must verify, and
//! every sequence the child reported (printed only after `append` returned) must be there
//! with its exact payload. Most rounds reopen the same directory, so the next child recovers
//! what the previous one left, possibly while being killed itself.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{mix, payload_for, read_all, small_config, temp_dir};
use pulse_journal::{verify, Appender};

const STREAM: &str = "crash";
const DIR_VAR: &str = "PULSE_JOURNAL_CRASH_DIR";
const MAX_PAYLOAD: usize = 400;

fn kind_of(seq: u64) -> u16 {
    (seq % 7) as u16
}

fn timestamp_of(seq: u64) -> u64 {
    seq * 10 + 3
}

/// The child: appends deterministic records until killed, printing each sequence after its
/// append returned. Does nothing unless the parent named a directory.
#[test]
#[ignore = "run by sigkill_at_random_moments_loses_no_reported_record in a child process"]
fn crash_child_writer() {
    let Some(dir) = std::env::var_os(DIR_VAR) else {
        return;
    };
    let (mut appender, _service) =
        Appender::open(small_config(Path::new(&dir), STREAM)).expect("the child opens");
    let mut out = std::io::stdout().lock();
    // libtest printed "test ... " without a newline: start the reports on a line of their own.
    writeln!(out).expect("stdout");
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let seq = appender.next_sequence();
        let got = appender
            .append(
                kind_of(seq),
                timestamp_of(seq),
                &payload_for(seq, MAX_PAYLOAD),
            )
            .expect("the child appends");
        assert_eq!(got, seq);
        writeln!(out, "seq {seq}").expect("stdout");
        out.flush().expect("stdout");
    }
}

/// Runs one child in `dir`, kills it after `delay`, and returns the sequences it reported.
fn run_child(dir: &Path, delay: Duration) -> Vec<u64> {
    let exe = std::env::current_exe().expect("the test binary");
    let mut child = Command::new(exe)
        .args(["crash_child_writer", "--exact", "--ignored", "--nocapture"])
        .args(["--test-threads", "1"])
        .env(DIR_VAR, dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the child starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let lines = thread::spawn(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .filter_map(|l| l.strip_prefix("seq ").and_then(|n| n.parse().ok()))
            .collect::<Vec<u64>>()
    });
    thread::sleep(delay);
    // SIGKILL on Unix.
    child.kill().expect("the child is killed");
    child.wait().expect("the child is reaped");
    lines.join().expect("the stdout reader")
}

#[test]
fn sigkill_at_random_moments_loses_no_reported_record() {
    let rounds: u64 = std::env::var("PULSE_JOURNAL_CRASH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64);
    eprintln!("crash harness: {rounds} rounds, seed {seed}");
    let mut dir = temp_dir("crash");
    // The highest sequence any child reported in this directory.
    let mut reported_max: Option<u64> = None;
    let (mut kills_with_records, mut reopened, mut pending) = (0, 0, 0);
    for round in 0..rounds {
        let r = mix(seed ^ round);
        if round > 0 && r.is_multiple_of(8) {
            dir = temp_dir("crash");
            reported_max = None;
        } else if round > 0 {
            reopened += 1;
        }
        let delay = Duration::from_micros(r % 60_000);
        let reported = run_child(dir.path(), delay);
        if let Some(&last) = reported.last() {
            kills_with_records += 1;
            assert!(
                reported.windows(2).all(|w| w[1] == w[0] + 1),
                "round {round}"
            );
            reported_max = Some(reported_max.map_or(last, |m| m.max(last)));
        }
        if !dir.path().join(STREAM).exists() {
            assert_eq!(
                reported_max, None,
                "round {round}: reported records but no stream"
            );
            continue;
        }
        let report = verify(dir.path(), STREAM).expect("verify runs");
        assert!(
            report.passed(),
            "round {round} (seed {seed}, delay {delay:?}): {:?}",
            report.problem
        );
        pending += u64::from(report.pending.is_some());
        let records = read_all(dir.path(), STREAM);
        assert_eq!(records.len() as u64, report.records, "round {round}");
        for (i, rec) in records.iter().enumerate() {
            let seq = i as u64;
            assert_eq!(rec.sequence, seq, "round {round}: contiguous from 0");
            assert_eq!(rec.kind, kind_of(seq), "round {round}, seq {seq}");
            assert_eq!(rec.timestamp, timestamp_of(seq), "round {round}, seq {seq}");
            assert_eq!(
                rec.payload,
                payload_for(seq, MAX_PAYLOAD),
                "round {round}, seq {seq}"
            );
        }
        if let Some(max) = reported_max {
            assert!(
                (records.len() as u64) > max,
                "round {round} (seed {seed}): reported {max} but only {} records",
                records.len()
            );
        }
    }
    eprintln!(
        "crash harness: {kills_with_records} kills after appends, {reopened} reopened \
         directories, {pending} unfinished appends left"
    );
    assert!(
        kills_with_records * 2 > rounds,
        "most kills must land while appending ({kills_with_records} of {rounds})"
    );
}
