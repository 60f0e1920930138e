//! Property: damage in the middle of a segment (one flipped byte in a record that has records
//! after it) is never cut away. `Appender::open` refuses the stream and changes no byte;
//! `recover` keeps exactly the records before the damage and every later record, each of which
//! still verifies, is found byte for byte at its offset in a side file; and a reopen after the
//! recovery never rewrites a byte before the damage.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{bytes, read_all, small_config, temp_dir, Owned};
use proptest::prelude::*;
use proptest::sample::Index;
use pulse_journal::{recover, verify, Appender, JournalError};

const STREAM: &str = "output";

fn segment_path(dir: &Path, segment: u64) -> PathBuf {
    dir.join(STREAM).join(format!("{segment:010}.seg"))
}

fn span(r: &Owned) -> u64 {
    (32 + r.payload.len() as u64).div_ceil(8) * 8
}

fn segment_files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files: Vec<_> = fs::read_dir(dir.join(STREAM))
        .expect("lists")
        .map(|e| e.expect("entry").path())
        .map(|p| (p.clone(), fs::read(&p).expect("reads")))
        .collect();
    files.sort();
    files
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn damage_in_the_middle_is_kept_aside_never_cut(
        sizes in prop::collection::vec(0usize..1500, 20..200),
        victim in any::<Index>(),
        at in any::<Index>(),
        mask in 1..=255u8,
    ) {
        let dir = temp_dir("damage");
        let mut cfg = small_config(dir.path(), STREAM);
        cfg.sync_interval = Duration::from_secs(1);
        let (mut appender, service) = Appender::open(cfg.clone()).expect("opens");
        for (i, len) in sizes.iter().enumerate() {
            appender.append(3, i as u64, &bytes(i as u64, *len)).expect("appends");
        }
        drop(appender);
        service.shutdown().expect("stops");
        let written = read_all(dir.path(), STREAM);

        // A record with another record after it in the same segment: the middle of a segment.
        let middle: Vec<usize> = (0..written.len() - 1)
            .filter(|&i| written[i + 1].segment == written[i].segment)
            .collect();
        prop_assume!(!middle.is_empty());
        let i = middle[victim.index(middle.len())];
        let r = &written[i];
        let path = segment_path(dir.path(), r.segment);
        let original = fs::read(&path).expect("reads");
        let mut damaged = original.clone();
        let flipped = r.offset + at.index(span(r) as usize) as u64;
        damaged[flipped as usize] ^= mask;
        fs::write(&path, &damaged).expect("writes");
        let before = segment_files(dir.path());

        match Appender::open(cfg.clone()) {
            Err(JournalError::Corrupt { segment, offset, .. }) => {
                prop_assert_eq!((segment, offset), (r.segment, r.offset));
            }
            Err(e) => prop_assert!(false, "refused for another reason: {}", e),
            Ok(_) => prop_assert!(false, "a stream damaged in the middle opened for writing"),
        }
        prop_assert_eq!(&segment_files(dir.path()), &before, "a refused open wrote");

        let report = recover(dir.path(), STREAM).expect("recovers");
        prop_assert_eq!(report.valid_records, i as u64);
        // Every record after the damage still verifies, in a side file at its offset.
        for later in &written[i + 1..] {
            let moved = report.moved.iter().find(|m| m.segment == later.segment);
            let Some(moved) = moved else {
                prop_assert!(false, "segment {} of record {} went nowhere", later.segment, later.sequence);
                continue;
            };
            let side = fs::read(&moved.side_file).expect("the side file");
            let (from, to) = (later.offset as usize, (later.offset + span(later)) as usize);
            let was = &before.iter().find(|(p, _)| *p == segment_path(dir.path(), later.segment))
                .expect("the segment was there").1;
            prop_assert_eq!(&side[from..to], &was[from..to], "record {}", later.sequence);
        }
        prop_assert!(verify(dir.path(), STREAM).expect("verify runs").passed());

        let (mut appender, service) = Appender::open(cfg).expect("reopens after recovery");
        prop_assert_eq!(appender.next_sequence(), i as u64);
        for k in 0..5u64 {
            prop_assert_eq!(appender.append(9, k, b"after"), Ok(i as u64 + k));
        }
        drop(appender);
        service.shutdown().expect("stops");
        let now = fs::read(&path).expect("reads");
        prop_assert_eq!(&now[..r.offset as usize], &original[..r.offset as usize]);
        for earlier in 0..r.segment {
            let p = segment_path(dir.path(), earlier);
            let was = &before.iter().find(|(q, _)| *q == p).expect("was there").1;
            prop_assert_eq!(&fs::read(&p).expect("reads"), was, "segment {}", earlier);
        }
        let read = read_all(dir.path(), STREAM);
        prop_assert_eq!(&read[..i], &written[..i]);
        prop_assert_eq!(read.len(), i + 5);
    }
}
