//! A halt survives a restart, over the real binary: a `pulse kill` outlives SIGKILL and the
//! next run sends nothing; a reconciliation mismatch halts every later run until an operator
//! re-arms, and the re-arm is journaled with who and when; the drawdown breaker's level is
//! still there after a restart, re-arm or not.

use std::os::unix::fs::MetadataExt as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

mod common;

use pulse_engine::decisions::kind::{ORDER, RISK_STATE, SESSION};
use pulse_engine::risk::state::{BreakerLevel, Cause, RiskState};
use pulse_engine::risk::{HaltReason, Rearm, TradingMode};

use common::{
    count_before, journal_records, line, pulse, repo_config, run_journaled, stderr_lines,
    RecordBytes,
};

fn scratch(test: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("pulse-halt-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The output records of the journal's last session.
fn last_session(journal: &Path) -> Vec<RecordBytes> {
    let records = journal_records(journal, "output");
    let start = records.iter().rposition(|r| r.0 == SESSION).unwrap();
    records[start..].to_vec()
}

fn states(records: &[RecordBytes]) -> Vec<(RiskState, Cause, Option<Rearm>)> {
    records
        .iter()
        .filter(|r| r.0 == RISK_STATE)
        .map(|r| RiskState::decode(&r.3).expect("a well-formed risk state"))
        .collect()
}

fn wait_for(rx: &Receiver<String>, needle: &str) {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) {
            if line.contains(needle) {
                return;
            }
        }
    }
    panic!("the engine never said {needle:?}");
}

fn spawn(config: &Path, journal: &Path, name: &str) -> (std::process::Child, Receiver<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pulse"))
        .arg("run")
        .arg("--config")
        .arg(config)
        .args(["--name", name, "--journal"])
        .arg(journal)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let rx = stderr_lines(&mut child);
    (child, rx)
}

fn unix_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

/// Runs `config` (paced) into `journal`, re-arms it once it is up, and lets it finish: its
/// summary, and the wall-clock window the re-arm was sent in.
fn run_and_rearm(config: &Path, journal: &Path, name: &str) -> (String, (u64, u64)) {
    let (child, rx) = spawn(config, journal, name);
    // The control watcher is in place once health has been judged.
    wait_for(&rx, "pulse: health initializing ->");
    let before = unix_ns();
    let rearm = pulse(&["rearm", "--name", name]);
    let after = unix_ns();
    assert!(
        rearm.status.success(),
        "{}",
        String::from_utf8_lossy(&rearm.stderr)
    );
    wait_for(&rx, "re-armed: trading resumes");
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    (String::from_utf8(out.stdout).unwrap(), (before, after))
}

