//! Position and PnL of one instrument, exact: quantities at the quantity scale, money at the
//! notional scale (price scale + quantity scale) in `i128`.
//!
//! `cost` is the signed cost basis of the open position (positive when long). Reducing a
//! position releases cost in proportion (average-cost method); the integer division there is
//! the only rounding, at one unit of the notional scale.
//!
//! Funding a derivatives venue settles is realized PnL (as Binance books it): it moves
//! `realized`, and `funding` says how much of `realized` it was.

use pulse_core::num::{Px, Qty, Side};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Position {
    pub qty: Qty,
    pub cost: i128,
    pub realized: i128,
    pub fees: i128,
    /// Funding paid (negative: received), already in `realized`.
    pub funding: i128,
    pub fills: u64,
    pub bought: Qty,
    pub sold: Qty,
}

impl Position {
    pub fn apply_fill(&mut self, side: Side, px: Px, qty: Qty, fee: i128) {
        self.fills += 1;
        self.fees += fee;
        match side {
            Side::Buy => self.bought.0 += qty.0,
            Side::Sell => self.sold.0 += qty.0,
        }
        let signed = side.sign() * qty.0;
        let pos = self.qty.0;
        if pos == 0 || pos.signum() == signed.signum() {
            self.qty.0 += signed;
            self.cost += px.0 as i128 * signed as i128;
            return;
        }
        let closing = signed.abs().min(pos.abs());
        let released = self.cost * closing as i128 / pos.abs() as i128;
        self.realized += pos.signum() as i128 * px.0 as i128 * closing as i128 - released;
        self.cost -= released;
        self.qty.0 += pos.signum() * -closing;
        let opening = signed.abs() - closing;
        if opening > 0 {
            let reopened = signed.signum() * opening;
            self.qty.0 = reopened;
            self.cost = px.0 as i128 * reopened as i128;
        }
        if self.qty.0 == 0 {
            self.cost = 0;
        }
    }

    /// Funding settled on the position: `paid` leaves realized PnL (a negative amount adds).
    pub fn apply_funding(&mut self, paid: i128) {
        self.realized -= paid;
        self.funding += paid;
    }

    /// Mark-to-market PnL of the open position at `mark`.
    pub fn unrealized(&self, mark: Px) -> i128 {
        self.qty.0 as i128 * mark.0 as i128 - self.cost
    }

    /// Average entry price at the price scale (rounded toward zero); `None` when flat.
    pub fn avg_px(&self) -> Option<Px> {
        (self.qty.0 != 0).then(|| Px((self.cost / self.qty.0 as i128) as i64))
    }
}

/// What the checks need to know of the account for this instrument.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Exposure {
    pub position: Qty,
    pub working_buy: Qty,
    pub working_sell: Qty,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_round_trip_realizes_exactly() {
        let mut p = Position::default();
        p.apply_fill(Side::Buy, Px(100), Qty(2), 1);
        p.apply_fill(Side::Buy, Px(110), Qty(2), 1);
        assert_eq!((p.qty, p.cost, p.avg_px()), (Qty(4), 420, Some(Px(105))));
        assert_eq!(p.unrealized(Px(120)), 480 - 420);
        p.apply_fill(Side::Sell, Px(120), Qty(1), 1);
        assert_eq!((p.qty, p.cost, p.realized), (Qty(3), 315, 15));
        p.apply_fill(Side::Sell, Px(90), Qty(3), 1);
        assert_eq!((p.qty, p.cost, p.realized, p.fees), (Qty(0), 0, 15 - 45, 4));
        assert_eq!((p.bought, p.sold, p.fills), (Qty(4), Qty(4), 4));
    }

    #[test]
    fn funding_is_realized_and_kept_apart() {
        let mut p = Position::default();
        p.apply_fill(Side::Buy, Px(100), Qty(2), 0);
        p.apply_funding(3);
        p.apply_funding(-1);
        assert_eq!((p.realized, p.funding, p.qty, p.cost), (-2, 2, Qty(2), 200));
    }

    #[test]
    fn flipping_through_zero_opens_the_rest_at_the_fill_price() {
        let mut p = Position::default();
        p.apply_fill(Side::Buy, Px(100), Qty(1), 0);
        p.apply_fill(Side::Sell, Px(105), Qty(3), 0);
        assert_eq!((p.qty, p.cost, p.realized), (Qty(-2), -210, 5));
        assert_eq!(p.unrealized(Px(100)), -200 + 210);
        p.apply_fill(Side::Buy, Px(95), Qty(2), 0);
        assert_eq!((p.qty, p.cost, p.realized), (Qty(0), 0, 5 + 20));
    }
}
