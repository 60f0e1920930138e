//! Monitoring a running engine from outside: `pulse stats --once --json` in another process and
//! Prometheus text over loopback, while `pulse run` replays the demo at recorded speed.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

mod common;

use common::{demo_config, stderr_lines};

struct Engine {
    child: Child,
    stderr: mpsc::Receiver<String>,
}

impl Drop for Engine {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn stats(name: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_pulse"))
        .args(["stats", "--name", name, "--once", "--json"])
        .output()
        .unwrap()
}

fn http_get(addr: &str, path: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut body = String::new();
    s.read_to_string(&mut body).unwrap();
    body
}

#[test]
fn stats_and_prometheus_see_a_running_engine() {
    let dir = std::env::temp_dir().join(format!("pulse-stats-live-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let name = format!("statslive-{}", std::process::id());
    let mut child = Command::new(env!("CARGO_BIN_EXE_pulse"))
        .args(["run", "--config"])
        // The demo at recorded speed (it lasts minutes), serving Prometheus on a port of its
        // choosing.
        .arg(demo_config(
            &dir,
            Some("1"),
            &[(
                "[metrics]\n",
                "[metrics]\nprometheus_listen = \"127.0.0.1:0\"\n",
            )],
        ))
        .args(["--name", &name])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let rx = stderr_lines(&mut child);
    let engine = Engine { child, stderr: rx };

    // The engine says where Prometheus listens.
    let addr = loop {
        let line = engine
            .stderr
            .recv_timeout(Duration::from_secs(30))
            .expect("the engine announces its Prometheus address");
        if let Some(rest) = line.strip_prefix("pulse: Prometheus metrics on http://") {
            break rest.trim_end_matches("/metrics").to_string();
        }
    };

    // Live counters from another process, growing while the replay goes on.
    let deadline = Instant::now() + Duration::from_secs(60);
    let snapshot = loop {
        let out = stats(&name);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let messages = v["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == "feed_messages")
            .map(|m| m["value"].as_i64().unwrap())
            .unwrap();
        let feed_latency = v["latencies"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["stage"] == "feed")
            .map(|l| l["count"].as_u64().unwrap())
            .unwrap();
        if messages > 100 && feed_latency > 100 {
            break v;
        }
        assert!(Instant::now() < deadline, "no live counters: {v}");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(snapshot["name"], name.as_str());
    assert_eq!(snapshot["pid"], engine.child.id());
    assert!(snapshot["alive"].as_bool().unwrap());
    let health = snapshot["health"].as_str().unwrap();
    assert!(
        ["initializing", "healthy", "warning"].contains(&health),
        "{health}"
    );
    let stages: Vec<&str> = snapshot["latencies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["stage"].as_str().unwrap())
        .collect();
    assert_eq!(stages, ["feed", "book", "strategy", "risk", "gateway"]);

    let text = http_get(&addr, "/metrics");
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    let body = &text[text.find("\r\n\r\n").unwrap() + 4..];
    let messages: f64 = body
        .lines()
        .find_map(|l| l.strip_prefix("pulse_feed_messages_total "))
        .expect("pulse_feed_messages_total")
        .parse()
        .unwrap();
    assert!(messages > 100.0);
    assert!(body.contains("pulse_stage_latency_nanoseconds{stage=\"book\",quantile=\"0.99\"}"));
    assert!(body.contains("pulse_book_ticker_checks_total{instrument=\"BTCUSDT\"}"));
    for line in body
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let (series, value) = line.rsplit_once(' ').expect("`series value`");
        assert!(value.parse::<f64>().is_ok(), "{line}");
        assert!(series.starts_with("pulse_"), "{line}");
    }
    assert!(http_get(&addr, "/other").starts_with("HTTP/1.1 404"));

    // A clean stop removes the stats file; then stats says no engine is running.
    let stop = Command::new("kill")
        .args(["-TERM", &engine.child.id().to_string()])
        .status()
        .unwrap();
    assert!(stop.success());
    let mut engine = engine;
    let status = engine.child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    let gone = stats(&name);
    assert_eq!(gone.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&gone.stderr).contains("no engine named"));
    let _ = std::fs::remove_dir_all(&dir);
}
