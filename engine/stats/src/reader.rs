//! A monitor's side of the stats file: maps it read-only and takes snapshots, without any
//! effect on the engine (Aeron's `CountersReader`, as used by `AeronStat`).
#![allow(unsafe_code)]

use std::fs::OpenOptions;
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use memmap2::{Mmap, MmapOptions};

use super::attach::AttachError;
use super::layout::{HEADER_LENGTH, HEARTBEAT_OFFSET};
use super::liveness::{heartbeat_fresh, now_unix_ns, pid_alive};
use super::snapshot::{Catalog, StatsSnapshot};
use super::view::View;

/// A read-only mapping of an engine's stats file. The file is opened `O_RDONLY` and mapped
/// `PROT_READ`, so a monitor cannot write into the engine, by construction.
pub struct StatsReader {
    map: Mmap,
    path: PathBuf,
    catalog: Catalog,
}

impl StatsReader {
    pub fn open(path: &Path) -> Result<StatsReader, AttachError> {
        // Non-blocking: a FIFO planted at the path must not hang a monitor.
        let file = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
            .open(path)
            .map_err(|e| match e.kind() {
                io::ErrorKind::NotFound => AttachError::NotFound {
                    path: path.to_path_buf(),
                },
                _ => AttachError::Io(e),
            })?;
        let meta = file.metadata().map_err(AttachError::Io)?;
        if !meta.is_file() {
            return Err(AttachError::Io(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a regular file",
            )));
        }
        let len = meta.len();
        if len < HEADER_LENGTH as u64 {
            // Also covers the empty file an engine has created but not sized yet.
            return Err(AttachError::Truncated {
                expected: HEADER_LENGTH as u64,
                found: len,
            });
        }
        // SAFETY: a read-only shared mapping of a file the engine changes while we read it,
        // which is its purpose: every access goes through `View`, atomic loads only. The engine
        // never truncates the file (a truncation by someone else would fault, as for any
        // mapped file).
        let map = unsafe { MmapOptions::new().map(&file) }.map_err(AttachError::Io)?;
        let catalog = Catalog::read(&view_of(&map))?;
        Ok(StatsReader {
            map,
            path: path.to_path_buf(),
            catalog,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The instance name the engine registered.
    pub fn name(&self) -> &str {
        &self.catalog.name
    }

    pub fn pid(&self) -> u32 {
        self.catalog.pid
    }

    pub fn heartbeat_ns(&self) -> u64 {
        self.view().u64(HEARTBEAT_OFFSET)
    }

    /// Every value now; each latency entry consistent (seqlock, bounded retries).
    pub fn snapshot(&self) -> StatsSnapshot {
        self.catalog.snapshot(&self.view())
    }

    /// The engine's pid exists and its heartbeat is at most a few seconds old.
    pub fn engine_alive(&self) -> bool {
        pid_alive(self.pid()) && heartbeat_fresh(self.heartbeat_ns(), now_unix_ns())
    }

    fn view(&self) -> View<'_> {
        view_of(&self.map)
    }
}

fn view_of(map: &Mmap) -> View<'_> {
    // SAFETY: the view borrows the mapping, which is page-aligned and `len` long; the engine
    // writes it only through atomics.
    unsafe { View::new(map.as_ptr(), map.len()) }
}
