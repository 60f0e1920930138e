//! The simulated venue as a derivatives venue for one instrument: a linear perpetual with
//! isolated margin in one-way mode, as Binance USDⓈ-M futures run it.
//!
//! - **Margin.** Opening or adding to the position moves its initial margin (`notional /
//!   leverage`, rounded up) from the wallet to the position's isolated margin; reducing it
//!   releases margin in proportion and pays the realized PnL into the wallet; fees come off
//!   the wallet. An order that would add to the position is refused when the wallet cannot pay
//!   its initial margin at its limit price, or when the resulting notional's tier does not
//!   allow the leverage set (resting orders reserve no margin here, unlike on Binance).
//! - **Funding.** At every funding time the position pays `qty * mark * rate` (longs pay when
//!   the rate is positive, shorts receive), from the wallet, with the mark as it stood at that
//!   time (the last mid before the first event at or after it). The venue learns that time
//!   has passed from the instrument's own market events, so the settlement is reported with
//!   the first of them at or after the funding time (several times passed at once settle
//!   together). Amounts are rounded up (never in the account's favour).
//! - **Liquidation.** When the mark (the mid) reaches the liquidation price
//!   ([`pulse_core::margin::liquidation_price`], exact: the venue's condition
//!   `equity <= maintenance margin`), the venue cancels the instrument's resting orders (they
//!   are reported expired) and closes the position at the liquidation price, keeping what is
//!   left of the isolated margin as its clearance fee: the account loses the isolated margin,
//!   however far the mark went past.

use pulse_core::margin::{ceil_div, liquidation_price, IsolatedPosition, MarginTiers};
use pulse_feeds::num::{Nanos, Px, Qty, Side};

/// How the venue sets the funding rate. Rates are in units of 1e-8 (Binance's precision:
/// 0.01% is 10_000).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Funding {
    /// One rate, settled at every multiple of `interval` since the epoch (8 h on Binance).
    Every { interval: Nanos, rate_e8: i64 },
    /// Recorded settlements in time order, as the venue's funding history lists them.
    Recorded(Vec<FundingEvent>),
}

/// One funding settlement of the venue's history.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FundingEvent {
    pub ts: Nanos,
    pub rate_e8: i64,
}

/// An instrument's derivatives settings on the simulated venue. Money at the instrument's
/// notional scale (price scale + quantity scale).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DerivativesSim {
    pub leverage: u32,
    /// The venue's brackets at the notional scale.
    pub tiers: MarginTiers,
    pub funding: Funding,
    /// The wallet at start.
    pub wallet_balance: i128,
}

/// The venue's margin account for one instrument, as it stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SimMargin {
    /// What is not in the position's isolated margin.
    pub wallet_balance: i128,
    pub isolated_margin: i128,
    /// Signed cost basis of the position.
    pub cost: i128,
    pub liquidation_price: Option<Px>,
}

/// A liquidation the venue carried out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Liquidated {
    /// The side of the closing trade.
    pub side: Side,
    pub px: Px,
    pub qty: Qty,
    pub fee: i128,
}

pub(crate) struct Derivatives {
    settings: DerivativesSim,
    margin: SimMargin,
    /// The next funding time (`Every`) or recorded settlement's index (`Recorded`), once the
    /// first event has set where the run starts.
    next: Option<u64>,
    /// The mark as of the last event.
    mark: Option<Px>,
}

impl Derivatives {
    pub fn new(settings: DerivativesSim) -> Result<Derivatives, String> {
        let first = settings.tiers.tiers().first().map_or(0, |t| t.max_leverage);
        if settings.leverage == 0 || settings.leverage > first {
            return Err(format!(
                "leverage {} is not within 1 to {first}",
                settings.leverage
            ));
        }
        if let Funding::Every { interval, .. } = settings.funding {
            if interval == Nanos::ZERO {
                return Err("the funding interval must be above zero".into());
            }
        }
        Ok(Derivatives {
            margin: SimMargin {
                wallet_balance: settings.wallet_balance,
                isolated_margin: 0,
                cost: 0,
                liquidation_price: None,
            },
            settings,
            next: None,
            mark: None,
        })
    }

    pub fn margin(&self) -> SimMargin {
        self.margin
    }

    /// Whether the venue refuses an order of `signed` at `px` on position `pos`.
    pub fn refuses(&self, pos: i64, signed: i64, px: Px) -> bool {
        let after = i128::from(pos) + i128::from(signed);
        if after.abs() <= i128::from(pos).abs() && after.signum() * i128::from(pos).signum() >= 0 {
            return false;
        }
        let added = (after.abs() - i128::from(pos).abs()).max(0);
        let px = i128::from(px.0);
        let allowed = self
            .settings
            .tiers
            .tier(after * px)
            .is_some_and(|t| t.max_leverage >= self.settings.leverage);
        !allowed || self.initial(added * px) > self.margin.wallet_balance
    }

