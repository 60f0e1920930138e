//! The bundled Kraken v1 capture (10 pairs, depth 1000, 4,269 updates each with Kraken's CRC32
//! of the top ten levels) through the real capture feed and book stage: every checksum is
//! reproduced, every pair synced, no book ever crossed, and the book stage's final books hash
//! to the venue's last checksum too. Corrupted copies are caught for the corrupted pair only,
//! and a later snapshot recovers it.

#[path = "support/kraken.rs"]
mod kraken;

use kraken::{data, run, BookRun};
use pulse_feeds::event::BookState;
use pulse_feeds::instrument::{InstrumentRegistry, Venue};
use pulse_feeds::kraken::checksum::{checksum, Precision};
use pulse_feeds::num::{Px, Qty};

const UPDATES: u64 = 4_269;

/// The bundled v1 capture's text.
pub fn v1_capture() -> String {
    std::fs::read_to_string(data("kraken_v1_book1000_2021-04-17.cap")).expect("capture reads")
}

/// The capture's ten pairs with their price decimals, as its wire strings write them (every
/// price string of a pair has this many decimals, every volume 8: counted over the file, and
/// `pulse replay`'s scan finds the same, `engine/tests/kraken_replay.rs`).
pub const V1_PAIRS: [(&str, u32); 10] = [
    ("WAVES/EUR", 6),
    ("XMR/USD", 8),
    ("KSM/XBT", 8),
    ("GRT/ETH", 9),
    ("SC/EUR", 6),
    ("ETH/CHF", 5),
    ("OCEAN/XBT", 9),
    ("OMG/USD", 6),
    ("XBT/CHF", 5),
    ("ADA/XBT", 9),
];

pub fn v1_registry() -> InstrumentRegistry {
    let mut registry = InstrumentRegistry::new();
    for (pair, decimals) in V1_PAIRS {
        registry
            .add(Venue::KrakenV1, pair, decimals, 8, Px(1), Qty(1))
            .unwrap();
    }
    registry
}

