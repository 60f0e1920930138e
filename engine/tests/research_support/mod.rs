//! Shared by the research tests (a directory module, so cargo does not build it as a test).
#![allow(dead_code)]

pub mod cdp;
pub mod outside_tools;

use std::path::{Path, PathBuf};
use std::process::Command;

/// A fresh directory under the test target's temporary directory.
pub fn fresh_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `pulse backtest` of the demo config on the bundled BTCUSDT capture into `dir`; its stdout.
pub fn demo_backtest(dir: &Path) -> String {
    demo_backtest_with(dir, &[])
}

/// [`demo_backtest`] with `--set`s.
pub fn demo_backtest_with(dir: &Path, sets: &[&str]) -> String {
    let root = outside_tools::repo();
    let mut c = Command::new(env!("CARGO_BIN_EXE_pulse"));
    c.arg("backtest")
        .arg("--config")
        .arg(root.join("configs/demo.toml"))
        .arg("--input")
        .arg(root.join("data/binance_spot_btcusdt_2024-08-08.cap.gz"))
        .arg("--report")
        .arg(dir);
    for s in sets {
        c.args(["--set", s]);
    }
    let out = c.output().expect("pulse backtest runs");
    assert!(
        out.status.success(),
        "pulse backtest failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}
