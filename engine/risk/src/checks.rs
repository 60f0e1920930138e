//! The pre-trade check chain. Each check is O(1) integer arithmetic on state the risk stage
//! keeps up to date (the account's totals, the order table's per-instrument sums, fixed-size
//! throttle and duplicate windows); the first failure is the reason. The order, cheapest and
//! most fundamental first, is [`RejectReason::ALL`]'s:
//!
//! 1. kill switch; unknown instrument (an instrument without limits cannot trade);
//!    non-positive price or quantity; lot and tick size; signal confidence;
//! 2. the account's circuit breakers: drawdown at the stop level, drawdown at the restriction
//!    level (only the conservative agent trades), the day's loss, the fill pause;
//! 3. sizing ([`crate::sizing`]) and, at the halving level of drawdown, half the size
//!    (floored to the lot; nothing left is `DrawdownHalt`, a zero size `NotPositive`);
//! 4. order quantity and notional; reduce-only; duplicate order; message throttle; open orders;
//! 5. the instrument's position limit (working orders on the same side count as filled);
//! 6. the book and its reference price (live, fresh) and the price collar around it;
//! 7. the portfolio: the instrument's share of equity, gross exposure (every instrument at the
//!    worse of its two sides, working orders filled), committed capital;
//! 8. with a portfolio stage running, the figures it publishes ([`crate::published`]): VaR,
//!    correlated exposure and the worst stress loss, each with this order's effect added;
//! 9. funds: the conversion of the instrument's quote currency (its conversion instrument's
//!    book live and fresh, [`crate::fx`]), its strategy's allocated capital
//!    ([`crate::allocation`]), and the balance the order would reserve ([`crate::balance`]).
//!
//! 10. margin, for a margined instrument ([`crate::margin`]): the tier of the position the
//!     order would leave must allow the leverage set, and its initial margin must fit the
//!     margin put up for the instrument (`MarginTierLeverage`, `InsufficientMargin`).
//!
//! (The reasons of 8, 9 and 10 and the exits' come last in [`RejectReason::ALL`], whose index is
//! journaled.)
//!
//! An order that only reduces the position it would leave (the worst case counting working
//! orders on its side) passes the exposure checks of 5, 7, 8 and 9 whatever their limits:
//! closing risk is never refused for having too much of it. It still needs the balance it
//! would use.
//! An engine exit ([`Origin::Exit`]: stop-loss, take-profit, trailing, flatten) skips the
//! signal confidence check, the drawdown and daily-loss breakers, sizing and the drawdown
//! halving (closing risk is never refused for having lost money), and must reduce instead:
//! one that would not is [`RejectReason::NotReducing`]. It is not held to the duplicate guard
//! either: the stage keeps at most one exit in flight per instrument, and the next slice may
//! well equal the last one. Everything else applies to it as to any order: lot, tick, the
//! fill pause, order quantity and notional, the throttle, open orders, the book, the
//! reference and the collar. The kill switch refuses
//! it too, except a flatten slice when the kill mode is [`KillMode::Flatten`]: with the kill
//! switch engaged, nothing but flatten slices goes out.

use pulse_core::event::{BookState, BookTop};
use pulse_core::instrument::InstrumentRegistry;
use pulse_core::intent::{AgentKind, ExitKind, OrderIntent, Origin, RejectReason};
use pulse_core::num::{Nanos, Px, Qty, Side};

use crate::account::{Account, ACCOUNT_SCALE};
use crate::fx::FxTable;
use crate::kill::{KillMode, TradingMode};
use crate::limits::{InstrumentLimits, PortfolioLimits};
pub use crate::position::Exposure;
use crate::published::{BookRiskLimits, PublishedRisk};

/// One unit of the account currency at [`ACCOUNT_SCALE`], for the published figures' `f64`s.
const ACCOUNT_UNIT: f64 = 1e12;
const _: () = assert!(ACCOUNT_SCALE == 12);

