//! Property: after any one corruption of a journal written over several segments (a flipped
//! byte, a truncated or extended file, a deleted later segment), `verify` counts and `recover`
//! keeps exactly the longest valid prefix, computed here independently from the list of
//! written records, the format's layout rules and the corruption's position; recovery leaves
//! a stream that verifies, and a reopened appender continues right after the prefix.

mod common;

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{bytes, read_all, small_config, temp_dir};
use proptest::prelude::*;
use proptest::sample::Index;
use pulse_journal::{recover, verify, Appender};

const STREAM: &str = "events";
const CAPACITY: u64 = 64 * 1024;

/// A record to write: type, timestamp, payload length.
type Spec = (u16, u64, usize);

fn payload(i: usize, spec: &Spec) -> Vec<u8> {
    bytes(i as u64 ^ spec.1, spec.2)
}

/// What occupies a byte range of a segment, by the format's rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Unit {
    Header,
    Record(usize),
    End,
}

/// Where every unit of every activated segment lies: the header, then records 8-aligned,
/// a roll-over when a record and an end marker would not both fit.
fn layout(specs: &[Spec]) -> Vec<Vec<(u64, u64, Unit)>> {
    let mut segments = vec![vec![(0, 64, Unit::Header)]];
    let mut off = 64;
    for (i, spec) in specs.iter().enumerate() {
        let span = (32 + spec.2 as u64).div_ceil(8) * 8;
        if off + span + 32 > CAPACITY {
            segments
                .last_mut()
                .expect("a segment")
                .push((off, off + 32, Unit::End));
            segments.push(vec![(0, 64, Unit::Header)]);
            off = 64;
        }
        segments
            .last_mut()
            .expect("a segment")
            .push((off, off + span, Unit::Record(i)));
        off += span;
    }
    segments
}

/// Where in a segment a flip lands.
#[derive(Clone, Copy, Debug)]
enum Aim {
    /// Anywhere in the file.
    Anywhere,
    /// In the first 32 bytes of a unit: a header, where every field matters.
    UnitStart,
    /// In the last 8 bytes of a unit: the end of a payload, or its padding.
    UnitEnd,
}

#[derive(Clone, Debug)]
enum Corruption {
    Flip {
        file: Index,
        aim: Aim,
        unit: Index,
        at: Index,
        mask: u8,
    },
    Truncate {
        file: Index,
        len: Index,
    },
    Extend {
        file: Index,
        extra: usize,
        zeros: bool,
    },
    Delete {
        file: Index,
    },
}

fn corruption() -> impl Strategy<Value = Corruption> {
    prop_oneof![
        6 => (
            any::<Index>(),
            prop_oneof![Just(Aim::Anywhere), Just(Aim::UnitStart), Just(Aim::UnitEnd)],
            any::<Index>(),
            any::<Index>(),
            1..=255u8,
        )
            .prop_map(|(file, aim, unit, at, mask)| Corruption::Flip {
                file,
                aim,
                unit,
                at,
                mask
            }),
        2 => (any::<Index>(), any::<Index>())
            .prop_map(|(file, len)| Corruption::Truncate { file, len }),
        1 => (any::<Index>(), 1..5000usize, any::<bool>())
            .prop_map(|(file, extra, zeros)| Corruption::Extend { file, extra, zeros }),
        1 => any::<Index>().prop_map(|file| Corruption::Delete { file }),
    ]
}

/// Records kept when the first damaged unit of segment `s` is `unit`.
fn kept_before(segments: &[Vec<(u64, u64, Unit)>], s: usize, unit: Option<Unit>) -> usize {
    let records_before = |s: usize| -> usize {
        segments[..s.min(segments.len())]
            .iter()
            .flatten()
            .filter(|u| matches!(u.2, Unit::Record(_)))
            .count()
    };
    match unit {
        Some(Unit::Header) => records_before(s),
        Some(Unit::Record(i)) => i,
        Some(Unit::End) => records_before(s + 1),
        None => records_before(segments.len()),
    }
}

