//! An L2 order book indexed by tick near the touch, that never allocates after construction.
//!
//! Most of a venue's traffic lands near the touch, so each side keeps a *window* of
//! [`BookSpec::window_ticks`] consecutive ticks as a plain array of quantities indexed by tick,
//! with one occupancy bit per tick beside it (the layout of hftbacktest's
//! `ROIVectorMarketDepth`). Inside the window, setting, deleting and reading a level is an index,
//! and the best price is tracked, so [`L2Book::best`] is O(1); when the best level is deleted,
//! the next one is found by scanning the bits downwards, 64 ticks per word. Each side also keeps
//! its ten best levels as they change, so [`L2Book::top`] (a commit's top of book) is a copy;
//! deeper reads walk the bits the same way.
//!
//! Unlike a fixed region of interest, nothing outside the window is lost: levels beyond it, and
//! prices that are not a multiple of the tick (the venue's data is authoritative, even when it
//! disagrees with the configured tick), are kept exactly in a sorted *overflow* array, worst
//! first, so that levels just behind the window move little when inserted or deleted. The best
//! of a side is the better of the window's best and the overflow's last.
//!
//! The window follows the touch. After a re-centre the best tick sits three quarters of the way
//! up the window (a quarter of it above the touch for the touch to improve into, three quarters
//! below for the depth); when the best moves above the window or into its lowest quarter, the
//! window is moved to put it back there, moving only the levels that leave or enter it (the
//! window is a ring indexed by `tick mod width`). All storage is sized at construction:
//! re-centring, clearing and eviction never allocate.
//!
//! The bound is on levels per side, window and overflow together, and the overflow is sized to
//! hold the whole side, so re-centring can never drop a level. When a side is full, a new level
//! better than the worst stored one evicts that worst level ([`Apply::Evicted`]); a new level
//! worse than everything stored is dropped ([`Apply::Truncated`]). Both are reported rather than
//! hidden so the caller can count them: after either, the levels beyond the stored ones are no
//! longer known, and depth far from the touch may read thinner than the venue's book.

mod ladder;
mod occupancy;
#[cfg(test)]
mod tests;

use crate::num::{Px, Qty, Side};
use ladder::Ladder;

pub use crate::event::Level;

/// What [`L2Book::apply`] did. Every case is a normal outcome the caller may count; none of them
/// leaves the book inconsistent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Apply {
    /// A new level was stored.
    Inserted,
    /// An existing level's quantity was replaced.
    Updated,
    /// An existing level was deleted.
    Removed,
    /// A delete for a level the book does not hold. Venues send these routinely (and the level
    /// may have been evicted earlier), so it is not an error.
    RemovedAbsent,
    /// The side was full: the new level was stored and the worst stored level dropped.
    Evicted,
    /// The side was full and the new level was worse than every stored one, so it was dropped.
    Truncated,
    /// Negative quantity or non-positive price; the book is unchanged.
    Invalid,
}

/// How a book is laid out: the instrument's tick, the width of the window around the touch,
/// and the bound on stored levels per side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BookSpec {
    /// The instrument's price increment in mantissa units
    /// ([`Instrument::tick`](crate::instrument::Instrument::tick)). A non-positive tick is taken
    /// as 1, which puts every price on the grid.
    pub tick: Px,
    /// Ticks per side indexed directly, rounded up to a power of two of at least 256 (the window
    /// is placed in steps of 64 ticks). Each costs 8 bytes per side.
    pub window_ticks: usize,
    /// Levels stored per side at most, window and overflow together (0 is taken as 1). Each
    /// costs 16 bytes per side of overflow storage.
    pub levels_per_side: usize,
}

impl BookSpec {
    /// 65,536 ticks (655.36 USDT for BTCUSDT at a 0.01 tick): on the bundled BTCUSDT capture,
    /// 92% of the depth updates land inside it, against 57% for 4,096 ticks, and every update
    /// outside costs a binary search and a shift of the overflow (`pulse-bench book`: 4,096
    /// ticks were no faster than a `BTreeMap` at p50 and slower at p99). 512 KiB of quantities
    /// per side, allocated zeroed, so the pages the book never touches take no memory.
    pub const WINDOW_TICKS: usize = 65_536;

    /// A spec with the default window.
    pub fn new(tick: Px, levels_per_side: usize) -> BookSpec {
        BookSpec {
            tick,
            window_ticks: BookSpec::WINDOW_TICKS,
            levels_per_side,
        }
    }
}

