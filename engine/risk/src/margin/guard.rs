//! The auto-deleverage guard: reads a position's margin ratio at the mark and, before the
//! venue would liquidate, asks for an alert or a cut.
//!
//! Levels, on the margin ratio `MM / equity` (equity = the position's margin balance plus its
//! unrealized PnL): at the call level an alert; at the reduce level a cut of the quantity
//! that brings the ratio back *below the call level*. The venue liquidates at 100%, so with
//! `call < reduce < 100%` the cut is asked for first (see `reduce_price`).
//!
//! **The cut.** A cut at the mark realizes the cut part's unrealized PnL into the margin
//! balance, so the equity `E` stays as it is (fees aside), while the maintenance margin falls
//! with the notional. The largest notional that is below the call level is the largest `n`
//! with `n * mmr_k - cum_k < call * E` within tier `k`'s bounds, i.e.
//! `n < (call * E + cum_k) / mmr_k`, the best over the tiers (the maintenance margin rises
//! with the notional, so that is the bound). The position kept is `floor(n / mark)`, and the
//! cut, `|qty| - kept`, is rounded *up* to the lot (rounding it down would leave the ratio at
//! or above the call level), at most the whole position. With no equity left the cut is
//! everything. This is the cross-margin view, where the margin balance is the account's: in
//! Binance's isolated mode a cut releases the margin in proportion, which leaves the ratio of
//! the first tier unchanged, and the cure there is adding margin.

use pulse_core::margin::{ceil_div, price_at_ratio, IsolatedPosition, BPS};
use pulse_core::num::{Px, Qty};

use crate::margin::MarginSettings;
use crate::position::Position;

/// What the guard asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GuardAction {
    None,
    /// The margin ratio is at or above the call level.
    Alert,
    /// The margin ratio is at or above the reduce level: cut `qty` (a lot multiple, or the
    /// whole position) to bring it back below the call level.
    Reduce {
        qty: Qty,
    },
}

/// The guard of one instrument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Guard {
    settings: MarginSettings,
    lot: Qty,
}

impl Guard {
    pub fn new(settings: MarginSettings, lot: Qty) -> Guard {
        Guard {
            settings,
            lot: Qty(lot.0.max(1)),
        }
    }

    pub fn settings(&self) -> &MarginSettings {
        &self.settings
    }

    /// The action for `position` at `mark` with `margin` of margin balance behind it (the
    /// instrument's notional scale, unrealized PnL not included). O(tiers), no allocation.
    pub fn assess(&self, position: &Position, mark: Px, margin: i128) -> GuardAction {
        let pos = isolated(position, margin);
        let tiers = self.settings.position_tiers();
        if pos.qty.0 == 0 {
            return GuardAction::None;
        }
        if pos.at_ratio(tiers, mark, self.settings.reduce_bps()) {
            return GuardAction::Reduce {
                qty: self.cut(&pos, mark),
            };
        }
        if pos.at_ratio(tiers, mark, self.settings.call_bps()) {
            return GuardAction::Alert;
        }
        GuardAction::None
    }

    /// The first price at which [`Guard::assess`] asks for a cut.
    pub fn reduce_price(&self, position: &Position, margin: i128) -> Option<Px> {
        self.settings.reduce_price(&isolated(position, margin))
    }

    /// The venue's liquidation price of `position` with `margin` in isolated mode.
    pub fn liquidation_price(&self, position: &Position, margin: i128) -> Option<Px> {
        price_at_ratio(
            self.settings.position_tiers(),
            &isolated(position, margin),
            BPS as u32,
        )
    }

    fn cut(&self, pos: &IsolatedPosition, mark: Px) -> Qty {
        let size = pos.qty.0.abs();
        let equity = pos.equity(mark);
        if equity <= 0 || mark.0 <= 0 {
            return Qty(size);
        }
        let call = i128::from(self.settings.call_bps()) * equity;
        let tiers = self.settings.position_tiers().tiers();
        let mut target: i128 = 0;
        for (k, t) in tiers.iter().enumerate() {
            let lower = if k == 0 { 0 } else { tiers[k - 1].max_notional };
            let upper = if k + 1 == tiers.len() {
                i128::MAX
            } else {
                t.max_notional
            };
            let bound = if t.mmr_bps == 0 {
                upper
            } else {
                ceil_div(call + t.maintenance_amount * BPS, i128::from(t.mmr_bps)) - 1
            };
            let n = bound.min(upper);
            if n > lower || k == 0 {
                target = target.max(n);
            }
        }
        let kept = (target.max(0) / i128::from(mark.0)).min(i128::from(size));
        let lot = i128::from(self.lot.0);
        let cut = ceil_div(i128::from(size) - kept, lot) * lot;
        Qty(cut.clamp(lot.min(i128::from(size)), i128::from(size)) as i64)
    }
}

fn isolated(position: &Position, margin: i128) -> IsolatedPosition {
    IsolatedPosition {
        qty: position.qty,
        cost: position.cost,
        margin,
    }
}
