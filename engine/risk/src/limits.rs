//! The limits risk enforces, as the engine's config hands them over: per instrument
//! (`[[instruments]]`) and for the whole portfolio (`[risk]`). Risk owns these types; the
//! config reads into them.

use pulse_core::num::{Nanos, Qty};

use crate::sizing::Sizing;

/// Pre-trade limits of one instrument. An instrument cannot be configured without them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstrumentLimits {
    pub max_order_qty: Qty,
    /// Mantissa at the instrument's notional scale (`price_scale + qty_scale`).
    pub max_order_notional: i128,
    pub max_position: Qty,
    pub price_collar_bps: u32,
    /// How old the reference price for the collar may be.
    pub max_ref_age: Nanos,
}

/// The portfolio-wide limits, from `[risk]`. Money at the account scale.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortfolioLimits {
    /// What the account holds at start; committed capital may not pass it.
    pub capital: i128,
    /// Sum over instruments of |position| at its mark, each at the worse of its two sides
    /// with its working orders filled.
    pub max_gross_exposure: i128,
    /// One instrument's position at its mark, as a share of equity, in bps (10% = 1000).
    pub max_position_share_bps: u32,
    pub max_open_orders: usize,
    /// Messages (orders and cancels) per `throttle_window`.
    pub max_messages: u32,
    pub throttle_window: Nanos,
    /// The same order again within this is a duplicate (as is one equal to a working order).
    pub duplicate_window: Nanos,
    /// Fills after which trading pauses until a re-arm.
    pub max_auto_fills: u64,
    /// The day's loss at which trading stops for the day.
    pub daily_loss_limit: i128,
    pub drawdown_halve_bps: u32,
    pub drawdown_restrict_bps: u32,
    pub drawdown_stop_bps: u32,
    /// Signals less sure than this are refused, in bps.
    pub min_confidence_bps: u16,
    pub sizing: Sizing,
}

impl PortfolioLimits {
    /// The defaults around a capital: gross exposure up to the capital, 10% of equity per
    /// instrument, 32 open orders, 80 messages per 10 s (below Binance spot's 100 orders per
    /// 10 s), duplicates within 100 ms, a pause after 10,000 fills, a daily loss of 5% of
    /// capital, drawdown levels 5/10/15%, 60% minimum confidence, the strategy's own sizes.
    pub fn with_capital(capital: i128) -> PortfolioLimits {
        PortfolioLimits {
            capital,
            max_gross_exposure: capital,
            max_position_share_bps: 1_000,
            max_open_orders: 32,
            max_messages: 80,
            throttle_window: Nanos::from_millis(10_000),
            duplicate_window: Nanos::from_millis(100),
            max_auto_fills: 10_000,
            daily_loss_limit: capital / 20,
            drawdown_halve_bps: 500,
            drawdown_restrict_bps: 1_000,
            drawdown_stop_bps: 1_500,
            min_confidence_bps: 6_000,
            sizing: Sizing::Strategy,
        }
    }
}
