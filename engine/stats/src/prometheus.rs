//! A snapshot as Prometheus text exposition (format 0.0.4), for scrapers.
//!
//! Registered counters become `pulse_<name>_total`, gauges `pulse_<name>`, each with its one
//! label; per-stage latency is a summary, `pulse_stage_latency_nanoseconds{stage,quantile}`
//! with `_sum` and `_count`. The header adds `pulse_engine_info{name,pid}` (a scrape target is
//! an address; this says which engine), `pulse_up`, `pulse_heartbeat_age_seconds`,
//! `pulse_start_time_seconds`, `pulse_health` (its numeric code) and `pulse_health_state` (one
//! series per state, 1 for the current one, which is easier to alert on).

use std::collections::HashSet;
use std::fmt::Write as _;

use super::layout::{Health, MetricKind};
use super::snapshot::{MetricValue, StatsSnapshot};

/// The families rendered from the header and latency table. A registered metric whose name
/// would collide (a gauge named `health`) is left out: a family may appear only once, and the
/// header's value is the authoritative one.
const HEADER_FAMILIES: [&str; 10] = [
    "pulse_engine_info",
    "pulse_up",
    "pulse_heartbeat_age_seconds",
    "pulse_start_time_seconds",
    "pulse_health",
    "pulse_health_state",
    "pulse_stage_latency_nanoseconds",
    "pulse_stage_latency_max_nanoseconds",
    "pulse_stage_latency_dropped_samples_total",
    "pulse_stage_latency_dropped_samples",
];

const QUANTILES: [&str; 5] = ["0.5", "0.9", "0.99", "0.999", "0.9999"];

/// Appends the exposition of `snapshot` to `out`.
pub fn render(snapshot: &StatsSnapshot, out: &mut String) {
    family(
        out,
        "pulse_engine_info",
        "gauge",
        "The engine behind these metrics: its instance name and pid.",
    );
    out.push_str("pulse_engine_info{");
    push_label(out, "name", &snapshot.name);
    let _ = writeln!(out, ",pid=\"{}\"}} 1", snapshot.pid);
    family(
        out,
        "pulse_up",
        "gauge",
        "1 if the engine's pid is alive and its heartbeat fresh.",
    );
    let _ = writeln!(out, "pulse_up {}", u8::from(snapshot.alive));
    family(
        out,
        "pulse_heartbeat_age_seconds",
        "gauge",
        "Seconds since the engine's metrics thread last beat.",
    );
    let _ = writeln!(
        out,
        "pulse_heartbeat_age_seconds {:.3}",
        snapshot.heartbeat_age_ns() as f64 / 1e9
    );
    family(
        out,
        "pulse_start_time_seconds",
        "gauge",
        "Engine start time, unix seconds.",
    );
    let _ = writeln!(
        out,
        "pulse_start_time_seconds {:.3}",
        snapshot.start_time_ns as f64 / 1e9
    );
    render_health(snapshot.health, out);
    render_metrics(&snapshot.metrics, out);
    render_latency(snapshot, out);
}

fn render_health(health: Option<Health>, out: &mut String) {
    if let Some(h) = health {
        family(
            out,
            "pulse_health",
            "gauge",
            "Engine health: 0 initializing, 1 healthy, 2 warning, 3 degraded, 4 critical, \
             5 emergency_stop.",
        );
        let _ = writeln!(out, "pulse_health {}", h as u32);
    }
    family(
        out,
        "pulse_health_state",
        "gauge",
        "1 for the engine's current health state, 0 for the others.",
    );
    for state in Health::ALL {
        let _ = writeln!(
            out,
            "pulse_health_state{{state=\"{}\"}} {}",
            state.as_str(),
            u8::from(health == Some(state))
        );
    }
}