/// A two-sided L2 book with a bounded number of levels per side.
///
/// ```
/// use pulse_feeds::book::{Apply, BookSpec, L2Book, Level};
/// use pulse_feeds::num::{Px, Qty, Side};
///
/// // A tick of 5 mantissa units, at most 2 levels per side.
/// let mut book = L2Book::new(BookSpec::new(Px(5), 2));
/// assert_eq!(book.apply(Side::Buy, Px(100), Qty(5)), Apply::Inserted);
/// assert_eq!(book.apply(Side::Buy, Px(105), Qty(1)), Apply::Inserted);
/// assert_eq!(book.apply(Side::Buy, Px(95), Qty(7)), Apply::Truncated);
/// // Off the tick grid, and still kept exactly.
/// assert_eq!(book.apply(Side::Buy, Px(107), Qty(2)), Apply::Evicted);
/// assert_eq!(book.apply(Side::Sell, Px(110), Qty(4)), Apply::Inserted);
/// assert_eq!(book.best_bid(), Some(Level { px: Px(107), qty: Qty(2) }));
/// assert_eq!(book.qty_at(Side::Buy, Px(100)), Qty(0));
/// assert_eq!(book.qty_at(Side::Buy, Px(105)), Qty(1));
/// assert!(!book.is_crossed());
/// ```
#[derive(Debug)]
pub struct L2Book {
    bids: Ladder,
    asks: Ladder,
    spec: BookSpec,
}

impl L2Book {
    /// The only allocating call: both sides' windows and overflows, sized by `spec` (after its
    /// adjustments, which [`L2Book::spec`] reports).
    pub fn new(spec: BookSpec) -> L2Book {
        let spec = BookSpec {
            tick: Px(spec.tick.0.max(1)),
            window_ticks: spec.window_ticks.max(256).next_power_of_two(),
            levels_per_side: spec.levels_per_side.max(1),
        };
        let side = |side| Ladder::new(side, spec.tick.0, spec.window_ticks, spec.levels_per_side);
        L2Book {
            bids: side(Side::Buy),
            asks: side(Side::Sell),
            spec,
        }
    }

    /// Empties both sides, keeping their storage (e.g. before applying a snapshot). Costs the
    /// levels present plus one word per 4,096 window ticks, not the window's width.
    pub fn clear(&mut self) {
        self.bids.clear();
        self.asks.clear();
    }

    /// Sets (`qty > 0`) or deletes (`qty == 0`) the level at `px` on `side`.
    #[inline]
    pub fn apply(&mut self, side: Side, px: Px, qty: Qty) -> Apply {
        if px.0 <= 0 || qty.0 < 0 {
            return Apply::Invalid;
        }
        match side {
            Side::Buy => self.bids.apply(px, qty),
            Side::Sell => self.asks.apply(px, qty),
        }
    }

    #[inline]
    pub fn best(&self, side: Side) -> Option<Level> {
        self.side(side).best()
    }

    #[inline]
    pub fn best_bid(&self) -> Option<Level> {
        self.bids.best()
    }

    #[inline]
    pub fn best_ask(&self) -> Option<Level> {
        self.asks.best()
    }

    /// True when both sides are non-empty and the best bid is at or above the best ask: a sign of
    /// a missed or out-of-order update. An empty side is never crossed.
    #[inline]
    pub fn is_crossed(&self) -> bool {
        match (self.best_bid(), self.best_ask()) {
            (Some(bid), Some(ask)) => bid.px >= ask.px,
            _ => false,
        }
    }

    /// Number of levels stored on `side`, at most [`L2Book::capacity`].
    pub fn depth(&self, side: Side) -> usize {
        self.side(side).len()
    }

    /// Levels per side (after the 0-to-1 adjustment).
    pub fn capacity(&self) -> usize {
        self.spec.levels_per_side
    }

    /// The layout in use: the spec given to [`L2Book::new`] after its adjustments.
    pub fn spec(&self) -> BookSpec {
        self.spec
    }

    /// Quantity resting at `px` on `side`, or `Qty(0)` if the book holds no such level. O(1)
    /// inside the window, a binary search of the overflow outside it.
    #[inline]
    pub fn qty_at(&self, side: Side, px: Px) -> Qty {
        self.side(side).qty_at(px)
    }

    /// Copies up to `out.len()` levels of `side` into `out`, best first, and returns how many;
    /// the caller owns the buffer so that taking a snapshot does not allocate.
    #[inline]
    pub fn top(&self, side: Side, out: &mut [Level]) -> usize {
        self.side(side).top(out)
    }

    /// All stored levels of `side`, best first.
    #[inline]
    pub fn levels(&self, side: Side) -> impl Iterator<Item = Level> + '_ {
        self.side(side).levels()
    }

    /// Sum of the quantities of the best `n` levels of `side`. Saturates rather than wrapping so
    /// that absurd venue quantities cannot produce a negative total.
    pub fn total_qty(&self, side: Side, n: usize) -> i64 {
        self.levels(side)
            .take(n)
            .fold(0i64, |total, level| total.saturating_add(level.qty.0))
    }

    #[inline]
    fn side(&self, side: Side) -> &Ladder {
        match side {
            Side::Buy => &self.bids,
            Side::Sell => &self.asks,
        }
    }
}
