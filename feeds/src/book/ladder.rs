//! One side of an [`L2Book`](super::L2Book): a tick-indexed window around the touch, and a sorted
//! overflow for every level the window does not cover.
//!
//! Both sides share one code path through *keys*: a price on the tick grid has the key
//! `sign * (px / tick)` (`sign` is +1 for bids, -1 for asks), so on either side a larger key is a
//! better price, and every level's *rank* `sign * px` orders off-grid prices with the rest.
//!
//! The window holds the keys `lo..lo + width` in a ring of slots (`key mod width`): moving it
//! moves only the levels that leave or enter it, never the ones it keeps.

mod recentre;
mod top_cache;

use super::occupancy::Occupancy;
use super::{Apply, Level};
use crate::num::{Px, Qty, Side};

/// Where a price lives on its side.
#[derive(Clone, Copy)]
enum Spot {
    /// On the tick grid and inside the window.
    Window { key: i64, slot: usize },
    /// Anywhere else: the index of the stored level in the overflow, or where it would go.
    Overflow(Result<usize, usize>),
}

#[derive(Debug)]
pub(super) struct Ladder {
    sign: i64,
    tick: i64,
    /// Quantity per slot, 0 when empty; the width is a power of two.
    qty: Vec<i64>,
    occupied: Occupancy,
    /// The key of the window's lowest (worst) tick: a multiple of 64, so that every word of
    /// occupancy bits covers 64 consecutive keys of the window.
    lo: i64,
    in_window: usize,
    /// The best key in the window.
    best: Option<i64>,
    /// Worst first, best last (ascending rank): levels off the grid or outside the window. Its
    /// capacity is the whole side's bound, so re-centring can always move every level into it.
    overflow: Vec<Level>,
    bound: usize,
    /// The best levels, best first: always exactly the side's first `min(CACHED, len)` levels,
    /// kept up to date by every change (see [`top_cache`]), so that reading the top of the book
    /// at every commit is a copy rather than a walk of the window's bits.
    cache: [Level; CACHED],
    cached: usize,
}

/// Levels a side keeps ready, best first: the depth of a published book top
/// ([`TOP_DEPTH`](crate::event::TOP_DEPTH)).
pub(super) const CACHED: usize = crate::event::TOP_DEPTH;

impl Ladder {
    /// `tick >= 1`, `width` a power of two of at least 256, `bound >= 1`.
    pub(super) fn new(side: Side, tick: i64, width: usize, bound: usize) -> Ladder {
        Ladder {
            sign: side.sign(),
            tick,
            qty: vec![0; width],
            occupied: Occupancy::new(width),
            lo: 0,
            in_window: 0,
            best: None,
            overflow: Vec::with_capacity(bound),
            bound,
            cache: [Level::default(); CACHED],
            cached: 0,
        }
    }

    pub(super) fn clear(&mut self) {
        let qty = &mut self.qty;
        self.occupied.drain(|slot| qty[slot] = 0);
        self.in_window = 0;
        self.best = None;
        self.overflow.clear();
        self.cached = 0;
    }

    pub(super) fn len(&self) -> usize {
        self.in_window + self.overflow.len()
    }

    /// `px > 0`, `qty >= 0` (the book checks both).
    #[inline]
    pub(super) fn apply(&mut self, px: Px, qty: Qty) -> Apply {
        let spot = self.find(px);
        if let Spot::Window { key, slot } = spot {
            if let Some(outcome) = self.apply_in_window(key, slot, px, qty.0) {
                return outcome;
            }
        }
        match (self.held(spot), qty.0) {
            (0, 0) => Apply::RemovedAbsent,
            (_, 0) => {
                self.remove(spot);
                self.settle();
                self.cache_removed(px);
                Apply::Removed
            }
            (0, _) if self.len() >= self.bound => {
                let outcome = self.evict_for(px, qty);
                if outcome == Apply::Evicted {
                    self.cache_refill();
                }
                outcome
            }
            (0, qty) => {
                self.insert(spot, px, qty);
                self.settle();
                self.cache_inserted(Level { px, qty: Qty(qty) });
                Apply::Inserted
            }
            (_, qty) => {
                match spot {
                    Spot::Window { slot, .. } => self.qty[slot] = qty,
                    Spot::Overflow(Ok(i)) => self.overflow[i].qty = Qty(qty),
                    Spot::Overflow(Err(_)) => {}
                }
                self.cache_updated(px, Qty(qty));
                Apply::Updated
            }
        }
    }

