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
    rfc3339(ev.time_ns, &mut out);
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

/// `unix_ns` as `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ` (proleptic Gregorian, UTC).
pub fn rfc3339(unix_ns: u64, out: &mut String) {
    let secs = unix_ns / 1_000_000_000;
    let nanos = unix_ns % 1_000_000_000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    let _ = write!(
        out,
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{nanos:09}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    );
}

/// Days since 1970-01-01 to (year, month, day): Howard Hinnant's `civil_from_days`.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_match_known_instants() {
        let ts = |ns| {
            let mut s = String::new();
            rfc3339(ns, &mut s);
            s
        };
        assert_eq!(ts(0), "1970-01-01T00:00:00.000000000Z");
        // 951_782_400 s = 2000-02-29 00:00:00 UTC (a leap day of a century leap year).
        assert_eq!(
            ts(951_782_400_000_000_001),
            "2000-02-29T00:00:00.000000001Z"
        );
        // 2026-12-07 is day 20_794: 20_794 * 86_400 = 1_796_601_600 s, plus 03:40 (13_200 s)
        // = 1_796_614_800 s.
        assert_eq!(
            ts(1_796_614_800_123_456_789),
            "2026-12-07T03:40:00.123456789Z"
        );
    }

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
