//! What engine/tests/ops_rules.rs reads: the outside tools it runs, the rules and their unit
//! tests scanned line by line (the files keep one key per line; no YAML library is linked), and
//! every metric name the engine can export.

use std::collections::BTreeSet;
use std::io::ErrorKind;
use std::path::Path;
use std::process::Command;

use pulse_core::counters::{descriptors, CoreCounter, CounterDescriptor, MetricKind};
use pulse_feeds::counters::{BookCounter, FeedCounter};
use pulse_gateways::counters::{GatewayCounter, SimCounter};
use pulse_risk::counters::RiskCounter;
use pulse_strategy::counters::StrategyCounter;

/// Runs `name args` in `dir` and returns its stdout and stderr; fails the test when it exits
/// non-zero, showing both. `None` when the tool is not installed: a failure under `CI`, else
/// the test says it skipped.
pub fn tool(name: &str, package: &str, args: &[&str], dir: &Path) -> Option<String> {
    let out = match Command::new(name).args(args).current_dir(dir).output() {
        Ok(out) => out,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            assert!(
                std::env::var_os("CI").is_none(),
                "{name} is missing under CI (.ci/run installs Debian's {package})"
            );
            eprintln!("skipped: {name} is not installed (apt-get install {package})");
            return None;
        }
        Err(e) => panic!("{name}: {e}"),
    };
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "`{name} {}` failed ({}):\n{text}",
        args.join(" "),
        out.status
    );
    Some(text)
}

/// One alerting rule as pulse.rules.yml writes it.
#[derive(Debug, Default)]
pub struct Rule {
    pub name: String,
    /// The expression, its lines joined with `\n` when it is a `|` block.
    pub expr: String,
    pub for_duration: Option<String>,
    pub severity: Option<String>,
    pub summary: String,
    pub runbook: String,
}

/// The rules of `text`, in order: each begins at `- alert: NAME`.
pub fn rules(text: &str) -> Vec<Rule> {
    let lines: Vec<&str> = text.lines().collect();
    let mut rules: Vec<Rule> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        if let Some(name) = trimmed.strip_prefix("- alert:") {
            rules.push(Rule {
                name: name.trim().to_string(),
                ..Rule::default()
            });
            continue;
        }
        let Some(rule) = rules.last_mut() else {
            continue;
        };
        let Some((key, value)) = trimmed.split_once(':') else {
            continue;
        };
        let value = unquote(value.trim());
        match key {
            "expr" if value == "|" => rule.expr = block(&lines[i + 1..], indent(line)),
            "expr" => rule.expr = value,
            "for" => rule.for_duration = Some(value),
            "severity" => rule.severity = Some(value),
            "summary" => rule.summary = value,
            "runbook" => rule.runbook = value,
            _ => {}
        }
    }
    rules
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// The lines of a `|` block: those indented deeper than its key.
fn block(lines: &[&str], key_indent: usize) -> String {
    let body: Vec<&str> = lines
        .iter()
        .take_while(|l| l.trim().is_empty() || indent(l) > key_indent)
        .map(|l| l.trim())
        .collect();
    body.join("\n").trim().to_string()
}

/// A single-quoted YAML scalar's text (`''` is one quote); anything else as written.
fn unquote(value: &str) -> String {
    match value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')) {
        Some(inner) => inner.replace("''", "'"),
        None => value.to_string(),
    }
}

/// The alert names a `promtool test rules` file expects firing (a non-empty `exp_alerts`) and
/// resolved (`exp_alerts: []`).
#[derive(Debug, Default)]
pub struct RuleTests {
    pub firing: BTreeSet<String>,
    pub resolved: BTreeSet<String>,
}

impl RuleTests {
    pub fn scan(&mut self, text: &str) {
        let mut lines = text.lines().map(str::trim).filter(|l| !l.starts_with('#'));
        while let Some(line) = lines.next() {
            let Some(name) = line.strip_prefix("alertname:") else {
                continue;
            };
            let name = name.trim().to_string();
            match lines.next() {
                Some("exp_alerts: []") => self.resolved.insert(name),
                Some("exp_alerts:") => self.firing.insert(name),
                other => panic!("{name}: `exp_alerts` expected after its alertname, got {other:?}"),
            };
        }
    }
}

/// Every `pulse_*` name in `text`.
pub fn metric_names(text: &str) -> Vec<String> {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut names = Vec::new();
    for (at, _) in text.match_indices("pulse_") {
        if text[..at].ends_with(word) {
            continue;
        }
        let rest = &text[at..];
        let end = rest.find(|c: char| !word(c)).unwrap_or(rest.len());
        names.push(rest[..end].to_string());
    }
    names
}

/// Every name the engine can export: each stage counter's descriptor (counters with
/// `_total`), the families the Prometheus renderer writes itself (`HEADER_FAMILIES` in
/// `prometheus_rs`, engine/stats/src/prometheus.rs), and the metrics the runtime registers
/// directly (`MetricDesc::counter("…"` or `gauge` under `engine_src`, such as
/// `stage_failures`).
pub fn declared_metrics(prometheus_rs: &str, engine_src: &Path) -> BTreeSet<String> {
    let mut all: Vec<&CounterDescriptor> = Vec::new();
    all.extend(descriptors::<CoreCounter>());
    all.extend(descriptors::<FeedCounter>());
    all.extend(descriptors::<BookCounter>());
    all.extend(descriptors::<StrategyCounter>());
    all.extend(descriptors::<RiskCounter>());
    all.extend(descriptors::<SimCounter>());
    all.extend(descriptors::<GatewayCounter>());
    let mut names: BTreeSet<String> = all
        .into_iter()
        .map(|d| exported(d.name, d.kind == MetricKind::Counter))
        .collect();
    let header = prometheus_rs
        .split_once("const HEADER_FAMILIES")
        .and_then(|(_, rest)| rest.split_once("];"))
        .map(|(list, _)| list)
        .unwrap_or_else(|| panic!("no HEADER_FAMILIES in engine/stats/src/prometheus.rs"));
    names.extend(quoted(header.split_once('=').map_or(header, |(_, l)| l)));
    for file in rust_files(engine_src) {
        let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{file:?}: {e}"));
        for (call, counter) in [
            ("MetricDesc::counter(", true),
            ("MetricDesc::gauge(", false),
        ] {
            // The name is the first argument, on the call's line or the next (rustfmt).
            for (at, _) in text.match_indices(call) {
                let rest = text[at + call.len()..].trim_start();
                let Some(rest) = rest.strip_prefix('"') else {
                    continue;
                };
                if let Some((name, _)) = rest.split_once('"') {
                    names.insert(exported(name, counter));
                }
            }
        }
    }
    names
}

fn exported(name: &str, counter: bool) -> String {
    if counter && !name.ends_with("_total") {
        format!("pulse_{name}_total")
    } else {
        format!("pulse_{name}")
    }
}

/// The `"…"` literals of `text`.
fn quoted(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split('"').skip(1).step_by(2).map(str::to_string)
}

fn rust_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{dir:?}: {e}"));
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}
