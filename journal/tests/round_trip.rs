//! Records come back exactly as appended, across many roll-overs of small segments, through
//! the reader, `verify` and `stats`, and through a reader tailing the writer live.

mod common;

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::thread;
use std::time::{Duration, Instant};

use common::{bytes, mix, read_all, small_config, temp_dir, Owned};
use pulse_journal::descriptor::{max_payload, RESERVED_KIND_MIN};
use pulse_journal::{stats, streams, verify, AppendError, Appender, JournalReader};

const STREAM: &str = "input";

/// Payload sizes from 0 to the maximum: every small size, the alignment edges, the bound, and
/// random ones between.
fn sizes(max: usize) -> Vec<usize> {
    let mut sizes: Vec<usize> = (0..=64).collect();
    sizes.extend([max - 9, max - 8, max - 7, max - 1, max]);
    sizes.extend((0..400).map(|i| (mix(i) % (max as u64 + 1)) as usize));
    sizes
}

#[test]
fn records_round_trip_across_many_small_segments() {
    let dir = temp_dir("round-trip");
    let cfg = small_config(dir.path(), STREAM);
    let max = max_payload(cfg.segment_bytes) as usize;
    let (mut appender, service) = Appender::open(cfg).expect("opens");
    let mut written = Vec::new();
    for (i, len) in sizes(max).into_iter().enumerate() {
        let i = i as u64;
        let payload = bytes(i, len);
        let kind = (i % 5) as u16;
        let timestamp = 1_000_000 + i * 7;
        let seq = appender
            .append(kind, timestamp, &payload)
            .expect("append fits");
        assert_eq!(seq, i, "sequences are contiguous from 0");
        written.push((kind, timestamp, payload));
    }
    let counters = appender.counters();
    assert_eq!(appender.next_sequence(), written.len() as u64);
    appender.close();
    let report = service.shutdown().expect("clean shutdown");
    assert_eq!(report.synced_sequence, written.len() as u64, "{report:?}");
    assert_eq!(report.fault, None);

    let read = read_all(dir.path(), STREAM);
    assert_eq!(read.len(), written.len());
    for (r, (kind, timestamp, payload)) in read.iter().zip(&written) {
        assert_eq!(
            (r.kind, r.timestamp),
            (*kind, *timestamp),
            "record {}",
            r.sequence
        );
        assert_eq!(&r.payload, payload, "payload of record {}", r.sequence);
    }
    assert!(read.windows(2).all(|w| w[1].sequence == w[0].sequence + 1));
    let segments = read.last().map_or(0, |r| r.segment) + 1;
    assert!(
        segments > 20,
        "only {segments} segments: roll-over not exercised"
    );
    assert_eq!(counters.rollovers, segments - 1);
    assert_eq!(counters.records, written.len() as u64);

    let v = verify(dir.path(), STREAM).expect("verifies");
    assert!(v.passed(), "{:?}", v.problem);
    assert_eq!((v.records, v.segments), (written.len() as u64, segments));
    let payload_bytes: usize = written.iter().map(|w| w.2.len()).sum();
    assert_eq!(v.payload_bytes, payload_bytes as u64);
    assert_eq!(v.last.map(|p| p.sequence), Some(written.len() as u64 - 1));

    let s = stats(dir.path(), STREAM).expect("stats");
    let mut by_kind = BTreeMap::new();
    for w in &written {
        *by_kind.entry(w.0).or_insert(0u64) += 1;
    }
    assert_eq!(s.records_by_kind, by_kind);
    assert_eq!(
        streams(dir.path()).expect("lists"),
        vec![STREAM.to_string()]
    );
}

#[test]
fn oversized_and_reserved_records_are_refused_and_counted() {
    let dir = temp_dir("refused");
    let cfg = small_config(dir.path(), STREAM);
    let max = max_payload(cfg.segment_bytes) as usize;
    let (mut appender, service) = Appender::open(cfg).expect("opens");
    assert_eq!(
        appender.append(1, 0, &vec![0; max + 1]),
        Err(AppendError::TooLarge { len: max + 1, max })
    );
    assert_eq!(
        appender.append(RESERVED_KIND_MIN, 0, b"x"),
        Err(AppendError::ReservedKind(RESERVED_KIND_MIN))
    );
    assert_eq!(appender.append(1, 0, b"ok"), Ok(0));
    let c = appender.counters();
    assert_eq!(
        (c.refused_too_large, c.refused_reserved_kind, c.records),
        (1, 1, 1)
    );
    drop(appender);
    service.shutdown().expect("clean shutdown");
    assert_eq!(read_all(dir.path(), STREAM).len(), 1);
}

