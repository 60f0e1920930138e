//! Per-interval simple returns of every instrument on one shared market-time grid, kept in a
//! fixed window (a ring of rows allocated once).

use pulse_core::num::Nanos;

/// Turns marks (mid prices at market time) into rows of per-interval simple returns.
///
/// The grid is `floor(ts / interval)`; a slot's price is the last mid seen in it. When a slot
/// closes (a mark in a later slot arrives, or [`ReturnSampler::close_until`]) one row is
/// recorded per elapsed slot, with `p_t / p_{t-1} - 1` per instrument. A slot without a mark
/// carries the previous price (return 0), and an instrument with no price yet, or none before
/// this slot, gives 0, so every row has one return per instrument and rows align. The grid
/// starts at the first mark. A mark in a slot earlier than the open one (a feed slightly
/// behind another) updates the open slot's price: market time does not run backwards for the
/// portfolio.
#[derive(Clone, Debug)]
pub struct ReturnSampler {
    n: usize,
    interval: u64,
    /// The open slot, `None` before the first mark.
    slot: Option<u64>,
    /// Latest mid per instrument (carried across slots); NaN before the first.
    price: Vec<f64>,
    /// Price at the close of the last closed slot; NaN before the first.
    closed: Vec<f64>,
    window: ReturnWindow,
    last_ts: Nanos,
}

impl ReturnSampler {
    /// `n` instruments, slots of `interval` (at least 1 ns), at most `window` rows kept.
    pub(crate) fn new(n: usize, interval: Nanos, window: usize) -> ReturnSampler {
        ReturnSampler {
            n,
            interval: interval.0.max(1),
            slot: None,
            price: vec![f64::NAN; n],
            closed: vec![f64::NAN; n],
            window: ReturnWindow::new(n, window),
            last_ts: Nanos(0),
        }
    }

    pub fn instruments(&self) -> usize {
        self.n
    }

    /// A mid of instrument `i` at market time `ts`. Closes the slots before `ts`'s slot first.
    /// An index out of range, or a mid that is not finite and positive, is ignored.
    pub fn on_mark(&mut self, i: usize, mid: f64, ts: Nanos) {
        if i >= self.n || !(mid.is_finite() && mid > 0.0) {
            return;
        }
        let slot = ts.0 / self.interval;
        match self.slot {
            None => self.slot = Some(slot),
            Some(open) if slot > open => self.advance(open, slot),
            Some(_) => {}
        }
        self.price[i] = mid;
    }

    /// Closes every slot that ends at or before `ts` (those before `ts`'s slot), recording
    /// their rows, as the schedule that calls the model does before computing.
    pub fn close_until(&mut self, ts: Nanos) {
        let slot = ts.0 / self.interval;
        if let Some(open) = self.slot {
            if slot > open {
                self.advance(open, slot);
            }
        }
    }

    /// Appends one row of returns as is (one per instrument; missing ones are 0, extra ones
    /// dropped), bypassing the grid; the time of the last row is unchanged. For loading a
    /// window of returns computed elsewhere, and for tests.
    pub fn push_row(&mut self, row: &[f64]) {
        let dst = self.window.next_row();
        for (k, d) in dst.iter_mut().enumerate() {
            *d = row.get(k).copied().unwrap_or(0.0);
        }
    }

    /// Rows held (at most the window).
    pub fn rows(&self) -> usize {
        self.window.len
    }

    /// Market time of the end of the newest row's slot (0 before the first row).
    pub fn last_ts(&self) -> Nanos {
        self.last_ts
    }

    /// Row `k` of the window, 0 the oldest, `rows() - 1` the newest.
    pub fn row(&self, k: usize) -> &[f64] {
        self.window.row(k)
    }

    /// Closes slot `open` and the empty slots after it up to `slot` (exclusive), which opens.
    fn advance(&mut self, open: u64, slot: u64) {
        let dst = self.window.next_row();
        for ((d, p), c) in dst.iter_mut().zip(&self.price).zip(self.closed.iter_mut()) {
            *d = if p.is_nan() || c.is_nan() {
                0.0
            } else {
                p / *c - 1.0
            };
            *c = *p;
        }
        // Empty slots carry the price: rows of zeros, no more than the window can hold.
        let empty = (slot - open - 1).min(self.window.capacity as u64) as usize;
        for _ in 0..empty {
            self.window.next_row().fill(0.0);
        }
        self.last_ts = Nanos(slot.saturating_mul(self.interval));
        self.slot = Some(slot);
    }
}

