//! The same capture through both thread layouts, over the real binary.
//!
//! Single thread: replay is deterministic, so two runs decide exactly the same (every summary
//! line but timings is identical). Two pinned threads: the book is built from the same input and
//! must be identical; decisions may differ (fills come back across threads asynchronously), but
//! every run drains completely and agrees with the venue's tickers.

use std::path::Path;
use std::process::Command;

/// Runs under a name of its own: tests run in parallel, and a name is one engine's stats file.
fn run(config: &str) -> String {
    static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = Command::new(env!("CARGO_BIN_EXE_pulse"))
        .args(["run", "--config"])
        .arg(root.join(config))
        .args(["--name", &format!("layouts-{}-{n}", std::process::id())])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Summary lines without the timing-dependent ones (header, rates, latency table).
fn decisions(summary: &str) -> Vec<String> {
    summary
        .lines()
        .take_while(|l| !l.starts_with("latency"))
        .filter(|l| {
            !l.starts_with("pulse ") && !l.starts_with("  thread") && !l.starts_with("input")
        })
        .map(|l| l.to_string())
        .collect()
}

fn line<'a>(summary: &'a str, prefix: &str) -> &'a str {
    summary
        .lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix} in {summary}"))
}

#[test]
fn single_thread_replay_is_deterministic() {
    let (a, b) = (run("configs/imbalance.toml"), run("configs/imbalance.toml"));
    assert!(line(&a, "orders").contains(" sent"), "{a}");
    assert_eq!(decisions(&a), decisions(&b));
    assert!(decisions(&a).len() >= 8, "{a}");
}

#[test]
fn pinned_two_thread_layout_builds_the_same_book_and_drains() {
    let single = run("configs/imbalance.toml");
    let pinned = run("configs/pinned.toml");
    assert!(
        line(&pinned, "  thread md").contains("feed -> book"),
        "{pinned}"
    );
    assert!(
        line(&pinned, "  thread trade").contains("strategy -> risk -> gateway"),
        "{pinned}"
    );
    for prefix in ["sync", "book", "skipped"] {
        assert_eq!(line(&single, prefix), line(&pinned, prefix));
    }
    assert!(
        line(&pinned, "book").contains("564 ok / 0 mismatch"),
        "{pinned}"
    );
    let orders = line(&pinned, "orders");
    assert!(orders.contains(" 0 illegal transitions"), "{orders}");
    let n = |label: &str| -> u64 {
        let words: Vec<&str> = orders.split_whitespace().collect();
        let at = words
            .iter()
            .position(|w| w.trim_end_matches(',') == label)
            .unwrap();
        words[at - 1].parse().unwrap()
    };
    assert!(n("sent") > 100, "{orders}");
    assert_eq!(n("sent"), n("acked") + n("rejected"));
    assert_eq!(n("sent"), n("filled") + n("expired") + n("rejected"));
}
