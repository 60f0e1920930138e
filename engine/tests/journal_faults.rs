//! A journal that cannot write stops trading: the output stream's I/O fails mid-run (a fault
//! drill through the hidden `--journal-fail-io-at`), health goes Critical, the kill switch
//! engages, every later intent is refused for it, and the events stream records the
//! transitions. Real binary, real files.

use pulse_journal::JournalReader;

mod common;

use common::{demo_config, run_with_journal};

#[test]
fn a_journal_fault_makes_health_critical_and_stops_trading() {
    let dir = std::env::temp_dir().join(format!("pulse-jfault-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    // A hundred times recorded speed: about 3.6 s, so the fault lands while trading.
    let config = demo_config(&dir, Some("100"), &[]);
    let journal = dir.join("journal");
    let out = run_with_journal(&config, &journal, "jfault", Some(30));
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("-> critical (journal_fault)"),
        "health went critical: {stderr}"
    );
    assert!(stderr.contains("pulse: kill switch engaged"), "{stderr}");
    assert!(
        stdout.contains("kill      the kill switch was engaged"),
        "{stdout}"
    );
    assert!(
        stdout.contains("output FAILED: journal fault:"),
        "the summary names the fault: {stdout}"
    );
    let risk = stdout.lines().find(|l| l.starts_with("risk ")).unwrap();
    let refused: u64 = risk
        .split("kill_switch ")
        .nth(1)
        .and_then(|r| r.split([',', ')']).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("intents refused by the kill switch: {risk}"));
    assert!(refused > 0, "{risk}");

    // The events stream holds the transitions, critical among them.
    let mut events = JournalReader::open(&journal, "events").unwrap();
    let mut health = Vec::new();
    while let Some(r) = events.next().unwrap() {
        if r.kind == 0x0201 {
            health.push((r.payload[0], r.payload[1]));
        }
    }
    assert!(
        health.iter().any(|&(_, to)| to == 4),
        "critical: {health:?}"
    );
    assert_eq!(
        health.last().map(|h| h.1),
        Some(5),
        "ends in emergency stop"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
