//! A journal's records as fields: the streams of a directory, each record kind's name, and its
//! payload decoded for the kinds Pulse writes. `pulse journal dump`, `pulse journal export` and
//! `pulse backtest` read records through these.

use std::path::Path;

use anyhow::Context;
use pulse_feeds::input_journal;
use pulse_gateways::order::{TimeInForce, VenueReject};
use serde_json::{json, Value};

use crate::decisions::{self, i128_at, i64_at, kind as out_kind, u32_at, u64_at};
use crate::health::{Health, HealthReason};
use crate::intent::Origin;
use crate::ops::{event_kind, EVENTS_STREAM};
use crate::risk::allocation::Allocation;
use crate::risk::figures_record::FiguresRecord;
use crate::risk::state::RiskState;
use crate::risk::{HaltReason, RejectReason};

pub fn streams(dir: &Path, only: Option<&str>) -> anyhow::Result<Vec<String>> {
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
        ("output", out_kind::ALLOCATION) => "allocation",
        ("output", out_kind::RISK_FIGURES) => "risk_figures",
        (EVENTS_STREAM, event_kind::HEALTH) => "health",
        (EVENTS_STREAM, k) => match crate::ops::record::name_of(k) {
            Some(name) => name,
            None => return format!("kind_{kind:#06x}"),
        },
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

/// A REPORT's kind by its code (byte 11 of the payload).
pub const REPORT_KINDS: [&str; 10] = [
    "ack",
    "fill",
    "expired",
    "rejected",
    "cancelled",
    "cancel_rejected",
    "outcome_unknown",
    "status",
    "funding",
    "liquidation",
];

/// A record's payload as fields, for the kinds Pulse writes; raw length otherwise.
pub fn describe(stream: &str, kind: u16, p: &[u8]) -> Value {
    let fixed = |len: usize| p.len() == len;
    match (stream, kind) {
        (_, 0x0001) if stream != EVENTS_STREAM && fixed(8) => json!({ "first_seq": u64_at(p, 0) }),
        (EVENTS_STREAM, event_kind::SESSION) if p.len() >= 12 => json!({
            "started_unix_ns": u64_at(p, 0),
            "pid": u32::from_le_bytes([p[8], p[9], p[10], p[11]]),
            "instance": crate::ops::record::session_instance(kind, p),
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
        ("output", out_kind::ALLOCATION) => match Allocation::decode(p) {
            Some(a) => allocation(&a),
            None => json!({ "len": p.len() }),
        },
        ("output", out_kind::RISK_FIGURES) => match FiguresRecord::decode(p) {
            Some(f) => figures(&f),
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
            let mut v = json!({
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
            });
            // Funding carries its amount paid (negative: received) where a fill has its fee.
            if p[11] == 8 {
                v["amount"] = json!(fee.to_string());
            }
            v
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
        (EVENTS_STREAM, k) => match crate::ops::record::decode(k, 0, p) {
            Ok(Some(ev)) => {
                let fields = ev.fields.iter().map(|(key, v)| {
                    let v = match v {
                        crate::ops::Value::Num(n) => json!(n),
                        crate::ops::Value::Text(t) => json!(t),
                    };
                    ((*key).to_owned(), v)
                });
                Value::Object(fields.collect())
            }
            Ok(None) => json!({ "len": p.len() }),
            Err(e) => json!({ "malformed": e, "len": p.len() }),
        },
        _ => json!({ "len": p.len() }),
    }
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

/// An ALLOCATION record: per strategy (in `[[strategies]]` order) its weight in bps and its
/// capital, and the equity it was allocated from, at `ACCOUNT_SCALE` (as decimal strings).
fn allocation(a: &Allocation) -> Value {
    let n = a.count.min(a.weights_bps.len());
    json!({
        "at_ns": a.at.0,
        "mode": a.mode_name(),
        "basis": a.basis.name(),
        "weights_bps": &a.weights_bps[..n],
        "capital": a.capital[..n].iter().map(i128::to_string).collect::<Vec<_>>(),
        "equity": a.equity.to_string(),
    })
}

/// A RISK_FIGURES record: the portfolio stage's figures the checks read, in the account
/// currency.
fn figures(f: &FiguresRecord) -> Value {
    let s = &f.summary;
    json!({
        "rows": f.rows,
        "ready": f.ready,
        "var95_hist": s.var95_hist,
        "var99_hist": s.var99_hist,
        "cvar95_hist": s.cvar95_hist,
        "cvar99_hist": s.cvar99_hist,
        "var95_param": s.var95_param,
        "var99_param": s.var99_param,
        "cvar95_param": s.cvar95_param,
        "cvar99_param": s.cvar99_param,
        "correlated": f.correlated,
        "equity": f.equity,
        "worst_scenario": f.worst_scenario,
        "worst_stress": f.worst_stress,
    })
}
