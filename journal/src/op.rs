//! The I/O operations of a journal: what a fault or an error names.

use std::fmt;

/// An I/O operation of the journal: what a fault or an error names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Op {
    /// Creating the stream directory.
    CreateDir = 1,
    /// Opening an existing segment file.
    OpenFile,
    /// Creating a segment file.
    CreateFile,
    /// `posix_fallocate` of a segment: where a full disk shows up.
    Allocate,
    /// `mmap` of a segment.
    Map,
    /// `msync` of a segment's written range.
    Msync,
    /// `fsync` of the stream directory after creating or removing files.
    SyncDir,
    /// Removing a segment after the end of the journal.
    Remove,
    /// Restoring a segment file's length to its capacity.
    Resize,
    /// Zeroing bytes after the valid prefix during recovery.
    Write,
    /// `fsync` of a segment repaired by recovery.
    SyncFile,
    /// Starting the service thread.
    Spawn,
    /// The service thread panicked.
    ServicePanic,
}

impl Op {
    const ALL: [Op; 13] = [
        Op::CreateDir,
        Op::OpenFile,
        Op::CreateFile,
        Op::Allocate,
        Op::Map,
        Op::Msync,
        Op::SyncDir,
        Op::Remove,
        Op::Resize,
        Op::Write,
        Op::SyncFile,
        Op::Spawn,
        Op::ServicePanic,
    ];

    pub(crate) fn from_code(code: u8) -> Option<Op> {
        Op::ALL.into_iter().find(|op| *op as u8 == code)
    }

    fn name(self) -> &'static str {
        match self {
            Op::CreateDir => "mkdir",
            Op::OpenFile => "open",
            Op::CreateFile => "create",
            Op::Allocate => "fallocate",
            Op::Map => "mmap",
            Op::Msync => "msync",
            Op::SyncDir => "fsync (directory)",
            Op::Remove => "remove",
            Op::Resize => "set_len",
            Op::Write => "write",
            Op::SyncFile => "fsync",
            Op::Spawn => "spawn (service thread)",
            Op::ServicePanic => "service thread panic",
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
