//! `pulse journal dump | verify | stats DIR`: read a journal directory (live or finished)
//! without changing it; `pulse journal recover DIR` repairs a damaged one.
//!
//! `dump` prints one line per record, `--json` one JSON object per line, with the payload
//! decoded for the kinds Pulse writes (input messages as text, decisions as fields).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use pulse_feeds::input_journal;
use pulse_gateways::order::{TimeInForce, VenueReject};
use pulse_journal::{JournalReader, Position, ProblemKind};
use serde_json::{json, Value};

use crate::decisions::{self, i128_at, i64_at, kind as out_kind, u32_at, u64_at};
use crate::health::{Health, HealthReason};
use crate::intent::Origin;
use crate::risk::state::RiskState;
use crate::risk::{HaltReason, RejectReason};
use crate::runtime::monitor::{event_kind, EVENTS_STREAM};

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

pub(crate) fn streams(dir: &Path, only: Option<&str>) -> anyhow::Result<Vec<String>> {
    let all = pulse_journal::streams(dir)
        .with_context(|| format!("cannot read journal {}", dir.display()))?;
    anyhow::ensure!(!all.is_empty(), "{} holds no journal stream", dir.display());
    match only {
        None => Ok(all),
        Some(s) if all.iter().any(|a| a == s) => Ok(vec![s.to_string()]),
        Some(s) => anyhow::bail!(
            "{} has no stream {s:?} (it has: {})",
            dir.display(),
            all.join(", ")
        ),
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

pub fn kind_name(stream: &str, kind: u16) -> String {
    let name = match (stream, kind) {
        (_, 0x0001) => "session",
        ("input", input_journal::kind::MESSAGE) => "message",
        ("output", out_kind::INTENT) => "intent",
        ("output", out_kind::DECISION) => "decision",
        ("output", out_kind::ORDER) => "order",
        ("output", out_kind::REPORT) => "report",
        ("output", out_kind::CANCEL_INTENT) => "cancel_intent",
        ("output", out_kind::CANCEL) => "cancel",
        ("output", out_kind::ACCOUNT) => "account",
        ("output", out_kind::QUERY) => "query",
        ("output", out_kind::RISK_STATE) => "risk_state",
        (EVENTS_STREAM, event_kind::HEALTH) => "health",
        _ => return format!("kind_{kind:#06x}"),
    };
    name.to_string()
}

fn tif(code: u8) -> &'static str {
    [
        TimeInForce::Ioc,
        TimeInForce::Gtc,
        TimeInForce::PostOnly,
        TimeInForce::Fok,
        TimeInForce::Market,
    ]
    .get(code as usize)
    .map_or("unknown", |t| t.name())
}

fn side(code: u8) -> &'static str {
    if code == 0 {
        "buy"
    } else {
        "sell"
    }
}

/// A record's payload as fields, for the kinds Pulse writes; raw length otherwise.
/// A REPORT's kind by its code (byte 11 of the payload).
pub const REPORT_KINDS: [&str; 8] = [
    "ack",
    "fill",
    "expired",
    "rejected",
    "cancelled",
    "cancel_rejected",
    "outcome_unknown",
    "status",
];

