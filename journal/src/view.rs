//! A read-only mapping of one segment file, read the way a live writer publishes it: commit
//! words with atomic loads, record bytes only once a commit word covers them, and the unwritten
//! rest with volatile loads. Every access is bounds-checked against the mapped length, so a
//! hostile file (short, huge lengths, garbage) yields `None`, never an out-of-bounds read.
#![allow(unsafe_code)]

use std::fs::{FileType, OpenOptions};
use std::io;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;
use std::sync::atomic::{fence, AtomicU32, Ordering};

use memmap2::{MmapOptions, MmapRaw};

use crate::descriptor::MAX_SEGMENT_BYTES;

/// A read-only view of a segment file.
pub(crate) struct SegmentView {
    map: Option<MmapRaw>,
    /// Bytes mapped: the file length, capped at the largest capacity (later bytes are never
    /// part of a segment).
    mapped: u64,
    /// The file length when it was opened.
    file_len: u64,
}

impl SegmentView {
    /// Maps `path`, which must be a regular file. It is opened with `O_NONBLOCK` and checked
    /// with `fstat` before anything is read: a FIFO (or device) named like a segment is refused
    /// rather than waited on.
    pub(crate) fn open(path: &Path) -> io::Result<Self> {
        let file = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(path)?;
        let meta = file.metadata()?;
        if !meta.file_type().is_file() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("not a regular file ({})", file_kind(&meta.file_type())),
            ));
        }
        let file_len = meta.len();
        let mapped = file_len.min(MAX_SEGMENT_BYTES);
        let map = if mapped == 0 {
            None
        } else {
            let len = usize::try_from(mapped).map_err(io::Error::other)?;
            Some(MmapOptions::new().len(len).map_raw_read_only(&file)?)
        };
        Ok(SegmentView {
            map,
            mapped,
            file_len,
        })
    }

    pub(crate) fn file_len(&self) -> u64 {
        self.file_len
    }

    pub(crate) fn mapped(&self) -> u64 {
        self.mapped
    }

    fn ptr_at(&self, off: u64, len: u64) -> Option<*const u8> {
        let map = self.map.as_ref()?;
        let end = off.checked_add(len)?;
        if end > self.mapped {
            return None;
        }
        // SAFETY: `off + len <= mapped`, the length of the mapping, so the result stays inside
        // it (or one past its end when `len` is 0).
        Some(unsafe { map.as_ptr().add(off as usize) })
    }

    /// The `u32` at `off` (4-aligned), loaded like a reader of a live journal: any bytes its
    /// writer published before storing it are visible afterwards.
    pub(crate) fn load_u32(&self, off: u64) -> Option<u32> {
        if !off.is_multiple_of(4) {
            return None;
        }
        let p = self.ptr_at(off, 4)?;
        // SAFETY: `p` is in bounds for 4 bytes and 4-aligned (the mapping is page-aligned and
        // `off` a multiple of 4). The mapping lives as long as `self`. The writer only stores
        // this word atomically. A Relaxed atomic load of 4 bytes is allowed on read-only memory
        // (std::sync::atomic, "Atomic accesses to read-only memory"); Acquire is not, hence the
        // fence below.
        let v = unsafe { AtomicU32::from_ptr(p.cast_mut().cast::<u32>()) }.load(Ordering::Relaxed);
        let v = u32::from_le(v);
        // Acquire fence after the Relaxed load: pairs with the writer's Release store of this
        // word, so the bytes it covers are visible to the reads that follow.
        fence(Ordering::Acquire);
        Some(v)
    }

    /// The bytes `off..off + len`, if mapped.
    ///
    /// # Safety
    ///
    /// The range must be published and immutable while the slice lives: covered by a non-zero
    /// commit word or activation word read with [`Self::load_u32`] before this call, in a
    /// journal no recovery is rewriting meanwhile.
    pub(crate) unsafe fn published(&self, off: u64, len: u64) -> Option<&[u8]> {
        let p = self.ptr_at(off, len)?;
        // SAFETY: `p..p + len` is inside the mapping, which outlives the borrow of `self`; the
        // caller guarantees nothing writes these bytes while the slice lives.
        Some(unsafe { std::slice::from_raw_parts(p, len as usize) })
    }

    /// The first and one-past-the-last non-zero byte in `from..to` (clamped to the mapping),
    /// read with volatile loads: these bytes may be an unfinished append.
    pub(crate) fn nonzero_span(&self, from: u64, to: u64) -> Option<(u64, u64)> {
        let to = to.min(self.mapped);
        if from >= to {
            return None;
        }
        let base = self.ptr_at(from, to - from)?;
        let mut first = None;
        let mut last = 0;
        let mut at = from;
        let mut note = |start: u64, lo: u64, hi: u64| {
            first.get_or_insert(start + lo);
            last = start + hi;
        };
        while at < to {
            let rel = (at - from) as usize;
            if at.is_multiple_of(8) && to - at >= 8 {
                // SAFETY: `at..at + 8` is inside `from..to`, inside the mapping, and 8-aligned
                // (the mapping is page-aligned). Volatile: another process may be writing here.
                let w = unsafe { base.add(rel).cast::<u64>().read_volatile() };
                if w != 0 {
                    let lo = u64::from(w.to_le().trailing_zeros() / 8);
                    let hi = 8 - u64::from(w.to_le().leading_zeros() / 8);
                    note(at, lo, hi);
                }
                at += 8;
            } else {
                // SAFETY: `at` is inside `from..to`, inside the mapping.
                let b = unsafe { base.add(rel).read_volatile() };
                if b != 0 {
                    note(at, 0, 1);
                }
                at += 1;
            }
        }
        first.map(|f| (f, last))
    }
}

/// What a file that is not a regular one is, for the error.
fn file_kind(t: &FileType) -> &'static str {
    if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_dir() {
        "a directory"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else {
        "not a plain file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_and_bounds_are_exact() {
        let dir = std::env::temp_dir().join(format!("pulse-journal-view-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("creates");
        let path = dir.join("x");
        let mut data = vec![0u8; 100];
        data[13] = 1;
        data[70] = 2;
        data[99] = 3;
        std::fs::write(&path, &data).expect("writes");
        let view = SegmentView::open(&path).expect("maps");
        assert_eq!(view.nonzero_span(0, 100), Some((13, 100)));
        assert_eq!(view.nonzero_span(14, 99), Some((70, 71)));
        assert_eq!(view.nonzero_span(71, 99), None);
        assert_eq!(
            view.nonzero_span(50, 1000),
            Some((70, 100)),
            "clamped to the file"
        );
        assert_eq!(view.load_u32(96), Some(3 << 24));
        assert_eq!(view.load_u32(97), None, "misaligned");
        assert_eq!(view.load_u32(100), None, "past the end");
        // SAFETY: nothing writes the file while the slice lives.
        assert_eq!(unsafe { view.published(98, 3) }, None);
        std::fs::remove_dir_all(&dir).expect("removes");
    }
}
