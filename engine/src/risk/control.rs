//! Operator control of a running engine: `pulse kill`, `pulse rearm`, `pulse reduce-only` and
//! `pulse flatten [--instrument venue:SYMBOL]`.
//!
//! The command goes through a small file in the engine's run directory
//! (`<run_dir>/<name>.control`, see [`crate::run_dir`]): the CLI writes it whole (a new file of
//! an unpredictable name renamed into place, so the engine never reads half a command and
//! nothing planted at the path is written through), the engine's coordinator thread picks it
//! up within [`POLL_EVERY`], applies it to the [`KillSwitch`] the risk stage reads before every
//! decision, and removes the file: its disappearance is the acknowledgement the CLI waits for.
//! The engine reads only a small regular file of its own user (or root) and never blocks on
//! it: anything else there is removed unread, counted and reported once per kind.
//! Nothing here touches the hot path; the risk thread sees the new mode on its next decision.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::run_dir::{read_owned, write_new, Owned, Refusal};
use crate::stats::liveness::now_unix_ns;
use pulse_feeds::instrument::InstrumentRegistry;
use pulse_feeds::num::InstrumentId;
use pulse_risk::kill::FlattenSwitch;
use pulse_risk::{HaltReason, KillSwitch, Rearm, TradingMode};

/// How often the engine looks for a command.
pub const POLL_EVERY: Duration = Duration::from_millis(10);
/// How long the CLI waits for the engine to take a command.
pub const ACK_TIMEOUT: Duration = Duration::from_secs(3);
/// A command file larger than this is not a command.
const MAX_COMMAND_BYTES: u64 = 64;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// Engage the kill switch: refuse every new order and cancel every open one.
    Kill,
    /// Back to armed: clears a kill and reduce-only, and the fill pause.
    Rearm,
    /// Only orders that reduce a position pass.
    ReduceOnly,
    /// Close positions (all, or the one instrument the command names): cancel the working
    /// orders, then marketable limits within the collar, sliced to the max order size.
    Flatten,
}

impl Command {
    pub fn name(self) -> &'static str {
        match self {
            Command::Kill => "kill",
            Command::Rearm => "rearm",
            Command::ReduceOnly => "reduce-only",
            Command::Flatten => "flatten",
        }
    }

    /// The command and the instrument it names (`flatten binance:BTCUSDT`; only flatten
    /// takes one).
    pub fn parse(text: &str) -> Option<(Command, Option<&str>)> {
        let mut words = text.split_whitespace();
        let cmd = match words.next()? {
            "kill" => Command::Kill,
            "rearm" => Command::Rearm,
            "reduce-only" => Command::ReduceOnly,
            "flatten" => Command::Flatten,
            _ => return None,
        };
        let target = words.next();
        if words.next().is_some() || (target.is_some() && cmd != Command::Flatten) {
            return None;
        }
        Some((cmd, target))
    }
}

/// What a command can steer: the kill switch, and the flatten switch with the instruments it
/// knows by name.
#[derive(Clone, Copy)]
pub struct Steer<'a> {
    pub kill: &'a KillSwitch,
    pub flatten: Option<(&'a FlattenSwitch, &'a InstrumentRegistry)>,
}

/// Who gave a command and when the engine took it: for the journal and the operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Issued {
    /// The uid that owns the command file: the engine's own user, or root.
    pub uid: u32,
    /// The engine's wall clock when it took the command, ns since the Unix epoch.
    pub unix_ns: u64,
}

/// What a poll found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Applied {
    /// The mode it left the engine in.
    Done(Command, TradingMode, Issued),
    /// Refused, with the reason (a re-arm while health is critical).
    Refused(Command, String, Issued),
    /// The file held something else.
    Unknown(String, Issued),
    /// Something that is not a command file of ours was at the path: removed unread. Returned
    /// for the first of each kind only; [`ControlWatcher::ignored`] counts them all.
    Ignored(Refusal),
}

/// The engine's end: looks for a command, applies it, removes the file.
pub struct ControlWatcher {
    path: PathBuf,
    last_poll: Option<Instant>,
    ignored: u64,
    reported: [bool; Refusal::KINDS],
    /// The instrument the last command named (a flatten's), for the event log.
    last_target: Option<String>,
}