pub fn describe(stream: &str, kind: u16, p: &[u8]) -> Value {
    let fixed = |len: usize| p.len() == len;
    match (stream, kind) {
        (_, 0x0001) if stream != EVENTS_STREAM && fixed(8) => json!({ "first_seq": u64_at(p, 0) }),
        (EVENTS_STREAM, event_kind::SESSION) if p.len() >= 12 => json!({
            "started_unix_ns": u64_at(p, 0),
            "pid": u32::from_le_bytes([p[8], p[9], p[10], p[11]]),
        }),
        ("input", input_journal::kind::MESSAGE) => match input_journal::decode_message(0, p) {
            Ok(r) => {
                let source_len = p.iter().position(|&b| b == b'\t').unwrap_or(0);
                json!({
                    "source": String::from_utf8_lossy(&p[..source_len]),
                    "payload": String::from_utf8_lossy(r.payload),
                })
            }
            Err(e) => json!({ "malformed": e.describe(), "len": p.len() }),
        },
        ("output", out_kind::INTENT) if fixed(decisions::INTENT_LEN) => json!({
            "intent": u64_at(p, 0),
            "instrument": u16::from_le_bytes([p[8], p[9]]),
            "side": side(p[10]),
            "tif": tif(p[11]),
            "tag": u32_at(p, 12),
            "px": i64_at(p, 16),
            "qty": i64_at(p, 24),
            "confidence_bps": u16::from_le_bytes([p[32], p[33]]),
            "origin": Origin::from_code(p[34]).map_or("unknown", Origin::name),
            "vol_bps": u32_at(p, 36),
        }),
        ("output", out_kind::CANCEL_INTENT) if fixed(decisions::CANCEL_INTENT_LEN) => json!({
            "intent": u64_at(p, 0),
            "instrument": u16::from_le_bytes([p[8], p[9]]),
            "tag": u32_at(p, 12),
            "cancel_client_id": u64_at(p, 16),
        }),
        ("output", out_kind::ACCOUNT) if fixed(decisions::ACCOUNT_LEN) => json!({
            "instrument": u16::from_le_bytes([p[0], p[1]]),
            "position": i64_at(p, 8),
            "cost": i128_at(p, 16).to_string(),
        }),
        ("output", out_kind::RISK_STATE) => match RiskState::decode(p) {
            Some((s, cause, rearm)) => json!({
                "cause": cause.name(),
                "mode": s.mode.name(),
                "reason": s.reason.map_or("none", HaltReason::name),
                "breaker": s.level.name(),
                "rearm_uid": rearm.map(|r| r.uid),
                "rearm_unix_ns": rearm.map(|r| r.at_unix_ns),
                "hwm": s.hwm.to_string(),
                "realized": s.realized.to_string(),
                "day": s.day,
                "day_start": s.day_start.to_string(),
                "equity": s.equity.to_string(),
            }),
            None => json!({ "len": p.len() }),
        },
        ("output", out_kind::QUERY) if fixed(decisions::CANCEL_LEN) => json!({
            "client_id": u64_at(p, 0),
            "instrument": u16::from_le_bytes([p[8], p[9]]),
            "side": side(p[10]),
        }),
        ("output", out_kind::CANCEL) if fixed(decisions::CANCEL_LEN) => json!({
            "client_id": u64_at(p, 0),
            "instrument": u16::from_le_bytes([p[8], p[9]]),
            "side": side(p[10]),
            "by": if p[11] == 1 { "kill_switch" } else { "strategy" },
        }),
        ("output", out_kind::DECISION) if fixed(decisions::DECISION_LEN) => {
            if p[8] == 0 {
                json!({ "intent": u64_at(p, 0), "verdict": "accepted", "client_id": u64_at(p, 16) })
            } else {
                let reason = RejectReason::ALL
                    .get(p[9] as usize)
                    .map_or("unknown", |r| r.name());
                json!({ "intent": u64_at(p, 0), "verdict": "rejected", "reason": reason })
            }
        }
        ("output", out_kind::ORDER) if fixed(decisions::ORDER_LEN) => json!({
            "client_id": u64_at(p, 0),
            "instrument": u16::from_le_bytes([p[8], p[9]]),
            "side": side(p[10]),
            "tif": tif(p[11]),
            "px": i64_at(p, 16),
            "qty": i64_at(p, 24),
        }),
        ("output", out_kind::REPORT)
            if fixed(decisions::REPORT_LEN) || fixed(decisions::REPORT_TEXT_ID_LEN) =>
        {
            let kind = REPORT_KINDS
                .get(p[11] as usize)
                .copied()
                .unwrap_or("unknown");
            let detail = match p[11] {
                1 if p[12] == 0 => "maker",
                1 => "taker",
                3 => VenueReject::ALL
                    .get(p[12] as usize)
                    .map_or("unknown", |r| r.name()),
                7 => ["working", "done", "not_found"]
                    .get(p[12] as usize)
                    .copied()
                    .unwrap_or("unknown"),
                _ => "",
            };
            let fee = i128_at(p, 32);
            json!({
                "client_id": u64_at(p, 0),
                "instrument": u16::from_le_bytes([p[8], p[9]]),
                "side": side(p[10]),
                "report": kind,
                "detail": detail,
                "px": i64_at(p, 16),
                "qty": i64_at(p, 24),
                "fee": fee.to_string(),
                "leaves": i64_at(p, 48),
                "trade_id": trade_id(p),
                "venue_ts": u64_at(p, 64),
            })
        }
        (EVENTS_STREAM, event_kind::HEALTH) if p.len() >= 4 => {
            let health = |c: u8| Health::from_u32(c as u32).map_or("unknown", Health::as_str);
            let reason = u16::from_le_bytes([p[2], p[3]]);
            json!({
                "from": health(p[0]),
                "to": health(p[1]),
                "reason": HealthReason::from_code(reason).map_or("unknown", HealthReason::name),
            })
        }
        _ => json!({ "len": p.len() }),
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

/// A REPORT's venue trade id: the number, or (form 1) the text after the fixed fields.
fn trade_id(p: &[u8]) -> serde_json::Value {
    if p[13] != 1 {
        return u64_at(p, 56).into();
    }
    let len = usize::from(p[decisions::REPORT_LEN]);
    let text = p.get(decisions::REPORT_LEN + 1..decisions::REPORT_LEN + 1 + len);
    String::from_utf8_lossy(text.unwrap_or_default())
        .into_owned()
        .into()
}
