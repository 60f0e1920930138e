//! Claiming a stats file's path: created exclusively (`O_CREAT|O_EXCL`, mode 0600), so two
//! engines of one name cannot share it, and a crashed engine's leftover replaced.
#![allow(unsafe_code)]

use std::fs::{self, File, OpenOptions};
use std::io::ErrorKind;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

use anyhow::{bail, Context};
use memmap2::{MmapMut, MmapOptions};

use super::attach::AttachError;
use super::layout::INSTANCE_NAME_LENGTH;
use super::liveness::{heartbeat_fresh, now_unix_ns, pid_alive};
use super::reader::StatsReader;

/// The file's identity (device, inode), to tell it from a successor at the same path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileId {
    pub dev: u64,
    pub ino: u64,
}

impl FileId {
    pub fn of(path: &Path) -> Option<FileId> {
        fs::metadata(path).ok().map(|m| FileId {
            dev: m.dev(),
            ino: m.ino(),
        })
    }
}

/// Instance names name files, so they stay file-name safe (as the config requires).
pub fn check_instance_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= INSTANCE_NAME_LENGTH
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "instance name {name:?}: expected [a-z0-9_-]{{1,{INSTANCE_NAME_LENGTH}}}"
        ))
    }
}

/// Creates `path` exclusively, sized to `length` bytes of zeros, and maps it read-write.
/// On any failure after creating it, removes it again: a half-made file would only stand in
/// the next start's way.
pub fn create_mapped(name: &str, path: &Path, length: usize) -> anyhow::Result<(MmapMut, FileId)> {
    let file = open_exclusive(name, path)?;
    let mapped = map_new_file(&file, path, length);
    if mapped.is_err() {
        let _ = fs::remove_file(path);
    }
    mapped
}

/// Creates `path` exclusively, replacing a crashed engine's leftover at most once.
fn open_exclusive(name: &str, path: &Path) -> anyhow::Result<File> {
    for _ in 0..2 {
        let created = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path);
        match created {
            Ok(file) => return Ok(file),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => remove_if_stale(name, path)?,
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("cannot create stats file {}", path.display()))
            }
        }
    }
    bail!(
        "cannot create stats file {}: it keeps reappearing (another engine named {name} \
         starting?)",
        path.display()
    )
}

/// Removes `path` if the engine that wrote it is gone; fails if it may still be in use.
fn remove_if_stale(name: &str, path: &Path) -> anyhow::Result<()> {
    let shown = path.display();
    let reader = match StatsReader::open(path) {
        Ok(r) => r,
        // Removed between our create and this check: just try again.
        Err(AttachError::NotFound { .. }) => return Ok(()),
        Err(e) => bail!(
            "stats file {shown} exists and cannot be checked ({e}): remove it if no engine \
             named {name} is running"
        ),
    };
    let pid = reader.pid();
    if pid_alive(pid) {
        let now = now_unix_ns();
        if heartbeat_fresh(reader.heartbeat_ns(), now) {
            bail!("an engine named {name} is already running (pid {pid})");
        }
        bail!(
            "stats file {shown} belongs to pid {pid}, which is alive but has not beaten for \
             {:.1} s: stop it, or remove the file if that pid is not a pulse engine",
            now.saturating_sub(reader.heartbeat_ns()) as f64 / 1e9
        );
    }
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("cannot remove stale stats file {shown}")),
    }
}

/// Sizes and maps a freshly created file; returns the mapping and the file's identity.
fn map_new_file(file: &File, path: &Path, length: usize) -> anyhow::Result<(MmapMut, FileId)> {
    let shown = path.display();
    file.set_len(length as u64)
        .with_context(|| format!("cannot size stats file {shown}"))?;
    // SAFETY: mapping a file is unsafe because others may change or truncate it underneath.
    // We created it exclusively, mode 0600, and never truncate it; whatever another process
    // of this user writes is only ever observed through atomics, never as plain Rust data.
    let map = unsafe { MmapOptions::new().len(length).map_mut(file) }
        .with_context(|| format!("cannot map stats file {shown}"))?;
    let meta = file
        .metadata()
        .with_context(|| format!("cannot stat stats file {shown}"))?;
    let id = FileId {
        dev: meta.dev(),
        ino: meta.ino(),
    };
    Ok((map, id))
}