/// Each pair's last checksum in `capture`, by its index in [`V1_PAIRS`].
fn last_checksums(capture: &str) -> Vec<Option<u32>> {
    let mut last = vec![None; V1_PAIRS.len()];
    for line in capture.lines() {
        let Some(at) = line.find(r#""c":""#) else {
            continue;
        };
        let sum: String = line[at + 5..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        for (i, (pair, _)) in V1_PAIRS.iter().enumerate() {
            if line.ends_with(&format!(r#","{pair}"]"#)) {
                last[i] = sum.parse().ok();
            }
        }
    }
    last
}

fn book_checksum(r: &BookRun, price_scale: u32) -> u32 {
    let p = Precision {
        price_scale,
        qty_scale: 8,
        price_decimals: price_scale,
        qty_decimals: 8,
    };
    checksum(&r.asks, &r.bids, p)
}

#[test]
fn every_checksum_of_the_real_capture_is_reproduced() {
    let capture = v1_capture();
    let (runs, feed) = run(capture.clone(), &v1_registry());
    assert_eq!(
        feed.counters.bad_frames_total() + feed.counters.bad_lines_total(),
        0
    );
    assert_eq!(feed.counters.unknown_venue, 0);
    let ok: u64 = runs.iter().map(|r| r.sync.checksum_ok).sum();
    let mismatch: u64 = runs.iter().map(|r| r.sync.checksum_mismatch).sum();
    assert_eq!((ok, mismatch), (UPDATES, 0));
    let last = last_checksums(&capture);
    for ((r, (pair, decimals)), last) in runs.iter().zip(V1_PAIRS).zip(last) {
        assert_eq!(r.sync.snapshots, 1, "{pair}");
        assert_eq!(
            r.sync.applied, r.sync.checksum_ok,
            "{pair}: every update checked"
        );
        assert_eq!(r.state, Some(BookState::Live), "{pair}");
        assert_eq!((r.book.crossed, r.crossed_tops), (0, 0), "{pair}");
        assert_eq!(r.book.stale_marks, 0, "{pair}");
        assert_eq!(r.live_tops, r.sync.applied + 1, "{pair}");
        // What the book stage holds is what Kraken hashed last, not only the adapter's copy.
        assert_eq!(Some(book_checksum(r, decimals)), last, "{pair}");
    }
}

fn index(pair: &str) -> usize {
    V1_PAIRS.iter().position(|(p, _)| *p == pair).unwrap()
}

/// The capture with the `n`th update of `pair` changed by `edit`.
fn corrupt(capture: &str, pair: &str, n: usize, edit: impl Fn(&str) -> String) -> String {
    let mut seen = 0;
    let mut out = String::new();
    for line in capture.lines() {
        let mut line = line.to_string();
        if line.ends_with(&format!(r#","{pair}"]"#)) && line.contains(r#""c":""#) {
            seen += 1;
            if seen == n {
                line = edit(&line);
            }
        }
        out.push_str(&line);
        out.push('\n');
    }
    assert!(seen >= n, "{pair} has {seen} updates");
    out
}

fn flip_checksum(line: &str) -> String {
    let at = line.find(r#""c":""#).unwrap() + 5;
    let digit = line.as_bytes()[at];
    let flipped = if digit == b'1' { '2' } else { '1' };
    format!("{}{flipped}{}", &line[..at], &line[at + 1..])
}

fn only_pair_went_stale(runs: &[BookRun], clean: &[BookRun], pair: &str) {
    for (i, (r, c)) in runs.iter().zip(clean).enumerate() {
        let name = V1_PAIRS[i].0;
        if name == pair {
            assert_eq!(r.sync.checksum_mismatch, 1, "{name}");
            assert_eq!(r.book.stale_marks, 1, "{name}");
            assert_eq!(
                r.state,
                Some(BookState::Stale),
                "{name}: no snapshot follows"
            );
            assert!(
                r.sync.dropped > 0,
                "{name}: its later updates wait for a snapshot"
            );
        } else {
            assert_eq!(r.sync, c.sync, "{name} is untouched");
            assert_eq!(r.state, Some(BookState::Live), "{name}");
        }
        assert_eq!(r.crossed_tops, 0, "{name}");
    }
}

#[test]
fn a_flipped_checksum_marks_that_pair_stale_and_only_it() {
    let capture = v1_capture();
    let (clean, _) = run(capture.clone(), &v1_registry());
    let (runs, _) = run(
        corrupt(&capture, "SC/EUR", 100, flip_checksum),
        &v1_registry(),
    );
    only_pair_went_stale(&runs, &clean, "SC/EUR");
    let sc = &runs[index("SC/EUR")];
    assert_eq!(sc.sync.checksum_ok, 99);
    assert_eq!(sc.sync.applied, 99);
}

#[test]
fn a_changed_quantity_in_the_snapshot_is_caught_at_the_first_update() {
    let capture = v1_capture();
    let (clean, _) = run(capture.clone(), &v1_registry());
    // The best ask of XMR/USD's snapshot (the first "as" level) gets another volume.
    let mut edited = String::new();
    for line in capture.lines() {
        let mut line = line.to_string();
        if line.contains(r#"{"as":[["#) && line.ends_with(r#""XMR/USD"]"#) {
            let at = line.find(r#"{"as":[[""#).unwrap() + 9;
            let qty_at = at + line[at..].find(r#"",""#).unwrap() + 3;
            line.replace_range(qty_at..qty_at + 1, "9");
        }
        edited.push_str(&line);
        edited.push('\n');
    }
    assert_ne!(edited, capture);
    let (runs, _) = run(edited, &v1_registry());
    only_pair_went_stale(&runs, &clean, "XMR/USD");
    assert_eq!(runs[index("XMR/USD")].sync.checksum_ok, 0);
}

#[test]
fn the_next_snapshot_recovers_the_pair() {
    let capture = v1_capture();
    let corrupted = corrupt(&capture, "KSM/XBT", 10, flip_checksum);
    // The whole capture again after it, later: every pair's snapshot comes again.
    let later: String = capture
        .lines()
        .map(|l| {
            let (ts, rest) = l.split_once('\t').unwrap();
            let ts: u64 = ts.parse().unwrap();
            format!("{}\t{rest}\n", ts + 100_000_000_000)
        })
        .collect();
    let (runs, _) = run(corrupted + &later, &v1_registry());
    let clean = run(capture, &v1_registry()).0;
    for (i, r) in runs.iter().enumerate() {
        let (name, c) = (V1_PAIRS[i].0, &clean[i]);
        assert_eq!(r.state, Some(BookState::Live), "{name} is live at the end");
        assert_eq!(r.crossed_tops, 0, "{name}");
        if name == "KSM/XBT" {
            assert_eq!(r.sync.checksum_mismatch, 1);
            assert_eq!(
                r.sync.resyncs, 1,
                "{name} resynced from the second snapshot"
            );
            assert_eq!(r.sync.checksum_ok, 9 + c.sync.checksum_ok);
        } else {
            assert_eq!(r.sync.checksum_ok, 2 * c.sync.checksum_ok, "{name}");
            assert_eq!(r.sync.checksum_mismatch, 0, "{name}");
        }
    }
}
