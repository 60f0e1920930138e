//! Secrets through the real binary: `pulse run` against a local venue, its API key and HMAC
//! secret given in environment variables. Once the engine runs, the variables' values are gone
//! from the environment block `/proc/<pid>/environ` shows (it is the block the process started
//! with: the values are wiped in place, the variables removed).

mod common;
mod support;

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use pulse_gateways::secret::Secret;
use pulse_gateways::sim::Fees;
use pulse_testex::{OrderApiConfig, Venue, VenueConfig};

use common::repo_root;

const API_KEY: &str = "envcanaryKEY7f3c9e1d";
const SECRET: &str = "envcanarySECRET0b5a2c";

#[test]
fn secrets_in_the_environment_are_wiped_once_the_engine_runs() {
    let dir = std::env::temp_dir().join(format!("pulse-secrets-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut vc = VenueConfig::new(repo_root().join("data/binance_spot_btcusdt_2024-08-08.cap.gz"));
    vc.wait_for_client = true;
    vc.orders = Some(OrderApiConfig {
        instruments: support::btcusdt(),
        api_key: API_KEY.into(),
        secret: Arc::new(Secret::new(SECRET.into())),
        fees: Fees::default(),
    });
    let venue = Venue::start(vc).expect("venue starts");
    let text = std::fs::read_to_string(repo_root().join("configs/paper.toml"))
        .unwrap()
        .replace("127.0.0.1:9443", &venue.addr().to_string())
        .replace(
            "dir = \"/tmp/pulse-paper/journal\"",
            &format!("dir = {:?}", dir.join("journal")),
        );
    let config = dir.join("paper.toml");
    std::fs::write(&config, text).unwrap();
    let name = format!("secrets-{}", std::process::id());
    let mut child = Command::new(env!("CARGO_BIN_EXE_pulse"))
        .args(["run", "--config"])
        .arg(&config)
        .args(["--name", &name])
        .env("PULSE_PAPER_API_KEY", API_KEY)
        .env("PULSE_PAPER_SECRET", SECRET)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The stats file appears once the gateway is built: the keys have been read by then.
    let stats = pulse_engine::run_dir::default_dir().join(format!("{name}.stats"));
    let deadline = Instant::now() + Duration::from_secs(60);
    while !stats.exists() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the engine exited early"
        );
        assert!(Instant::now() < deadline, "the engine never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    let environ = std::fs::read(format!("/proc/{}/environ", child.id())).unwrap();
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let status = child.wait().unwrap();
    let contains = |needle: &str| {
        environ
            .windows(needle.len())
            .any(|w| w == needle.as_bytes())
    };
    assert!(
        contains("PULSE_PAPER_API_KEY="),
        "the variable was in the initial block"
    );
    assert!(
        !contains(API_KEY),
        "the API key is still in the environment block"
    );
    assert!(
        !contains(SECRET),
        "the secret is still in the environment block"
    );
    assert!(status.code().is_some(), "stopped cleanly: {status}");
    let _ = std::fs::remove_dir_all(&dir);
}
