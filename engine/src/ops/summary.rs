//! The run summary's `events` line: how many operational events, and what the log and the
//! webhook did with them (drops and failures are what an operator must see).

use std::fmt::Write as _;

use super::sinks::OpsReport;

pub fn render(s: &mut String, ops: &OpsReport) {
    let mut parts = vec![format!("{} ops event(s)", ops.events)];
    if let Some(log) = &ops.log {
        let mut part = format!("log {} written", log.written);
        if log.dropped > 0 {
            let _ = write!(part, ", {} DROPPED (queue full)", log.dropped);
        }
        if let Some(e) = &log.error {
            let _ = write!(part, ", FAILED: {e}");
        }
        parts.push(part);
    }
    if let Some((host, n)) = &ops.notify {
        let mut part = format!(
            "webhook {host} (<redacted>) {} sent in {} POST(s)",
            n.sent, n.attempts
        );
        if n.failed > 0 {
            let _ = write!(part, ", {} FAILED", n.failed);
        }
        if n.dropped > 0 {
            let _ = write!(part, ", {} DROPPED (queue full)", n.dropped);
        }
        parts.push(part);
    }
    let _ = writeln!(s, "events    {}", parts.join("; "));
}
