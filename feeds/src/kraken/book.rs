//! The adapter's own copy of a Kraken book, kept to verify the venue's checksum: per side, the
//! levels in the subscribed depth, sorted best first in a preallocated ring (`VecDeque`) of
//! exact mantissas. Inserting or deleting a level shifts the levels on its shorter side, so a
//! change near the touch (where nearly all of them are) moves a few levels, not the depth
//! behind it (a `Vec` moved up to 16 KB per change at depth 1000), and truncating to the depth
//! pops from the back. Nothing allocates after construction.

use std::collections::VecDeque;

use crate::book::Level;
use crate::kraken::frame::{MAX_DEPTH, MAX_LEVELS_PER_MESSAGE};
use crate::num::{Px, Qty, Side};

/// One side, best first: asks ascending, bids descending.
pub struct BookSide {
    side: Side,
    levels: VecDeque<Level>,
}

/// Room per side: the deepest subscription plus every level one message may add before it is
/// truncated back to the depth.
const SIDE_CAPACITY: usize = MAX_DEPTH + MAX_LEVELS_PER_MESSAGE;

impl BookSide {
    pub fn new(side: Side) -> BookSide {
        BookSide {
            side,
            levels: VecDeque::with_capacity(SIDE_CAPACITY),
        }
    }

    /// The levels, best first.
    pub fn levels(&self) -> std::collections::vec_deque::Iter<'_, Level> {
        self.levels.iter()
    }

    pub fn len(&self) -> usize {
        self.levels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.levels.is_empty()
    }

    pub fn clear(&mut self) {
        self.levels.clear();
    }

    /// Sets `px` to `qty` (0 deletes). `false` when the level could not be stored: the side
    /// is full (never with messages the codec accepts).
    pub fn apply(&mut self, px: Px, qty: Qty) -> bool {
        let found = match self.side {
            Side::Sell => self.levels.binary_search_by(|l| l.px.cmp(&px)),
            Side::Buy => self.levels.binary_search_by(|l| px.cmp(&l.px)),
        };
        match (found, qty.0) {
            (Ok(i), 0) => {
                self.levels.remove(i);
            }
            (Ok(i), _) => {
                if let Some(l) = self.levels.get_mut(i) {
                    l.qty = qty;
                }
            }
            (Err(_), 0) => {}
            (Err(i), _) => {
                if self.levels.len() == self.levels.capacity() {
                    return false;
                }
                self.levels.insert(i, Level { px, qty });
            }
        }
        true
    }

    /// Drops the levels beyond `depth`, showing each to `dropped`: Kraken sends no delete for
    /// a level pushed out of the subscribed depth.
    pub fn truncate(&mut self, depth: usize, mut dropped: impl FnMut(Side, Level)) {
        for l in self.levels.range(depth.min(self.levels.len())..) {
            dropped(self.side, *l);
        }
        self.levels.truncate(depth);
    }
}
