//! Paper trading over loopback: `pulse run` (the real binary, built from a config like
//! `configs/paper.toml`) against a `pulse venue` serving both Binance's market data and its
//! order API over the simulated venue. One test per injected order fault, each checking the
//! same invariants at the end:
//!
//! - no order is duplicated: the venue never accepted the same client order id twice;
//! - no order is lost: every order the engine sent was either accepted by the venue or refused,
//!   and the orders the engine believes working are exactly those the venue works;
//! - the engine's position equals the venue's account, lot for lot.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use pulse_feeds::num::parse_decimal;
use pulse_gateways::secret::Secret;
use pulse_gateways::sim::Fees;
use pulse_testex::{OrderApiConfig, OrderFault, Venue, VenueConfig};

mod common;
mod support;

use common::{count_before, line, repo_root};

struct Dir(PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn temp_dir(name: &str) -> Dir {
    let dir = std::env::temp_dir().join(format!("pulse-paper-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    Dir(dir)
}

/// The keys both sides use. The canary test uses distinctive ones and looks for them.
pub struct Keys {
    pub api_key: String,
    pub secret: String,
}

impl Keys {
    fn plain() -> Keys {
        Keys {
            api_key: "paper-key".into(),
            secret: "paper-secret".into(),
        }
    }
}

pub struct PaperRun {
    pub summary: String,
    pub stderr: String,
    /// The venue's net BTCUSDT position (lots) and open orders at the end.
    pub venue_position: i64,
    pub venue_open: usize,
    /// Client order ids the venue accepted, in order.
    pub placed: Vec<String>,
    /// The stats file's bytes, read while the engine ran.
    pub stats: Vec<u8>,
    /// The journal's written bytes (every segment up to its last non-zero byte).
    pub journal: Vec<u8>,
}

/// `configs/paper.toml` pointed at the venue at `port`, quick (`cooldown_ms = 20`, backoff
/// idle so that parallel tests share the cores), journaling into `dir/journal`.
fn paper_config(dir: &Path, port: u16, strategy: Option<&str>) -> PathBuf {
    let mut text = std::fs::read_to_string(repo_root().join("configs/paper.toml")).unwrap();
    let swap = |text: &mut String, from: &str, to: &str| {
        assert_eq!(text.matches(from).count(), 1, "{from:?} occurs once");
        *text = text.replacen(from, to, 1);
    };
    // The feed's streams and REST, the gateway's WebSocket API and REST fallback.
    assert_eq!(text.matches("127.0.0.1:9443").count(), 4);
    text = text.replace("127.0.0.1:9443", &format!("127.0.0.1:{port}"));
    swap(&mut text, "cooldown_ms = 500", "cooldown_ms = 20");
    swap(
        &mut text,
        "response_timeout_ms = 3000",
        "response_timeout_ms = 1000",
    );
    swap(
        &mut text,
        "[journal]",
        "[runtime]\nidle = \"backoff\"\n\n[journal]",
    );
    swap(
        &mut text,
        "dir = \"/tmp/pulse-paper/journal\"",
        &format!("dir = {:?}", dir.join("journal")),
    );
    if let Some(strategy) = strategy {
        let start = text.find("[strategy]").unwrap();
        let end = text.find("[gateway]").unwrap();
        text.replace_range(start..end, strategy);
    }
    let path = dir.join("paper.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs the paper engine against a venue playing the bundled capture at 50x with `faults`
/// (and `strategy` in place of the config's, if given), until the venue's timeline has ended;
/// then stops the engine with SIGINT.
pub fn paper_run(
    name: &str,
    faults: Vec<OrderFault>,
    keys: &Keys,
    strategy: Option<&str>,
) -> PaperRun {
    paper_run_on(paper_venue(faults, keys), name, keys, strategy)
}

/// The venue of [`paper_run`]: the bundled capture at 50x, waiting for the engine, serving
/// orders with `keys` and `faults`.
fn paper_venue(faults: Vec<OrderFault>, keys: &Keys) -> VenueConfig {
    let mut vc = VenueConfig::new(repo_root().join("data/binance_spot_btcusdt_2024-08-08.cap.gz"));
    vc.speed_milli = 50_000;
    vc.ping_interval = Duration::from_millis(500);
    vc.wait_for_client = true;
    vc.orders = Some(OrderApiConfig {
        instruments: support::btcusdt(),
        api_key: keys.api_key.clone(),
        secret: Arc::new(Secret::new(keys.secret.clone())),
        fees: Fees {
            taker_ppm: 1_000,
            maker_ppm: 200,
        },
    });
    vc.order_faults = faults;
    vc
}

/// [`paper_run`] against the venue `vc`.
fn paper_run_on(vc: VenueConfig, name: &str, keys: &Keys, strategy: Option<&str>) -> PaperRun {
    let dir = temp_dir(name);
    let venue = Venue::start(vc).expect("venue starts");
    let config = paper_config(&dir.0, venue.addr().port(), strategy);
    let engine_name = format!("paper-{name}-{}", std::process::id());
    let mut child = Command::new(env!("CARGO_BIN_EXE_pulse"))
        .args(["run", "--config"])
        .arg(&config)
        .args(["--name", &engine_name])
        .env("PULSE_PAPER_API_KEY", &keys.api_key)
        .env("PULSE_PAPER_SECRET", &keys.secret)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stats_path = pulse_engine::run_dir::default_dir().join(format!("{engine_name}.stats"));
    let mut stats = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    while !venue.finished() {
        if let Ok(Some(status)) = child.try_wait() {
            let mut err = String::new();
            let _ = child.stderr.take().unwrap().read_to_string(&mut err);
            panic!("the engine exited early ({status}): {err}");
        }
        assert!(Instant::now() < deadline, "the venue never finished");
        if let Ok(bytes) = std::fs::read(&stats_path) {
            stats = bytes;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    // Let the last answers and reconciliations land, then stop as an operator would (the
    // engine cancels nothing on the way out: resting quotes stay, on both sides' books).
    std::thread::sleep(Duration::from_millis(2_500));
    if let Ok(bytes) = std::fs::read(&stats_path) {
        stats = bytes;
    }
    let int = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(int.success());
    let status = child.wait().unwrap();
    let mut summary = String::new();
    let mut stderr = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut summary)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(status.code(), Some(0), "{summary}\n{stderr}");
    let (positions, venue_open) = venue.account().expect("the venue serves orders");
    let placed = venue.placed_orders();
    venue.stop();
    // The journal's bytes, for the canary scan.
    let mut journal = Vec::new();
    collect_files(&dir.0.join("journal"), &mut journal);
    PaperRun {
        summary,
        stderr,
        venue_position: positions[0],
        venue_open,
        placed,
        stats,
        journal,
    }
}

fn collect_files(dir: &Path, out: &mut Vec<u8>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_files(&path, out);
        } else if let Ok(bytes) = std::fs::read(&path) {
            // Segments are preallocated: what follows the last written byte is zeros.
            let end = bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
            out.extend_from_slice(&bytes[..end]);
        }
    }
}

/// The engine's final BTCUSDT position from the summary, in lots (8 decimals).
fn engine_position(summary: &str) -> i64 {
    let l = line(summary, "position  BTCUSDT");
    let text = l
        .split("position ")
        .nth(2)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no position in {l:?}"));
    parse_decimal(text.as_bytes(), 8).unwrap()
}

/// The invariants every fault must keep; returns (sent, venue-accepted) for further checks.
fn assert_consistent(run: &PaperRun) -> (u64, u64) {
    let s = &run.summary;
    let mut ids = run.placed.clone();
    ids.sort();
    ids.dedup();
    assert_eq!(
        ids.len(),
        run.placed.len(),
        "an order was placed twice\n{s}"
    );
    let orders = line(s, "orders ");
    let sent = count_before(orders, "sent");
    let working = count_before(orders, "working");
    assert!(sent > 5, "too few orders to test anything\n{s}");
    assert!(orders.contains(" 0 illegal transitions"), "{s}");
    let placed = run.placed.len() as u64;
    assert!(
        placed <= sent,
        "the venue holds orders the engine never sent\n{s}"
    );
    assert_eq!(
        working as usize, run.venue_open,
        "the engine and the venue disagree on working orders\n{s}"
    );
    assert_eq!(
        engine_position(s),
        run.venue_position,
        "the engine's position is not the venue's\n{s}"
    );
    (sent, placed)
}

#[test]
fn paper_trading_acks_fills_and_matches_the_venue() {
    let run = paper_run("clean", Vec::new(), &Keys::plain(), None);
    let (sent, placed) = assert_consistent(&run);
    let orders = line(&run.summary, "orders ");
    assert_eq!(count_before(orders, "acked"), sent, "{}", run.summary);
    assert_eq!(placed, sent);
    assert!(count_before(orders, "filled") > 0, "{}", run.summary);
    let gateway = line(&run.summary, "gateway ");
    assert_eq!(count_before(gateway, "orders"), sent);
    assert!(
        run.summary.contains("0 outcomes unknown"),
        "{}",
        run.summary
    );
}

#[test]
fn a_5xx_with_the_order_placed_is_resolved_by_query_not_resent() {
    let run = paper_run(
        "5xx",
        vec![OrderFault::ServerError { at: 2 }],
        &Keys::plain(),
        None,
    );
    let (sent, placed) = assert_consistent(&run);
    assert_eq!(placed, sent, "{}", run.summary);
    assert!(
        run.summary.contains("1 outcomes unknown"),
        "{}",
        run.summary
    );
}

/// The venue logs the order session in slowly: the market data, which the venue plays from the
/// first subscription, must wait for it. Before, the feed subscribed at once and the first
/// orders were decided while the order session was not ready: refused, never sent ("1
/// rejected by the venue", "1 unavailable", one order fewer placed than sent). On a loaded
/// machine this happened by itself, one run of this file in four.
#[test]
fn no_order_is_decided_before_the_order_session_is_ready() {
    let keys = Keys::plain();
    let mut vc = paper_venue(Vec::new(), &keys);
    // Well inside the test's 1 s response timeout, well beyond the ~0.1 s the first order
    // takes on an idle machine.
    vc.subscribe_delay = Duration::from_millis(400);
    let run = paper_run_on(vc, "slow-login", &keys, None);
    let (sent, placed) = assert_consistent(&run);
    let s = &run.summary;
    assert_eq!(placed, sent, "{s}");
    let orders = line(s, "orders ");
    assert_eq!(count_before(orders, "acked"), sent, "{s}");
    assert_eq!(count_before(orders, "rejected"), 0, "{s}");
    assert!(s.contains("refused before sending: 0 unavailable"), "{s}");
}

/// The response is lost but the user data stream is not: its execution reports settle the
/// order before the response times out, so nothing is in doubt and nothing is queried.
#[test]
fn a_dropped_response_loses_nothing_the_stream_brings() {
    let run = paper_run(
        "drop",
        vec![OrderFault::DropResponse { at: 2 }],
        &Keys::plain(),
        None,
    );
    let (sent, placed) = assert_consistent(&run);
    assert_eq!(placed, sent, "{}", run.summary);
    let orders = line(&run.summary, "orders ");
    assert_eq!(count_before(orders, "acked"), sent, "{}", run.summary);
    assert!(
        run.summary.contains("0 outcomes unknown (1 timeouts)"),
        "{}",
        run.summary
    );
}

#[test]
fn a_disconnect_after_placing_reconnects_and_reconciles() {
    let run = paper_run(
        "disconnect",
        vec![OrderFault::Disconnect { at: 2 }],
        &Keys::plain(),
        None,
    );
    // Orders arriving while the session was down were refused, never sent: assert_consistent
    // holds the venue's orders to those the engine sent.
    assert_consistent(&run);
    assert!(run.summary.contains("1 reconnects"), "{}", run.summary);
    assert!(
        run.summary.contains("1 outcomes unknown"),
        "{}",
        run.summary
    );
}

#[test]
fn a_429_refuses_the_order_and_holds_everything_until_retry_after() {
    let run = paper_run(
        "429",
        vec![OrderFault::TooManyRequests { at: 2 }],
        &Keys::plain(),
        None,
    );
    let (sent, placed) = assert_consistent(&run);
    assert!(
        placed < sent,
        "the refused order cannot be at the venue\n{}",
        run.summary
    );
    let gateway = run
        .summary
        .lines()
        .find(|l| l.contains("rate-limited"))
        .unwrap();
    assert!(
        count_before(gateway, "rate-limited") >= 1,
        "{}",
        run.summary
    );
}

#[test]
fn a_venue_reject_is_reported_and_nothing_is_placed() {
    let run = paper_run(
        "reject",
        vec![OrderFault::Reject { at: 2 }],
        &Keys::plain(),
        None,
    );
    let (sent, placed) = assert_consistent(&run);
    assert_eq!(placed + 1, sent, "{}", run.summary);
    let orders = line(&run.summary, "orders ");
    assert_eq!(count_before(orders, "rejected"), 1, "{}", run.summary);
}

#[test]
fn a_delay_past_the_timeout_puts_the_order_in_doubt_until_queried() {
    let run = paper_run(
        "delay",
        vec![OrderFault::Delay { at: 2, ms: 1_500 }],
        &Keys::plain(),
        None,
    );
    let (sent, placed) = assert_consistent(&run);
    assert_eq!(placed, sent, "{}", run.summary);
    assert!(
        run.summary.contains("1 outcomes unknown (1 timeouts)"),
        "{}",
        run.summary
    );
}

/// Canary secrets: a full paper session (journal on, stats published), then two failed starts
/// (a wrong secret the venue refuses, a key file others may read). Neither key may appear in
/// the summary, the error output, the journal or the stats file.
#[test]
fn canary_secrets_never_reach_logs_journals_stats_or_errors() {
    let keys = Keys {
        api_key: "CANARYKEYq7Zp3Lx9".into(),
        secret: "CANARY-SECRET-w8Rk2Vn5".into(),
    };
    let run = paper_run("canary", Vec::new(), &keys, None);
    assert_consistent(&run);
    assert!(!run.stats.is_empty(), "the stats file was read");
    assert!(!run.journal.is_empty(), "the journal was read");
    let mut outputs: Vec<(String, Vec<u8>)> = vec![
        ("summary".into(), run.summary.clone().into_bytes()),
        ("stderr".into(), run.stderr.clone().into_bytes()),
        ("stats file".into(), run.stats.clone()),
        ("journal".into(), run.journal.clone()),
    ];

    // A secret the venue does not accept: the engine must fail to start, saying why.
    let dir = temp_dir("canary-bad");
    let mut vc = VenueConfig::new(repo_root().join("data/binance_spot_btcusdt_2024-08-08.cap.gz"));
    vc.orders = Some(OrderApiConfig {
        instruments: support::btcusdt(),
        api_key: keys.api_key.clone(),
        secret: Arc::new(Secret::new("the-venue-expects-another".into())),
        fees: Fees::default(),
    });
    let venue = Venue::start(vc).unwrap();
    let config = paper_config(&dir.0, venue.addr().port(), None);
    let out = Command::new(env!("CARGO_BIN_EXE_pulse"))
        .args(["run", "--config"])
        .arg(&config)
        .env("PULSE_PAPER_API_KEY", &keys.api_key)
        .env("PULSE_PAPER_SECRET", &keys.secret)
        .output()
        .unwrap();
    venue.stop();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("-1022"),
        "the venue's refusal is reported: {err}"
    );
    outputs.push(("refused start".into(), [out.stdout, out.stderr].concat()));

    // A key file its group may read: refused before anything is sent.
    let key_file = dir.0.join("api.key");
    std::fs::write(&key_file, &keys.api_key).unwrap();
    let mut perms = std::fs::metadata(&key_file).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o640);
    std::fs::set_permissions(&key_file, perms).unwrap();
    let text = std::fs::read_to_string(&config).unwrap().replace(
        "api_key_env = \"PULSE_PAPER_API_KEY\"",
        &format!("api_key_file = {key_file:?}"),
    );
    std::fs::write(&config, text).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_pulse"))
        .args(["run", "--config"])
        .arg(&config)
        .env("PULSE_PAPER_SECRET", &keys.secret)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("readable by others"), "{err}");
    outputs.push((
        "group-readable key file".into(),
        [out.stdout, out.stderr].concat(),
    ));

    for (what, bytes) in &outputs {
        for canary in [&keys.api_key, &keys.secret] {
            let found = bytes
                .windows(canary.len())
                .filter(|w| *w == canary.as_bytes())
                .count();
            assert_eq!(found, 0, "{canary} appears {found} time(s) in the {what}");
        }
    }
}

/// The market maker's quotes: post-only orders resting at the venue, moved by cancel-replace.
const MARKET_MAKER: &str = r#"[strategy]
kind = "market-maker"
instrument = "BTCUSDT"
order_qty = "0.001"
max_position = "0.004"
cooldown_ms = 20

[strategy.quotes]
half_spread_ticks = "0"
skew_ticks = "2"
refresh_ticks = "1"

"#;

/// Resting post-only quotes, moved with atomic cancel-replaces: every replace's cancel and new
/// order reach the venue together, and what rests at the end is the same on both sides (the
/// strategy pulls its quotes when the feed stops, so usually nothing).
#[test]
fn market_maker_quotes_rest_and_move_by_cancel_replace() {
    let run = paper_run("mm", Vec::new(), &Keys::plain(), Some(MARKET_MAKER));
    let (sent, placed) = assert_consistent(&run);
    let s = &run.summary;
    let gateway = line(s, "gateway ");
    assert!(count_before(gateway, "cancel-replaces") > 10, "{s}");
    let orders = line(s, "orders ");
    let acked = count_before(orders, "acked");
    // Post-only quotes that would take on arrival are refused by the venue: never placed.
    assert_eq!(acked + count_before(orders, "rejected"), sent, "{s}");
    assert!(count_before(orders, "cancelled") > 10, "{s}");
    assert_eq!(placed, acked, "{s}");
}

/// The order API connection drops right after a cancel-replace while quotes rest: fills and
/// cancels that happen while the stream is down are learned from the status checks made on
/// reconnecting.
#[test]
fn market_maker_survives_a_disconnect_with_quotes_resting() {
    let run = paper_run(
        "mm-disconnect",
        vec![OrderFault::Disconnect { at: 20 }],
        &Keys::plain(),
        Some(MARKET_MAKER),
    );
    assert_consistent(&run);
    assert!(run.summary.contains("1 reconnects"), "{}", run.summary);
}
