//! Fault drills: every I/O operation of a short run (open, segment preparation and roll-over,
//! `msync`, shutdown) is made to fail in turn with `fail_io_at`; then the disk fills up for
//! real in a child process (`RLIMIT_FSIZE`). The fault must be reported, sticky, by the
//! appender and by the service's flag; nothing panics; the journal verifies; and every
//! record whose append returned `Ok` is there, exactly: an append returns `Ok` only once its
//! record is committed in a mapped segment, so a failed segment creation makes appends fail
//! (`NoSegment`) rather than lose records.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use common::{payload_for, read_all, small_config, temp_dir};
use pulse_journal::{verify, AppendError, Appender, JournalError, Op};

const STREAM: &str = "output";
const RECORDS: u64 = 600;
const MAX_PAYLOAD: usize = 900;

/// What one drill saw.
struct Drill {
    io_ops: u64,
    failed_op: Option<Op>,
    refused: u64,
}

/// A short run with the `fail_at`th I/O operation failing; checks the invariants.
fn drill(fail_at: Option<u64>) -> Drill {
    let dir = temp_dir("fault");
    let mut cfg = small_config(dir.path(), STREAM);
    cfg.fail_io_at = fail_at;
    let (mut appender, service) = match Appender::open(cfg) {
        Ok(opened) => opened,
        Err(JournalError::Io { op, source, .. }) => {
            assert!(source.to_string().contains("injected"), "{op}: {source}");
            if dir.path().join(STREAM).exists() {
                let v = verify(dir.path(), STREAM).expect("verify runs");
                assert!(v.passed() && v.records == 0, "{:?}", v.problem);
            }
            return Drill {
                io_ops: fail_at.unwrap_or(0),
                failed_op: Some(op),
                refused: 0,
            };
        }
        Err(e) => panic!("open failed without an I/O error: {e}"),
    };
    let flag = service.fault_flag();
    let mut acknowledged = Vec::new();
    let mut fault_seen_at = None;
    for i in 0..RECORDS {
        let payload = payload_for(i, MAX_PAYLOAD);
        match appender.append(1, i, &payload) {
            Ok(seq) => acknowledged.push((seq, payload)),
            Err(AppendError::NoSegment) => {
                assert!(appender.fault().is_some(), "NoSegment without a fault");
            }
            Err(e) => panic!("unexpected refusal {e}"),
        }
        if fault_seen_at.is_none() && appender.fault().is_some() {
            fault_seen_at = Some(appender.fault());
        }
        if i % 25 == 0 {
            // Let the service prepare and msync between bursts.
            thread::sleep(Duration::from_millis(3));
        }
    }
    let fault = appender.fault();
    let counters = appender.close();
    let report = service.shutdown().expect("the service stops");
    assert_eq!(
        report.fault,
        fault.or(report.fault),
        "the appender saw the service's fault"
    );
    assert_eq!(flag.get(), report.fault, "the flag shows the fault");
    if let Some(first) = fault_seen_at {
        assert_eq!(first, report.fault, "the fault is sticky");
    }
    match fail_at {
        Some(n) if n <= report.io_ops => {
            let f = report.fault.expect("the injected failure is reported");
            assert!(f.injected && f.errno == 0, "{f:?}");
        }
        _ => assert_eq!(report.fault, None, "no fault without a failure"),
    }
    assert_eq!(counters.records, acknowledged.len() as u64);
    let v = verify(dir.path(), STREAM).expect("verify runs");
    assert!(v.passed(), "fail_at {fail_at:?}: {:?}", v.problem);
    let read = read_all(dir.path(), STREAM);
    let read: Vec<(u64, Vec<u8>)> = read.into_iter().map(|r| (r.sequence, r.payload)).collect();
    assert_eq!(
        read, acknowledged,
        "fail_at {fail_at:?}: exactly the acknowledged records"
    );
    Drill {
        io_ops: report.io_ops,
        failed_op: report.fault.map(|f| f.op),
        refused: counters.refused_no_segment,
    }
}

#[test]
fn every_io_operation_can_fail_without_losing_an_acknowledged_record() {
    let baseline = drill(None);
    assert!(baseline.io_ops > 20, "{} operations", baseline.io_ops);
    let (mut failed, mut refused) = (BTreeSet::new(), 0);
    for n in 1..=baseline.io_ops + 5 {
        let d = drill(Some(n));
        failed.extend(d.failed_op.map(|op| format!("{op:?}")));
        refused += d.refused;
    }
    eprintln!(
        "baseline {} operations; failed: {failed:?}; {refused} appends refused",
        baseline.io_ops
    );
    assert!(refused > 0, "no drill ran out of segments");
    for op in [
        "CreateDir",
        "CreateFile",
        "Allocate",
        "Map",
        "SyncDir",
        "Msync",
        "Spawn",
    ] {
        assert!(failed.contains(op), "{op} never failed: {failed:?}");
    }
}