impl ControlWatcher {
    /// Watches `path`; a command left over from an engine that is gone is discarded.
    pub fn new(path: PathBuf) -> ControlWatcher {
        let _ = std::fs::remove_file(&path);
        ControlWatcher {
            path,
            last_poll: None,
            ignored: 0,
            reported: [false; Refusal::KINDS],
            last_target: None,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The instrument the last command taken named (`flatten binance:BTCUSDT`), if any.
    pub fn last_target(&self) -> Option<&str> {
        self.last_target.as_deref()
    }

    /// How many planted files (FIFOs, symlinks, foreign or oversized files) were refused.
    pub fn ignored(&self) -> u64 {
        self.ignored
    }

    /// At most every [`POLL_EVERY`]: applies a waiting command to `kill`. A re-arm is refused
    /// while `critical` (health must recover first: a journal fault, a dead thread).
    pub fn poll(&mut self, steer: Steer<'_>, critical: bool) -> Option<Applied> {
        if self.last_poll.is_some_and(|t| t.elapsed() < POLL_EVERY) {
            return None;
        }
        self.last_poll = Some(Instant::now());
        let owned = match read_owned(&self.path, MAX_COMMAND_BYTES) {
            Ok(owned) => owned?,
            Err(refusal) => {
                let _ = std::fs::remove_file(&self.path);
                self.ignored += 1;
                let first = !std::mem::replace(&mut self.reported[refusal.kind()], true);
                return first.then_some(Applied::Ignored(refusal));
            }
        };
        let applied = self.apply(&owned, steer, critical);
        self.last_target = Command::parse(&String::from_utf8_lossy(&owned.bytes))
            .and_then(|(_, target)| target.map(str::to_owned));
        // Removed only now: the CLI takes the file's disappearance for "applied".
        let _ = std::fs::remove_file(&self.path);
        Some(applied)
    }

    fn apply(&self, owned: &Owned, steer: Steer<'_>, critical: bool) -> Applied {
        let kill = steer.kill;
        let by = Issued {
            uid: owned.uid,
            unix_ns: now_unix_ns(),
        };
        let text = String::from_utf8_lossy(&owned.bytes);
        match Command::parse(&text) {
            Some((Command::Flatten, target)) => flatten(steer, target, by),
            Some((Command::Rearm, _)) if critical => Applied::Refused(
                Command::Rearm,
                "health is critical: the cause must be fixed first".into(),
                by,
            ),
            Some((cmd, _)) => {
                match cmd {
                    Command::Kill => kill.engage(HaltReason::Operator),
                    // The sender, as journaled: the uid that owns the command file.
                    Command::Rearm => kill.rearm(Rearm {
                        uid: by.uid,
                        at_unix_ns: by.unix_ns,
                    }),
                    Command::ReduceOnly => kill.reduce_only(),
                    Command::Flatten => {}
                }
                Applied::Done(cmd, kill.mode(), by)
            }
            None => Applied::Unknown(text.trim().chars().take(40).collect(), by),
        }
    }
}

/// A flatten request to the risk stage: every instrument, or the one `target` names.
fn flatten(steer: Steer<'_>, target: Option<&str>, by: Issued) -> Applied {
    let Some((switch, instruments)) = steer.flatten else {
        return Applied::Refused(Command::Flatten, "this engine has no risk stage".into(), by);
    };
    let instrument = match target {
        None => None,
        Some(name) => match find(instruments, name) {
            Some(id) => Some(id),
            None => {
                let why = format!("`{name}` is not an instrument of this engine (venue:SYMBOL)");
                return Applied::Refused(Command::Flatten, why, by);
            }
        },
    };
    if !switch.request(instrument) {
        return Applied::Refused(Command::Flatten, "unknown instrument".into(), by);
    }
    Applied::Done(Command::Flatten, steer.kill.mode(), by)
}

/// `venue:SYMBOL`, or a `SYMBOL` only one venue has (case-insensitive).
fn find(instruments: &InstrumentRegistry, name: &str) -> Option<InstrumentId> {
    let (venue, symbol) = match name.split_once(':') {
        Some((v, s)) => (Some(v), s),
        None => (None, name),
    };
    let mut hits = instruments.iter().filter(|i| {
        venue.is_none_or(|v| i.venue.name() == v) && i.symbol.eq_ignore_ascii_case(symbol)
    });
    match (hits.next(), hits.next()) {
        (Some(i), None) => Some(i.id),
        _ => None,
    }
}

/// The CLI's end: writes `cmd` (with the instrument it names) for the engine watching `path`
/// and waits until it is taken.
pub fn send(path: &Path, cmd: Command, target: Option<&str>) -> Result<(), String> {
    let text = match target {
        Some(t) => format!("{} {t}\n", cmd.name()),
        None => format!("{}\n", cmd.name()),
    };
    if text.len() as u64 > MAX_COMMAND_BYTES {
        return Err(format!(
            "the command is longer than {MAX_COMMAND_BYTES} bytes"
        ));
    }
    write_new(path, text.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    let started = Instant::now();
    while std::fs::symlink_metadata(path).is_ok() {
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
    use crate::run_dir::euid;

    fn steer(kill: &KillSwitch) -> Steer<'_> {
        Steer {
            kill,
            flatten: None,
        }
    }

    /// What a poll did, without the time.
    fn done(a: Applied) -> (Command, TradingMode, u32) {
        match a {
            Applied::Done(cmd, mode, by) => (cmd, mode, by.uid),
            other => panic!("{other:?}"),
        }
    }

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
                    if let Some(a) = w.poll(steer(&kill), false) {
                        seen.push(done(a));
                    }
                    std::thread::sleep(Duration::from_millis(1));
                }
                seen
            })
        };
        let before = now_unix_ns();
        send(&path, Command::ReduceOnly, None).unwrap();
        assert_eq!(kill.mode(), TradingMode::ReduceOnly);
        send(&path, Command::Kill, None).unwrap();
        assert_eq!(kill.mode(), TradingMode::Killed);
        send(&path, Command::Rearm, None).unwrap();
        assert_eq!(kill.mode(), TradingMode::Armed);
        assert_eq!(kill.rearms(), 1);
        // The re-arm names its sender: the owner of the file (this test's user).
        let me = euid();
        assert_eq!(kill.last_rearm().uid, me);
        assert!(kill.last_rearm().at_unix_ns > 0);
        assert_eq!(
            engine.join().unwrap(),
            [
                (Command::ReduceOnly, TradingMode::ReduceOnly, euid()),
                (Command::Kill, TradingMode::Killed, euid()),
                (Command::Rearm, TradingMode::Armed, euid()),
            ]
        );
        // Critical health refuses a re-arm; garbage is reported, not applied; both say who.
        kill.engage(HaltReason::Operator);
        write_new(&path, b"rearm\n").unwrap();
        let Some(Applied::Refused(Command::Rearm, _, by)) = w.poll(steer(&kill), true) else {
            panic!("a re-arm while critical is refused");
        };
        assert_eq!(by.uid, euid());
        assert!(by.unix_ns >= before && by.unix_ns <= now_unix_ns());
        assert_eq!(kill.mode(), TradingMode::Killed);
        std::thread::sleep(POLL_EVERY);
        write_new(&path, b"sell everything\n").unwrap();
        assert!(matches!(
            w.poll(steer(&kill), false),
            Some(Applied::Unknown(text, _)) if text == "sell everything"
        ));
        // Nobody watching: the CLI gives up and cleans up.
        let err = send(&dir.join("nobody.control"), Command::Kill, None).unwrap_err();
        assert!(err.contains("no engine took the command"), "{err}");
        assert!(!dir.join("nobody.control").exists());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_planted_file_is_removed_unread_and_reported_once_per_kind() {
        let dir = std::env::temp_dir().join(format!("pulse-planted-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("e.control");
        let mut w = ControlWatcher::new(path.clone());
        let kill = KillSwitch::new(false);
        kill.engage(HaltReason::Operator);
        let target = dir.join("target");
        let mut seen = Vec::new();
        for _ in 0..2 {
            std::fs::write(&target, "rearm\n").unwrap();
            std::os::unix::fs::symlink(&target, &path).unwrap();
            std::thread::sleep(POLL_EVERY);
            seen.push(w.poll(steer(&kill), false));
            assert!(std::fs::symlink_metadata(&path).is_err(), "removed");
        }
        assert_eq!(seen, [Some(Applied::Ignored(Refusal::Symlink)), None]);
        assert_eq!(w.ignored(), 2);
        assert_eq!(kill.mode(), TradingMode::Killed, "never applied");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "rearm\n");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
