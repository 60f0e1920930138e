//! Position sizing, applied before the checks: how much of what a strategy asks for the
//! account should trade, from the signal's confidence and the market's volatility.
//!
//! "Equity" below is the capital allocated to the instrument's strategy once capital is
//! allocated ([`crate::allocation`]), the account's equity before.
//!
//! A strategy's quantity is the most it wants; sizing can only make it smaller:
//! `qty = min(intent qty, sized qty)`, floored to the lot. All integer arithmetic:
//!
//! - **Kelly** (capped): with win probability `p` = the signal's confidence and payoff ratio
//!   `b` (win/loss), the growth-optimal fraction of equity is `f = p - (1 - p) / b`, capped
//!   at `cap` (full Kelly is far too aggressive when `p` is an estimate). `f <= 0` means no
//!   edge: nothing to trade. Notional = `f * equity`.
//! - **Fixed-fractional**: risk `fraction` of equity per trade with a stop `stop_vols`
//!   volatilities away: notional = `fraction * equity / (stop_vols * vol)`, volatility (a
//!   fraction of price, from the intent) floored at `min_vol_bps` so that a quiet market does
//!   not size to infinity.

use pulse_core::num::{Px, Qty};

use crate::account::{div, Account};

/// Basis points: 10,000 = 1.
pub const BPS: i128 = 10_000;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Sizing {
    /// The strategy's quantity as it is.
    #[default]
    Strategy,
    Kelly {
        /// Win/loss payoff ratio `b`, in bps (10,000 = even odds).
        payoff_bps: u32,
        /// The most of equity one order may be, in bps.
        cap_bps: u32,
    },
    FixedFractional {
        /// Equity at risk per trade, in bps.
        fraction_bps: u32,
        /// Stop distance in volatilities, in hundredths (200 = 2 volatilities).
        stop_vols_centi: u32,
        /// The least volatility assumed, in bps of price.
        min_vol_bps: u32,
    },
}

impl Sizing {
    pub fn name(self) -> &'static str {
        match self {
            Sizing::Strategy => "strategy",
            Sizing::Kelly { .. } => "kelly",
            Sizing::FixedFractional { .. } => "fixed-fractional",
        }
    }

    /// The notional (account scale) this sizing allows for one order, `None` for no bound.
    pub fn notional(self, equity: i128, confidence_bps: u16, vol_bps: u32) -> Option<i128> {
        let equity = equity.max(0);
        match self {
            Sizing::Strategy => None,
            Sizing::Kelly {
                payoff_bps,
                cap_bps,
            } => {
                let p = i128::from(confidence_bps.min(10_000));
                let b = i128::from(payoff_bps.max(1));
                // f = p - (1 - p) / b, all in bps.
                let f = (p - div((BPS - p) * BPS, b)).clamp(0, i128::from(cap_bps));
                Some(div(equity * f, BPS))
            }
            Sizing::FixedFractional {
                fraction_bps,
                stop_vols_centi,
                min_vol_bps,
            } => {
                let vol = i128::from(vol_bps.max(min_vol_bps).max(1));
                let stop = i128::from(stop_vols_centi.max(1)) * vol;
                // risk / (stop fraction): fraction * equity * 100 * BPS / (stop_centi * vol).
                Some(div(equity * i128::from(fraction_bps) * 100, stop))
            }
        }
    }

    /// `wanted`, or less as this sizing says, in whole lots of instrument `i`, of the capital
    /// allocated to its strategy (the equity before any allocation).
    #[allow(clippy::too_many_arguments)]
    pub fn size(
        self,
        account: &Account,
        i: usize,
        px: Px,
        wanted: Qty,
        lot: Qty,
        confidence_bps: u16,
        vol_bps: u32,
    ) -> Qty {
        let capital = account.sizing_capital(i);
        let Some(notional) = self.notional(capital, confidence_bps, vol_bps) else {
            return wanted;
        };
        // The notional of one lot at `px`; how many lots the budget buys.
        let per_lot = account.notional(i, px, lot);
        if per_lot <= 0 || lot.0 <= 0 {
            return Qty(0);
        }
        let lots = div(notional, per_lot).min(i128::from(i64::MAX / lot.0)) as i64;
        Qty(wanted.0.min(lots * lot.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::ACCOUNT_SCALE;
    use pulse_core::instrument::{InstrumentRegistry, Venue};

    const USDT: i128 = 1_000_000_000_000;

    fn account() -> Account {
        let mut reg = InstrumentRegistry::new();
        reg.add(Venue::Binance, "BTCUSDT", 2, 8, Px(1), Qty(1_000))
            .unwrap();
        Account::new(10_000 * 10i128.pow(ACCOUNT_SCALE), &reg)
    }

    #[test]
    fn kelly_from_confidence_capped() {
        let k = Sizing::Kelly {
            payoff_bps: 10_000,
            cap_bps: 2_500,
        };
        // p = 0.6, b = 1: f = 0.2 of 10,000 = 2,000 USDT.
        assert_eq!(k.notional(10_000 * USDT, 6_000, 0), Some(2_000 * USDT));
        // p = 0.9: f = 0.8, capped at 0.25.
        assert_eq!(k.notional(10_000 * USDT, 9_000, 0), Some(2_500 * USDT));
        // p = 0.5 at even odds: no edge.
        assert_eq!(k.notional(10_000 * USDT, 5_000, 0), Some(0));
        // b = 2, p = 0.4: f = 0.4 - 0.6 / 2 = 0.1.
        let k2 = Sizing::Kelly {
            payoff_bps: 20_000,
            cap_bps: 10_000,
        };
        assert_eq!(k2.notional(10_000 * USDT, 4_000, 0), Some(1_000 * USDT));
    }

    #[test]
    fn fixed_fractional_from_volatility() {
        let f = Sizing::FixedFractional {
            fraction_bps: 10,
            stop_vols_centi: 200,
            min_vol_bps: 5,
        };
        // Risk 10 USDT with a stop at 2 x 25 bps = 0.5%: 2,000 USDT.
        assert_eq!(f.notional(10_000 * USDT, 0, 25), Some(2_000 * USDT));
        // A quiet market is floored at 5 bps: 10 / 0.1% = 10,000 USDT.
        assert_eq!(f.notional(10_000 * USDT, 0, 1), Some(10_000 * USDT));
    }

    #[test]
    fn sizing_only_shrinks_and_keeps_whole_lots() {
        let a = account();
        let k = Sizing::Kelly {
            payoff_bps: 10_000,
            cap_bps: 100,
        };
        // 1% of 10,000 = 100 USDT at 60,000: 0.00166 BTC, 166 lots of 0.00001.
        let px = Px(6_000_000);
        assert_eq!(
            k.size(&a, 0, px, Qty(200_000), Qty(1_000), 9_000, 0),
            Qty(166_000)
        );
        assert_eq!(
            k.size(&a, 0, px, Qty(100_000), Qty(1_000), 9_000, 0),
            Qty(100_000)
        );
        assert_eq!(
            k.size(&a, 0, px, Qty(100_000), Qty(1_000), 4_000, 0),
            Qty(0)
        );
        assert_eq!(
            Sizing::Strategy.size(&a, 0, px, Qty(123), Qty(1_000), 0, 0),
            Qty(123)
        );
    }
}