/// Series of one name are written together under one `# HELP`/`# TYPE`, in the order the
/// engine registered the name first.
fn render_metrics(metrics: &[MetricValue], out: &mut String) {
    let names: Vec<String> = metrics.iter().map(exported_name).collect();
    let mut done = HashSet::new();
    for (i, m) in metrics.iter().enumerate() {
        let family_name = &names[i];
        if HEADER_FAMILIES.contains(&family_name.as_str()) || !done.insert(family_name) {
            continue;
        }
        let kind = match m.kind {
            MetricKind::Counter => "counter",
            MetricKind::Gauge => "gauge",
        };
        family(out, family_name, kind, &m.help);
        for (same, _) in metrics[i..]
            .iter()
            .zip(&names[i..])
            .filter(|(_, n)| *n == family_name)
        {
            out.push_str(family_name);
            if let Some((k, v)) = &same.label {
                out.push('{');
                push_label(out, k, v);
                out.push('}');
            }
            let _ = writeln!(out, " {}", same.value);
        }
    }
}

fn render_latency(snapshot: &StatsSnapshot, out: &mut String) {
    // An entry the writer held through every retry is left out rather than shown as zeros.
    let stages: Vec<_> = snapshot.latencies.iter().filter(|s| s.consistent).collect();
    if stages.is_empty() {
        return;
    }
    let name = "pulse_stage_latency_nanoseconds";
    family(
        out,
        name,
        "summary",
        "Time from input entering the engine to the end of each stage.",
    );
    for s in &stages {
        let values = [s.p50, s.p90, s.p99, s.p999, s.p9999];
        for (q, v) in QUANTILES.iter().zip(values) {
            out.push_str(name);
            out.push('{');
            push_label(out, "stage", &s.stage);
            let _ = writeln!(out, ",quantile=\"{q}\"}} {v}");
        }
        series(
            out,
            &format!("{name}_sum"),
            &s.stage,
            s.mean.saturating_mul(s.count),
        );
        series(out, &format!("{name}_count"), &s.stage, s.count);
    }
    let max = "pulse_stage_latency_max_nanoseconds";
    family(out, max, "gauge", "Largest latency seen by each stage.");
    for s in &stages {
        series(out, max, &s.stage, s.max);
    }
    let dropped = "pulse_stage_latency_dropped_samples_total";
    family(
        out,
        dropped,
        "counter",
        "Latency samples lost to a full ring or beyond the histogram's range.",
    );
    for s in &stages {
        series(out, dropped, &s.stage, s.dropped);
    }
}

fn exported_name(m: &MetricValue) -> String {
    let mut name = format!("pulse_{}", m.name);
    if m.kind == MetricKind::Counter && !name.ends_with("_total") {
        name.push_str("_total");
    }
    sanitize(&name, true)
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {}", escape(help, false));
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn series(out: &mut String, name: &str, stage: &str, value: u64) {
    out.push_str(name);
    out.push('{');
    push_label(out, "stage", stage);
    let _ = writeln!(out, "}} {value}");
}

fn push_label(out: &mut String, key: &str, value: &str) {
    let _ = write!(out, "{}=\"{}\"", sanitize(key, false), escape(value, true));
}

/// Metric names are `[a-zA-Z_:][a-zA-Z0-9_:]*`, label names the same without `:`; anything
/// else becomes `_`.
fn sanitize(name: &str, colon_ok: bool) -> String {
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || (colon_ok && c == ':') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    s
}

/// Help text escapes `\` and newline; label values also `"`.
fn escape(s: &str, quote: bool) -> String {
    let mut e = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => e.push_str("\\\\"),
            '\n' => e.push_str("\\n"),
            '"' if quote => e.push_str("\\\""),
            c => e.push(c),
        }
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_sanitized_and_values_escaped() {
        assert_eq!(sanitize("pulse_a-b.c:d", true), "pulse_a_b_c:d");
        assert_eq!(sanitize("a:b", false), "a_b");
        assert_eq!(sanitize("9lives", false), "_9lives");
        assert_eq!(escape("a\\b\"c\nd", true), "a\\\\b\\\"c\\nd");
        assert_eq!(escape("say \"hi\"", false), "say \"hi\"");
    }
}
