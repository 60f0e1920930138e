//! `pulse events DIR`: the journal's `events` stream as the JSON lines the live event log
//! (`[events] log`) writes, one formatter for both ([`crate::ops::json::line`]), so a log
//! shipper can backfill from a journal what a live log missed.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use pulse_journal::JournalReader;

use crate::ops::EVENTS_STREAM;
use crate::ops::{json, record};

#[derive(Args, Debug)]
pub struct EventsArgs {
    /// The journal directory (`[journal] dir`).
    pub dir: PathBuf,
    /// The `instance` of every line; without it, what each session recorded (the engine's
    /// `[events] instance`, else its name).
    #[arg(long, value_name = "NAME")]
    pub instance: Option<String>,
}

pub fn run(args: &EventsArgs) -> ExitCode {
    match print(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pulse events: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn print(args: &EventsArgs) -> anyhow::Result<()> {
    let dir = &args.dir;
    let streams = pulse_journal::streams(dir)
        .with_context(|| format!("cannot read journal {}", dir.display()))?;
    anyhow::ensure!(
        streams.iter().any(|s| s == EVENTS_STREAM),
        "{} has no `{EVENTS_STREAM}` stream (a journal of `pulse run` with [journal] has one)",
        dir.display()
    );
    let mut reader = JournalReader::open(dir, EVENTS_STREAM)
        .with_context(|| format!("cannot open stream {EVENTS_STREAM} of {}", dir.display()))?;
    let out = std::io::stdout();
    let mut out = out.lock();
    let mut instance = args.instance.clone().unwrap_or_default();
    while let Some(r) = reader
        .next()
        .with_context(|| format!("stream {EVENTS_STREAM} of {}", dir.display()))?
    {
        if args.instance.is_none() {
            if let Some(name) = record::session_instance(r.kind, r.payload) {
                instance = name.to_owned();
            }
        }
        let ev = record::decode(r.kind, r.timestamp, r.payload)
            .map_err(|e| anyhow::anyhow!("record #{}: {e}", r.sequence))?;
        let Some(ev) = ev else { continue };
        if writeln!(out, "{}", json::line(&ev, &instance)).is_err() {
            return Ok(()); // stdout closed (a pager quit): not an error
        }
    }
    Ok(())
}
