//! The event log of a paper session: `pulse run` (configs/paper.toml) against a venue serving
//! market data and Binance's order API over loopback, which drops the order session once. The
//! log shows the order session connecting, dropping and coming back, beside the feed's connect.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use pulse_gateways::secret::Secret;
use pulse_gateways::sim::Fees;
use pulse_testex::{OrderApiConfig, OrderFault, Venue, VenueConfig};

mod events_support;
mod support;

use events_support::engine::{find_after, kinds, parse_lines, scratch, Engine};

const KEY: &str = "paper-key";
const SECRET: &str = "paper-secret";

/// The bundled capture at 50x, waiting for the engine, its order session dropped at the
/// second order.
fn venue() -> Venue {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut vc = VenueConfig::new(root.join("data/binance_spot_btcusdt_2024-08-08.cap.gz"));
    vc.speed_milli = 50_000;
    vc.ping_interval = Duration::from_millis(500);
    vc.wait_for_client = true;
    vc.orders = Some(OrderApiConfig {
        instruments: support::btcusdt(),
        api_key: KEY.into(),
        secret: Arc::new(Secret::new(SECRET.into())),
        fees: Fees {
            taker_ppm: 1_000,
            maker_ppm: 200,
        },
    });
    vc.order_faults = vec![OrderFault::Disconnect { at: 2 }];
    Venue::start(vc).expect("venue starts")
}

#[test]
fn the_order_session_connecting_dropping_and_coming_back_is_logged() {
    let venue = venue();
    let dir = scratch("gateway");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let text = std::fs::read_to_string(root.join("configs/paper.toml")).unwrap();
    let log = dir.join("events.jsonl");
    let text = text
        .replace("127.0.0.1:9443", &venue.addr().to_string())
        .replacen("cooldown_ms = 500", "cooldown_ms = 20", 1)
        .replacen("[journal]", "[runtime]\nidle = \"backoff\"\n\n[journal]", 1)
        .replacen(
            "dir = \"/tmp/pulse-paper/journal\"",
            &format!("dir = {:?}", dir.join("journal")),
            1,
        )
        + &format!("\n[events]\nlog = {:?}\n", log.display().to_string());
    let config = dir.join("paper.toml");
    std::fs::write(&config, text).unwrap();
    let name = format!("gw-{}", std::process::id());
    let env = [("PULSE_PAPER_API_KEY", KEY), ("PULSE_PAPER_SECRET", SECRET)];
    let engine = Engine::start(&config, &name, &dir.join("run"), &env);
    let deadline = Instant::now() + Duration::from_secs(120);
    while !venue.finished() {
        assert!(Instant::now() < deadline, "the venue never finished");
        std::thread::sleep(Duration::from_millis(100));
    }
    // The drop comes with the second order, which a loaded machine may reach late: the engine
    // runs on (a live session) until the log shows the session back, then stops.
    let back = |text: &str| {
        let down = text.find("\"gateway_disconnected\"");
        down.is_some_and(|d| text[d..].contains("\"gateway_connected\""))
    };
    while !back(&std::fs::read_to_string(&log).unwrap_or_default()) {
        if Instant::now() >= deadline {
            break; // the assertions below say what the log holds
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(300));
    let (summary, stderr) = engine.stop();
    venue.stop();
    assert!(summary.contains("1 reconnects"), "{summary}\n{stderr:#?}");
    let events = parse_lines(&std::fs::read_to_string(&log).unwrap());
    let k = kinds(&events);
    let at = |kind: &str, from: usize| {
        find_after(&k, kind, from)
            .unwrap_or_else(|| panic!("no {kind} after #{from}: {k:?}\n{summary}\n{stderr:#?}"))
    };
    at("feed_connected", 0);
    let up = at("gateway_connected", 0);
    let down = at("gateway_disconnected", up);
    at("gateway_connected", down);
    // The gateway's connects and drops are exactly these (one venue session, one drop).
    let gateway: Vec<&str> = k
        .iter()
        .copied()
        .filter(|x| x.starts_with("gateway_"))
        .collect();
    assert_eq!(
        gateway,
        [
            "gateway_connected",
            "gateway_disconnected",
            "gateway_connected"
        ],
        "{k:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