/// Applies the corruption to the files and returns how many records stay valid.
fn corrupt(files: &[PathBuf], segments: &[Vec<(u64, u64, Unit)>], c: &Corruption) -> usize {
    let all = kept_before(segments, segments.len(), None);
    match c {
        Corruption::Flip {
            file,
            aim,
            unit,
            at,
            mask,
        } => {
            let s = file.index(files.len());
            let mut data = fs::read(&files[s]).expect("reads");
            let aimed = segments.get(s).map(|units| units[unit.index(units.len())]);
            let at = match (aim, aimed) {
                (Aim::UnitStart, Some((start, end, _))) => {
                    start + at.index(32.min(end - start) as usize) as u64
                }
                (Aim::UnitEnd, Some((start, end, _))) => {
                    end - 1 - at.index(8.min(end - start) as usize) as u64
                }
                _ => at.index(data.len()) as u64,
            };
            data[at as usize] ^= mask;
            fs::write(&files[s], data).expect("writes");
            match segments.get(s) {
                None => all,
                Some(units) => {
                    let hit = units.iter().find(|u| u.0 <= at && at < u.1).map(|u| u.2);
                    kept_before(segments, s, hit)
                }
            }
        }
        Corruption::Truncate { file, len } => {
            let s = file.index(files.len());
            let len = len.index(CAPACITY as usize) as u64;
            OpenOptions::new()
                .write(true)
                .open(&files[s])
                .and_then(|f| f.set_len(len))
                .expect("truncates");
            match segments.get(s) {
                None => all,
                Some(units) => {
                    let cut = units.iter().find(|u| u.1 > len).map(|u| u.2);
                    kept_before(segments, s, cut)
                }
            }
        }
        Corruption::Extend { file, extra, zeros } => {
            let s = file.index(files.len());
            let tail = if *zeros {
                vec![0; *extra]
            } else {
                bytes(*extra as u64, *extra)
            };
            let mut f = OpenOptions::new()
                .append(true)
                .open(&files[s])
                .expect("opens");
            f.write_all(&tail).expect("extends");
            all
        }
        Corruption::Delete { file } => {
            // A later segment: never the first.
            let s = 1 + file.index(files.len().max(2) - 1);
            if s >= files.len() {
                return all;
            }
            fs::remove_file(&files[s]).expect("removes");
            if s < segments.len() {
                kept_before(segments, s, Some(Unit::Header))
            } else {
                all
            }
        }
    }
}

fn segment_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir.join(STREAM))
        .expect("lists")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "seg"))
        .collect();
    files.sort();
    files
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn recovery_keeps_exactly_the_longest_valid_prefix(
        specs in prop::collection::vec((0u16..100, any::<u64>(), 0usize..3000), 1..160),
        c in corruption(),
    ) {
        let dir = temp_dir("props");
        let mut cfg = small_config(dir.path(), STREAM);
        cfg.ready_segments = 1;
        cfg.sync_interval = Duration::from_secs(1);
        let (mut appender, service) = Appender::open(cfg.clone()).expect("opens");
        for (i, spec) in specs.iter().enumerate() {
            prop_assert_eq!(appender.append(spec.0, spec.1, &payload(i, spec)), Ok(i as u64));
        }
        drop(appender);
        service.shutdown().expect("stops");

        let segments = layout(&specs);
        let written = read_all(dir.path(), STREAM);
        for (r, i) in written.iter().zip(0..) {
            let at = segments[r.segment as usize].iter().find(|u| u.2 == Unit::Record(i));
            prop_assert_eq!(at.map(|u| u.0), Some(r.offset), "record {} is where the format says", i);
            prop_assert_eq!((r.kind, r.timestamp), (specs[i].0, specs[i].1));
            prop_assert_eq!(&r.payload, &payload(i, &specs[i]));
        }
        prop_assert_eq!(written.len(), specs.len());

        let files = segment_files(dir.path());
        prop_assert!(files.len() >= segments.len());
        let expected = corrupt(&files, &segments, &c);

        let before = verify(dir.path(), STREAM).expect("verify runs");
        prop_assert_eq!(before.records, expected as u64, "verify counts the prefix: {:?}", before);
        let report = recover(dir.path(), STREAM).expect("recovers");
        prop_assert_eq!(report.valid_records, expected as u64, "{:?}", report);
        prop_assert_eq!(report.next_sequence, expected as u64);
        prop_assert_eq!(report.last_sequence, (expected as u64).checked_sub(1));
        let after = verify(dir.path(), STREAM).expect("verify runs");
        prop_assert!(after.passed(), "{:?}", after);
        prop_assert_eq!((after.records, after.unused_segments), (expected as u64, 0));

        let (mut appender, service) = Appender::open(cfg).expect("reopens");
        prop_assert_eq!(appender.next_sequence(), expected as u64);
        for k in 0..3u64 {
            prop_assert_eq!(appender.append(7, k, b"after"), Ok(expected as u64 + k));
        }
        drop(appender);
        service.shutdown().expect("stops");
        let read = read_all(dir.path(), STREAM);
        prop_assert_eq!(read.len(), expected + 3);
        prop_assert_eq!(&read[..expected], &written[..expected]);
        prop_assert!(read[expected..].iter().all(|r| r.payload == b"after"));
        prop_assert!(verify(dir.path(), STREAM).expect("verify runs").passed());
    }
}
