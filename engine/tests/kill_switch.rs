//! The kill switch from the command line, against a running engine: `pulse kill` while the
//! market maker has quotes resting stops every new order and cancels every open one;
//! `pulse rearm` resumes. The decisions journal is the witness: the kill switch's cancels name
//! exactly the orders that were open, and between the kill and the re-arm nothing is approved.

use std::collections::BTreeSet;
use std::os::unix::fs::DirBuilderExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;

use pulse_engine::decisions::kind::{CANCEL, DECISION, INTENT, ORDER, REPORT};
use pulse_engine::decisions::u64_at;

use common::{journal_records, pulse, repo_config, stderr_lines};

#[test]
fn pulse_kill_cancels_every_open_order_and_refuses_until_rearmed() {
    let dir = std::env::temp_dir().join(format!("pulse-kill-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let name = format!("kill-{}", std::process::id());
    // The market maker at 20x recorded pace (the 6-minute capture in about 18 s): quotes are
    // resting when the command lands.
    let config = repo_config("market-maker.toml", &dir, Some("20"), &[]);
    let journal = dir.join("journal");
    let mut child = Command::new(env!("CARGO_BIN_EXE_pulse"))
        .arg("run")
        .arg("--config")
        .arg(&config)
        .args(["--name", &name, "--journal"])
        .arg(&journal)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let rx = stderr_lines(&mut child);
    let wait_for = |needle: &str| {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(60) {
            if let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) {
                if line.contains(needle) {
                    return;
                }
            }
        }
        panic!("the engine never said {needle:?}");
    };
    wait_for("healthy");
    std::thread::sleep(Duration::from_millis(1_500));
    let kill = pulse(&["kill", "--name", &name]);
    assert!(
        kill.status.success(),
        "{}",
        String::from_utf8_lossy(&kill.stderr)
    );
    assert!(String::from_utf8_lossy(&kill.stdout).contains("pulse kill: taken by the engine"));
    wait_for("kill switch engaged");
    std::thread::sleep(Duration::from_millis(1_000));
    let rearm = pulse(&["rearm", "--name", &name]);
    assert!(rearm.status.success());
    wait_for("re-armed");
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let summary = String::from_utf8(out.stdout).unwrap();

    // The journal: the open orders at the first kill cancel, and what came after.
    let records = journal_records(&journal, "output");
    let first_kill = records
        .iter()
        .position(|(kind, _, _, p)| *kind == CANCEL && p[11] == 1)
        .expect("the kill switch cancelled something");
    let mut open = BTreeSet::new();
    for (kind, _, _, p) in &records[..first_kill] {
        match *kind {
            ORDER => {
                open.insert(u64_at(p, 0));
            }
            // fill with no leaves, expired, rejected, cancelled: the order is done.
            REPORT if (p[11] == 1 && u64_at(p, 48) == 0) || matches!(p[11], 2..=4) => {
                open.remove(&u64_at(p, 0));
            }
            _ => {}
        }
    }
    let killed: BTreeSet<u64> = records[first_kill..]
        .iter()
        .take_while(|(kind, _, _, p)| *kind == CANCEL && p[11] == 1)
        .map(|(_, _, _, p)| u64_at(p, 0))
        .collect();
    assert!(!open.is_empty());
    assert_eq!(
        killed, open,
        "the kill switch cancels exactly the open orders"
    );
    // After the kill, intents are refused for the kill switch until the re-arm; the first
    // order after it follows an accepted decision, and none before.
    let after = &records[first_kill..];
    let next_order = after
        .iter()
        .position(|(kind, ..)| *kind == ORDER)
        .expect("trading resumed after the re-arm");
    // Decisions on new orders (not on the strategy's cancels), by intent number.
    let new_intents: BTreeSet<u64> = after[..next_order]
        .iter()
        .filter(|(kind, ..)| *kind == INTENT)
        .map(|(_, _, _, p)| u64_at(p, 0))
        .collect();
    let refused: Vec<u8> = after[..next_order]
        .iter()
        .filter(|(kind, _, _, p)| *kind == DECISION && new_intents.contains(&u64_at(p, 0)))
        .map(|(_, _, _, p)| p[9])
        .collect();
    let intents = new_intents.len();
    assert!(intents > 0, "the strategy kept asking while killed");
    // The last decision before the order is its acceptance (reason byte 255).
    assert_eq!(refused.last(), Some(&255));
    assert!(
        refused[..refused.len() - 1].iter().all(|&r| r == 0),
        "only kill_switch refusals while killed: {refused:?}"
    );
    let line = summary
        .lines()
        .find(|l| l.contains("cancelled by the kill switch"))
        .unwrap_or_else(|| panic!("{summary}"));
    assert!(
        line.trim_start()
            .starts_with(&format!("{} orders", killed.len())),
        "{line}"
    );
    assert!(summary.contains("kill_switch "), "{summary}");
    assert!(summary.contains("armed at the end"), "{summary}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn control_commands_without_an_engine_fail_clearly() {
    let dir = std::env::temp_dir().join(format!("pulse-nobody-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let run = dir.join("run");
    std::fs::DirBuilder::new().mode(0o700).create(&run).unwrap();
    let name = format!("nobody-{}", std::process::id());
    let out = pulse(&[
        "reduce-only",
        "--name",
        &name,
        "--run-dir",
        run.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("pulse reduce-only: no engine took the command within 3 s"),
        "{err}"
    );
    let absent = dir.join("absent");
    let out = pulse(&["kill", "--run-dir", absent.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "pulse kill: no engine is running: run directory {} does not exist\n",
            absent.display()
        )
    );
    let _ = std::fs::remove_dir_all(&dir);
}
