//! Damage versus a torn tail. Only the last append of the last segment, failing its checksum
//! with nothing but zeros after it, is cut when the stream is opened; any other damage makes
//! `Appender::open` refuse, naming the segment file and offset, without changing a byte, until
//! `recover` moves the damaged rest to a side file. A FIFO named like a segment is refused, not
//! waited on; files are private to their owner.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use common::{hundred_byte_records, read_all, small_config, temp_dir};
use pulse_journal::descriptor::HEADER_LEN;
use pulse_journal::{
    recover, recovery_plan, verify, Appender, JournalError, Location, ProblemKind, Reason,
};

const STREAM: &str = "input";
/// Every record: 100 payload bytes, a 32-byte header, 136 bytes in all with padding.
const SPAN: u64 = 136;

fn journal(dir: &Path, n: u64) -> PathBuf {
    hundred_byte_records(dir, STREAM, n)
}

fn flip(path: &Path, at: u64) {
    let mut data = fs::read(path).expect("reads");
    data[at as usize] ^= 0x20;
    fs::write(path, data).expect("writes");
}

/// Every file of the stream directory with its bytes, to show nothing changed.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files: Vec<_> = fs::read_dir(dir.join(STREAM))
        .expect("lists")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "seg"))
        .map(|p| (p.clone(), fs::read(&p).expect("reads")))
        .collect();
    files.sort();
    files
}

#[test]
fn a_flipped_byte_with_records_after_it_is_corruption_and_open_changes_nothing() {
    let dir = temp_dir("middle");
    let seg = journal(dir.path(), 300);
    let record_100 = HEADER_LEN + 100 * SPAN;
    flip(&seg, record_100 + 32 + 50);
    let before = snapshot(dir.path());

    let v = verify(dir.path(), STREAM).expect("verify runs");
    let p = v.problem.expect("a problem");
    assert_eq!(
        (p.kind, p.at.offset, v.records),
        (ProblemKind::Corruption, record_100, 100)
    );
    assert!(matches!(p.reason, Reason::Checksum { .. }), "{p}");

    match Appender::open(small_config(dir.path(), STREAM)) {
        Err(e @ JournalError::Corrupt { .. }) => {
            let text = e.to_string();
            assert!(
                text.contains("0000000000.seg") && text.contains(&format!("offset {record_100}")),
                "{text}"
            );
        }
        Err(e) => panic!("refused for another reason: {e}"),
        Ok(_) => panic!("a corrupt stream opened for writing"),
    }
    assert_eq!(
        snapshot(dir.path()),
        before,
        "the refused open changed bytes"
    );

    let plan = recovery_plan(dir.path(), STREAM).expect("plans");
    assert_eq!(snapshot(dir.path()), before, "the plan changed bytes");
    assert_eq!(plan.valid_records, 100);
    assert_eq!(plan.moved.len(), 1);
    // Records 100..300 leave the stream, up to the last one's payload (its padding is zero).
    assert_eq!(plan.moved[0].bytes, 200 * SPAN - 4);

    let report = recover(dir.path(), STREAM).expect("recovers");
    assert_eq!(report.moved, plan.moved);
    assert_eq!(
        fs::read(&report.moved[0].side_file).expect("the side file"),
        before[0].1,
        "the side file holds the segment as it was"
    );
    let after = verify(dir.path(), STREAM).expect("verify runs");
    assert!(after.passed() && after.records == 100, "{after:?}");
    let (mut appender, service) =
        Appender::open(small_config(dir.path(), STREAM)).expect("opens after recovery");
    assert_eq!(appender.append(1, 0, b"next"), Ok(100));
    drop(appender);
    service.shutdown().expect("stops");
    assert_eq!(read_all(dir.path(), STREAM).len(), 101);
}

