//! `wire-to-wire`: `pulse venue` writes a market data frame to a loopback socket; Pulse reads
//! it, decodes it, updates the book, decides, checks risk and writes an order back on its
//! WebSocket API session; the venue reads it. Measured at the venue, from the frame's flush to
//! the order's read, so both kernels' loopback paths and both WebSocket stacks are inside.
//!
//! The baseline, `echo`, is the floor under the same conditions: a client on the same I/O
//! stack as Pulse (the feed's non-blocking `mio` + `tungstenite` session, busy-polled) that
//! answers every frame with a `ping` request on its own WebSocket API session, deciding
//! nothing. Pulse minus echo is what deciding costs on the wire.
//!
//! The frames are the bundled capture's, re-spaced one per millisecond, so a reply arriving
//! within the millisecond after a frame can only answer that frame (the book-imbalance taker
//! decides on the latest book); later replies are counted as unattributed, not guessed. The
//! engine runs in-process in the single-thread layout, with the strategy's cooldown and the
//! order limits lifted so that every frame that crosses the threshold sends an order.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use hdrhistogram::Histogram;
use pulse_engine::config::{self, GatewayConfig, StrategyConfig};
use pulse_engine::runtime;
use pulse_feeds::binance::live::stream_path;
use pulse_feeds::clock::Clock;
use pulse_feeds::instrument::Venue as VenueId;
use pulse_feeds::num::{Nanos, Qty};
use pulse_feeds::ws::endpoint::Endpoint;
use pulse_feeds::ws::session::{SessionEvent, SessionTimers, WsSession};
use pulse_gateways::secret::Secret;
use pulse_gateways::sim::Fees;
use pulse_testex::{OrderApiConfig, Venue, VenueConfig, WireSamples};

use crate::report::Measured;

const SPACING: Duration = Duration::from_millis(1);
const KEY: &str = "wire-bench-key";
const SECRET: &str = "wire-bench-secret";

fn venue(
    capture: &Path,
    instruments: &pulse_feeds::instrument::InstrumentRegistry,
) -> Result<Venue> {
    let mut vc = VenueConfig::new(capture);
    vc.speed_milli = 1_000;
    vc.wait_for_client = true;
    vc.measure_wire = Some(SPACING);
    vc.orders = Some(OrderApiConfig {
        instruments: instruments.clone(),
        api_key: KEY.into(),
        secret: Arc::new(Secret::new(SECRET.into())),
        fees: Fees::default(),
    });
    Venue::start(vc)
}

/// `configs/paper.toml` against the venue at `addr`, quick to order and without limits that
/// would stop it: every signal becomes an order.
fn engine_config(addr: std::net::SocketAddr, core: Option<usize>) -> Result<config::Config> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs");
    let text = std::fs::read_to_string(dir.join("paper.toml"))?
        .replace("127.0.0.1:9443", &addr.to_string())
        .replace(
            "capital = \"10000\"",
            "capital = \"1000000000\"\nmax_messages = 100000\nthrottle_window_ms = 1\n\
             duplicate_window_ms = 1\nmax_open_orders = 64",
        )
        .replace("max_position = \"0.01\"", "max_position = \"1000\"")
        .replace(
            "response_timeout_ms = 3000",
            "response_timeout_ms = 3000\norders_per_10s = 1000000\nweight_per_minute = 100000000",
        );
    let mut cfg = config::parse(&text, &dir).map_err(|e| anyhow::anyhow!("{e}"))?;
    cfg.engine.name = format!("bench-wire-{}", std::process::id());
    cfg.metrics.stats = false;
    cfg.metrics.prometheus_listen = None;
    cfg.journal = None;
    for t in &mut cfg.runtime.threads {
        t.core = core;
    }
    if let StrategyConfig::BookImbalance(s) = &mut cfg.strategy {
        s.cooldown = Nanos::ZERO;
        s.max_position = Qty(i64::MAX / 4);
    }
    if !matches!(cfg.gateway, GatewayConfig::Binance(_)) {
        bail!("configs/paper.toml no longer uses the binance gateway");
    }
    Ok(cfg)
}

fn histogram(samples: &[u64]) -> Result<Histogram<u64>> {
    let mut h = Histogram::new_with_bounds(1, 60_000_000_000, 3)?;
    for &s in samples {
        h.record(s.max(1))?;
    }
    Ok(h)
}

