//! Derivatives margin for a linear perpetual, as risk applies it: the chosen leverage against
//! the venue's tiers, the initial margin an order's resulting position needs, the margin
//! ratio, and (in [`guard`]) the auto-deleverage guard. The venue's own rules (tiers,
//! maintenance margin, liquidation price) are [`pulse_core::margin`]'s, shared with the
//! simulated venue so that both find the same prices.
//!
//! Money: the tiers are configured at [`ACCOUNT_SCALE`] (the pre-trade check compares them
//! with the account's notionals and balances); position math (the guard, liquidation prices)
//! runs at the instrument's notional scale with the same tiers rescaled once, at
//! [`MarginSettings::new`]. Everything on the check path is integer and allocation-free.

use pulse_core::margin::{price_at_ratio, BPS};
use pulse_core::num::{Px, Qty, Side};

use crate::account::{Account, ACCOUNT_SCALE};
use crate::position::Exposure;

pub mod guard;

pub use guard::{Guard, GuardAction};
pub use pulse_core::margin::{IsolatedPosition, MarginTier, MarginTiers};

/// One instrument's margin settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MarginSettings {
    leverage: u32,
    /// The venue's tiers at the account scale.
    tiers: MarginTiers,
    /// The same at the instrument's notional scale.
    position_tiers: MarginTiers,
    call_bps: u32,
    reduce_bps: u32,
}

impl MarginSettings {
    /// `leverage` as set on the venue; `tiers` at the account scale; the margin-call alert at
    /// a margin ratio (maintenance margin / margin balance) of `call_bps`, the reduction at
    /// `reduce_bps`; `notional_scale` the instrument's. Refused: a leverage the first tier does
    /// not allow, levels out of order (`call < reduce < 10000`), a call level not above every
    /// tier's maintenance rate (the ratio could never come back under it), tiers that do not
    /// rescale exactly.
    pub fn new(
        leverage: u32,
        tiers: MarginTiers,
        call_bps: u32,
        reduce_bps: u32,
        notional_scale: u32,
    ) -> Result<MarginSettings, String> {
        let first = tiers.tiers().first().map_or(0, |t| t.max_leverage);
        if leverage == 0 || leverage > first {
            return Err(format!("leverage {leverage} is not within 1 to {first}"));
        }
        if !(call_bps < reduce_bps && i128::from(reduce_bps) < BPS) {
            return Err("margin levels must rise: call < reduce < 10000 bps".into());
        }
        let top = tiers.tiers().last().map_or(0, |t| t.mmr_bps);
        if call_bps <= top {
            return Err(format!(
                "the call level {call_bps} bps must be above every maintenance rate (up to {top})"
            ));
        }
        let position_tiers = tiers.rescaled(ACCOUNT_SCALE, notional_scale)?;
        Ok(MarginSettings {
            leverage,
            tiers,
            position_tiers,
            call_bps,
            reduce_bps,
        })
    }

    pub fn leverage(&self) -> u32 {
        self.leverage
    }

    /// The tiers at the account scale.
    pub fn tiers(&self) -> &MarginTiers {
        &self.tiers
    }

    /// The tiers at the instrument's notional scale, for position math.
    pub fn position_tiers(&self) -> &MarginTiers {
        &self.position_tiers
    }

    pub fn call_bps(&self) -> u32 {
        self.call_bps
    }

    pub fn reduce_bps(&self) -> u32 {
        self.reduce_bps
    }

    /// Initial margin of a position of `notional` (either sign, any scale) at the leverage:
    /// `|notional| / leverage`, rounded up.
    pub fn initial_margin(&self, notional: i128) -> i128 {
        pulse_core::margin::ceil_div(notional.abs(), i128::from(self.leverage))
    }

    /// The price at which `pos`'s margin ratio reaches the reduction level: the guard asks
    /// for a cut from there on, before the venue's liquidation price.
    pub fn reduce_price(&self, pos: &IsolatedPosition) -> Option<Px> {
        price_at_ratio(&self.position_tiers, pos, self.reduce_bps)
    }
}

