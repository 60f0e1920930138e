//! A writable segment: created, allocated with `posix_fallocate` (so a full disk is an error
//! here, never a SIGBUS later), mapped and pre-faulted before the writer sees it; then written
//! through raw pointers by its single writer while the service `msync`s what was committed.
#![allow(unsafe_code)]

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use memmap2::{Advice, MmapOptions, MmapRaw};

use crate::descriptor::{
    align8, put_u16, put_u32, put_u64, record_crc, segment_file_name, SegmentHeader, CRC_OFFSET,
    LENGTH_OFFSET, RECORD_HEADER_LEN, SEQUENCE_OFFSET, TIMESTAMP_OFFSET, TYPE_OFFSET,
};
use crate::error::JournalError;
use crate::fault::IoBudget;
use crate::op::Op;

/// One mapped segment file. Shared (`Arc`) between the appender, which writes it, and the
/// service, which `msync`s it and unmaps it after roll-over.
#[derive(Debug)]
pub(crate) struct Segment {
    index: u64,
    capacity: u64,
    path: PathBuf,
    map: MmapRaw,
}

impl Segment {
    /// Creates segment `index` in `dir`: a new file of `capacity` bytes, allocated, mapped,
    /// every page touched, and the directory entry made durable. Not activated.
    pub(crate) fn create(
        dir: &Path,
        index: u64,
        capacity: u64,
        io: &IoBudget,
    ) -> Result<Self, JournalError> {
        let path = dir.join(segment_file_name(index));
        let file = io.run(Op::CreateFile, &path, || {
            OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .mode(PRIVATE_FILE)
                .open(&path)
        })?;
        io.run(Op::Allocate, &path, || allocate(&file, capacity))?;
        let map = io.run(Op::Map, &path, || map_writable(&file, capacity))?;
        let segment = Segment {
            index,
            capacity,
            path,
            map,
        };
        segment.prefault(0);
        io.run(Op::SyncDir, dir, || sync_dir(dir))?;
        Ok(segment)
    }

    /// Maps an existing, activated segment (recovered: everything from `written` on is zero) to
    /// continue writing it.
    pub(crate) fn open_existing(
        path: &Path,
        index: u64,
        capacity: u64,
        written: u64,
        io: &IoBudget,
    ) -> Result<Self, JournalError> {
        let file = io.run(Op::OpenFile, path, || {
            OpenOptions::new().read(true).write(true).open(path)
        })?;
        // Allocated when it was created, unless a resize during recovery left a hole.
        io.run(Op::Allocate, path, || allocate(&file, capacity))?;
        let map = io.run(Op::Map, path, || map_writable(&file, capacity))?;
        let segment = Segment {
            index,
            capacity,
            path: path.to_path_buf(),
            map,
        };
        segment.prefault(written);
        Ok(segment)
    }

    pub(crate) fn index(&self) -> u64 {
        self.index
    }

