//! The obvious L2 book, an ordered map per side, that `L2Book` is checked against: by the
//! property tests in `book_props.rs` and by the fuzz target `binance_book`, which includes this
//! file with `#[path]`.

use std::collections::BTreeMap;

use pulse_feeds::book::{Apply, Level};
use pulse_feeds::num::{Px, Qty, Side};

/// The reference: ordered maps, with the same bound rule as the book (a full side evicts its
/// worst level for a better new one, and drops a new one worse than all it holds).
pub struct Reference {
    bids: BTreeMap<i64, i64>,
    asks: BTreeMap<i64, i64>,
    bound: usize,
}

impl Reference {
    pub fn new(bound: usize) -> Reference {
        Reference {
            bids: BTreeMap::new(),
            asks: BTreeMap::new(),
            bound,
        }
    }

    pub fn clear(&mut self) {
        self.bids.clear();
        self.asks.clear();
    }

    fn side(&mut self, side: Side) -> &mut BTreeMap<i64, i64> {
        match side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        }
    }

    pub fn apply(&mut self, side: Side, px: i64, qty: i64) -> Apply {
        if px <= 0 || qty < 0 {
            return Apply::Invalid;
        }
        let bound = self.bound;
        let map = self.side(side);
        if qty == 0 {
            return match map.remove(&px) {
                Some(_) => Apply::Removed,
                None => Apply::RemovedAbsent,
            };
        }
        if let Some(stored) = map.get_mut(&px) {
            *stored = qty;
            return Apply::Updated;
        }
        if map.len() < bound {
            map.insert(px, qty);
            return Apply::Inserted;
        }
        let worst = match side {
            Side::Buy => map.keys().next(),
            Side::Sell => map.keys().next_back(),
        };
        let Some(&worst) = worst else {
            return Apply::Truncated;
        };
        let worse_than_worst = match side {
            Side::Buy => px < worst,
            Side::Sell => px > worst,
        };
        if worse_than_worst {
            return Apply::Truncated;
        }
        map.remove(&worst);
        map.insert(px, qty);
        Apply::Evicted
    }

    /// Best first.
    pub fn levels(&self, side: Side) -> Vec<Level> {
        let level = |(&px, &qty): (&i64, &i64)| Level {
            px: Px(px),
            qty: Qty(qty),
        };
        match side {
            Side::Buy => self.bids.iter().rev().map(level).collect(),
            Side::Sell => self.asks.iter().map(level).collect(),
        }
    }

    pub fn qty_at(&self, side: Side, px: i64) -> Qty {
        let map = match side {
            Side::Buy => &self.bids,
            Side::Sell => &self.asks,
        };
        Qty(map.get(&px).copied().unwrap_or(0))
    }

    pub fn crossed(&self) -> bool {
        match (self.bids.keys().next_back(), self.asks.keys().next()) {
            (Some(bid), Some(ask)) => bid >= ask,
            _ => false,
        }
    }
}
