//! The example strategy through the command line on the bundled capture: its orders, from the
//! summary, are there and the same on two runs, and the run journals its output.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The example's binary: `cargo test` builds the examples beside the test binaries' `deps`
/// directory.
fn example() -> PathBuf {
    let deps = std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    deps.parent().unwrap().join("examples").join("my_strategy")
}

fn run(journal: &Path) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let _ = std::fs::remove_dir_all(journal);
    let out = Command::new(example())
        .current_dir(&root)
        .args(["run", "--config", "configs/my-strategy.toml", "--journal"])
        .arg(journal)
        .output()
        .expect("run the example");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

fn orders_line(summary: &str) -> String {
    summary
        .lines()
        .find(|l| l.starts_with("orders"))
        .expect("an orders line")
        .to_owned()
}

#[test]
fn the_example_trades_and_is_deterministic() {
    let tmp = std::env::temp_dir().join(format!("pulse-my-strategy-{}", std::process::id()));
    let first = run(&tmp.join("a"));
    let second = run(&tmp.join("b"));
    assert!(first.contains("strategy  micro-momentum (user strategy)"));
    let orders = orders_line(&first);
    assert!(
        orders.starts_with("orders    56 sent, 56 acked, 54 filled"),
        "{orders}"
    );
    assert_eq!(orders, orders_line(&second));
    let position = |s: &str| {
        s.lines()
            .find(|l| l.starts_with("position"))
            .map(str::to_owned)
    };
    assert!(position(&first).is_some());
    assert_eq!(position(&first), position(&second));
    assert!(tmp.join("a").join("output").is_dir(), "no output journal");
    let _ = std::fs::remove_dir_all(&tmp);
}

#[test]
fn strategies_lists_the_user_kind_with_its_declared_parameters() {
    let out = Command::new(example())
        .arg("strategies")
        .output()
        .expect("run the example");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("\nuser: `micro-momentum`"), "{text}");
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("strategy.params.threshold_bps "))
        .unwrap_or_else(|| panic!("{text}"));
    let words: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(
        words[..6],
        [
            "strategy.params.threshold_bps",
            "decimal",
            "0.01",
            "to",
            "1000",
            "1"
        ]
    );
}
