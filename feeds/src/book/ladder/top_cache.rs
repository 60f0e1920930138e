//! The side's best [`CACHED`] levels, kept as they change. Publishing the top of the book at
//! every commit would otherwise walk the window's occupancy bits from the touch down, word by
//! word, with a branch per level that the predictor cannot learn (the book is sparse near the
//! touch): about 100 ns for ten levels a side on the bundled capture (a temporary TSC probe,
//! its own reads included), against a copy now.
//!
//! Each change costs one comparison when it lands below the cached levels (most of a diff's
//! levels do), a scan of at most ten prices otherwise. A removal inside the cache pulls the next
//! level up (one search below the last cached price); an eviction, rare, walks afresh.

use super::{Ladder, Level, CACHED};
use crate::num::{Px, Qty};

impl Ladder {
    /// Whether `px` ranks below a full cache: no change at `px` touches it.
    #[inline]
    pub(super) fn below_cache(&self, px: Px) -> bool {
        self.cached == CACHED && self.rank(px) < self.rank(self.cache[CACHED - 1].px)
    }

    /// Where `px` is in the cache (`Ok`) or would go (`Err`): `Err(CACHED)` when it ranks below
    /// a full cache.
    #[inline]
    fn cache_pos(&self, px: Px) -> Result<usize, usize> {
        if self.below_cache(px) {
            return Err(CACHED);
        }
        let rank = self.rank(px);
        for (i, level) in self.cache[..self.cached].iter().enumerate() {
            let r = self.rank(level.px);
            if r <= rank {
                return if r == rank { Ok(i) } else { Err(i) };
            }
        }
        Err(self.cached)
    }

    /// After a new level was stored.
    #[inline]
    pub(super) fn cache_inserted(&mut self, level: Level) {
        let Err(i) = self.cache_pos(level.px) else {
            return;
        };
        if i >= CACHED {
            return;
        }
        // A full cache drops its last level; one with room held the whole side, so the new
        // level belongs in it wherever it ranks.
        let end = self.cached.min(CACHED - 1);
        self.cache.copy_within(i..end, i + 1);
        self.cache[i] = level;
        self.cached = (self.cached + 1).min(CACHED);
    }

    /// After a stored level's quantity changed.
    #[inline]
    pub(super) fn cache_updated(&mut self, px: Px, qty: Qty) {
        if let Ok(i) = self.cache_pos(px) {
            self.cache[i].qty = qty;
        }
    }

    /// After the level at `px` was deleted (the side already without it).
    #[inline]
    pub(super) fn cache_removed(&mut self, px: Px) {
        let Ok(i) = self.cache_pos(px) else {
            return;
        };
        self.cache.copy_within(i + 1..self.cached, i);
        self.cached -= 1;
        if self.cached < self.len() {
            // A level beyond the cache moves up into it.
            let next = match self.cached.checked_sub(1) {
                Some(last) => self.next_below(self.cache[last].px),
                None => self.best(),
            };
            if let Some(level) = next {
                self.cache[self.cached] = level;
                self.cached += 1;
            }
        }
    }

    /// Rebuilds the cache from the stored levels (after an eviction).
    pub(super) fn cache_refill(&mut self) {
        let mut levels = [Level::default(); CACHED];
        self.cached = self.walk_top(&mut levels);
        self.cache = levels;
    }

    /// The best stored level ranked below `px`: the better of the window's and the overflow's
    /// candidates.
    fn next_below(&self, px: Px) -> Option<Level> {
        let rank = self.rank(px);
        // The highest key whose level ranks below `rank` (a level at key `k` ranks `k * tick`).
        // `rank - 1` cannot overflow: a positive price's rank is above `i64::MIN`.
        let key = (rank - 1).div_euclid(self.tick);
        let window = if key < self.lo {
            None
        } else {
            let offset = key.wrapping_sub(self.lo) as u64;
            if offset >= self.width() {
                // Above the window: all of it ranks below.
                self.best
            } else {
                self.below(offset + 1).map(|o| self.key_at(o))
            }
        };
        let window = window.map(|key| self.level_at(key));
        // The overflow's best ranks below `rank` as a rule (it holds what lies beyond the
        // window): then it is the candidate, without a search.
        let overflow = match self.overflow.last() {
            Some(best) if self.rank(best.px) < rank => Some(*best),
            _ => {
                let below = self.overflow.partition_point(|l| self.rank(l.px) < rank);
                below.checked_sub(1).map(|i| self.overflow[i])
            }
        };
        self.better(window, overflow)
    }
}
