//! Moving a side's window with its touch: when, where to, and moving the levels that leave or
//! enter it between the window and the overflow.

use super::{Ladder, Level};

impl Ladder {
    /// Re-centres the window when the touch has left the band between a quarter of the way up
    /// and the top. After a re-centre the touch sits three quarters of the way up: it must move a
    /// quarter of the width up or half of it down before the next one, so a touch going back and
    /// forth costs nothing, and most of the window is kept for the depth behind the touch, where
    /// the traffic is.
    pub(super) fn settle(&mut self) {
        let key = match (self.best, self.overflow.last()) {
            (Some(key), Some(o)) if self.rank(o.px) <= key * self.tick => key,
            (Some(key), None) => key,
            (_, Some(o)) => self.sign * (o.px.0 / self.tick),
            (None, None) => return,
        };
        let offset = self.offset(key);
        if (self.width() / 4..self.width()).contains(&offset) {
            return;
        }
        let lo = self.anchored_lo(key);
        if lo != self.lo {
            self.recentre(lo);
        }
    }

    /// The window origin that puts `key` three quarters of the way up (rounded down to a
    /// multiple of 64, so within 64 ticks of it).
    fn anchored_lo(&self, key: i64) -> i64 {
        let wanted = key as i128 - self.width() as i128 * 3 / 4;
        (wanted.div_euclid(64) * 64).max(i64::MIN as i128) as i64
    }

    /// Moves the window to start at `lo`: the levels it leaves go to the overflow, the on-grid
    /// overflow levels it now covers come in. Allocation-free; O(levels moved + overflow levels
    /// beside them + width / 64).
    fn recentre(&mut self, lo: i64) {
        let width = self.width();
        let shift = lo as i128 - self.lo as i128;
        let moved = shift.unsigned_abs().min(width as u128) as u64;
        let (from, to) = if shift > 0 {
            (0, moved)
        } else {
            (width - moved, width)
        };
        self.spill(from, to);
        self.lo = lo;
        self.gather();
        self.best = self.highest(0, width).map(|o| self.key_at(o));
    }

    /// Moves the window's levels at offsets `from..to` into the overflow. They are one run of
    /// ticks outside the new window, and only off-grid levels can sit among them in the overflow,
    /// so one gap is opened after the run's place and the run is merged in from the back.
    fn spill(&mut self, from: u64, to: u64) {
        let (Some(low), Some(high)) = (self.lowest(from, to), self.highest(from, to)) else {
            return;
        };
        let moving = self.count(from, to);
        let low_rank = self.rank(self.level_at(self.key_at(low)).px);
        let high_rank = self.rank(self.level_at(self.key_at(high)).px);
        let first = self
            .overflow
            .partition_point(|l| self.rank(l.px) < low_rank);
        let mut read = self
            .overflow
            .partition_point(|l| self.rank(l.px) < high_rank);
        let len = self.overflow.len();
        // The side holds at most `bound` levels, all of which fit the reserved capacity.
        self.overflow.resize(len + moving, Level::default());
        self.overflow.copy_within(read..len, read + moving);
        let mut write = read + moving;
        let mut next = Some(high);
        while let Some(offset) = next {
            let key = self.key_at(offset);
            let level = self.level_at(key);
            while read > first && self.rank(self.overflow[read - 1].px) > self.rank(level.px) {
                read -= 1;
                write -= 1;
                self.overflow[write] = self.overflow[read];
            }
            write -= 1;
            self.overflow[write] = level;
            let slot = self.slot(key);
            self.qty[slot] = 0;
            self.occupied.unset(slot);
            next = self.below(offset).filter(|&o| o >= from);
        }
        self.in_window -= moving;
    }

    /// Moves the on-grid overflow levels inside the window into it; off-grid ones stay.
    fn gather(&mut self) {
        let tick = self.tick as i128;
        // On the grid a level's rank is `key * tick`.
        let low = self.lo as i128 * tick;
        let high = (self.lo as i128 + self.width() as i128 - 1) * tick;
        let first = self
            .overflow
            .partition_point(|l| (self.rank(l.px) as i128) < low);
        let end = self
            .overflow
            .partition_point(|l| (self.rank(l.px) as i128) <= high);
        let mut kept = first;
        for i in first..end {
            let level = self.overflow[i];
            if let Some(key) = self.grid_key(level.px) {
                let slot = self.slot(key);
                self.qty[slot] = level.qty.0;
                self.occupied.set(slot);
                self.in_window += 1;
            } else {
                self.overflow[kept] = level;
                kept += 1;
            }
        }
        self.overflow.copy_within(end.., kept);
        self.overflow.truncate(self.overflow.len() - (end - kept));
    }
}
