//! A real Prometheus (Debian's 2.42) scraping a running engine: `pulse run` replays
//! configs/portfolio.toml at recorded pace and serves /metrics; Prometheus scrapes it every
//! second and evaluates the shipped rules. Through Prometheus's HTTP query API: the counters
//! grow, every stage's latency quantiles are there, every query of the Grafana dashboard
//! returns data, every shipped rule evaluates without error, and `pulse kill` fires
//! `PulseKillSwitchEngaged`.
//!
//! Queries name an explicit `time=` inside the run: once the capture ends the engine exits and
//! its series go stale.

use std::collections::BTreeMap;
use std::time::Duration;

mod ops;

use ops::{dashboard, now, value, Stack};

/// The stages of configs/portfolio.toml's pipeline: four feeds, then one stage each.
const STAGES: [&str; 8] = [
    "feed", "feed-1", "feed-2", "feed-3", "book", "strategy", "risk", "gateway",
];

/// `expr`'s samples at `time`, keyed by the value of `label`.
fn by_label(stack: &Stack, expr: &str, label: &str, time: f64) -> BTreeMap<String, f64> {
    stack
        .query(expr, time)
        .iter()
        .map(|s| {
            let key = s["metric"][label].as_str().unwrap_or("").to_owned();
            (key, value(s))
        })
        .collect()
}

#[test]
fn prometheus_scrapes_a_running_engine_and_fires_the_kill_switch_alert() {
    if !ops::have_tools("prometheus_live", &[ops::PROMETHEUS]) {
        return;
    }
    let stack = Stack::start("promlive", None);
    let instance = stack.engine.to_string();

    // Two instants a few seconds apart while the capture replays.
    std::thread::sleep(Duration::from_secs(3));
    let t1 = now();
    std::thread::sleep(Duration::from_secs(7));
    let t2 = now();

    // Every source's messages and every instrument's book updates grow.
    for (counter, label, count) in [
        ("pulse_feed_messages_total", "source", 4),
        ("pulse_book_updates_total", "instrument", 4),
    ] {
        let first = by_label(&stack, counter, label, t1);
        let second = by_label(&stack, counter, label, t2);
        assert_eq!(first.len(), count, "{counter} at t1: {first:?}");
        for (key, before) in &first {
            let after = second[key];
            assert!(
                after > *before,
                "{counter}{{{label}={key:?}}}: {before} then {after}"
            );
        }
    }

    // The engine is up and says so; every stage has a p99 above zero.
    let up = stack.query("pulse_up", t2);
    assert_eq!(up.len(), 1, "{up:?}");
    assert_eq!(value(&up[0]), 1.0);
    assert_eq!(up[0]["metric"]["instance"], instance.as_str());
    let p99 = by_label(
        &stack,
        "pulse_stage_latency_nanoseconds{quantile=\"0.99\"}",
        "stage",
        t2,
    );
    let stages: Vec<&str> = p99.keys().map(String::as_str).collect();
    let mut expected = STAGES.to_vec();
    expected.sort_unstable();
    assert_eq!(stages, expected);
    assert!(p99.values().all(|v| *v > 0.0), "{p99:?}");

    // Every query of the dashboard returns data (a renamed metric fails here, not on a wall
    // screen).
    let queries = dashboard::queries();
    assert!(queries.len() >= 69, "{} queries", queries.len());
    let mut empty = Vec::new();
    for q in &queries {
        if !stack.query(&q.expr, t2).is_empty() {
            continue;
        }
        empty.push(format!("{}: {}", q.panel, q.expr));
    }
    assert!(
        empty.is_empty(),
        "panels without data:\n{}",
        empty.join("\n")
    );

    // Every shipped rule evaluates without error.
    let rules = stack.wait_until("every rule evaluated", 10, |s| {
        let data = s.api("/api/v1/rules").ok()?;
        let rules: Vec<serde_json::Value> = data["groups"]
            .as_array()?
            .iter()
            .flat_map(|g| g["rules"].as_array().cloned().unwrap_or_default())
            .collect();
        rules
            .iter()
            .all(|r| r["lastEvaluation"] != "0001-01-01T00:00:00Z")
            .then_some(rules)
    });
    assert!(!rules.is_empty());
    for r in &rules {
        assert_eq!(r["health"], "ok", "{r}");
        assert_eq!(r["lastError"].as_str().unwrap_or(""), "", "{r}");
    }

    // Nothing has killed the engine yet; `pulse kill` fires the alert within seconds.
    let firing = "ALERTS{alertname=\"PulseKillSwitchEngaged\",alertstate=\"firing\"}";
    assert!(stack.query(firing, now()).is_empty());
    let killed = std::time::Instant::now();
    stack.control("kill");
    let alert = stack.wait_until("PulseKillSwitchEngaged fires", 20, |s| {
        s.query(firing, now()).into_iter().next()
    });
    eprintln!(
        "{} rules healthy; PulseKillSwitchEngaged firing {:.1} s after pulse kill",
        rules.len(),
        killed.elapsed().as_secs_f64()
    );
    assert_eq!(alert["metric"]["severity"], "critical");
    assert_eq!(alert["metric"]["instance"], instance.as_str());
    assert_eq!(alert["metric"]["job"], "pulse");
    let mode = stack.query("pulse_trading_mode", now());
    assert_eq!(value(&mode[0]), 2.0, "2 is killed");
}
