//! A `pulse run` child the test steers and stops, killed if the test fails first.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use serde_json::Value;

/// `pulse ARGS`, run to its end.
pub fn pulse(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pulse"))
        .args(args)
        .output()
        .unwrap()
}

/// A scratch directory with a private `run` directory in it.
pub fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pulse-events-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("run")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.join("run"), std::fs::Permissions::from_mode(0o700)).unwrap();
    dir
}

/// Every line of `text` as JSON.
pub fn parse_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// Each event's `kind`, in order.
pub fn kinds(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["kind"].as_str().unwrap()).collect()
}

/// The index of the first `kind` at or after `from` in `kinds`.
pub fn find_after(kinds: &[&str], kind: &str, from: usize) -> Option<usize> {
    kinds[from..]
        .iter()
        .position(|x| *x == kind)
        .map(|i| from + i)
}

/// A running `pulse run`, killed if the test fails before it stops it.
pub struct Engine {
    child: Option<Child>,
    rx: Receiver<String>,
    seen: Vec<String>,
    name: String,
    run: PathBuf,
    pub pid: u32,
}

impl Engine {
    pub fn start(config: &Path, name: &str, run: &Path, env: &[(&str, &str)]) -> Engine {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_pulse"));
        cmd.args(["run", "--config"])
            .arg(config)
            .args(["--name", name, "--run-dir"])
            .arg(run)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        let (tx, rx) = mpsc::channel();
        let err = child.stderr.take().expect("a piped stderr");
        std::thread::spawn(move || {
            use std::io::BufRead as _;
            for line in std::io::BufReader::new(err).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        Engine {
            pid: child.id(),
            child: Some(child),
            rx,
            seen: Vec::new(),
            name: name.to_owned(),
            run: run.to_owned(),
        }
    }

    pub fn wait_for(&mut self, needle: &str) {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(60) {
            if let Ok(line) = self.rx.recv_timeout(Duration::from_millis(50)) {
                let hit = line.contains(needle);
                self.seen.push(line);
                if hit {
                    return;
                }
            }
        }
        panic!("the engine never said {needle:?}: {:#?}", self.seen);
    }

    /// `pulse CMD --run-dir RUN --name NAME [more]`, which must be taken.
    pub fn steer(&self, cmd: &str, more: &[&str]) {
        let mut args = vec![
            cmd,
            "--run-dir",
            self.run.to_str().unwrap(),
            "--name",
            &self.name,
        ];
        args.extend_from_slice(more);
        let out = pulse(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// SIGINT, then the summary once it exits, and every line of its stderr.
    pub fn stop(mut self) -> (String, Vec<String>) {
        let child = self.child.take().unwrap();
        let sent = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let out = child.wait_with_output().unwrap();
        self.seen.extend(self.rx.try_iter());
        assert!(out.status.success(), "{:#?}", self.seen);
        let seen = std::mem::take(&mut self.seen);
        (String::from_utf8_lossy(&out.stdout).into_owned(), seen)
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
