//! The journals the bundled configs write are pinned by a checked-in digest: a refactor that
//! changes one byte of what the engine records or decides (a record's kind, sequence, time or
//! payload, in the input or the output stream) fails here, whatever else still passes.
//!
//! The digests are SHA-256 over every record of a stream, in order, each as
//! `kind (u16 LE) | sequence (u64 LE) | timestamp (u64 LE) | payload length (u32 LE) | payload`.
//! They live in `engine/tests/digests/<config>.txt`, one `stream records sha256` line each.
//! When a change is *meant* to change what the engine writes, regenerate them with
//! `PULSE_BLESS_DIGESTS=1 cargo test -p pulse-engine --test journal_digest` and say why in the
//! commit. The events stream is not pinned: it holds wall-clock session times.

use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

mod common;

use common::{journal_records, pulse, repo_config, repo_root, succeeded};

fn digest_line(journal: &Path, stream: &str) -> String {
    let records = journal_records(journal, stream);
    let mut hash = Sha256::new();
    for (kind, sequence, timestamp, payload) in &records {
        hash.update(kind.to_le_bytes());
        hash.update(sequence.to_le_bytes());
        hash.update(timestamp.to_le_bytes());
        hash.update((payload.len() as u32).to_le_bytes());
        hash.update(payload);
    }
    let hex: String = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
    format!("{stream} {} {hex}", records.len())
}

fn check(config_file: &str) {
    let dir = std::env::temp_dir().join(format!(
        "pulse-digest-{}-{}",
        std::process::id(),
        config_file.trim_end_matches(".toml")
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let config = repo_config(config_file, &dir, None, &[]);
    let journal = dir.join("journal");
    succeeded(&pulse(&[
        "run",
        "--config",
        config.to_str().unwrap(),
        "--journal",
        journal.to_str().unwrap(),
        "--name",
        &format!(
            "digest-{}-{}",
            config_file.trim_end_matches(".toml"),
            std::process::id()
        ),
    ]));
    let got = format!(
        "{}\n{}\n",
        digest_line(&journal, "input"),
        digest_line(&journal, "output")
    );
    let _ = std::fs::remove_dir_all(&dir);
    let pinned: PathBuf = repo_root()
        .join("engine/tests/digests")
        .join(config_file.replace(".toml", ".txt"));
    if std::env::var_os("PULSE_BLESS_DIGESTS").is_some() {
        std::fs::write(&pinned, &got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&pinned).unwrap();
    assert_eq!(
        got, want,
        "configs/{config_file} now journals different bytes (records, sha256)"
    );
}

#[test]
fn the_demo_journals_the_pinned_bytes() {
    check("demo.toml");
}

#[test]
fn the_market_maker_journals_the_pinned_bytes() {
    check("market-maker.toml");
}

#[test]
fn the_imbalance_config_journals_the_pinned_bytes() {
    check("imbalance.toml");
}