#[test]
fn an_interrupted_recovery_completes_on_the_next_open() {
    let source = temp_dir("recovery-source");
    let (mut appender, service) =
        Appender::open(small_config(source.path(), STREAM)).expect("opens");
    for i in 0..RECORDS {
        appender
            .append(1, i, &payload_for(i, MAX_PAYLOAD))
            .expect("appends");
    }
    let last = appender.next_sequence() - 1;
    drop(appender);
    service.shutdown().expect("stops");
    // Corrupt the last record: recovery must zero it and remove the unused segments.
    let records = read_all(source.path(), STREAM);
    let victim = records.last().expect("records");
    let path = source
        .path()
        .join(STREAM)
        .join(format!("{:010}.seg", victim.segment));
    let mut bytes = std::fs::read(&path).expect("reads");
    bytes[victim.offset as usize + 40] ^= 0xFF;
    std::fs::write(&path, bytes).expect("writes");

    let mut n = 1;
    loop {
        let dir = temp_dir("recovery");
        copy_dir(&source.path().join(STREAM), &dir.path().join(STREAM));
        let mut cfg = small_config(dir.path(), STREAM);
        cfg.fail_io_at = Some(n);
        let completed = match Appender::open(cfg) {
            Ok((appender, service)) => {
                drop(appender);
                service.shutdown().expect("stops");
                true
            }
            Err(JournalError::Io { .. }) => false,
            Err(e) => panic!("open failed without an I/O error: {e}"),
        };
        let (appender, service) =
            Appender::open(small_config(dir.path(), STREAM)).expect("reopens");
        assert_eq!(
            appender.next_sequence(),
            last,
            "fail_at {n}: the torn record is cut"
        );
        drop(appender);
        service.shutdown().expect("stops");
        let v = verify(dir.path(), STREAM).expect("verify runs");
        assert!(v.passed() && v.records == last, "fail_at {n}: {v:?}");
        if completed {
            break;
        }
        n += 1;
    }
    assert!(n > 5, "recovery took only {n} operations");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("creates");
    for entry in std::fs::read_dir(from).expect("lists") {
        let entry = entry.expect("entry");
        std::fs::copy(entry.path(), to.join(entry.file_name())).expect("copies");
    }
}

const DISK_DIR_VAR: &str = "PULSE_JOURNAL_DISK_FULL_DIR";

/// The child: opens a journal, lowers its file-size limit below a segment, and appends until
/// a segment cannot be allocated.
#[test]
#[ignore = "run by a_full_disk_faults_at_preallocation_and_loses_nothing in a child process"]
fn disk_full_child_writer() {
    let Some(dir) = std::env::var_os(DISK_DIR_VAR) else {
        return;
    };
    let (mut appender, service) =
        Appender::open(small_config(Path::new(&dir), STREAM)).expect("the child opens");
    let deadline = Instant::now() + Duration::from_secs(10);
    while service.status().segments_prepared < 2 && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(1));
    }
    let limit = libc::rlimit {
        rlim_cur: 32 * 1024,
        rlim_max: libc::RLIM_INFINITY,
    };
    // SAFETY: plain system calls with valid arguments; SIGXFSZ is ignored so that EFBIG comes
    // back as an error instead of killing the process.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
        assert_eq!(libc::setrlimit(libc::RLIMIT_FSIZE, &limit), 0);
    }
    // libtest printed "test ... " without a newline: start the reports on a line of their own.
    println!();
    let mut seq = 0;
    let refused = loop {
        match appender.append(1, seq, &payload_for(seq, MAX_PAYLOAD)) {
            Ok(got) => {
                assert_eq!(got, seq);
                println!("seq {seq}");
                seq += 1;
            }
            Err(e) => break e,
        }
        assert!(
            seq < 100_000,
            "the file-size limit never stopped the journal"
        );
    };
    assert_eq!(refused, AppendError::NoSegment);
    let fault = appender.fault().expect("the fault is reported");
    println!(
        "fault {:?} {} {}",
        fault.op,
        fault.errno,
        fault.is_disk_full()
    );
    drop(appender);
    let report = service.shutdown().expect("the service stops");
    assert_eq!(report.synced_sequence, seq, "everything appended is synced");
    println!("done {}", report.synced_sequence);
}

#[test]
fn a_full_disk_faults_at_preallocation_and_loses_nothing() {
    let dir = temp_dir("disk-full");
    let exe = std::env::current_exe().expect("the test binary");
    let output = Command::new(exe)
        .args([
            "disk_full_child_writer",
            "--exact",
            "--ignored",
            "--nocapture",
        ])
        .args(["--test-threads", "1"])
        .env(DISK_DIR_VAR, dir.path())
        .output()
        .expect("the child runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "child failed: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let reported: Vec<u64> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("seq ")?.parse().ok())
        .collect();
    let fault = stdout
        .lines()
        .find_map(|l| l.strip_prefix("fault "))
        .expect("the child reported its fault");
    assert_eq!(fault, format!("Allocate {} true", libc::EFBIG));
    assert!(
        stdout.contains(&format!("done {}", reported.len())),
        "{stdout}"
    );
    assert!(
        reported.len() > 100,
        "only {} records before the fault",
        reported.len()
    );

    let v = verify(dir.path(), STREAM).expect("verify runs");
    assert!(v.passed(), "{:?}", v.problem);
    assert!(
        v.unused_segments >= 1,
        "the segment that could not be allocated is left unused"
    );
    let read = read_all(dir.path(), STREAM);
    assert_eq!(read.len(), reported.len());
    for (r, seq) in read.iter().zip(&reported) {
        assert_eq!(
            (r.sequence, &r.payload),
            (*seq, &payload_for(*seq, MAX_PAYLOAD))
        );
    }
}
