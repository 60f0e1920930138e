//! `scripts/hftbacktest_compare.py --smoke`: Pulse's market-making backtest and hftbacktest's
//! on the first 30,000 lines of the USD-M capture, in one run. Both must see the same depth
//! updates and trades, and both must fill; the speed figures are the README's, not this test's.

mod research_support;

use std::process::Command;

use research_support::fresh_dir;
use research_support::outside_tools::{have, python, repo};
use serde_json::Value;

#[test]
fn pulse_and_hftbacktest_backtest_the_same_depth_updates_and_both_fill() {
    let py = python(&["hftbacktest", "numba", "numpy"]);
    if !have(
        py.is_some(),
        "a Python with hftbacktest and numba",
        ".ci/run makes .ci/venv; or set PULSE_PYTHON",
    ) {
        return;
    }
    let figures = fresh_dir("hftbacktest-compare").join("figures.json");
    let o = Command::new(py.unwrap())
        .arg(repo().join("scripts/hftbacktest_compare.py"))
        .args(["--pulse", env!("CARGO_BIN_EXE_pulse"), "--runs", "1"])
        .args(["--smoke", "30000", "--json"])
        .arg(&figures)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let f: Value = serde_json::from_str(&std::fs::read_to_string(&figures).unwrap()).unwrap();
    let count = |k: &str| f["counts"][k].as_u64().unwrap();
    let (diffs, trades) = (count("depth"), count("trade"));
    assert!(diffs > 1000 && trades > 1000, "{out}");
    assert_eq!(f["hftbacktest"]["depth_messages"], diffs, "{out}");
    assert_eq!(f["hftbacktest"]["trade_rows"], trades, "{out}");
    // Pulse drops the diffs the snapshot already holds (Binance's sync rule); hftbacktest's
    // converter applies them all.
    assert_eq!(
        f["pulse"]["market_events"],
        diffs - count("stale_depth") + trades + count("snapshot"),
        "{out}"
    );
    assert!(f["hftbacktest"]["fills"].as_u64().unwrap() > 0, "{out}");
    assert!(f["pulse"]["fills"].as_u64().unwrap() > 0, "{out}");
}