/// A margined instrument as the risk stage runs it: its settings and the margin put up for it.
///
/// The venue (Binance's isolated mode, and the simulated venue) keeps the position's initial
/// margin `|cost| / leverage` as its isolated margin and the rest of `margin` in the wallet;
/// it liquidates on the isolated margin alone. So:
/// - the pre-trade check ([`margin_check`]) lets the instrument use `margin` plus its realized
///   PnL (fees and funding included) as the available balance;
/// - the guard ([`Guard::assess`]) reads the ratio on the isolated margin as the venue keeps
///   it, `ceil(|cost| / leverage)` (exact for a position opened in one fill, otherwise at
///   most the venue's figure: the guard then sees a higher ratio and acts earlier). A cut
///   releases margin in proportion there, which leaves a first-tier ratio unchanged: the
///   risk stage assesses again as each cut ends, and keeps cutting while the ratio stays at
///   the reduce level (in isolated mode, to flat, at the reduce price).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstrumentMargin {
    pub guard: Guard,
    /// The margin put up for the instrument, at the account scale.
    pub margin: i128,
    /// Whether a cut goes out (`false`: the guard only alerts, and the venue liquidates).
    pub deleverage: bool,
}

impl InstrumentMargin {
    /// The margin balance the pre-trade check lets instrument `i` use: `margin` plus the
    /// instrument's realized PnL less fees (funding included), at the account scale.
    pub fn available(&self, account: &Account, i: usize) -> i128 {
        self.margin + account.realized_of(i)
    }

    /// The venue's isolated margin of `position` (notional scale): `ceil(|cost| / leverage)`.
    pub fn isolated(&self, position: &crate::position::Position) -> i128 {
        self.guard.settings().initial_margin(position.cost)
    }
}

/// The margin ratio `maintenance margin / equity` in bps, rounded down; `u32::MAX` when the
/// equity is gone. `notional` and `equity` in the tiers' money unit.
pub fn margin_ratio_bps(tiers: &MarginTiers, notional: i128, equity: i128) -> u32 {
    if equity <= 0 {
        return u32::MAX;
    }
    let mm = tiers.maintenance_bps(notional).max(0);
    u32::try_from(mm / equity).unwrap_or(u32::MAX)
}

/// Why the margin check refused an order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarginReject {
    /// The resulting notional is in a tier whose maximum leverage is below the one set (or
    /// beyond the last tier).
    TierLeverage,
    /// The resulting position's initial margin does not fit the available margin balance.
    InsufficientMargin,
}

/// The side, price and (sized) quantity of an order the margin check looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MarginOrder {
    pub side: Side,
    pub px: Px,
    pub qty: Qty,
}

/// The pre-trade margin check of an order on instrument `i`. The position it would leave,
/// with every working order on its side filled too (as the position limit counts it), is
/// valued at the order's price; its notional must be in a tier allowing the leverage set,
/// and its initial margin must fit `available`: the margin balance this instrument may use,
/// at the account scale (the caller's: equity less the initial margin other instruments
/// hold). An order that only reduces that position always passes. O(tiers) integer
/// arithmetic, no allocation.
pub fn margin_check(
    settings: &MarginSettings,
    account: &Account,
    i: usize,
    exposure: Exposure,
    order: MarginOrder,
    available: i128,
) -> Result<(), MarginReject> {
    let pos = i128::from(exposure.position.0);
    let after = match order.side {
        Side::Buy => pos + i128::from(exposure.working_buy.0) + i128::from(order.qty.0),
        Side::Sell => pos - i128::from(exposure.working_sell.0) - i128::from(order.qty.0),
    };
    if after.abs() <= pos.abs() && after.signum() * pos.signum() >= 0 {
        return Ok(());
    }
    let notional = account.notional_wide(i, order.px, after);
    match settings.tiers.tier(notional) {
        Some(t) if t.max_leverage >= settings.leverage => {}
        _ => return Err(MarginReject::TierLeverage),
    }
    if settings.initial_margin(notional) > available {
        return Err(MarginReject::InsufficientMargin);
    }
    Ok(())
}

/// One margined instrument's guard state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MarginWatch {
    /// The margin ratio at the last mid, in bps (`u32::MAX`: no equity left); `None` while
    /// flat or not margined.
    pub ratio_bps: Option<u32>,
    /// The ratio is at or above the call level (the call was counted).
    pub(crate) called: bool,
}

#[cfg(test)]
mod tests;
