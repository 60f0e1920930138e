//! A derivatives venue's margin rules for a linear (quote-margined) perpetual, as Binance USDⓈ-M
//! futures publish them: the leverage and margin brackets ("tiers"), the maintenance margin of a
//! position, and the prices at which a position's margin ratio reaches a level, liquidation
//! among them. These are the venue's rules, so they live here where the risk checks and the
//! simulated venue both read them: both must find the same liquidation price.
//!
//! Money is exact and integer, in one unit throughout: the unit the tiers are given in. The
//! risk crate keeps its tiers at the account scale; position math runs at an instrument's
//! notional scale (price scale + quantity scale, where `px.0 * qty.0` is money), with tiers
//! [`MarginTiers::rescaled`] to it.
//!
//! **Maintenance margin** of a position of notional `n` in tier `k`:
//! `MM = n * mmr_k - cum_k`, where `cum_k` (Binance's "maintenance amount") is
//! `cum_{k-1} + floor_k * (mmr_k - mmr_{k-1})`, `floor_k` being the tier's lower bound. That
//! choice of `cum` makes `MM` continuous across the brackets (at `n = floor_k` both tiers give
//! the same figure), so `MM` rises with the notional without a jump.
//!
//! **Margin ratio** is `MM / equity`, equity being the margin balance the position has: its
//! isolated margin (Binance's isolated wallet balance) plus its unrealized PnL. The venue
//! liquidates when the ratio reaches 100%, i.e. when `equity <= MM`. See [`price_at_ratio`]
//! for the derivation of the liquidation price.

use crate::num::{Px, Qty};

/// Basis points in one.
pub const BPS: i128 = 10_000;

/// One bracket of the venue's leverage and margin table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MarginTier {
    /// The largest position notional of this tier (its lower bound is the previous tier's
    /// `max_notional`, 0 for the first), in the tiers' money unit.
    pub max_notional: i128,
    /// The highest leverage a position of this notional may use.
    pub max_leverage: u32,
    /// Maintenance margin rate in basis points (Binance's rates are whole bps: 0.40% = 40).
    pub mmr_bps: u32,
    /// Binance's maintenance amount ("cum"), in the tiers' money unit.
    pub maintenance_amount: i128,
}

/// The venue's brackets, validated: rising notional bounds, falling leverage, rising rates,
/// and maintenance amounts that keep the maintenance margin continuous.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MarginTiers {
    tiers: Vec<MarginTier>,
}

impl MarginTiers {
    /// Takes the brackets as the venue lists them (with their maintenance amounts), refusing
    /// any whose amounts do not follow `cum_k = cum_{k-1} + floor_k * (mmr_k - mmr_{k-1})`.
    pub fn new(tiers: Vec<MarginTier>) -> Result<MarginTiers, String> {
        if tiers.is_empty() {
            return Err("no margin tiers".into());
        }
        let mut prev: Option<MarginTier> = None;
        for (k, t) in tiers.iter().enumerate() {
            if t.max_notional <= prev.map_or(0, |p| p.max_notional) {
                return Err(format!(
                    "tier {}: max_notional must rise above the tier before",
                    k + 1
                ));
            }
            if t.max_leverage == 0 || prev.is_some_and(|p| t.max_leverage > p.max_leverage) {
                return Err(format!(
                    "tier {}: max_leverage must be at least 1 and not rise",
                    k + 1
                ));
            }
            if i128::from(t.mmr_bps) >= BPS || prev.is_some_and(|p| t.mmr_bps < p.mmr_bps) {
                return Err(format!(
                    "tier {}: mmr_bps must be below 10000 and not fall",
                    k + 1
                ));
            }
            let expected = expected_cum(prev, t.mmr_bps)?;
            if t.maintenance_amount * BPS != expected {
                return Err(format!(
                    "tier {}: maintenance_amount {} does not continue the tier before (cum_k = cum_k-1 + floor_k * (mmr_k - mmr_k-1))",
                    k + 1,
                    t.maintenance_amount
                ));
            }
            prev = Some(*t);
        }
        Ok(MarginTiers { tiers })
    }

    /// Brackets without maintenance amounts, which are computed as the venue does. Each
    /// bracket is `(max_notional, max_leverage, mmr_bps)`.
    pub fn from_brackets(brackets: &[(i128, u32, u32)]) -> Result<MarginTiers, String> {
        let mut tiers: Vec<MarginTier> = Vec::with_capacity(brackets.len());
        for &(max_notional, max_leverage, mmr_bps) in brackets {
            let cum = expected_cum(tiers.last().copied(), mmr_bps)?;
            if cum % BPS != 0 {
                return Err(format!(
                    "the maintenance amount of the tier up to {max_notional} is not whole in this money unit"
                ));
            }
            tiers.push(MarginTier {
                max_notional,
                max_leverage,
                mmr_bps,
                maintenance_amount: cum / BPS,
            });
        }
        MarginTiers::new(tiers)
    }