    pub(crate) fn capacity(&self) -> u64 {
        self.capacity
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Touches every page from `from` on, reading and rewriting one byte of each, so the writer
    /// never takes a page fault. Rewriting the same value keeps committed bytes intact.
    fn prefault(&self, from: u64) {
        let page = page_size();
        let mut at = from / page * page;
        while at < self.capacity {
            // SAFETY: `at < capacity`, the mapped length. Nobody else writes the segment yet:
            // it is not activated (or, for a recovered one, not handed to the appender), and
            // writing back the value just read changes nothing a reader could see.
            unsafe {
                let p = self.map.as_mut_ptr().add(at as usize);
                p.write_volatile(p.read_volatile());
            }
            at += page;
        }
    }

    /// Writes the header and then, with a Release store, the activation word.
    ///
    /// # Safety
    ///
    /// The caller is the segment's only writer, and the segment is not activated yet.
    pub(crate) unsafe fn activate(&self, header: &SegmentHeader) {
        let bytes = header.encode();
        let p = self.map.as_mut_ptr();
        // SAFETY: the mapping holds at least a header (capacity >= 64 KiB); the caller is the
        // only writer; a reader reads bytes 4..64 only after the activation word.
        unsafe { std::ptr::copy_nonoverlapping(bytes[4..].as_ptr(), p.add(4), bytes.len() - 4) };
        let word = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        // SAFETY: offset 0 of a page-aligned mapping is 4-aligned and in bounds; the word is
        // only ever accessed atomically while the segment is live.
        let activation = unsafe { AtomicU32::from_ptr(p.cast::<u32>()) };
        // Release: a reader that sees the activation word sees the header bytes written above.
        activation.store(word.to_le(), Ordering::Release);
    }

    /// Writes a record at `off` (its payload filled by `fill`, then the CRC), commits it with a
    /// Release store of its length and returns its span, padding included.
    ///
    /// # Safety
    ///
    /// The caller is the segment's only writer; `off` is 8-aligned, at or past every committed
    /// record; and `off + align8(32 + len)` is within the capacity.
    pub(crate) unsafe fn write_record(
        &self,
        off: u64,
        kind: u16,
        sequence: u64,
        timestamp: u64,
        len: usize,
        fill: impl FnOnce(&mut [u8]),
    ) -> u64 {
        let total = RECORD_HEADER_LEN + len as u64;
        let span = align8(total);
        let mut header = [0; RECORD_HEADER_LEN as usize];
        put_u16(&mut header, TYPE_OFFSET, kind);
        put_u64(&mut header, SEQUENCE_OFFSET, sequence);
        put_u64(&mut header, TIMESTAMP_OFFSET, timestamp);
        // SAFETY: the caller guarantees `off..off + span` is inside the mapping and written by
        // nobody else; no reader looks at it before the commit word below is non-zero.
        unsafe {
            let p = self.map.as_mut_ptr().add(off as usize);
            let start = p.add(RECORD_HEADER_LEN as usize);
            // Everything past the last commit is zero (prepared, recovered, or zeroed here),
            // so the padding already is; a `fill` that panics must not leave bytes behind.
            let unwinding = ZeroOnUnwind { start, len };
            let payload = std::slice::from_raw_parts_mut(start, len);
            fill(payload);
            std::mem::forget(unwinding);
            let crc = record_crc(&header, payload);
            put_u32(&mut header, CRC_OFFSET, crc);
            std::ptr::copy_nonoverlapping(
                header[TYPE_OFFSET..].as_ptr(),
                p.add(TYPE_OFFSET),
                header.len() - TYPE_OFFSET,
            );
            let commit = AtomicU32::from_ptr(p.add(LENGTH_OFFSET).cast::<u32>());
            // Release: a reader that loads this non-zero length sees every byte written above.
            commit.store((total as u32).to_le(), Ordering::Release);
        }
        span
    }

    /// Maps `from..to` writable again (`MADV_POPULATE_WRITE`) without touching its bytes.
    pub(crate) fn populate(&self, from: u64, to: u64) -> io::Result<()> {
        self.map
            .advise_range(Advice::PopulateWrite, from as usize, (to - from) as usize)
    }

    /// `msync`s `from..to` (rounded out to pages) of the mapping.
    pub(crate) fn flush(&self, from: u64, to: u64) -> io::Result<()> {
        let to = to.min(self.capacity);
        if from >= to {
            return Ok(());
        }
        self.map.flush_range(from as usize, (to - from) as usize)
    }
}

/// Zeroes a payload whose `fill` panicked, keeping everything past the last commit zero.
struct ZeroOnUnwind {
    start: *mut u8,
    len: usize,
}

impl Drop for ZeroOnUnwind {
    fn drop(&mut self) {
        // SAFETY: `start..start + len` is the payload area `write_record` handed to `fill`,
        // inside the mapping and written by nobody else; `fill`'s borrow ended with its panic.
        unsafe { std::ptr::write_bytes(self.start, 0, self.len) };
    }
}

/// Reserves the whole file on disk: `ENOSPC` (or `EFBIG` past `RLIMIT_FSIZE`) comes back here.
fn allocate(file: &File, capacity: u64) -> io::Result<()> {
    let len = libc::off_t::try_from(capacity).map_err(io::Error::other)?;
    // SAFETY: a plain system call on an open descriptor; it reads no memory of ours.
    let rc = unsafe { libc::posix_fallocate(file.as_raw_fd(), 0, len) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::from_raw_os_error(rc))
    }
}

fn map_writable(file: &File, capacity: u64) -> io::Result<MmapRaw> {
    let len = usize::try_from(capacity).map_err(io::Error::other)?;
    MmapOptions::new().len(len).map_raw(file)
}

/// Mode of every file the journal creates: orders, fills and positions are the owner's alone.
pub(crate) const PRIVATE_FILE: u32 = 0o600;
/// Mode of the directories it creates.
const PRIVATE_DIR: u32 = 0o700;

/// Creates `dir` and its missing parents with mode 0700, and takes group and other access away
/// from `dir` itself if it already existed (a stream directory from an older version).
pub(crate) fn private_dir(dir: &Path) -> io::Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(PRIVATE_DIR)
        .create(dir)?;
    let mode = fs::metadata(dir)?.permissions().mode();
    if mode & 0o077 != 0 {
        fs::set_permissions(dir, fs::Permissions::from_mode(mode & PRIVATE_DIR))?;
    }
    Ok(())
}

/// Makes the creation or removal of files in `dir` durable.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// The system's page size: `msync` and write-protection work in pages.
pub(crate) fn page_size() -> u64 {
    // SAFETY: `sysconf` only reads a system constant.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    u64::try_from(size).unwrap_or(4096).max(1)
}
