//! Operator control of a running engine, through the real binary and real signals: SIGTERM and
//! SIGINT stop intake, drain and print the summary; SIGUSR1 and the kill file engage the kill
//! switch, after which risk approves nothing. Paced replays (`source.speed`) keep the engine
//! running long enough to be signalled.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

mod common;

use common::TempDir;

/// This test's own directory `name`.
fn temp_dir(name: &str) -> TempDir {
    TempDir::new(&format!("signals-{}-{name}", std::process::id()))
}

/// The demo config with an absolute capture path, a replay speed and a kill file of its own.
fn config(dir: &Path, speed: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let demo = std::fs::read_to_string(root.join("configs/imbalance.toml")).unwrap();
    let capture = root.join("data/binance_spot_btcusdt_2024-08-08.cap.gz");
    let kill = dir.join("kill");
    let text = demo
        .replace(
            "path = \"../data/binance_spot_btcusdt_2024-08-08.cap.gz\"",
            &format!(
                "path = {:?}\nspeed = \"{speed}\"",
                capture.display().to_string()
            ),
        )
        .replace(
            "[risk]\n",
            &format!(
                "[risk]\nkill_switch_file = {:?}\n",
                kill.display().to_string()
            ),
        );
    assert!(text.contains("speed = "), "the demo's source path moved");
    let path = dir.join("pulse.toml");
    std::fs::write(&path, text).unwrap();
    path
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Starts `pulse run`, sends `signals` at the given delays, and waits for it to exit.
fn run_with_signals(config: &Path, signals: &[(Duration, &str)]) -> Run {
    static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let child = Command::new(env!("CARGO_BIN_EXE_pulse"))
        .args(["run", "--config"])
        .arg(config)
        .args(["--name", &format!("signals-{}-{n}", std::process::id())])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    for (delay, signal) in signals {
        std::thread::sleep(*delay);
        let sent = Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success(), "kill -{signal} failed");
    }
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn words<'a>(summary: &'a str, prefix: &str) -> Vec<&'a str> {
    let line = summary
        .lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no `{prefix}` line in:\n{summary}"));
    line.split_whitespace()
        .map(|w| w.trim_matches(|c| matches!(c, ',' | ':' | '(' | ')')))
        .collect()
}

fn number(words: &[&str], at: Option<usize>, what: &str) -> u64 {
    let at = at.unwrap_or_else(|| panic!("no {what} in {words:?}"));
    words[at]
        .parse()
        .unwrap_or_else(|_| panic!("{what} is not a number in {words:?}"))
}

/// The count written before `label` (`272 sent`) on the summary line starting with `prefix`.
fn count(summary: &str, prefix: &str, label: &str) -> u64 {
    let w = words(summary, prefix);
    number(&w, w.iter().position(|x| *x == label).map(|i| i - 1), label)
}

/// The count written after `label` (`kill_switch 63`), 0 when the label is absent.
fn count_after(summary: &str, prefix: &str, label: &str) -> u64 {
    let w = words(summary, prefix);
    match w.iter().position(|x| *x == label) {
        Some(i) => number(&w, Some(i + 1), label),
        None => 0,
    }
}

fn assert_drained(summary: &str) {
    let sent = count(summary, "orders", "sent");
    let rejected = count(summary, "orders", "rejected");
    let resolved =
        count(summary, "orders", "filled") + count(summary, "orders", "expired") + rejected;
    assert_eq!(sent, count(summary, "orders", "acked") + rejected);
    assert_eq!(
        sent, resolved,
        "every order sent was resolved before exit:\n{summary}"
    );
    assert_eq!(count(summary, "risk", "accepted"), sent);
}

#[test]
fn sigterm_and_sigint_stop_intake_drain_and_summarize() {
    for signal in ["TERM", "INT"] {
        let dir = temp_dir(signal);
        let run = run_with_signals(
            &config(&dir.0, "20"),
            &[(Duration::from_millis(1500), signal)],
        );
        assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
        assert!(run.stdout.contains("stopped by signal"), "{}", run.stdout);
        assert!(run.stderr.contains("stop requested"), "{}", run.stderr);
        let lines = count(&run.stdout, "input", "lines");
        assert!(
            lines > 0 && lines < 41_249,
            "stopped part way: {lines} lines"
        );
        assert_eq!(count(&run.stdout, "book", "mismatch"), 0);
        assert_drained(&run.stdout);
    }
}

#[test]
fn sigusr1_engages_the_kill_switch_and_nothing_is_approved_after() {
    let dir = temp_dir("usr1");
    let run = run_with_signals(
        &config(&dir.0, "20"),
        &[
            (Duration::from_millis(1500), "USR1"),
            (Duration::from_millis(2000), "TERM"),
        ],
    );
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert!(run.stderr.contains("kill switch engaged"), "{}", run.stderr);
    assert!(
        run.stdout.contains("kill switch was engaged"),
        "{}",
        run.stdout
    );
    // 2 s of a 20x replay is 40 s of market: the strategy keeps asking, risk keeps refusing.
    assert!(
        count_after(&run.stdout, "risk", "kill_switch") > 0,
        "{}",
        run.stdout
    );
    assert_drained(&run.stdout);
}

#[test]
fn a_kill_file_present_at_start_blocks_every_order() {
    let dir = temp_dir("killfile");
    let cfg = config(&dir.0, "0");
    std::fs::write(dir.0.join("kill"), b"").unwrap();
    let run = run_with_signals(&cfg, &[]);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let intents = count(&run.stdout, "risk", "intents");
    assert!(intents > 0);
    assert_eq!(
        count_after(&run.stdout, "risk", "kill_switch"),
        intents,
        "{}",
        run.stdout
    );
    assert_eq!(count(&run.stdout, "orders", "sent"), 0);
}
