//! Hostile segment files: wrong magic, a header from another stream, lengths past the file or
//! beyond any bound, truncated and stray files. Each is an error or a reported problem naming
//! the file and the offset; none panics or reads out of bounds.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::{hundred_byte_records, read_all, small_config, temp_dir};
use pulse_journal::descriptor::{HEADER_LEN, LENGTH_OFFSET};
use pulse_journal::{
    recover, stats, verify, Appender, JournalError, JournalReader, Location, ProblemKind, Reason,
};

const STREAM: &str = "input";

fn journal(dir: &Path, n: u64) -> PathBuf {
    hundred_byte_records(dir, STREAM, n)
}

fn patch(path: &Path, at: u64, bytes: &[u8]) {
    let mut data = fs::read(path).expect("reads");
    data[at as usize..at as usize + bytes.len()].copy_from_slice(bytes);
    fs::write(path, data).expect("writes");
}

fn reader_error(dir: &Path) -> JournalError {
    let mut reader = JournalReader::open(dir, STREAM).expect("opens");
    loop {
        match reader.next() {
            Ok(Some(_)) => {}
            Ok(None) => panic!("the reader saw no error"),
            Err(e) => return e,
        }
    }
}

#[test]
fn a_wrong_magic_is_an_error_at_offset_zero() {
    let dir = temp_dir("magic");
    let seg = journal(dir.path(), 5);
    patch(&seg, 0, b"NOTAJRNL");
    let v = verify(dir.path(), STREAM).expect("verify runs");
    let p = v.problem.expect("a problem");
    assert_eq!(
        (p.at, p.reason),
        (
            Location {
                segment: 0,
                offset: 0
            },
            Reason::BadMagic
        )
    );
    assert_eq!(v.records, 0);
    let e = reader_error(dir.path()).to_string();
    assert!(
        e.contains("0000000000.seg") && e.contains("offset 0") && e.contains("magic"),
        "{e}"
    );
}

#[test]
fn a_huge_length_is_refused_not_followed() {
    let dir = temp_dir("huge");
    let seg = journal(dir.path(), 5);
    let third = HEADER_LEN + 2 * 136;
    patch(&seg, third + LENGTH_OFFSET as u64, &u32::MAX.to_le_bytes());
    let v = verify(dir.path(), STREAM).expect("verify runs");
    let p = v.problem.expect("a problem");
    assert_eq!(p.reason, Reason::LengthTooLarge(u32::MAX));
    assert_eq!(
        (p.at.offset, p.kind, v.records),
        (third, ProblemKind::Corruption, 2),
        "valid records follow it: damage, not a torn tail"
    );
    match reader_error(dir.path()) {
        JournalError::Corrupt { offset, reason, .. } => {
            assert_eq!((offset, reason), (third, Reason::LengthTooLarge(u32::MAX)));
        }
        e => panic!("{e}"),
    }
    let r = recover(dir.path(), STREAM).expect("recovers");
    assert_eq!(
        (r.valid_records, r.truncated_at),
        (
            2,
            Some(Location {
                segment: 0,
                offset: third
            })
        )
    );
    assert_eq!(read_all(dir.path(), STREAM).len(), 2);
}

#[test]
fn a_length_past_a_truncated_file_is_truncation() {
    let dir = temp_dir("truncated");
    let seg = journal(dir.path(), 5);
    let cut = HEADER_LEN + 3 * 136 + 50;
    fs::OpenOptions::new()
        .write(true)
        .open(&seg)
        .and_then(|f| f.set_len(cut))
        .expect("truncates");
    let v = verify(dir.path(), STREAM).expect("verify runs");
    assert_eq!(v.records, 3);
    let p = v.problem.expect("a problem");
    assert!(
        matches!(p.reason, Reason::Truncated | Reason::FileLength { .. }),
        "{p}"
    );
    // The reader refuses an activated segment shorter than its capacity.
    assert!(matches!(
        reader_error(dir.path()),
        JournalError::Corrupt {
            reason: Reason::FileLength { .. },
            ..
        }
    ));
    let r = recover(dir.path(), STREAM).expect("recovers");
    assert_eq!(
        (r.valid_records, r.resized_segments.as_slice()),
        (3, &[0][..])
    );
    assert!(verify(dir.path(), STREAM).expect("verify runs").passed());
    assert_eq!(fs::metadata(&seg).expect("exists").len(), 64 * 1024);
}