fn wait_finished(venue: &Venue, limit: Duration) -> Result<()> {
    let deadline = Instant::now() + limit;
    while !venue.finished() {
        if Instant::now() > deadline {
            bail!("the venue did not finish its timeline in {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // The last frames' replies.
    std::thread::sleep(Duration::from_millis(100));
    Ok(())
}

/// Pulse, in-process, against the venue until its timeline ends.
/// Each stage's latency row, by stage name.
type StageRows = Vec<(&'static str, Histogram<u64>)>;

/// The venue's samples, and the engine's own latency rows (frame read from the socket to the
/// end of each stage; the gateway's ends when the order is written), for attribution.
fn pulse(capture: &Path, frames: usize, core: Option<usize>) -> Result<(WireSamples, StageRows)> {
    // Both sides read the keys from the environment, as `configs/paper.toml` says; set before
    // any thread starts.
    std::env::set_var("PULSE_PAPER_API_KEY", KEY);
    std::env::set_var("PULSE_PAPER_SECRET", SECRET);
    let probe = engine_config("127.0.0.1:1".parse()?, None)?;
    let venue = venue(capture, &probe.instruments)?;
    let cfg = engine_config(venue.addr(), core)?;
    let stop = Arc::new(AtomicBool::new(false));
    let limit = SPACING * frames as u32 + Duration::from_secs(30);
    let (finished, outcome) = std::thread::scope(|scope| {
        let (venue, flag) = (&venue, Arc::clone(&stop));
        let handle = scope.spawn(move || {
            let finished = wait_finished(venue, limit);
            // Release: the engine's main loop reads it and stops as on SIGINT.
            flag.store(true, Ordering::Release);
            finished
        });
        let outcome = runtime::run_until(&cfg, Arc::clone(&stop));
        (handle.join(), outcome)
    });
    finished.map_err(|_| anyhow::anyhow!("the watcher panicked"))??;
    let outcome = outcome.context("the engine failed")?;
    let inside = outcome
        .latency
        .iter()
        .map(|(stage, c)| (*stage, c.histogram().clone()))
        .collect();
    let samples = venue.wire_samples();
    venue.stop();
    Ok((samples, inside))
}

/// The echo client against the venue until its timeline ends.
fn echo(capture: &Path, core: Option<usize>) -> Result<WireSamples> {
    let instruments = engine_config("127.0.0.1:1".parse()?, None)?.instruments;
    let venue = venue(capture, &instruments)?;
    let addr = venue.addr();
    let session = |path: String| -> Result<WsSession> {
        let endpoint =
            Endpoint::parse(&format!("ws://{addr}{path}")).map_err(anyhow::Error::msg)?;
        let addrs = endpoint.resolve()?;
        Ok(WsSession::new(
            endpoint,
            addrs,
            None,
            SessionTimers::default(),
            1,
        )?)
    };
    let mut api = session("/ws-api/v3".into())?;
    let clock = Clock::live();
    // The reply channel first, so that no frame goes unanswered.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !api.is_open() {
        api.poll(clock.now(), |_| {});
        if Instant::now() > deadline {
            bail!("the echo client cannot reach {addr}/ws-api/v3");
        }
    }
    let mut md = session(stream_path(&instruments, VenueId::Binance, "depth@100ms"))?;
    // On the core the engine's hot thread would have.
    let pinned = core.filter(|&c| core_affinity::set_for_current(core_affinity::CoreId { id: c }));
    let limit = Instant::now() + Duration::from_secs(120);
    while !venue.finished() {
        let now = clock.now();
        let mut frames = 0;
        md.poll(now, |event| {
            if let SessionEvent::Frame(_) = event {
                frames += 1;
            }
        });
        for _ in 0..frames {
            api.send_text(r#"{"id":"e","method":"ping"}"#);
        }
        api.poll(now, |_| {});
        if Instant::now() > limit {
            bail!("the venue did not finish its timeline");
        }
    }
    let _ = pinned;
    std::thread::sleep(Duration::from_millis(100));
    let samples = venue.wire_samples();
    venue.stop();
    Ok(samples)
}

/// `core`: the engine's hot thread (and the echo client) pinned there, the venue's threads
/// left to the other cores.
pub fn run(duration: Duration, core: Option<usize>) -> Result<Vec<Measured>> {
    let frames = ((duration.as_millis() / SPACING.as_millis()) as usize).max(2_000);
    let dir = std::env::temp_dir().join(format!("pulse-bench-wire-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let spacing = Nanos(SPACING.as_nanos() as u64);
    let capture = crate::tick_to_trade::paced_capture(&dir, spacing, Some(frames))?;
    let pulse = pulse(&capture, frames, core);
    // Last: it pins this thread.
    let echo = echo(&capture, core);
    let _ = std::fs::remove_dir_all(&dir);
    let ((pulse, inside), echo) = (pulse?, echo?);
    if pulse.orders.is_empty() {
        bail!(
            "no order reached the venue within {SPACING:?} of a frame ({} unattributed)",
            pulse.unattributed
        );
    }
    Ok(vec![
        Measured {
            name: "pulse",
            case: None,
            histogram: histogram(&pulse.orders)?,
            extra: std::iter::once(("unattributed", pulse.unattributed as f64))
                .chain(inside.iter().filter_map(|(stage, h)| {
                    // Inside the engine, from the frame's read: the p50 at the end of each stage.
                    let key = match *stage {
                        "feed" => "feed_p50",
                        "book" => "book_p50",
                        "strategy" => "strategy_p50",
                        "risk" => "risk_p50",
                        "gateway" => "gateway_p50",
                        _ => return None,
                    };
                    Some((key, h.value_at_quantile(0.5) as f64))
                }))
                .collect(),
        },
        Measured {
            name: "echo",
            case: None,
            histogram: histogram(&echo.echoes)?,
            extra: vec![("unattributed", echo.unattributed as f64)],
        },
    ])
}
