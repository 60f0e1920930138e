//! A stage that fails on its runner (the hidden fault drill `--fail-stage risk:N` panics in
//! risk's Nth `do_work`) is counted and takes health to Critical; then `[runtime]
//! on_stage_failure` stops the run cleanly (summary, readable journal, exit 1) or lets it go
//! on. Real binary, real files.

use std::path::Path;

use pulse_journal::JournalReader;

mod common;

use common::demo_config;

fn run(config: &Path, journal: &Path, name: &str) -> (Option<i32>, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pulse"))
        .args(["run", "--config"])
        .arg(config)
        .arg("--journal")
        .arg(journal)
        .args(["--name", &format!("{name}-{}", std::process::id())])
        .args(["--fail-stage", "risk:50"])
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Every record of every stream reads back (verify's job) and the output stream has some.
fn journal_complete(journal: &Path) {
    for stream in ["input", "output", "events"] {
        let mut reader = JournalReader::open(journal, stream).unwrap();
        let mut n = 0;
        while reader.next().unwrap().is_some() {
            n += 1;
        }
        assert!(n > 0, "{stream} has records");
    }
}

#[test]
fn stop_ends_the_run_cleanly_and_continue_goes_on() {
    let dir = std::env::temp_dir().join(format!("pulse-stagefail-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();

    let stop = demo_config(&dir, None, &[]);
    let journal = dir.join("stop");
    let (code, stdout, stderr) = run(&stop, &journal, "sfstop");
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stdout.contains("stopped: a stage failed"), "{stdout}");
    assert!(stdout.contains("stage risk failed 1 time(s)"), "{stdout}");
    assert!(stderr.contains("stage risk failed"), "{stderr}");
    assert!(stderr.contains("critical (runner_failed)"), "{stderr}");
    journal_complete(&journal);

    let cont_dir = dir.join("c");
    std::fs::create_dir_all(&cont_dir).unwrap();
    let idle = "idle = \"busy-spin\"              # what an idle";
    let with = format!("on_stage_failure = \"continue\"\n{idle}");
    let cont = demo_config(&cont_dir, None, &[(idle, &with)]);
    let journal = dir.join("continue");
    let (code, stdout, stderr) = run(&cont, &journal, "sfcont");
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("input ended"), "{stdout}");
    assert!(stdout.contains("stage risk failed 1 time(s)"), "{stdout}");
    journal_complete(&journal);
    let _ = std::fs::remove_dir_all(&dir);
}