    /// The common case, a level inside the window, with as few branches as the outcome allows:
    /// whether a level is set, changed or deleted is the venue's choice and no predictor learns
    /// it, so the slot, its bit, the count and the outcome are computed rather than branched
    /// on. `None` (nothing done) for the two cases the general path handles: a new level on a
    /// full side (eviction) and the deletion of the best level (a scan for the next one).
    #[inline]
    fn apply_in_window(&mut self, key: i64, slot: usize, px: Px, qty: i64) -> Option<Apply> {
        let held = self.qty[slot];
        let (was, now) = (held != 0, qty != 0);
        if (!was && now && self.len() >= self.bound) || (was && !now && self.best == Some(key)) {
            return None;
        }
        self.qty[slot] = qty;
        self.occupied.assign(slot, now);
        self.in_window = self.in_window + usize::from(now) - usize::from(was);
        let outcome = [
            [Apply::RemovedAbsent, Apply::Inserted],
            [Apply::Removed, Apply::Updated],
        ][usize::from(was)][usize::from(now)];
        if now && self.best < Some(key) {
            // A new best: the window may have to follow it.
            self.best = Some(key);
            self.settle();
        }
        if !self.below_cache(px) {
            match outcome {
                Apply::Inserted => self.cache_inserted(Level { px, qty: Qty(qty) }),
                Apply::Updated => self.cache_updated(px, Qty(qty)),
                Apply::Removed => self.cache_removed(px),
                _ => {}
            }
        }
        Some(outcome)
    }

    pub(super) fn qty_at(&self, px: Px) -> Qty {
        if px.0 <= 0 {
            return Qty(0);
        }
        Qty(self.held(self.find(px)))
    }

    #[inline]
    pub(super) fn best(&self) -> Option<Level> {
        let window = self.best.map(|key| self.level_at(key));
        self.better(window, self.overflow.last().copied())
    }