    pub fn tiers(&self) -> &[MarginTier] {
        &self.tiers
    }

    /// The tier of a position of `notional` (either sign), `None` beyond the last one: the
    /// venue refuses a position that large.
    pub fn tier(&self, notional: i128) -> Option<&MarginTier> {
        let n = notional.abs();
        self.tiers.iter().find(|t| n <= t.max_notional)
    }

    /// `MM * 10000` of a position of `notional` (either sign), exact: the figure every
    /// comparison uses, so that no rounding separates the venue's decision from ours. Beyond
    /// the last tier, the last tier's rate goes on.
    pub fn maintenance_bps(&self, notional: i128) -> i128 {
        let n = notional.abs();
        self.tier(n).or(self.tiers.last()).map_or(0, |t| {
            n * i128::from(t.mmr_bps) - t.maintenance_amount * BPS
        })
    }

    /// The maintenance margin of a position of `notional`, rounded up (the venue's side).
    pub fn maintenance_margin(&self, notional: i128) -> i128 {
        ceil_div(self.maintenance_bps(notional), BPS)
    }

    /// The same brackets in money of another decimal scale (`from` decimals to `to`): the
    /// account scale's tiers at an instrument's notional scale. Refused when an amount is not
    /// whole at the new scale.
    pub fn rescaled(&self, from: u32, to: u32) -> Result<MarginTiers, String> {
        let convert = |v: i128| -> Result<i128, String> {
            if to >= from {
                let f = 10i128
                    .checked_pow(to - from)
                    .ok_or_else(|| "scale step too large".to_string())?;
                v.checked_mul(f)
                    .ok_or_else(|| format!("{v} overflows at scale {to}"))
            } else {
                let f = 10i128
                    .checked_pow(from - to)
                    .ok_or_else(|| "scale step too large".to_string())?;
                if v % f == 0 {
                    Ok(v / f)
                } else {
                    Err(format!("{v} at scale {from} is not whole at scale {to}"))
                }
            }
        };
        let tiers = self
            .tiers
            .iter()
            .map(|t| {
                Ok(MarginTier {
                    max_notional: convert(t.max_notional)?,
                    maintenance_amount: convert(t.maintenance_amount)?,
                    ..*t
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        MarginTiers::new(tiers)
    }

    /// The tier's lower bound (exclusive) and upper bound (inclusive) in money.
    fn bounds(&self, k: usize) -> (i128, i128) {
        let lower = if k == 0 {
            0
        } else {
            self.tiers[k - 1].max_notional
        };
        let upper = if k + 1 == self.tiers.len() {
            i128::MAX
        } else {
            self.tiers[k].max_notional
        };
        (lower, upper)
    }
}

/// `cum_k * 10000` for a tier of rate `mmr_bps` after `prev`.
fn expected_cum(prev: Option<MarginTier>, mmr_bps: u32) -> Result<i128, String> {
    let Some(p) = prev else {
        return Ok(0);
    };
    let step = i128::from(mmr_bps) - i128::from(p.mmr_bps);
    p.maintenance_amount
        .checked_mul(BPS)
        .and_then(|c| {
            p.max_notional
                .checked_mul(step)
                .and_then(|s| c.checked_add(s))
        })
        .ok_or_else(|| "maintenance amount overflows".to_string())
}

/// An isolated position as its margin sees it, all money in the tiers' unit (the instrument's
/// notional scale, where `px.0 * qty.0` is money).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IsolatedPosition {
    /// Signed size: positive long.
    pub qty: Qty,
    /// Signed cost basis `sum(px * qty)` of the open position (positive long): `cost / qty`
    /// is the entry price.
    pub cost: i128,
    /// The margin balance behind it: the isolated wallet balance (isolated mode), or what the
    /// account lends it (cross mode).
    pub margin: i128,
}

impl IsolatedPosition {
    /// Margin plus unrealized PnL at `mark`.
    pub fn equity(&self, mark: Px) -> i128 {
        self.margin + i128::from(self.qty.0) * i128::from(mark.0) - self.cost
    }

    /// `|qty| * mark`.
    pub fn notional(&self, mark: Px) -> i128 {
        i128::from(self.qty.0).abs() * i128::from(mark.0)
    }

    /// Whether the margin ratio at `mark` is at least `ratio_bps`, exactly:
    /// `MM * 10000 >= ratio_bps * equity`. With `ratio_bps = 10000`: the venue liquidates.
    pub fn at_ratio(&self, tiers: &MarginTiers, mark: Px, ratio_bps: u32) -> bool {
        self.qty.0 != 0
            && tiers.maintenance_bps(self.notional(mark))
                >= i128::from(ratio_bps) * self.equity(mark)
    }
}

/// The liquidation price: [`price_at_ratio`] at 100%.
pub fn liquidation_price(tiers: &MarginTiers, pos: &IsolatedPosition) -> Option<Px> {
    price_at_ratio(tiers, pos, BPS as u32)
}

/// The first price (price mantissa) at which `pos`'s margin ratio reaches `ratio_bps`,
/// coming from the position's favourable side: the highest price that does for a long, the
/// lowest for a short. `None` when no positive price does (a long at 1x never reaches 100%),
/// when the position is flat, or when `ratio_bps` is not above every tier's rate.
///
/// **Derivation.** Let `q` be the signed size, `Q = |q|`, `C` the signed cost (`C = q * E`
/// for entry `E`), `B` the margin, `m` and `cum` the tier's rate and amount, `r` the ratio,
/// all rates as fractions. Equity at price `P` is `B + q*P - C`; maintenance is
/// `Q*P*m - cum`. The ratio reaches `r` when `Q*P*m - cum >= r * (B + q*P - C)`:
/// - long (`q = Q`): `P * Q * (r - m) <= r*(C - B) - cum`, so
///   `P <= (r*(C - B) - cum) / (Q*(r - m))`; with `r = 1` and `C = Q*E`:
///   `LP = (B + cum - Q*E) / (Q*m - Q)`;
/// - short (`q = -Q`, `C = -Q*E`): `P * Q * (r + m) >= r*(B - C) + cum`, so
///   `P >= (r*(B + Q*E) + cum) / (Q*(r + m))`; with `r = 1`: `LP = (B + cum + Q*E) / (Q*m + Q)`.
///
/// At `r = 1` these are Binance's published USDⓈ-M liquidation price formula
/// `LP = (WB - TMM + UPNL + cumB - Side*Position*EP) / (Position*MMR - Side*Position)` for
/// one position in one-way mode with isolated margin, where the venue sets the other
/// contracts' terms `TMM` and `UPNL` to 0 (and the hedge-mode terms vanish): `WB` is the
/// isolated wallet balance `B`. The other positions' terms are ignored here, which is exact in
/// isolated mode only.
///
/// The tier is the one of the notional *at the liquidation price* (Binance: when the tier at
/// the liquidation price differs from the current one, recompute with that tier). Since the
/// maintenance margin is continuous and the equity moves faster with the price than it (the
/// rates are below `r`), the condition holds on one side of a single price; each tier's
/// linear piece gives its best price within the tier's price range, and the best of those is
/// the answer. Prices are integer mantissas: for a long the highest with the condition true
/// (floor), for a short the lowest (ceiling); so `pos.at_ratio(mark)` is true exactly at and
/// beyond the returned price. At most one pass over the tiers, no allocation.
pub fn price_at_ratio(tiers: &MarginTiers, pos: &IsolatedPosition, ratio_bps: u32) -> Option<Px> {
    let q = i128::from(pos.qty.0);
    let r = i128::from(ratio_bps);
    let top = tiers.tiers.last().map_or(0, |t| i128::from(t.mmr_bps));
    if q == 0 || r <= top {
        return None;
    }
    let big_q = q.abs();
    let mut best: Option<i128> = None;
    for (k, t) in tiers.tiers.iter().enumerate() {
        let m = i128::from(t.mmr_bps);
        let cum = t.maintenance_amount * BPS;
        let (lower, upper) = tiers.bounds(k);
        // Prices whose notional lies in (lower, upper].
        let lo = lower / big_q + 1;
        let hi = if upper == i128::MAX {
            i128::from(i64::MAX)
        } else {
            upper / big_q
        };
        if lo > hi {
            continue;
        }
        if q > 0 {
            let p = floor_div(r * (pos.cost - pos.margin) - cum, big_q * (r - m)).min(hi);
            if p >= lo {
                best = Some(best.map_or(p, |b| b.max(p)));
            }
        } else {
            let p = ceil_div(r * (pos.margin - pos.cost) + cum, big_q * (r + m)).max(lo);
            if p <= hi {
                best = Some(best.map_or(p, |b| b.min(p)));
            }
        }
    }
    best.and_then(|p| i64::try_from(p).ok()).map(Px)
}

/// `a / b` rounded toward negative infinity (`b > 0`).
fn floor_div(a: i128, b: i128) -> i128 {
    let q = a / b;
    if a % b != 0 && a < 0 {
        q - 1
    } else {
        q
    }
}

/// `a / b` rounded toward positive infinity (`b > 0`).
pub fn ceil_div(a: i128, b: i128) -> i128 {
    let q = a / b;
    if a % b != 0 && a > 0 {
        q + 1
    } else {
        q
    }
}

#[cfg(test)]
mod tests;
