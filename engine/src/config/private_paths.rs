//! The checks that look at the file system: the files the engine trusts outside its run
//! directory must sit in a directory no other user can write, or another user could create
//! the kill file, pre-create the stats file, or swap either for a symlink.

use std::path::Path;

use super::{Config, ConfigError};
use crate::run_dir::{check_private_dir, RunDir};

pub(super) fn check(cfg: &Config) -> Result<(), ConfigError> {
    if cfg.engine.run_dir.exists() {
        RunDir::open(&cfg.engine.run_dir).map_err(|e| refused("engine.run_dir", e))?;
    }
    let outside = [
        (
            "risk.kill_switch_file",
            cfg.risk.kill_switch_file.as_deref(),
        ),
        ("metrics.stats_file", cfg.metrics.stats_file.as_deref()),
    ];
    for (key, file) in outside {
        let Some(dir) = file.and_then(Path::parent) else {
            continue;
        };
        if dir != cfg.engine.run_dir {
            check_private_dir(dir).map_err(|e| {
                refused(
                    key,
                    format!("{e} (leave the key out to use the engine's run directory)"),
                )
            })?;
        }
    }
    if let Some(super::events::LogTarget::File(path)) = &cfg.events.log {
        check_log_file(path).map_err(|e| refused("events.log", e))?;
    }
    Ok(())
}

/// The event log may not exist yet; if it does, it must be a regular file of the engine's
/// user, not a symlink planted to make the engine append to another file.
fn check_log_file(path: &Path) -> Result<(), String> {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return Ok(());
    };
    if meta.file_type().is_symlink() {
        return Err(format!("{} is a symlink: refused", path.display()));
    }
    match crate::ops::log::not_ours(&meta) {
        Some(why) => Err(format!("{}: {why}", path.display())),
        None => Ok(()),
    }
}

fn refused(key: &str, message: String) -> ConfigError {
    ConfigError {
        key: key.to_owned(),
        line: None,
        message,
    }
}