/// The reference price risk keeps per instrument, from the book stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reference {
    pub mid: Option<Px>,
    pub ts: Nanos,
    pub state: BookState,
}

/// Everything besides the intent that a decision reads.
#[derive(Clone, Copy, Debug)]
pub struct Context<'a> {
    pub exposure: Exposure,
    /// Open orders, all instruments.
    pub open_orders: usize,
    pub account: &'a Account,
    pub mode: TradingMode,
    /// Fills since the last re-arm.
    pub fills: u64,
    /// The message throttle would refuse one more message now.
    pub throttled: bool,
    /// The same order is working or was sent within the duplicate window.
    pub duplicate: bool,
    /// The portfolio stage's latest figures, when it runs.
    pub figures: Option<&'a PublishedRisk>,
}

pub struct RiskChecks {
    instruments: InstrumentRegistry,
    limits: Vec<InstrumentLimits>,
    pub portfolio: PortfolioLimits,
    /// The limits on the portfolio stage's figures (`[portfolio]`), when it runs.
    pub book: Option<BookRiskLimits>,
    references: Vec<Reference>,
    /// The latest market time of any reference.
    latest: Nanos,
    /// Whether flatten slices pass an engaged kill switch.
    pub(crate) kill_mode: KillMode,
    /// Per instrument, the instrument whose mid converts its quote currency (none: identity
    /// or a fixed rate).
    conversions: Vec<Option<usize>>,
    /// Per instrument, its margin when it is a margined derivative (none: cash).
    pub(crate) margins: Vec<Option<crate::margin::InstrumentMargin>>,
}

impl RiskChecks {
    pub fn new(
        instruments: InstrumentRegistry,
        limits: Vec<InstrumentLimits>,
        portfolio: PortfolioLimits,
    ) -> RiskChecks {
        let references = vec![
            Reference {
                mid: None,
                ts: Nanos::ZERO,
                state: BookState::Stale,
            };
            instruments.len()
        ];
        RiskChecks {
            instruments,
            limits,
            portfolio,
            book: None,
            references,
            latest: Nanos::ZERO,
            kill_mode: KillMode::Cancel,
            conversions: Vec::new(),
            margins: Vec::new(),
        }
    }

    /// Refuses new exposure on an instrument whose conversion instrument (`fx`) has no live,
    /// fresh book (`ConversionStale`). At start.
    pub fn set_fx(&mut self, fx: &FxTable) {
        self.conversions = (0..fx.len()).map(|i| fx.source(i)).collect();
    }

    /// Whether instrument `i`'s conversion instrument, if any, has a live book with a mid no
    /// older than `max_age` at `now`.
    fn conversion_live(&self, i: usize, now: Nanos, max_age: Nanos) -> bool {
        let Some(Some(c)) = self.conversions.get(i) else {
            return true;
        };
        self.references.get(*c).is_some_and(|r| {
            r.state == BookState::Live
                && r.mid.is_some_and(|m| m.0 > 0)
                && now.saturating_sub(r.ts) <= max_age
        })
    }

    /// The latest market time seen on any book.
    pub fn latest_ts(&self) -> Nanos {
        self.latest
    }

    pub fn on_book(&mut self, top: &BookTop) {
        self.latest = self.latest.max(top.meta.recv_ts);
        if let Some(r) = self.references.get_mut(top.meta.instrument.0 as usize) {
            *r = Reference {
                mid: top.mid(),
                ts: top.meta.recv_ts,
                state: top.state,
            };
        }
    }

    pub fn reference(&self, index: usize) -> Option<Reference> {
        self.references.get(index).copied()
    }

    /// Instrument `i` and its limits, when it may trade.
    pub(crate) fn instrument(
        &self,
        i: usize,
    ) -> Option<(&pulse_core::instrument::Instrument, &InstrumentLimits)> {
        let id = pulse_core::num::InstrumentId(u16::try_from(i).ok()?);
        Some((self.instruments.get(id)?, self.limits.get(i)?))
    }

