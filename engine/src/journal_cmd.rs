//! `pulse journal dump | verify | stats | export DIR`: read a journal directory (live or finished)
//! without changing it; `pulse journal recover DIR` repairs a damaged one.
//!
//! `dump` prints one line per record, `--json` one JSON object per line, with the payload
//! decoded for the kinds Pulse writes (input messages as text, decisions as fields).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use pulse_journal::{JournalReader, Position, ProblemKind};
use serde_json::{json, Value};

use crate::journal_records::{describe, kind_name, streams};

#[derive(clap::Args, Debug, Clone)]
pub struct JournalArgs {
    #[command(subcommand)]
    pub command: JournalCommand,
}

#[derive(clap::Subcommand, Debug, Clone)]
pub enum JournalCommand {
    /// Print every record of one stream (or all streams), oldest first.
    Dump {
        dir: PathBuf,
        /// input, output or events; every stream when absent.
        #[arg(long)]
        stream: Option<String>,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Check every record's checksum and the sequence: exit 0 when the journal is whole, 1
    /// when not. A torn tail (the last append of a crash, cut by the next open) is told apart
    /// from corruption (damage anywhere else, which the engine refuses to open).
    Verify { dir: PathBuf },
    /// Show what would be cut from a damaged stream (segment, offset, records kept, bytes set
    /// aside); with --apply keep the longest valid prefix and move the rest to side files
    /// `<segment>.damaged-<n>` beside the segments. Nothing is deleted.
    Recover {
        dir: PathBuf,
        /// input, output or events; every stream when absent.
        #[arg(long)]
        stream: Option<String>,
        /// Carry it out; without it nothing is written.
        #[arg(long)]
        apply: bool,
    },
    /// Per stream: segments, records, bytes, first and last sequence and time, records by kind.
    Stats { dir: PathBuf },
    /// Every stream as tables, one per stream and record kind (`output.order`, ...), as
    /// Parquet and/or CSV, for pandas and polars.
    Export {
        dir: PathBuf,
        /// Where the tables go (created).
        #[arg(long)]
        out: PathBuf,
        #[arg(long, value_enum, default_value = "both")]
        format: crate::journal_export::Format,
    },
}

pub fn run(args: &JournalArgs) -> ExitCode {
    let result = match &args.command {
        JournalCommand::Dump { dir, stream, json } => dump(dir, stream.as_deref(), *json),
        JournalCommand::Verify { dir } => verify(dir),
        JournalCommand::Stats { dir } => stats(dir).map(|()| true),
        JournalCommand::Export { dir, out, format } => {
            crate::journal_export::export(dir, out, *format).map(|text| {
                print!("{text}");
                true
            })
        }
        JournalCommand::Recover { dir, stream, apply } => streams(dir, stream.as_deref())
            .and_then(|all| crate::journal_recover::recover(dir, &all, *apply)),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("pulse journal: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn dump(dir: &Path, only: Option<&str>, as_json: bool) -> anyhow::Result<bool> {
    let out = std::io::stdout();
    let mut out = out.lock();
    for stream in streams(dir, only)? {
        let mut reader = JournalReader::open(dir, &stream)
            .with_context(|| format!("cannot open stream {stream}"))?;
        loop {
            let record = match reader.next() {
                Ok(Some(r)) => r,
                Ok(None) => break,
                Err(e) => {
                    eprintln!("pulse journal: stream {stream}: {e}");
                    return Ok(false);
                }
            };
            let body = describe(&stream, record.kind, record.payload);
            let line = if as_json {
                let mut v = json!({
                    "stream": stream,
                    "seq": record.sequence,
                    "ts": record.timestamp,
                    "kind": kind_name(&stream, record.kind),
                });
                if let (Value::Object(m), Value::Object(b)) = (&mut v, body) {
                    m.extend(b);
                }
                v.to_string()
            } else {
                format!(
                    "{stream} #{} ts={} {} {}",
                    record.sequence,
                    record.timestamp,
                    kind_name(&stream, record.kind),
                    text(&body)
                )
            };
            if writeln!(out, "{line}").is_err() {
                return Ok(true); // stdout closed (a pager quit): not an error
            }
        }
    }
    Ok(true)
}

fn text(body: &Value) -> String {
    match body {
        Value::Object(m) => m
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => format!("{k}={s}"),
                v => format!("{k}={v}"),
            })
            .collect::<Vec<_>>()
            .join(" "),
        v => v.to_string(),
    }
}

fn verify(dir: &Path) -> anyhow::Result<bool> {
    let mut whole = true;
    for stream in streams(dir, None)? {
        let report = pulse_journal::verify(dir, &stream)
            .with_context(|| format!("cannot verify stream {stream}"))?;
        let pending = report.pending.map_or(String::new(), |at| {
            format!(" (an unfinished append at {at} is not a record: the next open removes it)")
        });
        match (&report.problem, report.passed()) {
            (None, _) | (Some(_), true) => println!(
                "{stream}: ok: {} records in {} segment(s), sequences {}{pending}",
                report.records,
                report.segments,
                seq_range(report.first, report.last)
            ),
            (Some(problem), false) => {
                whole = false;
                let consequence = match problem.kind {
                    ProblemKind::TornTail => "the next open cuts this unfinished last append",
                    ProblemKind::Corruption => {
                        "the engine refuses to open it; `pulse journal recover` sets the rest aside"
                    }
                };
                println!(
                    "{stream}: FAILED after {} valid records: {problem} ({consequence})",
                    report.records
                );
            }
        }
    }
    Ok(whole)
}

fn seq_range(first: Option<Position>, last: Option<Position>) -> String {
    match (first, last) {
        (Some(a), Some(b)) => format!("{}..={}", a.sequence, b.sequence),
        _ => "none".to_string(),
    }
}

fn time_range(first: Option<Position>, last: Option<Position>) -> String {
    match (first, last) {
        (Some(a), Some(b)) => format!("{}..={}", a.timestamp, b.timestamp),
        _ => "none".to_string(),
    }
}

fn stats(dir: &Path) -> anyhow::Result<()> {
    for stream in streams(dir, None)? {
        let s = pulse_journal::stats(dir, &stream)
            .with_context(|| format!("cannot read stream {stream}"))?;
        println!(
            "{stream}: {} records, {} payload bytes, {} segment(s), sequences {}, time {}",
            s.records,
            s.payload_bytes,
            s.segments,
            seq_range(s.first, s.last),
            time_range(s.first, s.last),
        );
        for (kind, n) in &s.records_by_kind {
            println!("  {:<10} {n}", kind_name(&stream, *kind));
        }
        if let Some(problem) = &s.problem {
            println!("  stops at: {problem}");
        }
    }
    Ok(())
}
