//! The one JSON-lines format of operational events, shared by the live log
//! ([`super::log::EventLog`]) and `pulse events DIR` (the journal's `events` stream): a flat
//! object per line, `ts` (RFC 3339, UTC, nanoseconds), `ts_ns`, `instance`, `kind`, then the
//! event's fields in their order. Keys are stable: a shipper can index on them.

use std::fmt::Write as _;

use super::{OpsEvent, Value};

/// `ev` as one line of JSON (no newline), for the engine `instance`.
///
/// `{"ts":"2026-12-07T03:40:00.123456789Z","ts_ns":1796614800123456789,"instance":"demo",
/// "kind":"health","from":"healthy","to":"degraded","reason":"book_stale"}`
pub fn line(ev: &OpsEvent, instance: &str) -> String {
    let mut out = String::with_capacity(128);
    out.push_str("{\"ts\":\"");
    pulse_core::clock::rfc3339(ev.time_ns, &mut out);
    let _ = write!(out, "\",\"ts_ns\":{},\"instance\":", ev.time_ns);
    string(instance, &mut out);
    out.push_str(",\"kind\":");
    string(ev.kind, &mut out);
    for (key, value) in &ev.fields {
        out.push(',');
        string(key, &mut out);
        out.push(':');
        match value {
            Value::Num(n) => {
                let _ = write!(out, "{n}");
            }
            Value::Text(t) => string(t, &mut out),
        }
    }
    out.push('}');
    out
}

/// A JSON string literal (serde_json's escaping).
fn string(s: &str, out: &mut String) {
    // Serializing a &str cannot fail; the fallback keeps the line valid all the same.
    out.push_str(&serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_owned()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_flat_json_with_the_fields_in_order() {
        let ev = OpsEvent::new(1_796_614_800_000_000_005, "kill")
            .with("reason", "operator")
            .with("uid", 1000u64)
            .with("note", "a \"quoted\"\nline");
        let text = line(&ev, "demo");
        assert_eq!(
            text,
            "{\"ts\":\"2026-12-07T03:40:00.000000005Z\",\"ts_ns\":1796614800000000005,\
             \"instance\":\"demo\",\"kind\":\"kill\",\"reason\":\"operator\",\"uid\":1000,\
             \"note\":\"a \\\"quoted\\\"\\nline\"}"
        );
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["note"], "a \"quoted\"\nline");
        assert_eq!(v["ts_ns"], 1_796_614_800_000_000_005u64);
    }
}
