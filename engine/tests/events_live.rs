//! The event log of a live session: `pulse run` against `pulse venue` over loopback, the venue
//! closing the connection once. The log, tailed while the engine runs (each line is flushed as
//! it is written, as a log shipper needs), shows the feed connect, the disconnect, the
//! reconnect and the book's resync, and health following them.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

mod events_support;

use events_support::engine::{parse_lines, scratch, Engine};

struct Venue(Child);

impl Drop for Venue {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `pulse venue` on a free port at ten times the recorded pace, closing every connection at
/// frame 3000; returns it and its address.
fn venue() -> (Venue, String) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut child = Command::new(env!("CARGO_BIN_EXE_pulse"))
        .args([
            "venue",
            "--listen",
            "127.0.0.1:0",
            "--speed",
            "10",
            "--wait-for-client",
        ])
        .args(["--fault", "close@3000", "--capture"])
        .arg(root.join("data/binance_spot_btcusdt_2024-08-08.cap.gz"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let addr = first
        .strip_prefix("pulse venue: listening on ")
        .unwrap_or_else(|| panic!("banner: {first}"))
        .to_owned();
    std::thread::spawn(move || lines.for_each(drop));
    (Venue(child), addr)
}

fn kinds(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["kind"].as_str().unwrap()).collect()
}

#[test]
fn a_dropped_connection_is_logged_as_disconnect_reconnect_and_resync() {
    let (_venue, addr) = venue();
    let dir = scratch("live");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let text = std::fs::read_to_string(root.join("configs/venue-local.toml")).unwrap();
    let log = dir.join("events.jsonl");
    let text = text.replace("127.0.0.1:9443", &addr)
        + &format!("\n[events]\nlog = {:?}\n", log.display().to_string());
    let config = dir.join("venue-local.toml");
    std::fs::write(&config, text).unwrap();
    let name = format!("live-{}", std::process::id());
    let mut engine = Engine::start(&config, &name, &dir.join("run"), &[]);
    engine.wait_for("pulse: health initializing -> healthy");
    // Tail the log while the engine runs, until the resync shows (frame 3000 at 10x: ~3 s).
    let started = Instant::now();
    let events = loop {
        let events = parse_lines(&std::fs::read_to_string(&log).unwrap_or_default());
        if events.iter().any(|e| e["kind"] == "resync") {
            break events;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no resync logged: {events:#?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let (summary, _) = engine.stop();
    let k = kinds(&events);
    let at = |kind: &str, from: usize| {
        k[from..]
            .iter()
            .position(|x| *x == kind)
            .map(|i| from + i)
            .unwrap_or_else(|| panic!("no {kind} after #{from}: {k:?}"))
    };
    let connected = at("feed_connected", 0);
    let dropped = at("feed_disconnected", connected);
    at("feed_connected", dropped);
    let resync = at("resync", dropped);
    let r = &events[resync];
    // The first resync of the session: count 1, total 1, on the one book.
    assert_eq!(
        (&r["instrument"], &r["count"], &r["total"]),
        (&"BTCUSDT".into(), &1.into(), &1.into())
    );
    let degraded = events[dropped..]
        .iter()
        .find(|e| e["kind"] == "health" && e["reason"] == "feed_disconnected")
        .unwrap_or_else(|| panic!("{events:#?}"));
    assert_eq!(degraded["to"], "degraded");
    // The whole log at the end: the same lines first, then the end of the session.
    let all = parse_lines(&std::fs::read_to_string(&log).unwrap());
    assert_eq!(all[..events.len()], events[..]);
    assert_eq!(all.last().unwrap()["kind"], "session_end");
    assert!(
        summary.contains(&format!("log {} written", all.len())),
        "{summary}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
