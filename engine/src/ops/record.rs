//! Operational events as records of the journal's `events` stream, and back: what `pulse
//! events DIR` reads. A run's start and its health transitions keep the fixed payloads they
//! always had ([`event_kind::SESSION`], [`event_kind::HEALTH`]); every other kind is a record of
//! its own kind code whose payload is the event's fields, each `key u8` (an index into
//! [`KEYS`]), then `0 u8` and a u64 (LE), or `1 u8`, a u16 length (LE) and UTF-8 text.

use super::event_kind;
use crate::health::{Health, HealthReason};

use super::{OpsEvent, Value};

/// Every event kind, by its `events` stream record kind.
pub const KINDS: [(u16, &str); 15] = [
    (event_kind::SESSION, "session_start"),
    (event_kind::HEALTH, "health"),
    (event_kind::KILL, "kill"),
    (event_kind::REARM, "rearm"),
    (event_kind::REDUCE_ONLY, "reduce_only"),
    (event_kind::FLATTEN, "flatten"),
    (event_kind::FLATTEN_DONE, "flatten_done"),
    (event_kind::FLATTEN_UNCLOSABLE, "flatten_unclosable"),
    (event_kind::RESYNC, "resync"),
    (event_kind::GATEWAY_CONNECTED, "gateway_connected"),
    (event_kind::GATEWAY_DISCONNECTED, "gateway_disconnected"),
    (event_kind::FEED_CONNECTED, "feed_connected"),
    (event_kind::FEED_DISCONNECTED, "feed_disconnected"),
    (event_kind::RECONCILIATION, "reconciliation"),
    (event_kind::SESSION_END, "session_end"),
];

/// Every field key an event may carry; a key is stored as its index here (append only).
pub const KEYS: [&str; 20] = [
    "pid",
    "from",
    "to",
    "reason",
    "uid",
    "instrument",
    "count",
    "total",
    "source",
    "venue",
    "reconciled_fills",
    "balance_mismatches",
    "result",
    "halts",
    "open",
    "unclosable",
    "health",
    "mode",
    "dropped",
    "connects",
];

/// The record kind of event kind `name`.
pub fn code_of(name: &str) -> Option<u16> {
    KINDS.iter().find(|(_, n)| *n == name).map(|(c, _)| *c)
}

/// The event kind of record kind `code`.
pub fn name_of(code: u16) -> Option<&'static str> {
    KINDS.iter().find(|(c, _)| *c == code).map(|(_, n)| *n)
}

/// `ev` as an `events` stream record: (kind, payload). `None` for a kind or key not in
/// [`KINDS`] / [`KEYS`] (a programming error the tests catch). A session's start also
/// records the `instance` its lines name, so `pulse events` prints the same lines.
pub fn encode(ev: &OpsEvent, instance: &str) -> Option<(u16, Vec<u8>)> {
    let code = code_of(ev.kind)?;
    if code == event_kind::SESSION {
        // Start time u64, pid u32, reserved u32: the payload sessions always had; then the
        // instance (UTF-8, to the end), which older readers ignore.
        let pid = ev.fields.iter().find_map(|(k, v)| match v {
            Value::Num(n) if *k == "pid" => Some(*n as u32),
            _ => None,
        })?;
        let mut p = vec![0u8; 16];
        p[..8].copy_from_slice(&ev.time_ns.to_le_bytes());
        p[8..12].copy_from_slice(&pid.to_le_bytes());
        p.extend_from_slice(instance.as_bytes());
        return Some((code, p));
    }
    if code == event_kind::HEALTH {
        let health = |key| {
            let name = ev.text(key)?;
            (0..8)
                .filter_map(Health::from_u32)
                .find(|h| h.as_str() == name)
        };
        let reason = ev.text("reason")?;
        let reason = HealthReason::ALL.into_iter().find(|r| r.name() == reason)?;
        let p = health_payload(health("from")?, health("to")?, reason);
        return Some((code, p.to_vec()));
    }
    let mut p = Vec::with_capacity(64);
    for (key, value) in &ev.fields {
        p.push(KEYS.iter().position(|k| k == key)? as u8);
        match value {
            Value::Num(n) => {
                p.push(0);
                p.extend_from_slice(&n.to_le_bytes());
            }
            Value::Text(t) => {
                let len = u16::try_from(t.len()).ok()?;
                p.push(1);
                p.extend_from_slice(&len.to_le_bytes());
                p.extend_from_slice(t.as_bytes());
            }
        }
    }
    Some((code, p))
}

/// The fixed HEALTH payload: from u8, to u8, reason u16, reserved u32.
pub fn health_payload(from: Health, to: Health, reason: HealthReason) -> [u8; 8] {
    let mut p = [0u8; 8];
    p[0] = from as u8;
    p[1] = to as u8;
    p[2..4].copy_from_slice(&(reason as u16).to_le_bytes());
    p
}

