//! Available balance per asset, so that an order the venue would refuse for want of funds is
//! refused before it is sent.
//!
//! Each asset's total starts at the venue's balance and moves with every fill of a spot
//! instrument (a buy: + base, - quote - fee; a sell: - base, + quote - fee); working orders
//! reserve part of it (a buy its quote, leaves times limit price; a sell its base, the
//! leaves). Available = total - reserved. Every amount is at [`ACCOUNT_SCALE`] decimals of its
//! own asset (not converted to the account currency), truncated from scales finer than that.
//!
//! Fees are taken from the quote asset (the fee of a fill is at the instrument's notional
//! scale); a venue that takes them from another asset (BNB) moves that asset's balance where
//! this does not see it. A buy's reservation holds no fee estimate: an order that leaves less
//! than its fee available passes here and the venue refuses it.
//!
//! Derivatives (not `spot`) reserve nothing here: their margin is another check's. Every
//! update and the check are O(1): per-asset running totals, per-instrument reservations.

use anyhow::bail;
use pulse_core::instrument::InstrumentRegistry;
use pulse_core::intent::RejectReason;
use pulse_core::num::{Px, Qty, Side};

use crate::fx::Money;

#[cfg(doc)]
use crate::money::ACCOUNT_SCALE;

/// A spot instrument's two assets and what its working orders reserve of them.
#[derive(Clone, Copy, Debug)]
struct SpotLeg {
    base: usize,
    quote: usize,
    /// Quantity scale → asset scale.
    base_money: Money,
    /// Notional scale → asset scale.
    quote_money: Money,
    reserved_base: i128,
    reserved_quote: i128,
}

/// The balances of every asset the spot instruments trade.
#[derive(Clone, Debug, Default)]
pub struct Balances {
    assets: Vec<String>,
    total: Vec<i128>,
    reserved: Vec<i128>,
    /// Per instrument, `None` for a derivative.
    legs: Vec<Option<SpotLeg>>,
}

impl Balances {
    /// The balances the venue reported at start (`(asset, amount at ACCOUNT_SCALE)`); `spot`
    /// flags each instrument of `registry` (a spot instrument must name its base and quote).
    /// An asset the venue did not report starts at zero.
    pub fn new(
        registry: &InstrumentRegistry,
        spot: &[bool],
        start: &[(String, i128)],
    ) -> anyhow::Result<Balances> {
        if spot.len() != registry.len() {
            bail!(
                "{} spot flags for {} instruments",
                spot.len(),
                registry.len()
            );
        }
        let mut b = Balances::default();
        for (asset, amount) in start {
            let k = b.asset(asset);
            b.total[k] += amount;
        }
        for (inst, &is_spot) in registry.iter().zip(spot) {
            let leg = if is_spot {
                if inst.base.is_empty() || inst.quote.is_empty() {
                    bail!(
                        "spot instrument {} names no base and quote asset",
                        inst.symbol
                    );
                }
                Some(SpotLeg {
                    base: b.asset(&inst.base),
                    quote: b.asset(&inst.quote),
                    base_money: Money::new(inst.qty_scale),
                    quote_money: Money::new(inst.notional_scale()),
                    reserved_base: 0,
                    reserved_quote: 0,
                })
            } else {
                None
            };
            b.legs.push(leg);
        }
        Ok(b)
    }

    /// The index of `asset`, added with a zero balance if new.
    fn asset(&mut self, asset: &str) -> usize {
        if let Some(k) = self.assets.iter().position(|a| a == asset) {
            return k;
        }
        self.assets.push(asset.to_owned());
        self.total.push(0);
        self.reserved.push(0);
        self.assets.len() - 1
    }

    /// Every asset with its total and reserved amounts, for reports.
    pub fn iter(&self) -> impl Iterator<Item = (&str, i128, i128)> {
        self.assets
            .iter()
            .zip(self.total.iter().zip(&self.reserved))
            .map(|(a, (t, r))| (a.as_str(), *t, *r))
    }

    /// Total less reserved of `asset` (`None` for an asset not kept).
    pub fn available(&self, asset: &str) -> Option<i128> {
        let k = self.assets.iter().position(|a| a == asset)?;
        Some(self.total[k] - self.reserved[k])
    }

    /// Instrument `i`'s working orders now reserve `buy_notional` (its notional scale) of the
    /// quote and `sell` of the base.
    pub fn set_reserved(&mut self, i: usize, buy_notional: i128, sell: Qty) {
        let Some(Some(leg)) = self.legs.get_mut(i) else {
            return;
        };
        let quote = leg.quote_money.to_account(buy_notional);
        let base = leg.base_money.to_account(i128::from(sell.0));
        self.reserved[leg.quote] += quote - leg.reserved_quote;
        self.reserved[leg.base] += base - leg.reserved_base;
        leg.reserved_quote = quote;
        leg.reserved_base = base;
    }

    /// A fill of instrument `i` (the fee at its notional scale, in the quote asset).
    pub fn on_fill(&mut self, i: usize, side: Side, px: Px, qty: Qty, fee: i128) {
        let Some(Some(leg)) = self.legs.get(i) else {
            return;
        };
        let base = leg.base_money.to_account(i128::from(qty.0));
        let quote = leg
            .quote_money
            .to_account(i128::from(px.0) * i128::from(qty.0));
        let fee = leg.quote_money.to_account(fee);
        let sign = match side {
            Side::Buy => 1,
            Side::Sell => -1,
        };
        self.total[leg.base] += sign * base;
        self.total[leg.quote] += -sign * quote - fee;
    }

    /// Whether an order of `qty` at `px` on instrument `i` finds what it would reserve
    /// available: the quote to buy, the base to sell.
    pub fn check(&self, i: usize, side: Side, px: Px, qty: Qty) -> Result<(), RejectReason> {
        let Some(Some(leg)) = self.legs.get(i) else {
            return Ok(());
        };
        let (asset, need) = match side {
            Side::Buy => (
                leg.quote,
                leg.quote_money
                    .to_account(i128::from(px.0) * i128::from(qty.0)),
            ),
            Side::Sell => (leg.base, leg.base_money.to_account(i128::from(qty.0))),
        };
        if need > self.total[asset] - self.reserved[asset] {
            return Err(RejectReason::InsufficientBalance);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