#[test]
fn a_kill_outlives_sigkill_and_the_restart_sends_nothing() {
    let dir = scratch("kill");
    let journal = dir.join("journal");
    let name = format!("halt-kill-{}", std::process::id());
    // At recorded pace, with every order refused by its size: the engine is up and flat when
    // the operator kills it.
    let refusing = repo_config(
        "imbalance.toml",
        &dir,
        Some("1"),
        &[("max_order_qty = \"0.002\"", "max_order_qty = \"0.00001\"")],
    );
    let (mut child, rx) = spawn(&refusing, &journal, &name);
    wait_for(&rx, "pulse: health initializing ->");
    let kill = pulse(&["kill", "--name", &name]);
    assert!(kill.status.success());
    wait_for(&rx, "kill switch engaged");
    // The kill is journaled by the risk stage on its next poll.
    let started = Instant::now();
    while !states(&last_session(&journal))
        .iter()
        .any(|(s, ..)| s.mode == TradingMode::Killed)
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "never journaled"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let _ =
        std::fs::remove_file(pulse_engine::run_dir::default_dir().join(format!("{name}.stats")));

    // The operator's own config, which trades (272 orders when armed).
    let trading = repo_config("imbalance.toml", &dir, None, &[]);
    let (summary, err) = run_journaled(&trading, &journal, "halt-kill-again");
    assert!(
        err.contains("restored from the journal: killed (operator), breaker clear"),
        "{err}"
    );
    assert_eq!(
        line(&summary, "reconcile "),
        "reconcile matches the journal's last of 1 session(s): venue flat, 0 open order(s)"
    );
    assert!(
        line(&summary, "orders ").starts_with("orders    0 sent"),
        "{summary}"
    );
    let risk = line(&summary, "risk ");
    let intents = count_before(risk, "intents");
    assert!(intents > 0, "{risk}");
    assert!(
        risk.ends_with(&format!(
            ": 0 accepted, {intents} rejected (kill_switch {intents})"
        )),
        "{risk}"
    );
    let session = last_session(&journal);
    assert!(session.iter().all(|r| r.0 != ORDER));
    let (start, cause, _) = states(&session)[0];
    assert_eq!(cause, Cause::Start);
    assert_eq!(
        (start.mode, start.reason),
        (TradingMode::Killed, Some(HaltReason::Operator))
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_mismatch_halts_every_restart_until_an_operator_rearms() {
    let dir = scratch("mismatch");
    let journal = dir.join("journal");
    // The market maker ends with quotes working; a new simulated venue does not have them.
    let maker = repo_config("market-maker.toml", &dir, None, &[]);
    let (first, _) = run_journaled(&maker, &journal, "halt-mm-1");
    assert!(line(&first, "orders ").ends_with("; 2 working at the end"));
    let (second, _) = run_journaled(&maker, &journal, "halt-mm-2");
    assert!(line(&second, "reconcile ").starts_with("reconcile MISMATCH"));
    // The third run agrees with the journal (the second adopted the venue's view), and is
    // halted all the same: nobody has reviewed the mismatch.
    let (third, err) = run_journaled(&maker, &journal, "halt-mm-3");
    assert!(
        line(&third, "reconcile ").starts_with("reconcile matches the journal's last of 2"),
        "{third}"
    );
    assert!(
        err.contains("restored from the journal: killed (reconcile_mismatch)"),
        "{err}"
    );
    assert!(
        line(&third, "orders ").starts_with("orders    0 sent"),
        "{third}"
    );
    assert!(last_session(&journal).iter().all(|r| r.0 != ORDER));
    // A replay of that session starts from the state it started from, and decides the same.
    let replayed = dir.join("replayed");
    let out = pulse(&[
        "replay",
        "--input",
        journal.to_str().unwrap(),
        "--config",
        maker.to_str().unwrap(),
        "--journal",
        replayed.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let decided = |records: Vec<RecordBytes>| -> Vec<(u16, u64, Vec<u8>)> {
        records
            .into_iter()
            .filter(|r| r.0 != SESSION)
            .map(|(kind, _, ts, p)| (kind, ts, p))
            .collect()
    };
    assert!(decided(last_session(&journal)) == decided(last_session(&replayed)));

    // The operator re-arms the fourth: it trades, and the journal says who and when.
    let paced = repo_config("market-maker.toml", &dir, Some("20"), &[]);
    let name = format!("halt-mm-4-{}", std::process::id());
    let (fourth, (before, after)) = run_and_rearm(&paced, &journal, &name);
    let session = last_session(&journal);
    let all = states(&session);
    assert_eq!(
        (all[0].0.mode, all[0].0.reason),
        (TradingMode::Killed, Some(HaltReason::ReconcileMismatch))
    );
    let at = session
        .iter()
        .position(|r| r.0 == RISK_STATE && RiskState::decode(&r.3).unwrap().1 == Cause::Rearm)
        .expect("the re-arm is journaled");
    let (state, _, rearm) = RiskState::decode(&session[at].3).unwrap();
    assert_eq!((state.mode, state.reason), (TradingMode::Armed, None));
    let rearm = rearm.unwrap();
    assert_eq!(rearm.uid, std::fs::metadata(&dir).unwrap().uid());
    assert!(
        (before..=after).contains(&rearm.at_unix_ns),
        "{before} <= {} <= {after}",
        rearm.at_unix_ns
    );
    assert!(session[..at].iter().all(|r| r.0 != ORDER));
    assert!(session[at..].iter().any(|r| r.0 == ORDER), "{fourth}");
    assert!(fourth.contains("armed at the end"), "{fourth}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_drawdown_breaker_survives_a_restart() {
    let dir = scratch("breaker");
    let journal = dir.join("journal");
    // Breaker levels low enough for the taker's fees: halve at 0.1%, conservative only at
    // 0.15%, stop at 50%.
    let levels = |speed| {
        repo_config(
            "imbalance.toml",
            &dir,
            speed,
            &[
                (
                    "# drawdown_halve_pct = \"5\"",
                    "drawdown_halve_pct = \"0.1\"\n#",
                ),
                (
                    "# drawdown_restrict_pct = \"10\"",
                    "drawdown_restrict_pct = \"0.15\"\n#",
                ),
                (
                    "# drawdown_stop_pct = \"15\"",
                    "drawdown_stop_pct = \"50\"\n#",
                ),
            ],
        )
    };
    let (first, _) = run_journaled(&levels(None), &journal, "halt-dd-1");
    assert!(
        line(&first, "risk ").contains("drawdown_restricted"),
        "{first}"
    );
    let (last, ..) = *states(&last_session(&journal)).last().unwrap();
    assert_eq!(last.level, BreakerLevel::ConservativeOnly);

    // Restarted, and re-armed (the simulated venue starts flat, so the position the taker
    // was left with is a mismatch): the taker is no conservative agent, and nothing goes out.
    let name = format!("halt-dd-2-{}", std::process::id());
    let (second, _) = run_and_rearm(&levels(Some("20")), &journal, &name);
    let session = last_session(&journal);
    let all = states(&session);
    assert_eq!(all[0].0.level, BreakerLevel::ConservativeOnly);
    assert_eq!(all[0].0.hwm, last.hwm);
    assert_eq!(all[0].0.realized, last.realized);
    assert!(all
        .iter()
        .all(|(s, ..)| s.level == BreakerLevel::ConservativeOnly));
    assert!(session.iter().all(|r| r.0 != ORDER), "{second}");
    let risk = line(&second, "risk ");
    assert!(risk.contains(" 0 accepted"), "{risk}");
    assert!(risk.contains("drawdown_restricted"), "{risk}");
    let _ = std::fs::remove_dir_all(&dir);
}
