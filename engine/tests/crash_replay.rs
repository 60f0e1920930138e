//! A crash loses nothing that was decided: `pulse run` is killed with SIGKILL at a random moment
//! (several times, each into a fresh journal); after each, `pulse journal verify` passes, and
//! replaying the killed run's input journal reproduces every output record the run had written,
//! in order: what the dead engine decided is an exact prefix of what the replay decides, because
//! each input is journaled before it is acted on and logic reads only event time.

use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

mod common;

use common::{demo_config, journal_records};

const KILLS: u64 = 4;

#[test]
fn a_killed_run_replays_to_a_superset_of_what_it_decided() {
    let scratch = std::env::temp_dir().join(format!("pulse-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).unwrap();
    let config = demo_config(&scratch, Some("100"), &[]);

    let mut seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    println!("seed {seed}");
    for round in 0..KILLS {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        // The run lasts about 3.6 s at this speed; die anywhere from start-up to the end.
        let after = Duration::from_millis(200 + seed % 3_000);
        let journal = scratch.join(format!("killed-{round}"));
        let name = format!("crash-{}-{round}", std::process::id());
        let mut child = Command::new(env!("CARGO_BIN_EXE_pulse"))
            .args(["run", "--config"])
            .arg(&config)
            .arg("--journal")
            .arg(&journal)
            .args(["--name", &name])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(after);
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let _ = std::fs::remove_file(
            pulse_engine::run_dir::default_dir().join(format!("{name}.stats")),
        );

        let verify = Command::new(env!("CARGO_BIN_EXE_pulse"))
            .args(["journal", "verify"])
            .arg(&journal)
            .output()
            .unwrap();
        assert_eq!(
            verify.status.code(),
            Some(0),
            "round {round} (killed after {after:?}): {}{}",
            String::from_utf8_lossy(&verify.stdout),
            String::from_utf8_lossy(&verify.stderr)
        );
        if !journal.join("input").exists() {
            continue; // killed before the journal was created
        }

        let replayed = scratch.join(format!("replayed-{round}"));
        let out = Command::new(env!("CARGO_BIN_EXE_pulse"))
            .args(["replay", "--input"])
            .arg(&journal)
            .arg("--config")
            .arg(&config)
            .arg("--journal")
            .arg(&replayed)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let (died, again) = (
            journal_records(&journal, "output"),
            journal_records(&replayed, "output"),
        );
        assert!(
            died.len() <= again.len() && died[..] == again[..died.len()],
            "round {round} (killed after {after:?}): the dead run's {} output records are not \
             a prefix of the replay's {}",
            died.len(),
            again.len()
        );
        println!(
            "round {round}: killed after {after:?}: {} input, {} output records, all replayed",
            journal_records(&journal, "input").len(),
            died.len()
        );
    }
    let _ = std::fs::remove_dir_all(&scratch);
}