#[test]
fn a_panicking_fill_commits_nothing() {
    let dir = temp_dir("panic-fill");
    let (mut appender, service) = Appender::open(small_config(dir.path(), STREAM)).expect("opens");
    appender.append(1, 1, b"first").expect("appends");
    let result = catch_unwind(AssertUnwindSafe(|| {
        appender.append_with(1, 2, 100, |buf| {
            buf.fill(0xAB);
            panic!("the fill fails half way");
        })
    }));
    assert!(result.is_err());
    assert_eq!(
        appender.append(1, 3, b"third"),
        Ok(1),
        "the sequence did not advance"
    );
    drop(appender);
    service.shutdown().expect("clean shutdown");
    let read = read_all(dir.path(), STREAM);
    let payloads: Vec<&[u8]> = read.iter().map(|r| r.payload.as_slice()).collect();
    assert_eq!(payloads, [&b"first"[..], &b"third"[..]]);
    assert!(verify(dir.path(), STREAM).expect("verifies").passed());
}

#[test]
fn reopening_continues_the_sequence_in_the_same_segment() {
    let dir = temp_dir("reopen");
    for round in 0..3u64 {
        let (mut appender, service) =
            Appender::open(small_config(dir.path(), STREAM)).expect("opens");
        assert_eq!(appender.next_sequence(), round * 10);
        for i in 0..10 {
            let seq = round * 10 + i;
            assert_eq!(appender.append(2, seq, &bytes(seq, 100)), Ok(seq));
        }
        drop(appender);
        service.shutdown().expect("clean shutdown");
    }
    let read = read_all(dir.path(), STREAM);
    assert_eq!(read.len(), 30);
    assert!(read
        .iter()
        .all(|r| r.segment == 0 && r.payload == bytes(r.sequence, 100)));
    let v = verify(dir.path(), STREAM).expect("verifies");
    assert!(v.passed(), "{:?}", v.problem);
    assert!(
        v.unused_segments <= 2,
        "at most the prepared segments of the last run"
    );
}

#[test]
fn a_tailing_reader_sees_every_record_once_in_order() {
    const RECORDS: u64 = 30_000;
    let dir = temp_dir("tail");
    let (mut appender, service) = Appender::open(small_config(dir.path(), STREAM)).expect("opens");
    let path = dir.path().to_path_buf();
    let tail = thread::spawn(move || {
        let mut reader = JournalReader::open(&path, STREAM).expect("opens");
        let mut seen: Vec<Owned> = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        while (seen.len() as u64) < RECORDS && Instant::now() < deadline {
            match reader.next().expect("reads") {
                Some(r) => seen.push(Owned {
                    kind: r.kind,
                    sequence: r.sequence,
                    timestamp: r.timestamp,
                    payload: r.payload.to_vec(),
                    segment: r.segment,
                    offset: r.offset,
                }),
                None => thread::yield_now(),
            }
        }
        seen
    });
    for seq in 0..RECORDS {
        let len = (mix(seq) % 600) as usize;
        assert_eq!(appender.append(3, seq, &bytes(seq, len)), Ok(seq));
        if seq % 1000 == 0 {
            thread::sleep(Duration::from_millis(1));
        }
    }
    let seen = tail.join().expect("the tail thread");
    let rollovers = appender.counters().rollovers;
    drop(appender);
    service.shutdown().expect("clean shutdown");
    assert_eq!(seen.len() as u64, RECORDS);
    for (i, r) in seen.iter().enumerate() {
        assert_eq!(r.sequence, i as u64, "in order, exactly once");
        assert_eq!(
            r.payload,
            bytes(r.sequence, (mix(r.sequence) % 600) as usize)
        );
    }
    assert!(rollovers > 100, "{rollovers} roll-overs");
}

#[test]
fn the_service_syncs_what_was_committed() {
    let dir = temp_dir("sync");
    let (mut appender, service) = Appender::open(small_config(dir.path(), STREAM)).expect("opens");
    for seq in 0..50 {
        appender.append(1, seq, &bytes(seq, 10)).expect("appends");
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while service.status().synced_sequence < 50 && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(1));
    }
    let status = service.status();
    assert_eq!(status.synced_sequence, 50, "{status:?}");
    assert!(
        status.msyncs > 0 && status.segments_prepared >= 2,
        "{status:?}"
    );
    assert_eq!(service.fault_flag().get(), None);
    drop(appender);
    let report = service.shutdown().expect("clean shutdown");
    assert!(!report.appender_open);
    assert_eq!(report.committed_sequence, 50);
}