    /// The quantity to send for `intent`, or why nothing may be sent.
    pub fn check(&self, intent: &OrderIntent, ctx: &Context<'_>) -> Result<Qty, RejectReason> {
        let exit = matches!(intent.origin, Origin::Exit(_));
        let flatten_passes =
            self.kill_mode == KillMode::Flatten && intent.origin == Origin::Exit(ExitKind::Flatten);
        if ctx.mode == TradingMode::Killed && !flatten_passes {
            return Err(RejectReason::KillSwitch);
        }
        let i = intent.instrument.0 as usize;
        let (Some(inst), Some(limits), Some(reference)) = (
            self.instruments.get(intent.instrument),
            self.limits.get(i),
            self.references.get(i),
        ) else {
            return Err(RejectReason::UnknownInstrument);
        };
        let p = &self.portfolio;
        let (px, wanted) = (intent.px.0, intent.qty.0);
        if px <= 0 || wanted <= 0 {
            return Err(RejectReason::NotPositive);
        }
        if wanted % inst.lot.0 != 0 {
            return Err(RejectReason::LotSize);
        }
        if px % inst.tick.0 != 0 {
            return Err(RejectReason::TickSize);
        }
        let account = ctx.account;
        let qty = if exit {
            if ctx.fills >= p.max_auto_fills {
                return Err(RejectReason::FillsPaused);
            }
            wanted
        } else {
            self.breakers_and_size(intent, ctx, inst.lot)?
        };
        if qty > limits.max_order_qty.0 {
            return Err(RejectReason::MaxOrderQty);
        }
        if inst.notional(intent.px, Qty(qty)) > limits.max_order_notional {
            return Err(RejectReason::MaxOrderNotional);
        }
        let e = ctx.exposure;
        let (pos, buys, sells) = (
            i128::from(e.position.0),
            i128::from(e.working_buy.0),
            i128::from(e.working_sell.0),
        );
        // The position if this order and every working order on its side filled.
        let after = match intent.side {
            Side::Buy => pos + buys + i128::from(qty),
            Side::Sell => pos - sells - i128::from(qty),
        };
        let reduces = after.abs() <= pos.abs() && after.signum() * pos.signum() >= 0;
        if exit && !(reduces && after != pos) {
            return Err(RejectReason::NotReducing);
        }
        if ctx.mode == TradingMode::ReduceOnly && !reduces {
            return Err(RejectReason::ReduceOnly);
        }
        if ctx.duplicate && !exit {
            return Err(RejectReason::Duplicate);
        }
        if ctx.throttled {
            return Err(RejectReason::Throttle);
        }
        if ctx.open_orders >= p.max_open_orders {
            return Err(RejectReason::TooManyOrders);
        }
        let max = i128::from(limits.max_position.0);
        if !reduces && after.abs() > max {
            return Err(RejectReason::PositionLimit);
        }
        if reference.state != BookState::Live {
            return Err(RejectReason::BookNotLive);
        }
        let Some(mid) = reference.mid else {
            return Err(RejectReason::ReferenceStale);
        };
        if intent.meta.recv_ts.saturating_sub(reference.ts) > limits.max_ref_age || mid.0 <= 0 {
            return Err(RejectReason::ReferenceStale);
        }
        let distance = (i128::from(px) - i128::from(mid.0)).abs() * 10_000;
        if distance > i128::from(limits.price_collar_bps) * i128::from(mid.0) {
            return Err(RejectReason::PriceCollar);
        }
        if !reduces {
            let exposure_after = account.notional_wide(i, mid, after);
            let equity = account.equity().max(0);
            if exposure_after * 10_000 > equity * i128::from(p.max_position_share_bps) {
                return Err(RejectReason::PortfolioShare);
            }
            // This instrument as its worst side leaves it with this order; the others as
            // their worst sides would (working orders count everywhere).
            let other_side = match intent.side {
                Side::Buy => pos - sells,
                Side::Sell => pos + buys,
            };
            let worst_after = account.notional_wide(i, mid, after.abs().max(other_side.abs()));
            let gross = account.gross_worst() - account.worst(i) + worst_after;
            if gross > p.max_gross_exposure {
                return Err(RejectReason::PortfolioLimit);
            }
            let committed = account.gross_exposure()
                + account.working_notional()
                + account.notional(i, intent.px, Qty(qty));
            if committed > p.capital {
                return Err(RejectReason::CapitalCap);
            }
            if let (Some(limits), Some(figures)) = (&self.book, ctx.figures) {
                let sign = if after < 0 { -1.0 } else { 1.0 };
                let exposure = sign * account.notional_wide(i, mid, after) as f64 / ACCOUNT_UNIT;
                limits.check(figures, i, exposure)?;
            }
        }
        // Funds: conversion, allocation, balance (8 above).
        if !reduces {
            if !self.conversion_live(i, intent.meta.recv_ts, limits.max_ref_age) {
                return Err(RejectReason::ConversionStale);
            }
            account.check_allocation(i, intent.px, Qty(qty))?;
        }
        account
            .balances()
            .check(i, intent.side, intent.px, Qty(qty))?;
        // Margin (10 above): a margined instrument's tier leverage and initial margin.
        if let (false, Some(Some(m))) = (reduces, self.margins.get(i)) {
            let order = crate::margin::MarginOrder {
                side: intent.side,
                px: intent.px,
                qty: Qty(qty),
            };
            let available = m.available(account, i);
            crate::margin::margin_check(m.guard.settings(), account, i, e, order, available)
                .map_err(|r| match r {
                    crate::margin::MarginReject::TierLeverage => RejectReason::MarginTierLeverage,
                    crate::margin::MarginReject::InsufficientMargin => {
                        RejectReason::InsufficientMargin
                    }
                })?;
        }
        Ok(Qty(qty))
    }

