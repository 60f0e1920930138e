//! Writable access to the stats file's mapping, for the engine's own writers: the counterpart
//! of [`View`], with the same rule (every access an atomic of the field's own width).
#![allow(unsafe_code)]

use std::sync::atomic::{AtomicI64, AtomicU32, AtomicU64, AtomicU8, Ordering};

use memmap2::MmapMut;

use super::view::View;

/// The mapping's bytes, by offset. Bounds and alignment are checked on every access.
pub struct Region {
    base: *mut u8,
    len: usize,
}

impl Region {
    /// The first `len` bytes of `map`, pointed into rather than borrowed, so that the owner
    /// can keep the mapping and the region side by side.
    ///
    /// # Safety
    ///
    /// `map` must outlive the region and never be remapped while it lives, and its bytes must
    /// only ever be accessed atomically from now on.
    pub unsafe fn new(map: &mut MmapMut, len: usize) -> Region {
        assert!(len <= map.len());
        Region {
            base: map.as_mut_ptr(),
            len,
        }
    }

    /// `width` is 1, 4 or 8. Offsets come from the geometry, so a failed check is a bug here,
    /// never input.
    fn field(&self, off: usize, width: usize) -> *mut u8 {
        assert!(off & (width - 1) == 0 && off + width <= self.len);
        // SAFETY: in bounds of the mapping, per the assert.
        unsafe { self.base.add(off) }
    }

    pub fn u64(&self, off: usize) -> &AtomicU64 {
        // SAFETY: in bounds and aligned (`field`; the mapping is page-aligned); the mapping
        // lives as long as the `StatsFile` that owns this region; every access to these bytes
        // is an atomic of this width.
        unsafe { AtomicU64::from_ptr(self.field(off, 8).cast()) }
    }

    pub fn i64(&self, off: usize) -> &AtomicI64 {
        // SAFETY: as in `u64`.
        unsafe { AtomicI64::from_ptr(self.field(off, 8).cast()) }
    }

    pub fn u32(&self, off: usize) -> &AtomicU32 {
        // SAFETY: as in `u64`.
        unsafe { AtomicU32::from_ptr(self.field(off, 4).cast()) }
    }

    /// Only during `init`, before the magic is published, into a zero-filled field.
    pub fn write_str(&self, off: usize, s: &str) {
        for (i, b) in s.bytes().enumerate() {
            // SAFETY: as in `u64`; strings are accessed byte by byte.
            let byte = unsafe { AtomicU8::from_ptr(self.field(off + i, 1)) };
            // Relaxed: published by the release store of the magic.
            byte.store(b, Ordering::Relaxed);
        }
    }

    pub fn view(&self) -> View<'_> {
        // SAFETY: the mapping outlives the region, is page-aligned, `len` long, and only ever
        // accessed atomically.
        unsafe { View::new(self.base, self.len) }
    }
}
