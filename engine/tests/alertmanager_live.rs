//! A firing rule reaches a webhook through a real Alertmanager (Debian's 0.25): `pulse run`
//! replays configs/portfolio.toml at recorded pace, a real Prometheus scrapes it and evaluates
//! the shipped rules, and sends its alerts to Alertmanager running the shipped
//! configs/alertmanager/alertmanager.yml, whose generic webhook receiver (every alert goes
//! there too) is pointed at one this test runs on loopback, with the bearer token from the
//! credentials file. `pulse kill` must arrive there as a firing
//! `PulseKillSwitchEngaged` (severity critical, the engine's instance), and `pulse rearm` as
//! its resolution.

use std::time::{Duration, Instant};

use serde_json::Value;

mod ops;

// The loopback receiver the notifier tests use too.
#[path = "events_support/webhook.rs"]
#[allow(dead_code)]
mod webhook;

use ops::Stack;
use webhook::Hook;

/// The first notification within `secs` seconds that carries `alertname` with `status`
/// ("firing" or "resolved"); every other one is skipped.
fn notification(stack: &Stack, hook: &Hook, alertname: &str, status: &str, secs: u64) -> Value {
    let started = Instant::now();
    let mut seen = Vec::new();
    while started.elapsed() < Duration::from_secs(secs) {
        let Ok(request) = hook.requests.recv_timeout(Duration::from_millis(200)) else {
            continue;
        };
        let expected = format!("authorization: Bearer {}", ops::RELAY_TOKEN);
        let head = request.head.to_ascii_lowercase();
        assert!(
            head.contains(&expected.to_ascii_lowercase()),
            "{}",
            request.head
        );
        let body = request.body;
        let v: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
        let ours = v["alerts"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|a| a["labels"]["alertname"] == alertname && a["status"] == status);
        if v["status"] == status && ours {
            return v;
        }
        seen.push(body);
    }
    panic!(
        "no {status} {alertname} within {secs} s; the webhook got {seen:#?}\n{}",
        stack.logs()
    );
}

#[test]
fn a_kill_reaches_a_webhook_through_alertmanager_and_a_rearm_resolves_it() {
    if !ops::have_tools("alertmanager_live", &[ops::PROMETHEUS, ops::ALERTMANAGER]) {
        return;
    }
    let hook = webhook::serve(Vec::new());
    let stack = Stack::start("amlive", Some(hook.addr));
    let instance = stack.engine.to_string();

    // Alertmanager is up and Prometheus has found it.
    stack.wait_until("Prometheus knows Alertmanager", 10, |s| {
        let data = s.api("/api/v1/alertmanagers").ok()?;
        (!data["activeAlertmanagers"].as_array()?.is_empty()).then_some(())
    });

    let killed = Instant::now();
    stack.control("kill");
    let fired = notification(&stack, &hook, "PulseKillSwitchEngaged", "firing", 20);
    eprintln!(
        "the webhook heard PulseKillSwitchEngaged firing {:.1} s after pulse kill",
        killed.elapsed().as_secs_f64()
    );
    assert_eq!(fired["receiver"], "webhook");
    let alert = fired["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["labels"]["alertname"] == "PulseKillSwitchEngaged")
        .unwrap();
    assert_eq!(alert["labels"]["severity"], "critical", "{alert}");
    assert_eq!(alert["labels"]["instance"], instance.as_str(), "{alert}");
    assert_eq!(alert["labels"]["job"], "pulse", "{alert}");
    let runbook = alert["annotations"]["runbook"].as_str().unwrap_or("");
    assert!(runbook.contains("pulse rearm"), "{alert}");

    // The operator rearms: the rule stops matching and the receiver hears it resolved.
    let rearmed = Instant::now();
    stack.control("rearm");
    let resolved = notification(&stack, &hook, "PulseKillSwitchEngaged", "resolved", 20);
    eprintln!(
        "and resolved {:.1} s after pulse rearm",
        rearmed.elapsed().as_secs_f64()
    );
    let alert = &resolved["alerts"][0];
    assert_eq!(alert["labels"]["instance"], instance.as_str(), "{alert}");
    assert_ne!(alert["endsAt"], "0001-01-01T00:00:00Z", "{alert}");
}
