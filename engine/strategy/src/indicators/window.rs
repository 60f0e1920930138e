//! The fixed ring behind every windowed indicator: allocated once at construction, then a push
//! hands back the value that falls out, so the owner can take it off its running sums in O(1).

/// The last `capacity` values pushed, oldest first. Never grows: `push` on a full window
/// overwrites the oldest slot and returns what was there.
#[derive(Clone, Debug)]
pub(crate) struct Window<T> {
    slots: Box<[T]>,
    /// The slot the next push writes: the oldest value once the window is full.
    next: usize,
    len: usize,
}

impl<T: Copy + Default> Window<T> {
    /// # Panics
    /// If `capacity` is zero: a window must hold at least one value.
    pub(crate) fn new(capacity: usize) -> Window<T> {
        assert!(capacity > 0, "a window holds at least one value");
        Window {
            slots: vec![T::default(); capacity].into_boxed_slice(),
            next: 0,
            len: 0,
        }
    }

    /// Appends `value`; once the window is full, returns the value it displaced.
    pub(crate) fn push(&mut self, value: T) -> Option<T> {
        let evicted = (self.len == self.slots.len()).then(|| self.slots[self.next]);
        self.slots[self.next] = value;
        self.next += 1;
        if self.next == self.slots.len() {
            self.next = 0;
        }
        if evicted.is_none() {
            self.len += 1;
        }
        evicted
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn is_full(&self) -> bool {
        self.len == self.slots.len()
    }

    /// Forgets every value; the storage stays.
    pub(crate) fn clear(&mut self) {
        self.next = 0;
        self.len = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_the_oldest_once_full() {
        let mut w = Window::new(3);
        assert_eq!([w.push(1), w.push(2), w.push(3)], [None, None, None]);
        assert!(w.is_full());
        assert_eq!(w.push(4), Some(1));
        assert_eq!(w.push(5), Some(2));
        assert_eq!(w.len(), 3);
        w.clear();
        assert_eq!((w.len(), w.is_full(), w.push(6)), (0, false, None));
        assert_eq!([w.push(7), w.push(8), w.push(9)], [None, None, Some(6)]);
    }
}
