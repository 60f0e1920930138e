//! The event log through the real binary: the demo replays at recorded pace with `[events]
//! log` and a journal while the test steers it (`pulse kill`, `pulse rearm`, `pulse
//! flatten`); the log's JSON lines carry every step in order, and `pulse events` prints the
//! journal's `events` stream as the very same objects. With `[notify]`, a `pulse kill` reaches
//! a loopback webhook, and its secret path shows nowhere.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;
mod events_support;

use common::{pulse, repo_config, succeeded};
use events_support::engine::{parse_lines, scratch, Engine};
use events_support::webhook;

/// configs/demo.toml at recorded pace, with `tail` appended.
fn demo(dir: &Path, tail: &str) -> PathBuf {
    let path = repo_config("demo.toml", dir, Some("1"), &[]);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("{text}\n{tail}")).unwrap();
    path
}

/// The index of the first event at or after `from` of `kind` whose `key` is `value`.
fn find(events: &[Value], from: usize, kind: &str, key: &str, value: &str) -> usize {
    events[from..]
        .iter()
        .position(|e| e["kind"] == kind && e[key] == value)
        .map(|i| from + i)
        .unwrap_or_else(|| panic!("no {kind} with {key}={value} after #{from}: {events:#?}"))
}

#[test]
fn kill_rearm_and_flatten_are_logged_in_order_and_pulse_events_agrees() {
    let dir = scratch("log");
    let journal = dir.join("journal");
    let log = dir.join("events.jsonl");
    let config = demo(
        &dir,
        &format!(
            "[journal]\ndir = {:?}\n\n[events]\nlog = {:?}\ninstance = \"ops-test\"\n",
            journal.display().to_string(),
            log.display().to_string()
        ),
    );
    let name = format!("events-{}", std::process::id());
    let mut engine = Engine::start(&config, &name, &dir.join("run"), &[]);
    engine.wait_for("pulse: health initializing -> healthy");
    engine.steer("kill", &[]);
    // The kill is an event of the next publish, which also moves health to degraded.
    engine.wait_for("-> degraded (kill_switch)");
    engine.steer("rearm", &[]);
    engine.wait_for("re-armed");
    std::thread::sleep(Duration::from_millis(300)); // a publish sees the re-arm
    engine.steer("flatten", &[]);
    engine.wait_for("pulse: control: flatten");
    std::thread::sleep(Duration::from_millis(600)); // its flatten_done: 300 ms at the least
                                                    // The sinks' counters in the stats file: events so far, none dropped.
    let stats = succeeded(&pulse(&[
        "stats",
        "--name",
        &name,
        "--run-dir",
        dir.join("run").to_str().unwrap(),
        "--once",
        "--json",
    ]));
    let stats: Value = serde_json::from_str(&stats).unwrap();
    let metric = |name: &str, label: Option<&str>| {
        stats["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == name && label.is_none_or(|l| m["label"][1] == l))
            .unwrap_or_else(|| panic!("no {name}: {stats}"))["value"]
            .as_i64()
            .unwrap()
    };
    let produced = metric("ops_events", None);
    assert_eq!(metric("ops_events_dropped", Some("log")), 0);
    assert_eq!(metric("notify_failed", None), 0);
    let pid = engine.pid;
    let (summary, _) = engine.stop();

    let text = std::fs::read_to_string(&log).unwrap();
    let events = parse_lines(&text);
    let uid = pulse_engine::secrets::euid().to_string();
    for e in &events {
        assert_eq!(e["instance"], "ops-test", "{e}");
        let ts = e["ts"].as_str().unwrap();
        // 2026-12-07T03:40:00.123456789Z: 30 characters, UTC, nanoseconds.
        assert_eq!((ts.len(), &ts[10..11], &ts[29..]), (30, "T", "Z"), "{e}");
        assert!(
            e["ts_ns"].as_u64().is_some() && e["kind"].is_string(),
            "{e}"
        );
    }
    let ts: Vec<u64> = events
        .iter()
        .map(|e| e["ts_ns"].as_u64().unwrap())
        .collect();
    assert!(
        ts.windows(2).all(|w| w[0] <= w[1]),
        "time never goes back: {ts:?}"
    );
    assert_eq!(events[0]["kind"], "session_start");
    assert_eq!(events[0]["pid"], pid);
    let last = events.last().unwrap();
    assert_eq!(
        (&last["kind"], &last["reason"]),
        (&"session_end".into(), &"signal".into())
    );
    // kill (operator) -> health degraded (kill_switch) -> rearm (our uid) -> flatten (all).
    let kill = find(&events, 0, "kill", "reason", "operator");
    let degraded = find(&events, kill, "health", "reason", "kill_switch");
    assert_eq!(events[degraded]["to"], "degraded");
    let rearm = events
        .iter()
        .position(|e| e["kind"] == "rearm")
        .unwrap_or_else(|| panic!("no rearm: {events:#?}"));
    assert!(rearm > degraded, "{events:#?}");
    assert_eq!(events[rearm]["uid"].to_string(), uid);
    let flatten = find(&events, rearm, "flatten", "instrument", "all");
    assert_eq!(events[flatten]["uid"].to_string(), uid);
    let done = events.iter().position(|e| e["kind"] == "flatten_done");
    assert!(done.is_some_and(|d| d > flatten), "{events:#?}");
    // Health transitions chain: each starts where the previous one ended.
    let health: Vec<&Value> = events.iter().filter(|e| e["kind"] == "health").collect();
    assert_eq!(health[0]["from"], "initializing");
    for w in health.windows(2) {
        assert_eq!(w[1]["from"], w[0]["to"], "{health:#?}");
    }
    assert!(
        summary.contains(&format!("log {} written", events.len())),
        "{summary}"
    );
    // The stats file counted every event up to the flatten's (session_end came later).
    assert!(
        produced as usize > done.unwrap() && (produced as usize) < events.len(),
        "{produced}"
    );

    // The journal's events stream, printed by `pulse events`: the very same objects.
    let printed = succeeded(&pulse(&["events", journal.to_str().unwrap()]));
    assert_eq!(parse_lines(&printed), events);
    let renamed = succeeded(&pulse(&[
        "events",
        journal.to_str().unwrap(),
        "--instance",
        "other",
    ]));
    assert!(parse_lines(&renamed)
        .iter()
        .all(|e| e["instance"] == "other"));
    // A directory that is no journal: a clear error, exit 1.
    let out = pulse(&["events", dir.join("run").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("pulse events: "), "{err}");
    let out = pulse(&["events", dir.join("nowhere").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_kill_reaches_the_webhook_and_its_url_shows_nowhere() {
    let secret = "/hooks/T0/B0/SECRETPATH";
    let hook = webhook::serve(vec![]);
    let dir = scratch("hook");
    let config = demo(
        &dir,
        "[notify]\nurl_env = \"PULSE_TEST_HOOK_URL\"\non = [\"kill\"]\ntimeout_ms = 2000\n",
    );
    let url = format!("http://{}{secret}", hook.addr);
    let name = format!("hook-{}", std::process::id());
    let mut engine = Engine::start(
        &config,
        &name,
        &dir.join("run"),
        &[("PULSE_TEST_HOOK_URL", &url)],
    );
    engine.wait_for("pulse: health initializing -> healthy");
    let killed = Instant::now();
    engine.steer("kill", &[]);
    let req = hook
        .requests
        .recv_timeout(Duration::from_secs(10))
        .expect("the webhook got the kill");
    // What an operator waits for (the control command, the next 100 ms publication, the POST).
    eprintln!(
        "the webhook heard the kill {:.0} ms after `pulse kill` was started",
        killed.elapsed().as_secs_f64() * 1e3
    );
    assert_eq!(req.line, format!("POST {secret} HTTP/1.1"));
    let body = req.json();
    assert_eq!(
        body["text"],
        format!(
            "pulse {name}: kill switch engaged (operator): no new orders, open orders cancelled"
        )
    );
    assert_eq!(
        (&body["pulse"]["kind"], &body["pulse"]["reason"]),
        (&"kill".into(), &"operator".into())
    );
    let (summary, stderr) = engine.stop();
    assert!(
        summary.contains("webhook 127.0.0.1 (<redacted>) 1 sent in 1 POST(s)"),
        "{summary}"
    );
    assert!(
        stderr
            .iter()
            .any(|l| l.contains("webhook on 127.0.0.1 (<redacted>)")),
        "{stderr:#?}"
    );
    for text in stderr.iter().chain(std::iter::once(&summary)) {
        assert!(!text.contains("SECRETPATH"), "{text}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
