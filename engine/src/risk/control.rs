//! Operator control of a running engine: `pulse kill`, `pulse rearm` and `pulse reduce-only`.
//!
//! The command goes through a small file beside the engine's stats file
//! (`/dev/shm/pulse-<name>.control`): the CLI writes it whole (a temporary file renamed into
//! place, so the engine never reads half a command), the engine's coordinator thread picks it
//! up within [`POLL_EVERY`], applies it to the [`KillSwitch`] the risk stage reads before every
//! decision, and removes the file: its disappearance is the acknowledgement the CLI waits for.
//! Nothing here touches the hot path; the risk thread sees the new mode on its next decision.

use std::io::Write as _;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::risk::{HaltReason, KillSwitch, Rearm, TradingMode};
use crate::stats::liveness::now_unix_ns;

/// How often the engine looks for a command.
pub const POLL_EVERY: Duration = Duration::from_millis(10);
/// How long the CLI waits for the engine to take a command.
pub const ACK_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// Engage the kill switch: refuse every new order and cancel every open one.
    Kill,
    /// Back to armed: clears a kill and reduce-only, and the fill pause.
    Rearm,
    /// Only orders that reduce a position pass.
    ReduceOnly,
}

impl Command {
    pub fn name(self) -> &'static str {
        match self {
            Command::Kill => "kill",
            Command::Rearm => "rearm",
            Command::ReduceOnly => "reduce-only",
        }
    }

    pub fn parse(text: &str) -> Option<Command> {
        match text.trim() {
            "kill" => Some(Command::Kill),
            "rearm" => Some(Command::Rearm),
            "reduce-only" => Some(Command::ReduceOnly),
            _ => None,
        }
    }
}

/// The control file of the engine whose stats file is `stats_file`.
pub fn control_path(stats_file: &Path) -> PathBuf {
    stats_file.with_extension("control")
}

/// What applying a command did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Applied {
    /// The mode it left the engine in.
    Done(Command, TradingMode),
    /// Refused, with the reason (a re-arm while health is critical).
    Refused(Command, String),
    /// The file held something else.
    Unknown(String),
}

/// The engine's end: looks for a command, applies it, removes the file.
pub struct ControlWatcher {
    path: PathBuf,
    last_poll: Option<Instant>,
}

impl ControlWatcher {
    /// Watches `path`; a command left over from an engine that is gone is discarded.
    pub fn new(path: PathBuf) -> ControlWatcher {
        let _ = std::fs::remove_file(&path);
        ControlWatcher {
            path,
            last_poll: None,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// At most every [`POLL_EVERY`]: applies a waiting command to `kill`. A re-arm is refused
    /// while `critical` (health must recover first: a journal fault, a dead thread).
    pub fn poll(&mut self, kill: &KillSwitch, critical: bool) -> Option<Applied> {
        if self.last_poll.is_some_and(|t| t.elapsed() < POLL_EVERY) {
            return None;
        }
        self.last_poll = Some(Instant::now());
        // The sender of a re-arm, as journaled: the owner of the file its CLI wrote.
        let sender = std::fs::symlink_metadata(&self.path).ok()?.uid();
        let text = std::fs::read_to_string(&self.path).ok()?;
        let _ = std::fs::remove_file(&self.path);
        Some(match Command::parse(&text) {
            Some(Command::Rearm) if critical => Applied::Refused(
                Command::Rearm,
                "health is critical: the cause must be fixed first".into(),
            ),
            Some(cmd) => {
                match cmd {
                    Command::Kill => kill.engage(HaltReason::Operator),
                    Command::Rearm => kill.rearm(Rearm {
                        uid: sender,
                        at_unix_ns: now_unix_ns(),
                    }),
                    Command::ReduceOnly => kill.reduce_only(),
                }
                Applied::Done(cmd, kill.mode())
            }
            None => Applied::Unknown(text.trim().chars().take(40).collect()),
        })
    }
}

/// The CLI's end: writes `cmd` for the engine watching `path` and waits until it is taken.
pub fn send(path: &Path, cmd: Command) -> Result<(), String> {
    let tmp = path.with_extension(format!("control.{}", std::process::id()));
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(cmd.name().as_bytes())?;
        f.write_all(b"\n")?;
        std::fs::rename(&tmp, path)
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("cannot write {}: {e}", path.display())
    })?;
    let started = Instant::now();
    while path.exists() {
        if started.elapsed() > ACK_TIMEOUT {
            let _ = std::fs::remove_file(path);
            return Err(format!(
                "no engine took the command within {} s (nothing watches {})",
                ACK_TIMEOUT.as_secs(),
                path.display()
            ));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_is_applied_once_and_acknowledged_by_removal() {
        let dir = std::env::temp_dir().join(format!("pulse-control-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("e.control");
        std::fs::write(&path, "stale\n").unwrap();
        let mut w = ControlWatcher::new(path.clone());
        assert!(!path.exists(), "a leftover command is discarded");
        let kill = KillSwitch::new(false);
        let engine = {
            let mut w = ControlWatcher::new(path.clone());
            let kill = kill.clone();
            std::thread::spawn(move || {
                let mut seen = Vec::new();
                let started = Instant::now();
                while seen.len() < 3 && started.elapsed() < Duration::from_secs(10) {
                    if let Some(a) = w.poll(&kill, false) {
                        seen.push(a);
                    }
                    std::thread::sleep(Duration::from_millis(1));
                }
                seen
            })
        };
        send(&path, Command::ReduceOnly).unwrap();
        assert_eq!(kill.mode(), TradingMode::ReduceOnly);
        send(&path, Command::Kill).unwrap();
        assert_eq!(kill.mode(), TradingMode::Killed);
        send(&path, Command::Rearm).unwrap();
        assert_eq!(kill.mode(), TradingMode::Armed);
        assert_eq!(kill.rearms(), 1);
        // The re-arm names its sender: the owner of the file (this test's user).
        let me = std::fs::metadata(&dir).unwrap().uid();
        assert_eq!(kill.last_rearm().uid, me);
        assert!(kill.last_rearm().at_unix_ns > 0);
        assert_eq!(
            engine.join().unwrap(),
            [
                Applied::Done(Command::ReduceOnly, TradingMode::ReduceOnly),
                Applied::Done(Command::Kill, TradingMode::Killed),
                Applied::Done(Command::Rearm, TradingMode::Armed),
            ]
        );
        // Critical health refuses a re-arm; garbage is reported, not applied.
        kill.engage(HaltReason::Operator);
        std::fs::write(&path, "rearm\n").unwrap();
        assert!(matches!(
            w.poll(&kill, true),
            Some(Applied::Refused(Command::Rearm, _))
        ));
        assert_eq!(kill.mode(), TradingMode::Killed);
        std::thread::sleep(POLL_EVERY);
        std::fs::write(&path, "sell everything\n").unwrap();
        assert_eq!(
            w.poll(&kill, false),
            Some(Applied::Unknown("sell everything".into()))
        );
        // Nobody watching: the CLI gives up and cleans up.
        let err = send(&dir.join("nobody.control"), Command::Kill).unwrap_err();
        assert!(err.contains("no engine took the command"), "{err}");
        assert!(!dir.join("nobody.control").exists());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
