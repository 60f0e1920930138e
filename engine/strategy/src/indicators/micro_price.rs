//! Micro-price: the mid leaned towards the side about to be consumed, a better short-horizon
//! estimate of the next trade price than the mid itself.

use pulse_core::event::Level;

/// `(bid_px ask_qty + ask_px bid_qty) / (bid_qty + ask_qty)`: with much more size on the bid,
/// the ask is the likelier side to be taken out, and the micro-price sits near the ask.
///
/// Kept as its offset from the mid, `spread (bid_qty - ask_qty) / (2 (bid_qty + ask_qty))`
/// (the same quantity, rearranged), formed in exact integers: the offset is what a strategy
/// uses, and subtracting two nearly equal large prices in `f64` would lose digits of it.
///
/// ```
/// use pulse_strategy::indicators::MicroPrice;
/// use pulse_core::event::Level;
/// use pulse_core::num::{Px, Qty};
/// let mut micro = MicroPrice::default();
/// micro.update(Level { px: Px(100), qty: Qty(3) }, Level { px: Px(102), qty: Qty(1) });
/// assert_eq!((micro.value(), micro.mid(), micro.offset()), (101.5, 101.0, 0.5));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct MicroPrice {
    /// `bid_px + ask_px`: twice the mid, exact.
    mid2: i64,
    offset: f64,
    ready: bool,
}

impl MicroPrice {
    /// Takes the best bid and ask. Ignored if either quantity is not positive.
    pub fn update(&mut self, bid: Level, ask: Level) {
        if bid.qty.0 <= 0 || ask.qty.0 <= 0 {
            return;
        }
        let spread = ask.px.0 as i128 - bid.px.0 as i128;
        let tilt = bid.qty.0 as i128 - ask.qty.0 as i128;
        let total = bid.qty.0 as i128 + ask.qty.0 as i128;
        self.mid2 = bid.px.0.wrapping_add(ask.px.0);
        self.offset = (spread * tilt) as f64 / (2 * total) as f64;
        self.ready = true;
    }

    /// The micro-price in price-mantissa units; 0 before the first book.
    pub fn value(&self) -> f64 {
        self.mid() + self.offset
    }

    /// Micro-price minus mid, in price-mantissa units.
    pub fn offset(&self) -> f64 {
        self.offset
    }

    /// The mid of the last book taken, in price-mantissa units.
    pub fn mid(&self) -> f64 {
        self.mid2 as f64 / 2.0
    }

    pub fn is_ready(&self) -> bool {
        self.ready
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indicators::testkit::{assert_close, Rng};
    use pulse_core::num::{Px, Qty};

    #[test]
    fn matches_the_textbook_formula_over_random_tops() {
        let mut rng = Rng::new(10);
        let mut micro = MicroPrice::default();
        assert!(!micro.is_ready());
        for _ in 0..3_000 {
            let bid_px = rng.range(5_000_000, 7_000_000);
            let bid = Level {
                px: Px(bid_px),
                qty: Qty(rng.range(1, 2_000_000_000)),
            };
            let ask = Level {
                px: Px(bid_px + rng.range(1, 50)),
                qty: Qty(rng.range(1, 2_000_000_000)),
            };
            micro.update(bid, ask);
            let (bp, bq, ap, aq) = (
                bid.px.0 as f64,
                bid.qty.0 as f64,
                ask.px.0 as f64,
                ask.qty.0 as f64,
            );
            let expected = (bp * aq + ap * bq) / (bq + aq);
            assert_close(micro.value(), expected, 1.0, "micro-price");
            // The offset from the same formula with prices taken relative to the bid (exact in
            // f64), so the reference does not lose the offset's digits to the price level.
            let spread = ap - bp;
            let offset = spread * bq / (bq + aq) - spread / 2.0;
            assert_close(micro.offset(), offset, 1.0, "offset");
        }
    }

    #[test]
    fn balanced_and_empty_sides() {
        let level = |px, qty| Level {
            px: Px(px),
            qty: Qty(qty),
        };
        let mut micro = MicroPrice::default();
        micro.update(level(100, 5), level(101, 0));
        assert!(!micro.is_ready(), "an empty level has no price to lean to");
        micro.update(level(100, 5), level(101, 5));
        assert_eq!((micro.value(), micro.offset()), (100.5, 0.0));
        micro.update(level(100, 1), level(101, 3));
        assert_eq!(micro.value(), 100.25, "more on the ask: towards the bid");
    }
}
