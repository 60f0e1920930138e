//! One bit per ladder slot, set while the slot holds a level, and one summary bit per word of
//! those, set while the word has any bit set.
//!
//! The quantities alone would do for lookups, but finding the next level after the best is
//! removed, or walking the book best first, would then read every empty tick in between: with the
//! bits, a word of 64 empty ticks is skipped with one compare. The summary lets `drain` (the
//! book's `clear`) visit only the words that hold levels: one summary word per 4,096 slots.

#[derive(Debug)]
pub(super) struct Occupancy {
    words: Vec<u64>,
    /// Bit `w % 64` of `summary[w / 64]` is set while `words[w]` is not 0.
    summary: Vec<u64>,
}

impl Occupancy {
    /// `slots` is a multiple of 64 (the ladder's width is a power of two of at least 256).
    pub(super) fn new(slots: usize) -> Occupancy {
        let words = slots / 64;
        Occupancy {
            words: vec![0; words],
            summary: vec![0; words.div_ceil(64)],
        }
    }

    pub(super) fn set(&mut self, slot: usize) {
        let word = slot / 64;
        self.words[word] |= 1 << (slot % 64);
        self.summary[word / 64] |= 1 << (word % 64);
    }

    pub(super) fn unset(&mut self, slot: usize) {
        let word = slot / 64;
        self.words[word] &= !(1 << (slot % 64));
        if self.words[word] == 0 {
            self.summary[word / 64] &= !(1 << (word % 64));
        }
    }

    /// Sets (`on`) or unsets the slot's bit, and its word's summary bit to match, without a
    /// branch on `on`.
    #[inline]
    pub(super) fn assign(&mut self, slot: usize, on: bool) {
        let word = slot / 64;
        let bit = 1u64 << (slot % 64);
        let bits = (self.words[word] & !bit) | (bit & u64::from(on).wrapping_neg());
        self.words[word] = bits;
        let summary_bit = 1u64 << (word % 64);
        let summary = &mut self.summary[word / 64];
        *summary = (*summary & !summary_bit) | (summary_bit & u64::from(bits != 0).wrapping_neg());
    }

    /// The bits of slots `64 * word..64 * word + 64`.
    #[inline]
    pub(super) fn word(&self, word: usize) -> u64 {
        self.words[word]
    }

    /// The highest set slot in `from..to`.
    pub(super) fn highest_in(&self, from: usize, to: usize) -> Option<usize> {
        let mut end = to;
        while end > from {
            let word = (end - 1) / 64;
            let base = word * 64;
            let bits = self.words[word] & span(from.max(base) - base, end - 1 - base);
            if bits != 0 {
                return Some(base + 63 - bits.leading_zeros() as usize);
            }
            end = base;
        }
        None
    }

    /// The lowest set slot in `from..to`.
    pub(super) fn lowest_in(&self, from: usize, to: usize) -> Option<usize> {
        let mut start = from;
        while start < to {
            let word = start / 64;
            let base = word * 64;
            let bits = self.words[word] & span(start - base, (to - 1).min(base + 63) - base);
            if bits != 0 {
                return Some(base + bits.trailing_zeros() as usize);
            }
            start = base + 64;
        }
        None
    }

    /// How many slots in `from..to` are set.
    pub(super) fn count_in(&self, from: usize, to: usize) -> usize {
        let mut count = 0;
        let mut start = from;
        while start < to {
            let word = start / 64;
            let base = word * 64;
            let bits = self.words[word] & span(start - base, (to - 1).min(base + 63) - base);
            count += bits.count_ones() as usize;
            start = base + 64;
        }
        count
    }

    /// Calls `each` with every set slot and unsets them all. The cost is the set slots plus
    /// one read per summary word (per 4,096 slots), not the width.
    pub(super) fn drain(&mut self, mut each: impl FnMut(usize)) {
        for (group, summary) in self.summary.iter_mut().enumerate() {
            let mut words = std::mem::take(summary);
            while words != 0 {
                let word = group * 64 + words.trailing_zeros() as usize;
                words &= words - 1;
                let mut bits = std::mem::take(&mut self.words[word]);
                while bits != 0 {
                    each(word * 64 + bits.trailing_zeros() as usize);
                    bits &= bits - 1;
                }
            }
        }
    }

    /// Addresses of the bits and the summary, for the book's no-reallocation checks.
    #[cfg(test)]
    pub(super) fn storage(&self) -> [usize; 2] {
        [self.words.as_ptr() as usize, self.summary.as_ptr() as usize]
    }

    /// The summary agrees with the words.
    #[cfg(test)]
    pub(super) fn summary_agrees(&self) -> bool {
        self.words
            .iter()
            .enumerate()
            .all(|(w, &bits)| (bits != 0) == (self.summary[w / 64] & (1 << (w % 64)) != 0))
    }
}

/// The bits `low..=high` of a word.
fn span(low: usize, high: usize) -> u64 {
    (u64::MAX >> (63 - high)) & (u64::MAX << low)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scans_find_the_nearest_set_slot_within_the_range_across_words() {
        let mut o = Occupancy::new(256);
        for slot in [0, 63, 64, 130, 255] {
            o.set(slot);
        }
        assert_eq!(o.highest_in(0, 256), Some(255));
        assert_eq!(o.highest_in(0, 255), Some(130));
        assert_eq!(o.highest_in(65, 130), None);
        assert_eq!(o.highest_in(64, 130), Some(64));
        assert_eq!(o.highest_in(1, 64), Some(63));
        assert_eq!(o.highest_in(1, 63), None);
        assert_eq!(o.highest_in(5, 5), None);
        assert_eq!(o.lowest_in(0, 256), Some(0));
        assert_eq!(o.lowest_in(1, 256), Some(63));
        assert_eq!(o.lowest_in(65, 255), Some(130));
        assert_eq!(o.lowest_in(131, 255), None);
        assert_eq!(o.lowest_in(131, 256), Some(255));
        assert_eq!(o.count_in(0, 256), 5);
        assert_eq!(o.count_in(63, 131), 3);
        assert_eq!(o.count_in(64, 64), 0);
        o.unset(63);
        assert_eq!(o.highest_in(1, 64), None);
        assert_eq!(o.count_in(0, 256), 4);
        assert!(o.summary_agrees());
        o.unset(0);
        assert_eq!(o.summary, [0b1110]);
        assert!(o.summary_agrees());
        // Branch-free assignment: the same bits and summary as set and unset.
        o.assign(0, true);
        o.assign(64, false);
        assert_eq!(o.summary, [0b1101]);
        assert_eq!((o.word(0), o.word(1)), (1, 0));
        o.assign(0, true);
        o.assign(5, false);
        assert_eq!(o.word(0), 1, "assigning a bit its value changes nothing");
        assert!(o.summary_agrees());
    }

    #[test]
    fn drain_visits_every_set_slot_once_and_empties_the_map() {
        let mut o = Occupancy::new(128);
        for slot in [3, 64, 65, 127] {
            o.set(slot);
        }
        o.unset(3);
        o.set(3);
        assert!(o.summary_agrees());
        let mut seen = Vec::new();
        o.drain(|slot| seen.push(slot));
        assert_eq!(seen, [3, 64, 65, 127]);
        assert_eq!(o.count_in(0, 128), 0);
        assert_eq!(o.highest_in(0, 128), None);
        assert!(o.summary_agrees());
        assert_eq!(o.summary, [0]);
    }
}