    /// Signal confidence, the account's breakers and sizing with the drawdown halving: the
    /// checks an engine exit skips. The quantity sizing leaves.
    fn breakers_and_size(
        &self,
        intent: &OrderIntent,
        ctx: &Context<'_>,
        lot: Qty,
    ) -> Result<i64, RejectReason> {
        let (p, account, i) = (&self.portfolio, ctx.account, intent.instrument.0 as usize);
        if intent.confidence_bps < p.min_confidence_bps {
            return Err(RejectReason::LowConfidence);
        }
        let drawdown = account.drawdown_bps();
        if drawdown >= i64::from(p.drawdown_stop_bps) {
            return Err(RejectReason::DrawdownHalt);
        }
        if drawdown >= i64::from(p.drawdown_restrict_bps)
            && intent.origin != Origin::Agent(AgentKind::Conservative)
        {
            return Err(RejectReason::DrawdownRestricted);
        }
        if account.day_pnl() <= -p.daily_loss_limit {
            return Err(RejectReason::DailyLoss);
        }
        if ctx.fills >= p.max_auto_fills {
            return Err(RejectReason::FillsPaused);
        }
        let sized = p.sizing.size(
            account,
            i,
            intent.px,
            intent.qty,
            lot,
            intent.confidence_bps,
            intent.vol_bps,
        );
        if sized.0 <= 0 {
            return Err(RejectReason::NotPositive);
        }
        let qty = if drawdown >= i64::from(p.drawdown_halve_bps) {
            let half = sized.0 / 2;
            half - half % lot.0
        } else {
            sized.0
        };
        if qty <= 0 {
            return Err(RejectReason::DrawdownHalt);
        }
        Ok(qty)
    }
}

#[cfg(test)]
mod funds_tests;
#[cfg(test)]
mod tests;