#[test]
fn a_segment_of_another_stream_is_refused() {
    let dir = temp_dir("stream");
    let seg = journal(dir.path(), 3);
    let other = dir.path().join("output");
    fs::create_dir(&other).expect("creates");
    fs::copy(&seg, other.join("0000000000.seg")).expect("copies");
    let v = verify(dir.path(), "output").expect("verify runs");
    assert_eq!(v.problem.map(|p| p.reason), Some(Reason::WrongStream));
    let s = stats(dir.path(), "output").expect("stats run");
    assert_eq!(s.records, 0);
}

#[test]
fn short_and_stray_files_are_handled() {
    let dir = temp_dir("stray");
    let stream = dir.path().join(STREAM);
    fs::create_dir(&stream).expect("creates");
    // Not segment names: ignored.
    fs::write(stream.join("notes.txt"), b"hello").expect("writes");
    fs::write(stream.join("0000000000.seg.tmp"), b"junk").expect("writes");
    // A segment file created but never allocated: unused, not a problem.
    fs::write(stream.join("0000000000.seg"), b"").expect("writes");
    let v = verify(dir.path(), STREAM).expect("verify runs");
    assert!(
        v.passed() && v.records == 0 && v.unused_segments == 1,
        "{v:?}"
    );
    // Ten bytes of garbage where a header should be.
    fs::write(stream.join("0000000000.seg"), b"0123456789").expect("writes");
    let v = verify(dir.path(), STREAM).expect("verify runs");
    assert_eq!(
        v.problem.map(|p| p.reason),
        Some(Reason::HeaderTruncated(10))
    );
    assert!(matches!(
        reader_error(dir.path()),
        JournalError::Corrupt { .. }
    ));
    // Recovery moves it aside and the stream starts afresh.
    let r = recover(dir.path(), STREAM).expect("recovers");
    assert_eq!(r.moved.len(), 1, "{r:?}");
    assert_eq!((r.moved[0].segment, r.moved[0].bytes), (0, 10));
    assert_eq!(
        fs::read(stream.join("0000000000.seg.damaged-1")).expect("set aside"),
        b"0123456789"
    );
    let (mut appender, service) = Appender::open(small_config(dir.path(), STREAM)).expect("opens");
    assert_eq!(appender.append(1, 0, b"fresh"), Ok(0));
    drop(appender);
    service.shutdown().expect("stops");
    assert_eq!(read_all(dir.path(), STREAM).len(), 1);
    assert!(
        stream.join("notes.txt").exists(),
        "other files are left alone"
    );
}

#[test]
fn a_missing_middle_segment_is_corruption() {
    let dir = temp_dir("gap");
    journal(dir.path(), 1500);
    fs::remove_file(dir.path().join(STREAM).join("0000000001.seg")).expect("removes");
    let v = verify(dir.path(), STREAM).expect("verify runs");
    let p = v.problem.expect("a problem");
    assert_eq!(
        (p.kind, p.reason),
        (ProblemKind::Corruption, Reason::MissingSegment(1))
    );
    assert_eq!(v.records, read_all(dir.path(), STREAM).len() as u64);
    let r = recover(dir.path(), STREAM).expect("recovers");
    assert!(r.moved.iter().any(|m| m.segment == 2), "{r:?}");
    assert!(dir
        .path()
        .join(STREAM)
        .join("0000000002.seg.damaged-1")
        .exists());
    assert!(verify(dir.path(), STREAM).expect("verify runs").passed());
}

#[test]
fn a_second_writer_is_refused() {
    let dir = temp_dir("second");
    let (appender, service) = Appender::open(small_config(dir.path(), STREAM)).expect("opens");
    match Appender::open(small_config(dir.path(), STREAM)) {
        Err(JournalError::InUse { path }) => assert!(path.ends_with("input/writer.lock")),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("two writers of one stream"),
    }
    drop(appender);
    service.shutdown().expect("stops");
    let (appender, service) = Appender::open(small_config(dir.path(), STREAM)).expect("reopens");
    drop(appender);
    service.shutdown().expect("stops");
}

#[test]
fn bad_names_and_missing_streams_are_errors() {
    let dir = temp_dir("names");
    assert!(matches!(
        verify(dir.path(), "../etc"),
        Err(JournalError::Config(_))
    ));
    assert!(matches!(
        JournalReader::open(dir.path(), "nope"),
        Err(JournalError::Io { .. })
    ));
    let mut cfg = small_config(dir.path(), STREAM);
    cfg.segment_bytes = 1000;
    assert!(matches!(Appender::open(cfg), Err(JournalError::Config(_))));
}
