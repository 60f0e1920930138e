//! A live run's journal replays to the same decisions, byte for byte: `pulse run` takes market
//! data over a real loopback WebSocket and REST from `pulse venue`'s engine (in this process),
//! journals it, and `pulse replay` over that input journal with the same config writes an
//! output stream identical to the live run's. Logic reads only event times, never the clock.
//! The same for OKX, whose snapshots come in-band over the WebSocket alone.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pulse_testex::{Protocol, Venue as LocalVenue, VenueConfig};

mod common;

use common::{repo_root, written_segments};

#[test]
fn a_live_run_replays_from_its_journal_to_identical_output() {
    let mut vc = VenueConfig::new(repo_root().join("data/binance_spot_btcusdt_2024-08-08.cap.gz"));
    vc.speed_milli = 40_000;
    vc.wait_for_client = true;
    let venue = LocalVenue::start(vc).expect("venue starts");
    let addr = venue.addr();
    let config = std::fs::read_to_string(repo_root().join("configs/venue-local.toml"))
        .unwrap()
        .replace("ws://127.0.0.1:9443", &format!("ws://{addr}"))
        .replace("http://127.0.0.1:9443", &format!("http://{addr}"));
    let summary = live_then_replay("binance", &config, venue);
    let orders: u64 = risk(&summary)
        .split(": ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(orders > 5, "the live run must trade: {}", risk(&summary));
}

/// The same for a live OKX run (`configs/okx-live.toml` pointed at the local venue): every
/// book synced from its in-band snapshot, and the replay decides exactly as the run did.
#[test]
fn a_live_okx_run_replays_from_its_journal_to_identical_output() {
    let mut vc = VenueConfig::new(repo_root().join("data/okx_books_2022-05-13.cap"));
    vc.protocol = Protocol::Okx;
    vc.speed_milli = 5_000;
    vc.wait_for_client = true;
    let venue = LocalVenue::start(vc).expect("venue starts");
    let endpoint = "ws_url = \"wss://ws.okx.com:8443/ws/v5/public\"";
    let config = std::fs::read_to_string(repo_root().join("configs/okx-live.toml")).unwrap();
    assert!(config.contains(endpoint));
    let config = config.replace(endpoint, &format!("ws_url = \"ws://{}\"", venue.addr()));
    let summary = live_then_replay("okx", &config, venue);
    let sync = summary
        .lines()
        .find(|l| l.starts_with("sync "))
        .unwrap()
        .to_string();
    assert!(
        sync.contains("BTC-USDT: 1 snapshot(s)") && sync.contains(" 0 gaps, 0 resyncs"),
        "{sync}"
    );
    let book = summary.lines().find(|l| l.starts_with("book ")).unwrap();
    assert!(book.contains("crossed 0, stale 0"), "{book}");
}

fn risk(summary: &str) -> String {
    summary
        .lines()
        .find(|l| l.starts_with("risk "))
        .unwrap()
        .to_string()
}

/// `pulse run --config` (its text) against `venue` until the venue's timeline has ended, then
/// `pulse replay` of its input journal with the same config: both write the same output and
/// input streams, and the same risk line. Returns the live run's summary.
fn live_then_replay(name: &str, config: &str, venue: LocalVenue) -> String {
    let scratch = std::env::temp_dir().join(format!("pulse-live-jr-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).unwrap();
    assert!(config.contains(&venue.addr().to_string()));
    let config_path = scratch.join("live.toml");
    std::fs::write(&config_path, config).unwrap();
    let (live, replayed) = (scratch.join("live"), scratch.join("replayed"));

    let mut child = Command::new(env!("CARGO_BIN_EXE_pulse"))
        .args(["run", "--config"])
        .arg(&config_path)
        .arg("--journal")
        .arg(&live)
        .args(["--name", &format!("live-jr-{}-{name}", std::process::id())])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !venue.finished() {
        assert!(
            Instant::now() < deadline,
            "the venue never finished its timeline"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // Let the last frames arrive, then stop the engine as an operator would.
    std::thread::sleep(Duration::from_millis(500));
    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let status = child.wait().unwrap();
    let mut live_summary = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut live_summary).unwrap();
    assert_eq!(status.code(), Some(0), "{live_summary}");
    venue.stop();

    let out = Command::new(env!("CARGO_BIN_EXE_pulse"))
        .args(["replay", "--input"])
        .arg(&live)
        .arg("--config")
        .arg(&config_path)
        .arg("--journal")
        .arg(&replayed)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let replay_summary = String::from_utf8_lossy(&out.stdout);
    assert_eq!(risk(&live_summary), risk(&replay_summary));
    let (a, b) = (
        written_segments(&live, "output"),
        written_segments(&replayed, "output"),
    );
    assert!(!a.is_empty());
    assert!(a == b, "the replay decided differently from the live run");
    assert!(written_segments(&live, "input") == written_segments(&replayed, "input"));
    let _ = std::fs::remove_dir_all(&scratch);
    live_summary
}