/// The instance a session record names (none before the engine recorded it).
pub fn session_instance(code: u16, p: &[u8]) -> Option<&str> {
    let name = p
        .get(16..)
        .filter(|n| code == event_kind::SESSION && !n.is_empty())?;
    std::str::from_utf8(name).ok()
}

/// The event an `events` stream record holds, stamped with the record's `timestamp`.
/// `Ok(None)`: a kind this build does not know (a newer engine's); `Err`: a damaged payload.
pub fn decode(code: u16, timestamp: u64, p: &[u8]) -> Result<Option<OpsEvent>, String> {
    let Some(kind) = name_of(code) else {
        return Ok(None);
    };
    let ev = OpsEvent::new(timestamp, kind);
    if code == event_kind::SESSION {
        let pid = p
            .get(8..12)
            .ok_or("a session record shorter than 12 bytes")?;
        let pid = u32::from_le_bytes([pid[0], pid[1], pid[2], pid[3]]);
        return Ok(Some(ev.with("pid", u64::from(pid))));
    }
    if code == event_kind::HEALTH {
        let [from, to, r0, r1, ..] = *p else {
            return Err("a health record shorter than 4 bytes".into());
        };
        let health = |c: u8| Health::from_u32(u32::from(c)).map_or("unknown", Health::as_str);
        let reason =
            HealthReason::from_code(u16::from_le_bytes([r0, r1])).map_or("unknown", |r| r.name());
        return Ok(Some(
            ev.with("from", health(from))
                .with("to", health(to))
                .with("reason", reason),
        ));
    }
    let mut ev = ev;
    let mut rest = p;
    while let [key, tag, tail @ ..] = rest {
        let key = *KEYS
            .get(usize::from(*key))
            .ok_or_else(|| format!("{kind}: unknown field key {key}"))?;
        let (value, tail) = match (*tag, tail) {
            (0, [a, b, c, d, e, f, g, h, tail @ ..]) => (
                Value::Num(u64::from_le_bytes([*a, *b, *c, *d, *e, *f, *g, *h])),
                tail,
            ),
            (1, [l0, l1, tail @ ..]) => {
                let len = usize::from(u16::from_le_bytes([*l0, *l1]));
                let text = tail
                    .get(..len)
                    .ok_or_else(|| format!("{kind}: field {key} cut short"))?;
                let text = std::str::from_utf8(text)
                    .map_err(|_| format!("{kind}: field {key} is not UTF-8"))?;
                (Value::Text(text.to_owned()), &tail[len..])
            }
            _ => return Err(format!("{kind}: field {key} is damaged")),
        };
        ev.fields.push((key, value));
        rest = tail;
    }
    if !rest.is_empty() {
        return Err(format!("{kind}: a stray byte after the fields"));
    }
    Ok(Some(ev))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips_through_its_record() {
        let ev = OpsEvent::new(7, "flatten")
            .with("instrument", "binance:BTCUSDT")
            .with("uid", 1000u64);
        let (code, p) = encode(&ev, "x").unwrap();
        assert_eq!(code, event_kind::FLATTEN);
        // key 5, tag 1, len 15, 15 bytes; key 4, tag 0, 8 bytes: 2 + 2 + 15 + 2 + 8 = 29.
        assert_eq!(p.len(), 29);
        assert_eq!(decode(code, 7, &p).unwrap(), Some(ev));
        let p = health_payload(Health::Healthy, Health::Degraded, HealthReason::KillSwitch);
        let back = decode(event_kind::HEALTH, 9, &p).unwrap().unwrap();
        assert_eq!(back.text("to"), Some("degraded"));
        assert_eq!(back.text("reason"), Some("kill_switch"));
        assert_eq!(encode(&back, "x"), Some((event_kind::HEALTH, p.to_vec())));
        let start = OpsEvent::new(1_000, "session_start").with("pid", 4242u64);
        let (code, p) = encode(&start, "demo").unwrap();
        // 16 fixed bytes, then "demo".
        assert_eq!((code, p.len()), (event_kind::SESSION, 20));
        assert_eq!(session_instance(code, &p), Some("demo"));
        assert_eq!(decode(code, 1_000, &p).unwrap(), Some(start));
        assert_eq!(decode(0x02ff, 1, &[]), Ok(None));
        assert!(decode(event_kind::KILL, 1, &[3, 1, 9, 0, b'x']).is_err());
        assert!(decode(event_kind::KILL, 1, &[99, 0]).is_err());
        let unknown_key = OpsEvent::new(1, "kill").with("nope", 1u64);
        assert_eq!(encode(&unknown_key, "x"), None);
        let codes: std::collections::HashSet<u16> = KINDS.iter().map(|(c, _)| *c).collect();
        assert_eq!(codes.len(), KINDS.len(), "kind codes are distinct");
    }
}
