//! `pulse stats` prints what a stats file says, and a stats file is data: a planted file whose
//! names carry terminal escapes (ESC sequences, C1 controls, bidi overrides) must reach the
//! terminal escaped, never raw.

use std::path::PathBuf;
use std::sync::Arc;

mod common;

use common::{pulse, succeeded};
use pulse_engine::stats::{MetricDesc, StatsFile};

/// Placeholders the file is created with, and what is planted over them (same byte lengths).
const PLANTED: [(&str, &str); 4] = [
    ("eeeeeeee", "\x1b]0;pwn\x07"),
    ("mmmmmmmmmmmm", "\x1b[2J\x1b[31mred"),
    ("llllllll", "\x1b[1A\u{9b}AB"),
    ("ssssssss", "\u{202e}\x1b[Kab"),
];

fn planted_file(dir: &std::path::Path) -> (PathBuf, Arc<StatsFile>) {
    let path = dir.join("planted.stats");
    let descs = [
        MetricDesc::counter("mmmmmmmmmmmm", "A planted counter."),
        MetricDesc::gauge("stale", "1 while the instrument's book is stale.")
            .with_label("instrument", "llllllll"),
    ];
    let file = StatsFile::create("eeeeeeee", &path, &descs, &["ssssssss"]).unwrap();
    file.metric(1).set(1);
    let mut bytes = std::fs::read(&path).unwrap();
    for (from, to) in PLANTED {
        assert_eq!(from.len(), to.len());
        let at = bytes
            .windows(from.len())
            .position(|w| w == from.as_bytes())
            .unwrap_or_else(|| panic!("{from} is in the file"));
        bytes[at..at + to.len()].copy_from_slice(to.as_bytes());
    }
    std::fs::write(&path, bytes).unwrap();
    (path, file)
}

#[test]
fn names_from_a_planted_stats_file_are_printed_escaped() {
    let dir = std::env::temp_dir().join(format!("pulse-stats-names-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (path, _file) = planted_file(&dir);
    let path = path.to_str().unwrap();

    let text = succeeded(&pulse(&["stats", "--file", path, "--once"]));
    for raw in ['\x1b', '\x07', '\u{9b}', '\u{202e}'] {
        assert!(
            !text.contains(raw),
            "a raw {raw:?} reached the terminal: {text:?}"
        );
    }
    assert!(
        text.starts_with("pulse \\u{1b}]0;pwn\\u{7}  pid "),
        "{text}"
    );
    assert!(text.contains("  \\u{1b}[2J\\u{1b}[31mred "), "{text}");
    assert!(
        text.contains("stale instruments: \\u{1b}[1A\\u{9b}AB\n"),
        "{text}"
    );
    assert!(text.contains("  \\u{202e}\\u{1b}[Kab "), "{text}");

    // JSON escapes control characters itself: the names come back exactly.
    let json = succeeded(&pulse(&["stats", "--file", path, "--once", "--json"]));
    assert!(!json.contains('\x1b'), "{json:?}");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["name"], PLANTED[0].1);
    assert_eq!(v["metrics"][0]["name"], PLANTED[1].1);
    let _ = std::fs::remove_dir_all(&dir);
}