    /// All levels, best first: the window's and the overflow's, merged by rank.
    #[inline]
    pub(super) fn levels(&self) -> Levels<'_> {
        let word = self.best.map(|key| {
            let offset = self.offset(key);
            let first = offset - offset % 64;
            (
                first,
                self.word_at(first) & (u64::MAX >> (63 - offset % 64)),
            )
        });
        Levels {
            ladder: self,
            word,
            overflow: self.overflow.len(),
        }
    }

    /// Copies the best `out.len()` levels into `out` and returns how many: from the cache of
    /// the best [`CACHED`] levels when that is enough, else walked ([`Ladder::walk_top`]).
    pub(super) fn top(&self, out: &mut [Level]) -> usize {
        if out.len() <= CACHED {
            let n = out.len().min(self.cached);
            out[..n].copy_from_slice(&self.cache[..n]);
            return n;
        }
        self.walk_top(out)
    }

    /// [`Ladder::top`] without the cache: `levels()`, but with the window walked in a tight loop
    /// when no overflow level ranks inside the window's range, the usual case (the overflow
    /// holds what lies beyond the window), so that nothing is merged level by level.
    fn walk_top(&self, out: &mut [Level]) -> usize {
        let low = self.lo as i128 * self.tick as i128;
        if self
            .overflow
            .last()
            .is_some_and(|o| self.rank(o.px) as i128 >= low)
        {
            return fill(out, self.levels());
        }
        let mut n = 0;
        if let Some(best) = self.best {
            let step = self.sign * self.tick;
            let offset = self.offset(best);
            let mut first = offset - offset % 64;
            let mut bits = self.word_at(first) & (u64::MAX >> (63 - offset % 64));
            'window: while n < out.len() {
                while bits == 0 {
                    let Some(below) = first.checked_sub(64) else {
                        break 'window;
                    };
                    first = below;
                    bits = self.word_at(first);
                }
                let bit = 63 - u64::from(bits.leading_zeros());
                bits &= !(1 << bit);
                let key = self.key_at(first + bit);
                out[n] = Level {
                    px: Px(key * step),
                    qty: Qty(self.qty[self.slot(key)]),
                };
                n += 1;
            }
        }
        n + fill(&mut out[n..], self.overflow.iter().rev().copied())
    }

    #[inline]
    fn width(&self) -> u64 {
        self.qty.len() as u64
    }

    #[inline]
    fn slot(&self, key: i64) -> usize {
        (key as u64 & (self.width() - 1)) as usize
    }

    /// How far `key` is above the window's lowest tick; `>= width` when outside the window.
    /// Exact for every key a positive price has and every origin `anchored_lo` gives: their
    /// difference is below 2^64 - width in magnitude, so a key below the window never wraps
    /// into it.
    #[inline]
    fn offset(&self, key: i64) -> u64 {
        key.wrapping_sub(self.lo) as u64
    }

    #[inline]
    fn key_at(&self, offset: u64) -> i64 {
        self.lo.wrapping_add(offset as i64)
    }

    #[inline]
    fn rank(&self, px: Px) -> i64 {
        self.sign * px.0
    }

    /// The level at a key inside the window (its quantity is 0 if the slot is empty).
    #[inline]
    fn level_at(&self, key: i64) -> Level {
        Level {
            px: Px(self.sign * key * self.tick),
            qty: Qty(self.qty[self.slot(key)]),
        }
    }

    /// The better of two candidates for a best (or a next best) level.
    #[inline]
    fn better(&self, a: Option<Level>, b: Option<Level>) -> Option<Level> {
        match (a, b) {
            (Some(a), Some(b)) if self.rank(b.px) > self.rank(a.px) => Some(b),
            (Some(a), _) => Some(a),
            (None, b) => b,
        }
    }

    /// The key of a price on the tick grid; `None` off the grid. A tick of one mantissa unit
    /// (a price scale equal to the tick's decimals, the usual layout) skips the division, a
    /// 64-bit divide per level otherwise.
    #[inline]
    fn grid_key(&self, px: Px) -> Option<i64> {
        if self.tick == 1 {
            return Some(self.sign * px.0);
        }
        (px.0 % self.tick == 0).then(|| self.sign * (px.0 / self.tick))
    }

    /// `px > 0`.
    fn find(&self, px: Px) -> Spot {
        if let Some(key) = self.grid_key(px) {
            if self.offset(key) < self.width() {
                let slot = self.slot(key);
                return Spot::Window { key, slot };
            }
        }
        let rank = self.rank(px);
        Spot::Overflow(
            self.overflow
                .binary_search_by(|level| self.rank(level.px).cmp(&rank)),
        )
    }

    /// The quantity stored at `spot`; 0 when there is no level (stored levels are never 0).
    fn held(&self, spot: Spot) -> i64 {
        match spot {
            Spot::Window { slot, .. } => self.qty[slot],
            Spot::Overflow(Ok(i)) => self.overflow[i].qty.0,
            Spot::Overflow(Err(_)) => 0,
        }
    }

    /// Stores a new level at `spot` (where `find` put it). Below the bound, so the overflow stays
    /// within the capacity reserved at construction.
    fn insert(&mut self, spot: Spot, px: Px, qty: i64) {
        match spot {
            Spot::Window { key, slot } => {
                self.qty[slot] = qty;
                self.occupied.set(slot);
                self.in_window += 1;
                // `None` orders below every `Some`: no best yet, or a better key.
                if self.best < Some(key) {
                    self.best = Some(key);
                }
            }
            Spot::Overflow(Ok(i) | Err(i)) => self.overflow.insert(i, Level { px, qty: Qty(qty) }),
        }
    }

    fn remove(&mut self, spot: Spot) {
        match spot {
            Spot::Window { key, slot } => {
                self.qty[slot] = 0;
                self.occupied.unset(slot);
                self.in_window -= 1;
                if self.best == Some(key) {
                    // The next best is below the old one: a bounded scan of the window's bits.
                    self.best = self.below(self.offset(key)).map(|o| self.key_at(o));
                }
            }
            Spot::Overflow(Ok(i)) => {
                self.overflow.remove(i);
            }
            Spot::Overflow(Err(_)) => {}
        }
    }

    /// The side is full and `px` is not in it: it replaces the worst stored level, or is dropped
    /// when it is worse still, exactly as the sorted-array book did.
    fn evict_for(&mut self, px: Px, qty: Qty) -> Apply {
        let window = self
            .lowest(0, self.width())
            .map(|o| self.level_at(self.key_at(o)));
        let overflow = self.overflow.first().copied();
        let worst = match (window, overflow) {
            (Some(w), Some(o)) if self.rank(o.px) < self.rank(w.px) => o,
            (Some(w), _) => w,
            (None, Some(o)) => o,
            (None, None) => return Apply::Truncated,
        };
        if self.rank(px) < self.rank(worst.px) {
            return Apply::Truncated;
        }
        self.remove(self.find(worst.px));
        self.insert(self.find(px), px, qty.0);
        self.settle();
        Apply::Evicted
    }

    /// The slot ranges holding the window offsets `from..to` (`from <= to <= width`), lowest
    /// offsets first, each with the offset of its first slot: two when the range wraps the ring.
    fn slot_ranges(&self, from: u64, to: u64) -> [(usize, usize, u64); 2] {
        let width = self.width();
        let start = (self.lo as u64).wrapping_add(from) & (width - 1);
        let end = start + (to - from);
        if end <= width {
            [(start as usize, end as usize, from), (0, 0, to)]
        } else {
            let wrapped = from + (width - start);
            [
                (start as usize, width as usize, from),
                (0, (end - width) as usize, wrapped),
            ]
        }
    }

    /// The occupancy bits of the 64 window offsets from `first`, a multiple of 64 (origins are
    /// multiples of 64, so a word of bits is 64 consecutive offsets).
    #[inline]
    fn word_at(&self, first: u64) -> u64 {
        let slot = (self.lo as u64).wrapping_add(first) & (self.width() - 1);
        self.occupied.word(slot as usize / 64)
    }

    /// The highest occupied window offset below `offset`, one word of bits per 64 ticks.
    fn below(&self, offset: u64) -> Option<u64> {
        let top = offset.checked_sub(1)?;
        let mut first = top - top % 64;
        let mut bits = self.word_at(first) & (u64::MAX >> (63 - top % 64));
        while bits == 0 {
            first = first.checked_sub(64)?;
            bits = self.word_at(first);
        }
        Some(first + 63 - u64::from(bits.leading_zeros()))
    }

    /// The highest occupied window offset in `from..to`.
    fn highest(&self, from: u64, to: u64) -> Option<u64> {
        self.slot_ranges(from, to)
            .iter()
            .rev()
            .find_map(|&(a, b, first)| {
                let slot = self.occupied.highest_in(a, b)?;
                Some(first + (slot - a) as u64)
            })
    }

    /// The lowest occupied window offset in `from..to`.
    fn lowest(&self, from: u64, to: u64) -> Option<u64> {
        self.slot_ranges(from, to)
            .iter()
            .find_map(|&(a, b, first)| {
                let slot = self.occupied.lowest_in(a, b)?;
                Some(first + (slot - a) as u64)
            })
    }

    fn count(&self, from: u64, to: u64) -> usize {
        self.slot_ranges(from, to)
            .iter()
            .map(|&(a, b, _)| self.occupied.count_in(a, b))
            .sum()
    }

    /// Addresses of the preallocated storage and the overflow's capacity: unchanged for the
    /// book's whole life if nothing reallocates.
    #[cfg(test)]
    pub(super) fn storage(&self) -> [usize; 5] {
        let [words, summary] = self.occupied.storage();
        [
            self.qty.as_ptr() as usize,
            words,
            summary,
            self.overflow.as_ptr() as usize,
            self.overflow.capacity(),
        ]
    }

    /// Levels held in the window (the rest are in the overflow).
    #[cfg(test)]
    pub(super) fn in_window(&self) -> usize {
        self.in_window
    }

    /// Checks the layout's invariants: every on-grid level the window covers is in it, the
    /// overflow is sorted, the counts and the best key agree with the slots.
    #[cfg(test)]
    pub(super) fn check(&self) -> Result<(), String> {
        let width = self.width();
        let stored = (0..width)
            .filter(|&o| self.qty[self.slot(self.key_at(o))] != 0)
            .count();
        if !self.occupied.summary_agrees() {
            return Err("occupancy summary disagrees with its words".into());
        }
        if stored != self.in_window || self.count(0, width) != stored {
            return Err(format!("window holds {stored}, counted {}", self.in_window));
        }
        let best = self.highest(0, width).map(|o| self.key_at(o));
        if best != self.best {
            return Err(format!("best key {:?}, tracked {:?}", best, self.best));
        }
        if self
            .overflow
            .windows(2)
            .any(|w| self.rank(w[0].px) >= self.rank(w[1].px))
        {
            return Err("overflow out of order".into());
        }
        for l in &self.overflow {
            if self
                .grid_key(l.px)
                .is_some_and(|key| self.offset(key) < width)
            {
                return Err(format!("{l:?} belongs in the window"));
            }
        }
        let mut walked = [Level::default(); CACHED];
        let n = self.walk_top(&mut walked);
        if self.cache[..self.cached] != walked[..n] {
            return Err(format!(
                "cached top {:?}, walked {:?}",
                &self.cache[..self.cached],
                &walked[..n]
            ));
        }
        if self.lo % 64 != 0 || self.len() > self.bound {
            return Err(format!(
                "origin {} or length {} out of range",
                self.lo,
                self.len()
            ));
        }
        Ok(())
    }
}

