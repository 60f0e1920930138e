//! The event log of a live session: `pulse run` against `pulse venue` over loopback, the venue
//! closing the connection once. The log, tailed while the engine runs (each line is flushed as
//! it is written, as a log shipper needs), shows the feed connect, the disconnect, the
//! reconnect and the book's resync, and health following them.

use std::ffi::OsStr;
use std::time::{Duration, Instant};

mod common;
mod events_support;

use common::{pulse_venue, VenueProcess};

use events_support::engine::{find_after, kinds, parse_lines, scratch, Engine};

/// `pulse venue` on a free port at ten times the recorded pace, closing every connection at
/// frame 3000; returns it and its address.
fn venue() -> (VenueProcess, String) {
    let capture = common::repo_root().join("data/binance_spot_btcusdt_2024-08-08.cap.gz");
    let args: [&OsStr; 9] = [
        "--listen".as_ref(),
        "127.0.0.1:0".as_ref(),
        "--speed".as_ref(),
        "10".as_ref(),
        "--wait-for-client".as_ref(),
        "--fault".as_ref(),
        "close@3000".as_ref(),
        "--capture".as_ref(),
        capture.as_os_str(),
    ];
    let (venue, mut banner) = pulse_venue(&args, 1);
    (venue, banner.remove(0))
}

#[test]
fn a_dropped_connection_is_logged_as_disconnect_reconnect_and_resync() {
    let (_venue, addr) = venue();
    let dir = scratch("live");
    let root = common::repo_root();
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
        find_after(&k, kind, from).unwrap_or_else(|| panic!("no {kind} after #{from}: {k:?}"))
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
