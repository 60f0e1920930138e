//! The shipped alerting configs are valid for the real tools and say what they claim:
//! `promtool check rules` and `promtool test rules` (every rule fires and resolves over
//! synthetic series) over `configs/prometheus/`, `promtool check config` over its scrape
//! config, `amtool check-config` and routing by severity over `configs/alertmanager/`. Without
//! the tools (Debian's `prometheus` and `prometheus-alertmanager`) those tests fail under `CI`
//! and otherwise say they skipped. Read without any tool: every rule has a `for:`, a severity
//! and a runbook line, is tested firing and resolved, and names only metrics the engine exports.

mod ops_support;

use std::collections::BTreeSet;
use std::path::PathBuf;

use ops_support::{declared_metrics, metric_names, rules, tool, RuleTests};

fn repo(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(path)
}

const RULES: &str = "configs/prometheus/pulse.rules.yml";
const RULE_TESTS: [&str; 2] = [
    "configs/prometheus/pulse.rules.test.yml",
    "configs/prometheus/pulse.rules.risk.test.yml",
];
const SCRAPE: &str = "configs/prometheus/prometheus.yml";
const ALERTMANAGER: &str = "configs/alertmanager/alertmanager.yml";

fn read(path: &str) -> String {
    std::fs::read_to_string(repo(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn promtool_checks_the_rules_and_every_rule_fires_and_resolves_in_its_unit_tests() {
    let Some(checked) = tool(
        "promtool",
        "prometheus",
        &["check", "rules", RULES],
        &repo(""),
    ) else {
        return;
    };
    let count = rules(&read(RULES)).len();
    assert!(
        checked.contains(&format!("SUCCESS: {count} rules found")),
        "promtool found another number of rules than the {count} read here:\n{checked}"
    );
    let mut args = vec!["test", "rules"];
    args.extend(RULE_TESTS);
    let Some(tested) = tool("promtool", "prometheus", &args, &repo("")) else {
        return;
    };
    assert_eq!(
        tested.matches("SUCCESS").count(),
        RULE_TESTS.len(),
        "{tested}"
    );
}

#[test]
fn promtool_accepts_the_example_scrape_config_and_finds_the_rules() {
    let Some(out) = tool(
        "promtool",
        "prometheus",
        &["check", "config", SCRAPE],
        &repo(""),
    ) else {
        return;
    };
    assert!(out.contains("SUCCESS: 1 rule files found"), "{out}");
}

#[test]
fn amtool_accepts_the_routing_and_each_severity_reaches_its_receivers() {
    let Some(out) = tool(
        "amtool",
        "prometheus-alertmanager",
        &["check-config", ALERTMANAGER],
        &repo(""),
    ) else {
        return;
    };
    assert!(
        out.contains("4 receivers") && out.contains("2 inhibit rules"),
        "{out}"
    );
    let file = format!("--config.file={ALERTMANAGER}");
    for (severity, receivers) in [
        ("critical", "webhook,critical"),
        ("warning", "webhook,warning"),
        ("info", "webhook,info"),
    ] {
        let label = format!("severity={severity}");
        let args = [
            "config",
            "routes",
            "test",
            &file,
            "alertname=PulseTest",
            "instance=127.0.0.1:9464",
            &label,
        ];
        let Some(out) = tool("amtool", "prometheus-alertmanager", &args, &repo("")) else {
            return;
        };
        // Only the receivers line: amtool warns on stderr that the file overrides its URL.
        assert!(
            out.lines().any(|l| l == receivers),
            "{severity} should reach {receivers}:\n{out}"
        );
    }
}

#[test]
fn the_alertmanager_config_holds_no_secret_inline() {
    let text = read(ALERTMANAGER);
    for key in [
        "routing_key:",
        "service_key:",
        "api_url:",
        "bot_token:",
        "auth_password:",
        "smtp_auth_password:",
        "credentials:",
        "password:",
    ] {
        let inline = text
            .lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .find(|l| l.trim_start().trim_start_matches("- ").starts_with(key));
        assert!(inline.is_none(), "a secret written inline: {inline:?}");
    }
    for key in [
        "routing_key_file:",
        "api_url_file:",
        "smtp_auth_password_file:",
        "credentials_file:",
    ] {
        assert!(text.contains(key), "{key} is not used");
    }
}

#[test]
fn every_rule_has_a_for_a_severity_a_summary_and_a_runbook() {
    let rules = rules(&read(RULES));
    assert_eq!(rules.len(), 31, "{:?}", rules.iter().map(|r| &r.name));
    let mut names = BTreeSet::new();
    for r in &rules {
        assert!(names.insert(r.name.as_str()), "{} twice", r.name);
        assert!(r.name.starts_with("Pulse"), "{} is not Pulse...", r.name);
        let duration = r.for_duration.as_deref().unwrap_or("");
        assert!(
            duration.chars().any(|c| c.is_ascii_digit() && c != '0'),
            "{}: `for: {duration}` is not a positive duration",
            r.name
        );
        assert!(
            matches!(r.severity.as_deref(), Some("critical" | "warning" | "info")),
            "{}: severity {:?}",
            r.name,
            r.severity
        );
        assert!(
            r.summary.contains("{{ $labels.instance }}"),
            "{}: the summary does not name the instance",
            r.name
        );
        assert!(r.runbook.len() > 20, "{}: runbook {:?}", r.name, r.runbook);
    }
    // Another test (the kill switch seen through a real Prometheus) relies on this one.
    let kill = rules.iter().find(|r| r.name == "PulseKillSwitchEngaged");
    let kill = kill.map(|r| (r.expr.as_str(), r.severity.as_deref()));
    assert_eq!(kill, Some(("pulse_trading_mode == 2", Some("critical"))));
}

#[test]
fn every_rule_is_tested_firing_and_resolved() {
    let names: BTreeSet<String> = rules(&read(RULES)).into_iter().map(|r| r.name).collect();
    let mut tests = RuleTests::default();
    for path in RULE_TESTS {
        tests.scan(&read(path));
    }
    let untested_firing: Vec<_> = names.difference(&tests.firing).collect();
    let untested_resolved: Vec<_> = names.difference(&tests.resolved).collect();
    assert!(
        untested_firing.is_empty(),
        "never seen firing: {untested_firing:?}"
    );
    assert!(
        untested_resolved.is_empty(),
        "never seen resolved: {untested_resolved:?}"
    );
    let unknown: Vec<_> = tests
        .firing
        .union(&tests.resolved)
        .filter(|n| !names.contains(*n))
        .collect();
    assert!(unknown.is_empty(), "tests of no rule: {unknown:?}");
}

#[test]
fn every_metric_the_rules_and_their_tests_name_is_one_the_engine_exports() {
    let declared = declared_metrics(&read("engine/stats/src/prometheus.rs"), &repo("engine/src"));
    // A few names from each source, so an empty or broken collection fails here.
    for name in [
        "pulse_up",
        "pulse_health_state",
        "pulse_trading_mode",
        "pulse_risk_rejected_total",
        "pulse_journal_refused_total",
        "pulse_gateway_ready",
        "pulse_stale",
        "pulse_stage_latency_dropped_samples_total",
        "pulse_stage_failures_total",
    ] {
        assert!(declared.contains(name), "{name} is not among {declared:?}");
    }
    let mut used = BTreeSet::new();
    for r in rules(&read(RULES)) {
        used.extend(metric_names(&r.expr));
    }
    for path in RULE_TESTS {
        let text = read(path);
        let series = text
            .lines()
            .filter(|l| l.trim_start().starts_with("- series:"));
        used.extend(series.flat_map(metric_names));
    }
    let unknown: Vec<_> = used.iter().filter(|n| !declared.contains(*n)).collect();
    assert!(
        unknown.is_empty(),
        "not exported by the engine: {unknown:?}"
    );
    // 22 names today; a scan that broke would find few.
    assert!(used.len() >= 20, "{used:?}");
}
