//! The small files of the run directory, read and written so that they cannot be planted,
//! blocked or redirected: a read opens with `O_NOFOLLOW|O_NONBLOCK|O_CLOEXEC`, checks the open
//! descriptor (a regular file, owned by us or root, writable by no one else, small) and reads
//! it once, bounded; a write creates a new file under an unpredictable name
//! (`O_CREAT|O_EXCL|O_NOFOLLOW`, mode 0600) and renames it into place, which replaces whatever
//! was at the path (a symlink included) without ever writing through it.

use std::collections::hash_map::RandomState;
use std::fmt;
use std::fs::{File, OpenOptions};
use std::hash::{BuildHasher, Hasher};
use std::io::{ErrorKind, Read, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use super::{euid, FOREIGN_WRITE};

/// Why a file at a run-directory path was not read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    Symlink,
    /// A FIFO, socket, device or directory: the name of what it is.
    NotRegular(&'static str),
    /// Owned by neither this user nor root.
    Foreign {
        uid: u32,
    },
    /// Group or others may write it.
    Writable {
        mode: u32,
    },
    TooBig {
        len: u64,
    },
    /// The open or the read failed (errno).
    Io(i32),
}

impl Refusal {
    /// A small stable index per kind, to report each kind once.
    pub fn kind(self) -> usize {
        match self {
            Refusal::Symlink => 0,
            Refusal::NotRegular(_) => 1,
            Refusal::Foreign { .. } => 2,
            Refusal::Writable { .. } => 3,
            Refusal::TooBig { .. } => 4,
            Refusal::Io(_) => 5,
        }
    }

    pub const KINDS: usize = 6;
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Symlink => f.write_str("a symlink"),
            Refusal::NotRegular(what) => write!(f, "a {what}, not a regular file"),
            Refusal::Foreign { uid } => write!(f, "owned by uid {uid}, not by this user"),
            Refusal::Writable { mode } => write!(f, "writable by others (mode {mode:04o})"),
            Refusal::TooBig { len } => write!(f, "too big ({len} bytes)"),
            Refusal::Io(errno) => write!(
                f,
                "unreadable ({})",
                std::io::Error::from_raw_os_error(*errno)
            ),
        }
    }
}

/// What a checked file held, and who wrote it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owned {
    pub bytes: Vec<u8>,
    /// The file's owner: this user, or root.
    pub uid: u32,
}

/// Reads the file at `path` if it is a regular file of ours (or root's), writable by no one
/// else and at most `max` bytes; `Ok(None)` when nothing is there. Never blocks and never
/// follows a symlink.
pub fn read_owned(path: &Path, max: u64) -> Result<Option<Owned>, Refusal> {
    let file = match OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC | libc::O_NOCTTY)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(match e.raw_os_error() {
                Some(libc::ELOOP) => Refusal::Symlink,
                Some(libc::ENXIO) => Refusal::NotRegular("socket"),
                errno => Refusal::Io(errno.unwrap_or(0)),
            })
        }
    };
    let uid = check(&file, max)?;
    let mut bytes = Vec::new();
    let read = file.take(max + 1).read_to_end(&mut bytes);
    match read {
        Ok(len) if len as u64 > max => Err(Refusal::TooBig { len: len as u64 }),
        Ok(_) => Ok(Some(Owned { bytes, uid })),
        Err(e) => Err(Refusal::Io(e.raw_os_error().unwrap_or(0))),
    }
}

/// The open descriptor's own metadata: the path may have changed since the open.
fn check(file: &File, max: u64) -> Result<u32, Refusal> {
    let meta = file
        .metadata()
        .map_err(|e| Refusal::Io(e.raw_os_error().unwrap_or(0)))?;
    let kind = meta.file_type();
    if !kind.is_file() {
        return Err(Refusal::NotRegular(if kind.is_fifo() {
            "FIFO"
        } else if kind.is_socket() {
            "socket"
        } else if kind.is_dir() {
            "directory"
        } else {
            "device"
        }));
    }
    if meta.uid() != euid() && meta.uid() != 0 {
        return Err(Refusal::Foreign { uid: meta.uid() });
    }
    let mode = meta.permissions().mode() & 0o7777;
    if mode & FOREIGN_WRITE != 0 {
        return Err(Refusal::Writable { mode });
    }
    if meta.len() > max {
        return Err(Refusal::TooBig { len: meta.len() });
    }
    Ok(meta.uid())
}

/// Puts `bytes` at `path` whole: written to a new file of an unpredictable name beside it
/// (`O_CREAT|O_EXCL|O_NOFOLLOW`, mode 0600), then renamed over `path`.
pub fn write_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let file_name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| std::io::Error::new(ErrorKind::InvalidInput, "no file name"))?;
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    let tmp = path.with_file_name(format!(".{file_name}.{:016x}", hasher.finish()));
    let write = || -> std::io::Result<()> {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&tmp)?;
        f.write_all(bytes)?;
        std::fs::rename(&tmp, path)
    };
    write().inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn only_a_small_regular_file_of_ours_is_read() {
        let dir = std::env::temp_dir().join(format!("pulse-owned-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("e.control");
        assert_eq!(read_owned(&path, 64), Ok(None));
        write_new(&path, b"kill\n").unwrap();
        let got = read_owned(&path, 64).unwrap().unwrap();
        assert_eq!((got.bytes.as_slice(), got.uid), (&b"kill\n"[..], euid()));
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        assert_eq!(read_owned(&path, 3), Err(Refusal::TooBig { len: 5 }));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
        assert_eq!(
            read_owned(&path, 64),
            Err(Refusal::Writable { mode: 0o666 })
        );

        let target = dir.join("target");
        std::fs::write(&target, "precious").unwrap();
        let link = dir.join("link.control");
        symlink(&target, &link).unwrap();
        assert_eq!(read_owned(&link, 64), Err(Refusal::Symlink));
        write_new(&link, b"kill\n").unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious");
        assert!(std::fs::symlink_metadata(&link).unwrap().is_file());
        let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(left.len(), 3, "no temporary file is left behind");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