#[test]
fn a_zeroed_commit_word_with_records_after_it_is_corruption() {
    let dir = temp_dir("zeroed");
    let seg = journal(dir.path(), 50);
    let record_10 = HEADER_LEN + 10 * SPAN;
    let mut data = fs::read(&seg).expect("reads");
    data[record_10 as usize..record_10 as usize + 4].fill(0);
    fs::write(&seg, data).expect("writes");
    let p = verify(dir.path(), STREAM)
        .expect("verify runs")
        .problem
        .expect("a problem");
    assert_eq!(
        (p.kind, p.at, p.reason),
        (
            ProblemKind::Corruption,
            Location {
                segment: 0,
                offset: record_10
            },
            Reason::ZeroCommitWord {
                next_record: record_10 + SPAN
            }
        )
    );
    assert!(matches!(
        Appender::open(small_config(dir.path(), STREAM)),
        Err(JournalError::Corrupt { .. })
    ));
}

#[test]
fn a_torn_last_record_is_cut_on_open() {
    let dir = temp_dir("torn");
    let seg = journal(dir.path(), 20);
    let last = HEADER_LEN + 19 * SPAN;
    flip(&seg, last + 32 + 99);
    let p = verify(dir.path(), STREAM)
        .expect("verify runs")
        .problem
        .expect("a problem");
    assert_eq!((p.kind, p.at.offset), (ProblemKind::TornTail, last));
    let (appender, service) = Appender::open(small_config(dir.path(), STREAM)).expect("opens");
    assert_eq!(appender.next_sequence(), 19);
    assert_eq!(
        service.recovery().zeroed_bytes,
        SPAN - 4,
        "up to its last non-zero byte"
    );
    drop(appender);
    service.shutdown().expect("stops");
    assert!(verify(dir.path(), STREAM).expect("verify runs").passed());
}

#[test]
fn damage_in_an_earlier_segment_is_corruption() {
    let dir = temp_dir("earlier");
    let seg = journal(dir.path(), 1500);
    // The last record of segment 0, followed only by its end marker and zeros.
    let in_first = read_all(dir.path(), STREAM)
        .into_iter()
        .rfind(|r| r.segment == 0)
        .expect("records in segment 0");
    flip(&seg, in_first.offset + 40);
    let p = verify(dir.path(), STREAM)
        .expect("verify runs")
        .problem
        .expect("a problem");
    assert_eq!((p.kind, p.at.segment), (ProblemKind::Corruption, 0));
    assert!(matches!(
        Appender::open(small_config(dir.path(), STREAM)),
        Err(JournalError::Corrupt { segment: 0, .. })
    ));
}

#[test]
fn a_fifo_named_like_a_segment_is_refused_not_waited_on() {
    let dir = temp_dir("fifo");
    let stream = dir.path().join(STREAM);
    fs::create_dir(&stream).expect("creates");
    let fifo = stream.join("0000000000.seg");
    let c = std::ffi::CString::new(fifo.to_str().expect("utf-8")).expect("no nul");
    // SAFETY: `c` is a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let (tx, rx) = mpsc::channel();
    let path = dir.path().to_path_buf();
    std::thread::spawn(move || {
        let _ = tx.send(verify(&path, STREAM).map(|_| ()).map_err(|e| e.to_string()));
    });
    // A hang detector, not a speed limit: the old code never returned.
    let result = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("verify returned instead of waiting for a writer on the FIFO");
    let e = result.expect_err("a FIFO is not a segment");
    assert!(e.contains("0000000000.seg") && e.contains("FIFO"), "{e}");
    assert!(matches!(
        Appender::open(small_config(dir.path(), STREAM)),
        Err(JournalError::Io { .. })
    ));
}

#[test]
fn files_are_0600_and_directories_0700() {
    let dir = temp_dir("modes");
    let top = dir.path().join("journal");
    journal(&top, 1500);
    let mode = |p: &Path| fs::metadata(p).expect("exists").permissions().mode() & 0o777;
    assert_eq!(mode(&top), 0o700, "the journal directory");
    assert_eq!(mode(&top.join(STREAM)), 0o700, "the stream directory");
    let mut files = 0;
    for entry in fs::read_dir(top.join(STREAM)).expect("lists") {
        let path = entry.expect("entry").path();
        assert_eq!(mode(&path), 0o600, "{}", path.display());
        files += 1;
    }
    assert!(files >= 3, "segments and the lock file: {files}");
}