    fn initial(&self, notional: i128) -> i128 {
        ceil_div(notional.abs(), i128::from(self.settings.leverage))
    }

    /// A market event of the instrument at `ts` with its new mark (if the book has one):
    /// returns the funding `pos` paid at the funding times passed since the last event.
    pub fn on_time(&mut self, pos: i64, ts: Nanos, mark: Option<Px>) -> Option<i128> {
        let before = self.mark;
        if mark.is_some() {
            self.mark = mark;
        }
        let rate = match (&self.settings.funding, self.next) {
            (Funding::Every { interval, .. }, None) => {
                self.next = Some((ts.0 / interval.0 + 1).saturating_mul(interval.0));
                return None;
            }
            (Funding::Recorded(events), None) => {
                self.next = Some(events.iter().take_while(|e| e.ts <= ts).count() as u64);
                return None;
            }
            (Funding::Every { interval, rate_e8 }, Some(next)) => {
                if ts.0 < next {
                    return None;
                }
                let times = (ts.0 - next) / interval.0 + 1;
                self.next = Some(next.saturating_add(times.saturating_mul(interval.0)));
                i128::from(*rate_e8) * i128::from(times)
            }
            (Funding::Recorded(events), Some(next)) => {
                let due = events.iter().skip(next as usize).take_while(|e| e.ts <= ts);
                let (count, rate) = due.fold((0u64, 0i128), |(n, r), e| {
                    (n + 1, r + i128::from(e.rate_e8))
                });
                if count == 0 {
                    return None;
                }
                self.next = Some(next + count);
                rate
            }
        };
        let mark = before?;
        if pos == 0 {
            return None;
        }
        let paid = ceil_div(i128::from(pos) * i128::from(mark.0) * rate, 100_000_000);
        self.margin.wallet_balance -= paid;
        Some(paid)
    }

    /// A fill of `qty` at `px` on `side` against position `pos` (before the fill), with `fee`.
    pub fn on_fill(&mut self, pos: i64, side: Side, px: Px, qty: i64, fee: i128) {
        let m = &mut self.margin;
        m.wallet_balance -= fee;
        let signed = side.sign() * qty;
        let mut opening = signed;
        if pos != 0 && pos.signum() != signed.signum() {
            let closing = signed.abs().min(pos.abs());
            let released_cost = m.cost * i128::from(closing) / i128::from(pos.abs());
            let released_margin = m.isolated_margin * i128::from(closing) / i128::from(pos.abs());
            let pnl =
                i128::from(pos.signum()) * i128::from(px.0) * i128::from(closing) - released_cost;
            m.cost -= released_cost;
            m.isolated_margin -= released_margin;
            m.wallet_balance += released_margin + pnl;
            opening = signed.signum() * (signed.abs() - closing);
        }
        let im = self.initial(i128::from(px.0) * i128::from(opening));
        let m = &mut self.margin;
        if opening != 0 {
            m.cost += i128::from(px.0) * i128::from(opening);
            m.isolated_margin += im;
            m.wallet_balance -= im;
        }
        let after = pos + signed;
        if after == 0 {
            m.wallet_balance += m.isolated_margin;
            m.isolated_margin = 0;
            m.cost = 0;
        }
        self.reprice(after);
    }

    /// Liquidates position `pos` if the mark has reached its liquidation price.
    pub fn liquidate(&mut self, pos: i64) -> Option<Liquidated> {
        let (mark, lp) = (self.mark?, self.margin.liquidation_price?);
        let reached = if pos > 0 { mark <= lp } else { mark >= lp };
        if pos == 0 || !reached {
            return None;
        }
        let m = &mut self.margin;
        // What is left of the margin at the liquidation price: the venue keeps it.
        let fee = m.isolated_margin + i128::from(pos) * i128::from(lp.0) - m.cost;
        m.isolated_margin = 0;
        m.cost = 0;
        m.liquidation_price = None;
        Some(Liquidated {
            side: if pos > 0 { Side::Sell } else { Side::Buy },
            px: lp,
            qty: Qty(pos.abs()),
            fee,
        })
    }

    fn reprice(&mut self, pos: i64) {
        let iso = IsolatedPosition {
            qty: Qty(pos),
            cost: self.margin.cost,
            margin: self.margin.isolated_margin,
        };
        self.margin.liquidation_price = liquidation_price(&self.settings.tiers, &iso);
    }
}

#[cfg(test)]
mod tests;
