//! The control plane belongs to the operator alone, through the real binary: another user
//! (simulated by files this test, as root, gives to uid 65534) can neither steer the engine
//! through its control file, nor block it with a FIFO, nor redirect `pulse kill` through a
//! symlink, nor keep it from starting or being found with stray stats files.

use std::os::unix::fs::{chown, symlink, DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

mod common;

use common::{demo_config, pulse, stderr_lines, succeeded};

/// Another local user.
const NOBODY: u32 = 65534;

struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("pulse-cp-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    /// A run directory of ours, mode 0700.
    fn run_dir(&self) -> PathBuf {
        let run = self.0.join("run");
        std::fs::DirBuilder::new().mode(0o700).create(&run).unwrap();
        run
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A file owned by another user.
/// Another user's file appears at `path` whole: written and given away under a name nothing
/// reads, then renamed into place, so the engine never sees it ours for an instant (written
/// in place, a busy machine let the engine take the command between write and chown).
fn plant(path: &Path, contents: &str) {
    let staged = path.with_file_name(".planting.tmp");
    std::fs::write(&staged, contents).unwrap();
    chown(&staged, Some(NOBODY), Some(NOBODY)).unwrap();
    std::fs::rename(&staged, path).unwrap();
}

fn mkfifo(path: &Path) {
    let made = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(made.success(), "mkfifo {}", path.display());
}

/// The engine's stderr, kept whole so a test can also ask what was never said.
struct Engine {
    child: Child,
    rx: Receiver<String>,
    seen: Vec<String>,
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
            seen: Vec::new(),
        }
    }

    fn wait_for(&mut self, needle: &str) {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(60) {
            if let Ok(line) = self.rx.recv_timeout(Duration::from_millis(50)) {
                self.seen.push(line);
                if self.seen.last().is_some_and(|l| l.contains(needle)) {
                    return;
                }
            }
        }
        let _ = self.child.kill();
        panic!("the engine never said {needle:?}: {:#?}", self.seen);
    }

    fn said(&self, needle: &str) -> usize {
        self.seen.iter().filter(|l| l.contains(needle)).count()
    }

    fn signal(&self, signal: &str) {
        let sent = Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
    }

    /// Waits for the exit; a hang is killed and fails the test.
    fn exit(mut self) -> (bool, String) {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                while let Ok(line) = self.rx.recv_timeout(Duration::from_millis(200)) {
                    self.seen.push(line);
                }
                return (status.success(), self.seen.join("\n"));
            }
            if started.elapsed() > Duration::from_secs(30) {
                let _ = self.child.kill();
                panic!("the engine did not stop: {:#?}", self.seen);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

#[test]
fn only_the_operator_steers_the_engine_and_nothing_planted_blocks_or_redirects_it() {
    let scratch = Scratch::new("steer");
    let run = scratch.run_dir();
    let name = format!("steer-{}", std::process::id());
    // Planted before the start: a foreign stats file where the engine used to put its own,
    // a foreign one and a stray one of ours in the run directory.
    let old_place = PathBuf::from(format!("/dev/shm/pulse-{name}.stats"));
    plant(&old_place, "not yours");
    plant(&run.join("foreign.stats"), "planted");
    std::fs::write(run.join("stray.stats"), "garbage").unwrap();
    let config = demo_config(&scratch.0, Some("1"), &[]);
    let mut engine = Engine::start(&config, &name, &run);
    engine.wait_for("healthy");

    // SIGUSR1 kills; another user's `rearm` is removed unread and never applied.
    engine.signal("USR1");
    engine.wait_for("kill switch engaged");
    let control = run.join(format!("{name}.control"));
    plant(&control, "rearm\n");
    engine.wait_for("is owned by uid 65534, not by this user: removed unread");
    assert!(!control.exists());

    // The operator's commands find the one live engine without --name, past the stray files.
    let run_arg = run.to_str().unwrap();
    let taken = succeeded(&pulse(&["rearm", "--run-dir", run_arg]));
    assert!(
        taken.contains("pulse rearm: taken by the engine"),
        "{taken}"
    );
    engine.wait_for("re-armed");
    assert_eq!(engine.said("re-armed"), 1, "only the operator's re-arm");

    // A symlink at the control path is replaced, never written through.
    let precious = scratch.0.join("precious");
    std::fs::write(&precious, "precious\n").unwrap();
    symlink(&precious, &control).unwrap();
    succeeded(&pulse(&["kill", "--run-dir", run_arg, "--name", &name]));
    engine.wait_for("kill switch engaged");
    assert_eq!(std::fs::read_to_string(&precious).unwrap(), "precious\n");
    // A FIFO would have blocked the engine's read forever: it is refused without a read.
    mkfifo(&control);
    engine.wait_for("is a FIFO, not a regular file: removed unread");
    succeeded(&pulse(&["rearm", "--run-dir", run_arg]));
    engine.wait_for("re-armed");

    // SIGINT still stops the run: the main thread never blocked.
    engine.signal("INT");
    let (success, stderr) = engine.exit();
    assert!(success, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "planted file(s) at {} refused unread",
            control.display()
        )),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&old_place).unwrap(), "not yours");
    let _ = std::fs::remove_file(&old_place);
    let mode = std::fs::metadata(&run).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o700);
}

#[test]
fn pulse_kill_replaces_a_planted_symlink_and_leaves_its_target_untouched() {
    let scratch = Scratch::new("symlink");
    let run = scratch.run_dir();
    let precious = scratch.0.join("precious");
    std::fs::write(&precious, "precious\n").unwrap();
    let control = run.join("ghost.control");
    symlink(&precious, &control).unwrap();
    let out = pulse(&[
        "kill",
        "--name",
        "ghost",
        "--run-dir",
        run.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no engine took the command"), "{err}");
    assert_eq!(std::fs::read_to_string(&precious).unwrap(), "precious\n");
    let left: Vec<_> = std::fs::read_dir(&run).unwrap().collect();
    assert!(left.is_empty(), "no temporary file is left: {left:?}");
}

#[test]
fn a_run_directory_another_user_planted_is_refused_with_its_owner() {
    let scratch = Scratch::new("planted-dir");
    let run = scratch.run_dir();
    chown(&run, Some(NOBODY), Some(NOBODY)).unwrap();
    let config = demo_config(&scratch.0, None, &[]);
    let out = pulse(&[
        "run",
        "--config",
        config.to_str().unwrap(),
        "--run-dir",
        run.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with(&format!(
            "pulse: run directory {} is owned by uid 65534, not by this user (uid 0)",
            run.display()
        )),
        "{err}"
    );
    assert!(out.stdout.is_empty(), "nothing ran");

    // check-config says the same, naming the key, and refuses a kill file others can create.
    let text = std::fs::read_to_string(&config).unwrap();
    let moved = text.replacen(
        "[engine]\n",
        &format!("[engine]\nrun_dir = {:?}\n", run.display().to_string()),
        1,
    );
    let path = scratch.0.join("moved.toml");
    std::fs::write(&path, moved).unwrap();
    let out = pulse(&["check-config", "--config", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("engine.run_dir: run directory"), "{err}");
    assert!(err.contains("owned by uid 65534"), "{err}");

    let shared = text.replacen(
        "[risk]\n",
        "[risk]\nkill_switch_file = \"/tmp/pulse-demo.kill\"\n",
        1,
    );
    std::fs::write(&path, shared).unwrap();
    let out = pulse(&["check-config", "--config", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("risk.kill_switch_file: directory /tmp has mode 1777: other users can create files in it"),
        "{err}"
    );
}
