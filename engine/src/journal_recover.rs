//! `pulse journal recover DIR [--stream S] [--apply]`: what a damaged journal would lose, and
//! with `--apply` the repair: the longest valid prefix stays, the rest goes to side files
//! `<segment>.damaged-<n>` beside the segments. Nothing is deleted.

use std::path::Path;

use anyhow::Context;
use pulse_journal::RecoveryReport;

/// Plans (or, with `apply`, carries out) the recovery of each stream; `true` when every
/// stream is whole afterwards (or, without `apply`, already was).
pub(crate) fn recover(dir: &Path, streams: &[String], apply: bool) -> anyhow::Result<bool> {
    let mut whole = true;
    for stream in streams {
        let report = if apply {
            pulse_journal::recover(dir, stream)
        } else {
            pulse_journal::recovery_plan(dir, stream)
        }
        .with_context(|| format!("cannot recover stream {stream}"))?;
        print_report(stream, &report, apply);
        whole &= apply || report.problem.is_none();
    }
    if !apply && !whole {
        println!("nothing was changed: run again with --apply to keep the valid prefixes");
    }
    Ok(whole)
}

fn print_report(stream: &str, r: &RecoveryReport, applied: bool) {
    let Some(problem) = &r.problem else {
        println!("{stream}: ok: {} records, nothing to cut", r.valid_records);
        return;
    };
    let cut = r
        .truncated_at
        .map_or_else(|| problem.at.to_string(), |at| at.to_string());
    let verb = if applied { "cut" } else { "would cut" };
    println!(
        "{stream}: {problem}; {verb} at {cut}: {} records kept",
        r.valid_records
    );
    let moves = if applied { "moved" } else { "would move" };
    for m in &r.moved {
        println!(
            "  segment {}: {moves} {} bytes to {}",
            m.segment,
            m.bytes,
            m.side_file.display()
        );
    }
    let removes = if applied { "removed" } else { "would remove" };
    for index in &r.removed_segments {
        println!("  segment {index}: prepared and never used (all zeros): {removes}");
    }
}
