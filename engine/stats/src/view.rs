//! Load-only access to a mapped stats file: the reader's read-only mapping, and the writer's own
//! mapping when it takes a snapshot of itself.
//!
//! Every access is a `Relaxed` atomic load of the field's own width (strings byte by byte), so a
//! view never races with the writer however the offsets are chosen, and every load is one the
//! standard library allows on read-only memory (`Relaxed`, at most 8 bytes on a 64-bit target;
//! see "Atomic accesses to read-only memory" in `core::sync::atomic`). Callers that need
//! acquire ordering follow the load with `fence(Acquire)`. There is no store: a view cannot
//! write, by construction.
#![allow(unsafe_code)]

use std::marker::PhantomData;
use std::sync::atomic::{AtomicI64, AtomicU32, AtomicU64, AtomicU8, Ordering};

use super::layout::decode_field;

#[derive(Clone, Copy)]
pub struct View<'a> {
    base: *const u8,
    len: usize,
    _mapping: PhantomData<&'a [u8]>,
}

impl<'a> View<'a> {
    /// # Safety
    ///
    /// `base` must be valid for reads of `len` bytes for `'a`, aligned to 8, and the bytes must
    /// only ever be written through atomics (or not at all) while the view lives.
    pub unsafe fn new(base: *const u8, len: usize) -> View<'a> {
        View {
            base,
            len,
            _mapping: PhantomData,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    /// `width` is 1, 4 or 8. Bounds and alignment are checked on every access: offsets come from the file, and a
    /// check here is what keeps a corrupt header from reading outside the mapping.
    fn at(&self, off: usize, width: usize) -> *const u8 {
        assert!(
            off & (width - 1) == 0 && off.checked_add(width).is_some_and(|end| end <= self.len),
            "stats view access at {off}+{width} outside {} bytes",
            self.len
        );
        // SAFETY: `off + width <= len`, so the result stays inside the mapping `new` was given.
        unsafe { self.base.add(off) }
    }

    pub fn u64(&self, off: usize) -> u64 {
        // SAFETY: in bounds and 8-aligned (checked by `at`; the base is 8-aligned per `new`),
        // valid for 'a, only ever written atomically (`new`'s contract).
        let a = unsafe { &*(self.at(off, 8) as *const AtomicU64) };
        // Relaxed: a single word; callers that need more order add a fence.
        a.load(Ordering::Relaxed)
    }

    pub fn i64(&self, off: usize) -> i64 {
        // SAFETY: as in `u64`.
        let a = unsafe { &*(self.at(off, 8) as *const AtomicI64) };
        // Relaxed: a single word; callers that need more order add a fence.
        a.load(Ordering::Relaxed)
    }

    pub fn u32(&self, off: usize) -> u32 {
        // SAFETY: as in `u64`, 4-aligned.
        let a = unsafe { &*(self.at(off, 4) as *const AtomicU32) };
        // Relaxed: a single word; callers that need more order add a fence.
        a.load(Ordering::Relaxed)
    }

    /// A NUL-padded ASCII field of `len` bytes.
    pub fn string(&self, off: usize, len: usize) -> String {
        let mut bytes = Vec::with_capacity(len);
        for i in off..off + len {
            // SAFETY: as in `u64`, 1-aligned.
            let a = unsafe { &*(self.at(i, 1) as *const AtomicU8) };
            // Relaxed: metadata is written before the magic is published (the caller has
            // fenced after reading it) and never again.
            bytes.push(a.load(Ordering::Relaxed));
        }
        decode_field(&bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_fields_little_endian_and_refuses_out_of_bounds() {
        let mut buf = [0u64; 4];
        buf[0] = 0x0102_0304_0506_0708;
        buf[1] = u64::from_le_bytes(*b"abc\0\0\0\0\0");
        // SAFETY: a live, 8-aligned local array, not written while the view is used.
        let v = unsafe { View::new(buf.as_ptr() as *const u8, 32) };
        assert_eq!(v.u64(0), 0x0102_0304_0506_0708);
        assert_eq!(v.u32(0), 0x0506_0708);
        assert_eq!(v.string(8, 8), "abc");
        assert!(std::panic::catch_unwind(|| v.u64(32)).is_err());
        assert!(std::panic::catch_unwind(|| v.u64(4)).is_err());
    }
}