/// The ring of return rows: `capacity` rows of `n` returns, oldest overwritten first.
#[derive(Clone, Debug)]
struct ReturnWindow {
    n: usize,
    capacity: usize,
    data: Vec<f64>,
    /// Row index the next row is written to.
    head: usize,
    len: usize,
}

impl ReturnWindow {
    fn new(n: usize, capacity: usize) -> ReturnWindow {
        let capacity = capacity.max(1);
        ReturnWindow {
            n,
            capacity,
            data: vec![0.0; n * capacity],
            head: 0,
            len: 0,
        }
    }

    /// The slot of a new newest row (its old contents are stale).
    fn next_row(&mut self) -> &mut [f64] {
        let at = self.head * self.n;
        self.head = (self.head + 1) % self.capacity;
        self.len = (self.len + 1).min(self.capacity);
        &mut self.data[at..at + self.n]
    }

    fn row(&self, k: usize) -> &[f64] {
        let at = (self.head + self.capacity - self.len + k) % self.capacity * self.n;
        &self.data[at..at + self.n]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    #[test]
    fn returns_per_slot_with_carry_and_missing_prices() {
        let mut s = ReturnSampler::new(2, Nanos(S), 10);
        s.on_mark(0, 100.0, Nanos(0));
        s.on_mark(0, 101.0, Nanos(S / 2)); // last mid of slot 0 wins: 101
        assert_eq!(s.rows(), 0);
        s.on_mark(0, 102.0, Nanos(S + 1)); // closes slot 0: no previous price, returns 0
        assert_eq!(s.rows(), 1);
        assert_eq!(s.row(0), &[0.0, 0.0]);
        assert_eq!(s.last_ts(), Nanos(S));
        s.on_mark(1, 50.0, Nanos(S + 2));
        // Slot 1 closes at a mark in slot 4: slot 1 gives 102/101 - 1, instrument 1 has no
        // previous price (0); slots 2 and 3 carry (0, 0).
        s.on_mark(1, 55.0, Nanos(4 * S));
        assert_eq!(s.rows(), 4);
        assert_eq!(s.row(1), &[102.0 / 101.0 - 1.0, 0.0]);
        assert_eq!(s.row(2), &[0.0, 0.0]);
        assert_eq!(s.row(3), &[0.0, 0.0]);
        assert_eq!(s.last_ts(), Nanos(4 * S));
        // close_until(5 s) closes slot 4: instrument 0 carried 102 (0), 1: 55/50 - 1 = 0.1.
        s.close_until(Nanos(5 * S));
        assert_eq!(s.rows(), 5);
        assert_eq!(s.row(4), &[0.0, 55.0 / 50.0 - 1.0]);
        // Closing again within the same slot records nothing.
        s.close_until(Nanos(5 * S + 7));
        assert_eq!(s.rows(), 5);
    }

    #[test]
    fn late_marks_update_the_open_slot_and_bad_marks_are_ignored() {
        let mut s = ReturnSampler::new(1, Nanos(S), 4);
        s.on_mark(0, 100.0, Nanos(3 * S));
        s.on_mark(0, 90.0, Nanos(S)); // earlier slot: becomes the open slot's price
        s.on_mark(0, f64::NAN, Nanos(3 * S));
        s.on_mark(0, -1.0, Nanos(3 * S));
        s.on_mark(7, 1.0, Nanos(3 * S));
        s.close_until(Nanos(4 * S));
        s.on_mark(0, 99.0, Nanos(4 * S));
        s.close_until(Nanos(5 * S));
        assert_eq!(s.rows(), 2);
        assert_eq!(s.row(1), &[99.0 / 90.0 - 1.0]);
    }

    #[test]
    fn the_window_keeps_the_newest_rows() {
        let mut s = ReturnSampler::new(1, Nanos(S), 3);
        for k in 0..5 {
            s.push_row(&[k as f64]);
        }
        assert_eq!(s.rows(), 3);
        assert_eq!([s.row(0)[0], s.row(1)[0], s.row(2)[0]], [2.0, 3.0, 4.0]);
        // A long gap records at most a window of carried rows.
        s.on_mark(0, 1.0, Nanos(0));
        s.on_mark(0, 2.0, Nanos(1_000 * S));
        assert_eq!(s.rows(), 3);
        assert_eq!([s.row(0)[0], s.row(1)[0], s.row(2)[0]], [0.0, 0.0, 0.0]);
    }
}
