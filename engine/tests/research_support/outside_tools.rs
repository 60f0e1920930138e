//! Outside tools a test needs (a Python with the research libraries, Chromium): under CI
//! (`CI` set) a missing tool fails the test; elsewhere the test says plainly that it was
//! skipped and why, and returns.

use std::path::{Path, PathBuf};
use std::process::Command;

/// `true` when the tool is there; else fails under CI or prints why it skips.
pub fn have(ok: bool, what: &str, how: &str) -> bool {
    if ok {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!("{what} is missing under CI ({how})");
    }
    eprintln!("SKIPPED: {what} is missing ({how}); this test did not run");
    false
}

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The Python that has the research packages: `PULSE_PYTHON`, else `.ci/venv` (made by
/// `.ci/run`), else `python3`; `None` unless it imports every module in `modules`.
pub fn python(modules: &[&str]) -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("PULSE_PYTHON").map(PathBuf::from),
        Some(repo().join(".ci/venv/bin/python")),
        Some(PathBuf::from("python3")),
    ];
    let probe = format!("import {}", modules.join(", "));
    candidates.into_iter().flatten().find(|py| {
        Command::new(py)
            .args(["-c", &probe])
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

/// Debian's Chromium.
pub fn chromium() -> Option<PathBuf> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}