/// Copies `levels` into `out` as far as both go; returns how many.
fn fill(out: &mut [Level], levels: impl Iterator<Item = Level>) -> usize {
    let mut n = 0;
    for (slot, level) in out.iter_mut().zip(levels) {
        *slot = level;
        n += 1;
    }
    n
}

/// A side's levels, best first. Allocation-free: the window is walked a word of occupancy bits
/// at a time from the best key down, the overflow from its end, and the two merged by rank.
pub(super) struct Levels<'a> {
    ladder: &'a Ladder,
    /// The window word being walked: the offset of its first slot, and its occupied bits not
    /// yet returned; `None` once the window is done.
    word: Option<(u64, u64)>,
    /// How many overflow levels are still to come (the next is at `overflow - 1`).
    overflow: usize,
}

impl Iterator for Levels<'_> {
    type Item = Level;

    // Always inlined: returned through memory, the level costs a store-forwarding stall.
    #[inline(always)]
    fn next(&mut self) -> Option<Level> {
        let l = self.ladder;
        let from_window = loop {
            match self.word {
                Some((first, 0)) => {
                    self.word = first.checked_sub(64).map(|f| (f, l.word_at(f)));
                }
                word => break word,
            }
        };
        let from_overflow = self.overflow.checked_sub(1).map(|i| l.overflow[i]);
        let Some((first, bits)) = from_window else {
            self.overflow = self.overflow.saturating_sub(1);
            return from_overflow;
        };
        let bit = 63 - u64::from(bits.leading_zeros());
        let level = l.level_at(l.key_at(first + bit));
        match from_overflow {
            Some(o) if l.rank(o.px) > l.rank(level.px) => {
                self.overflow -= 1;
                Some(o)
            }
            _ => {
                self.word = Some((first, bits & !(1 << bit)));
                Some(level)
            }
        }
    }
}
