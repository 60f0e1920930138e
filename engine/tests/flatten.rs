//! Flatten through the real binary while the demo replays at recorded speed: once the account
//! holds a position (read from outside with `pulse stats --once --json`), the operator's
//! command closes it. `pulse reduce-only` first keeps the strategy from reopening it, then
//! `pulse flatten` cancels, slices and closes; with `kill_mode = "flatten"`, `pulse kill`
//! alone does the same. Either way the run ends flat, and the summary says the flatten closed
//! the instrument.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

mod common;

use common::{demo_config, pulse, stderr_lines, succeeded};

struct Engine {
    child: Child,
    rx: Receiver<String>,
    name: String,
}

impl Engine {
    fn start(config: &Path, name: &str, run: &Path) -> Engine {
        let mut child = Command::new(env!("CARGO_BIN_EXE_pulse"))
            .args(["run", "--config"])
            .arg(config)
            .args(["--name", name, "--run-dir"])
            .arg(run)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let rx = stderr_lines(&mut child);
        Engine {
            child,
            rx,
            name: name.to_owned(),
        }
    }

    /// The account's position (millionths of BTC), from the stats file.
    fn position(&self, run: &Path) -> Option<i64> {
        let out = pulse(&[
            "stats",
            "--name",
            &self.name,
            "--run-dir",
            run.to_str().unwrap(),
            "--once",
            "--json",
        ]);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
        v["metrics"]
            .as_array()?
            .iter()
            .find(|m| m["name"] == "position_micro")
            .and_then(|m| m["value"].as_i64())
    }

    /// Waits until the account holds a position (the strategy trades within seconds).
    fn wait_for_position(&self, run: &Path) -> i64 {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(90) {
            if let Some(p) = self.position(run).filter(|p| *p != 0) {
                return p;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("the demo never held a position");
    }

    fn wait_for(&self, needle: &str) {
        let started = Instant::now();
        let mut seen = Vec::new();
        while started.elapsed() < Duration::from_secs(60) {
            if let Ok(line) = self.rx.recv_timeout(Duration::from_millis(50)) {
                if line.contains(needle) {
                    return;
                }
                seen.push(line);
            }
        }
        panic!("the engine never said {needle:?}: {seen:#?}");
    }

    /// SIGINT, then the summary (stdout) once it exits.
    fn stop(self) -> String {
        let sent = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let out = self.child.wait_with_output().unwrap();
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

fn scratch(test: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("pulse-flatten-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("run")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.join("run"), std::fs::Permissions::from_mode(0o700)).unwrap();
    dir
}

/// The final position of the summary's `position BTCUSDT` line.
fn final_position(summary: &str) -> String {
    let line = summary
        .lines()
        .find(|l| l.starts_with("position  BTCUSDT"))
        .unwrap_or_else(|| panic!("no position line: {summary}"));
    let rest = &line[line.find(", position ").unwrap() + ", position ".len()..];
    rest.split_whitespace().next().unwrap().to_owned()
}

#[test]
fn pulse_flatten_closes_the_position_of_a_running_engine() {
    let dir = scratch("cmd");
    let run = dir.join("run");
    let name = format!("flatten-{}", std::process::id());
    let config = demo_config(&dir, Some("1"), &[]);
    let engine = Engine::start(&config, &name, &run);
    let held = engine.wait_for_position(&run);
    let r = run.to_str().unwrap();
    succeeded(&pulse(&["reduce-only", "--run-dir", r, "--name", &name]));
    let taken = succeeded(&pulse(&[
        "flatten",
        "--run-dir",
        r,
        "--name",
        &name,
        "--instrument",
        "binance:BTCUSDT",
    ]));
    assert!(
        taken.contains("pulse flatten: taken by the engine"),
        "{taken}"
    );
    engine.wait_for("pulse: control: flatten");
    // Closing takes a slice or two at recorded speed.
    let started = Instant::now();
    while engine.position(&run) != Some(0) {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "still {held} after the flatten"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // An instrument the engine does not trade is refused, with its name.
    let refused = pulse(&[
        "flatten",
        "--run-dir",
        r,
        "--name",
        &name,
        "--instrument",
        "okx:ETH-USDT",
    ]);
    assert!(refused.status.success(), "the engine took the command file");
    engine.wait_for("`okx:ETH-USDT` is not an instrument of this engine");
    let summary = engine.stop();
    assert_eq!(final_position(&summary), "0.00000000", "{summary}");
    assert!(summary.contains("flatten   BTCUSDT closed"), "{summary}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_kill_in_flatten_mode_closes_every_position() {
    let dir = scratch("kill");
    let run = dir.join("run");
    let name = format!("flattenkill-{}", std::process::id());
    let config = demo_config(
        &dir,
        Some("1"),
        &[(
            "start_killed = false",
            "start_killed = false\nkill_mode = \"flatten\"",
        )],
    );
    let engine = Engine::start(&config, &name, &run);
    engine.wait_for_position(&run);
    succeeded(&pulse(&[
        "kill",
        "--run-dir",
        run.to_str().unwrap(),
        "--name",
        &name,
    ]));
    engine.wait_for("kill switch engaged");
    let started = Instant::now();
    while engine.position(&run) != Some(0) {
        assert!(started.elapsed() < Duration::from_secs(60), "not closed");
        std::thread::sleep(Duration::from_millis(100));
    }
    let summary = engine.stop();
    assert_eq!(final_position(&summary), "0.00000000", "{summary}");
    assert!(summary.contains("flatten 1"), "{summary}");
    assert!(summary.contains("flatten   BTCUSDT closed"), "{summary}");
    let _ = std::fs::remove_dir_all(&dir);
}
