//! Valuation in the account currency: how each instrument's money (PnL, exposure, working
//! notional, all mantissas at its notional scale in its quote currency) becomes account-currency
//! amounts at [`ACCOUNT_SCALE`].
//!
//! An instrument quoted in the account currency converts by scale alone ([`Conversion::Identity`]).
//! Any other is converted at a rate: a configured fixed one ([`Conversion::Fixed`], e.g. USD at
//! 1 USDT: an assumption that the stablecoin holds its peg, stated by whoever configures it), or
//! the mid of a conversion instrument of the registry ([`Conversion::Via`]): `BTCUSDT` converts
//! BTC (ETHBTC's quote) into USDT; a pair the other way round (`USDTEUR` for EUR) is inverted.
//!
//! A rate is a fixed-point multiplier: account-currency units per quote unit at
//! `ACCOUNT_SCALE` decimals (1 = 10^12). An amount `x` at notional scale `n` converts to
//! `x * rate / 10^n`, truncated toward zero (one unit of 10^-12 of the account currency at
//! most); an inverted rate `10^(12 + price scale) / mid` is truncated the same way.

use anyhow::{bail, Context as _};
use pulse_core::instrument::InstrumentRegistry;
use pulse_core::num::{InstrumentId, Px};

use crate::money::{div, ACCOUNT_SCALE};

/// One account-currency unit per quote unit: the identity rate.
pub const RATE_ONE: i128 = 10i128.pow(ACCOUNT_SCALE);

/// How one instrument's quote currency becomes the account currency.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Conversion {
    /// Quoted in the account currency.
    Identity,
    /// A fixed rate, account-currency units per quote unit at `ACCOUNT_SCALE` decimals.
    Fixed(i128),
    /// The mid of `instrument`: quote/account (`BTCUSDT` for BTC into USDT), or, `inverted`,
    /// account/quote (`USDTEUR` for EUR into USDT).
    Via {
        instrument: InstrumentId,
        inverted: bool,
    },
}

/// Each instrument's conversion, indexed by instrument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FxTable {
    pub account_currency: String,
    conversions: Vec<Conversion>,
}

impl FxTable {
    /// Every instrument quoted in the account currency (what the engine assumed before).
    pub fn identity(account_currency: &str, instruments: usize) -> FxTable {
        FxTable {
            account_currency: account_currency.to_owned(),
            conversions: vec![Conversion::Identity; instruments],
        }
    }

    /// Finds each instrument's conversion from the assets the registry names: identity when
    /// its quote is the account currency (or not configured: the old assumption); a fixed rate
    /// when `fixed` names its quote (asset, rate at `ACCOUNT_SCALE`); otherwise an instrument
    /// of the registry, preferably of the same venue, whose base and quote are the quote and
    /// the account currency, either way round (itself, inverted, for a pair whose base is the
    /// account currency: `USDTTRY`). None found is an error: an amount that cannot
    /// be valued cannot be limited.
    pub fn resolve(
        registry: &InstrumentRegistry,
        account_currency: &str,
        fixed: &[(String, i128)],
    ) -> anyhow::Result<FxTable> {
        let mut table = FxTable::identity(account_currency, registry.len());
        for inst in registry.iter() {
            let quote = inst.quote.as_str();
            if quote.is_empty() || quote == account_currency {
                continue;
            }
            let conversion = if let Some((_, rate)) = fixed.iter().find(|(a, _)| a == quote) {
                Conversion::Fixed(*rate)
            } else {
                let pair = |c: &&pulse_core::instrument::Instrument, base: &str, q: &str| {
                    c.base == base && c.quote == q
                };
                let candidates = registry.iter().filter_map(|c| {
                    if pair(&c, quote, account_currency) {
                        Some((c, false))
                    } else if pair(&c, account_currency, quote) {
                        Some((c, true))
                    } else {
                        None
                    }
                });
                let (c, inverted) = candidates
                    .min_by_key(|(c, _)| c.venue != inst.venue)
                    .with_context(|| {
                        format!(
                            "{} is quoted in {quote}: no instrument converts {quote} into \
                             {account_currency} and no fixed rate is configured for it",
                            inst.symbol
                        )
                    })?;
                Conversion::Via {
                    instrument: c.id,
                    inverted,
                }
            };
            table.set(inst.id, conversion)?;
        }
        table.validate()?;
        Ok(table)
    }

    /// Sets one instrument's conversion (see [`FxTable::validate`] for what the whole table
    /// must satisfy).
    pub fn set(&mut self, id: InstrumentId, conversion: Conversion) -> anyhow::Result<()> {
        let n = self.conversions.len();
        match conversion {
            Conversion::Fixed(rate) if rate <= 0 => bail!("a fixed rate must be positive"),
            Conversion::Via { instrument, .. } if usize::from(instrument.0) >= n => {
                bail!("no conversion instrument {}", instrument.0)
            }
            _ => {}
        }
        let Some(slot) = self.conversions.get_mut(usize::from(id.0)) else {
            bail!("no instrument {}", id.0);
        };
        *slot = conversion;
        Ok(())
    }

    /// No chains: a conversion instrument is quoted in the account currency, or converts
    /// itself (`USDTTRY` inverted converts its own TRY), so that one mark sets each rate.
    pub fn validate(&self) -> anyhow::Result<()> {
        for (i, c) in self.conversions.iter().enumerate() {
            if let Some(src) = self.source(i) {
                let own = self.get(src);
                if src != i && own != Conversion::Identity && self.source(src) != Some(src) {
                    bail!("instrument {i} converts through {src}, which is not in the account currency ({c:?})");
                }
            }
        }
        Ok(())
    }

    pub fn get(&self, i: usize) -> Conversion {
        self.conversions
            .get(i)
            .copied()
            .unwrap_or(Conversion::Identity)
    }

    pub fn len(&self) -> usize {
        self.conversions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.conversions.is_empty()
    }

    /// The conversion instrument of instrument `i`, if it has one.
    pub fn source(&self, i: usize) -> Option<usize> {
        match self.get(i) {
            Conversion::Via { instrument, .. } => Some(usize::from(instrument.0)),
            _ => None,
        }
    }
}

/// The rate a conversion instrument's mid `mid` (at `price_scale`) gives, `None` for a
/// non-positive mid.
pub fn rate_from_mid(mid: Px, price_scale: u32, inverted: bool) -> Option<i128> {
    let m = i128::from(mid.0);
    if m <= 0 {
        return None;
    }
    let rate = if inverted {
        div(10i128.pow((ACCOUNT_SCALE + price_scale).min(38)), m)
    } else if price_scale <= ACCOUNT_SCALE {
        m * 10i128.pow(ACCOUNT_SCALE - price_scale)
    } else {
        div(m, 10i128.pow((price_scale - ACCOUNT_SCALE).min(38)))
    };
    Some(rate)
}

/// Converts one instrument's notional-scale amounts to account-currency amounts at the
/// account scale.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Money {
    /// Scale alone (the identity conversion): `amount * mul / div`.
    mul: i128,
    div: i128,
    /// The largest |amount| whose `amount * mul` fits `i128`: below it the product needs no
    /// overflow check (a saturating `i128` multiply costs tens of instructions, and every
    /// pre-trade check converts a handful of notionals).
    exact: u128,
    /// 10^notional scale, to divide `amount * rate` by.
    unit: i128,
    /// The rate, `None` for the identity; `Some(0)` while a conversion instrument has no mid.
    rate: Option<i128>,
}

impl Money {
    pub(crate) fn new(notional_scale: u32) -> Money {
        let (mul, div) = if notional_scale <= ACCOUNT_SCALE {
            (10i128.pow(ACCOUNT_SCALE - notional_scale), 1)
        } else {
            (1, 10i128.pow((notional_scale - ACCOUNT_SCALE).min(38)))
        };
        Money {
            mul,
            div,
            exact: i128::MAX.unsigned_abs() / mul.unsigned_abs(),
            unit: 10i128.pow(notional_scale.min(38)),
            rate: None,
        }
    }

    /// Converted at `rate` from now on (`None`: the identity).
    pub(crate) fn set_rate(&mut self, rate: Option<i128>) {
        self.rate = rate;
    }

    pub(crate) fn rate(&self) -> Option<i128> {
        self.rate
    }

    #[inline]
    pub(crate) fn to_account(self, amount: i128) -> i128 {
        match self.rate {
            None => {
                let scaled = if amount.unsigned_abs() <= self.exact {
                    amount * self.mul
                } else {
                    amount.saturating_mul(self.mul)
                };
                if self.div == 1 {
                    scaled
                } else {
                    div(scaled, self.div)
                }
            }
            Some(rate) => div(amount.saturating_mul(rate), self.unit),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pulse_core::instrument::Venue;
    use pulse_core::num::Qty;

    const USDT: i128 = RATE_ONE;

    #[test]
    fn finer_notional_scales_are_truncated_into_the_account_scale() {
        let m = Money::new(16);
        assert_eq!(m.to_account(123_456_789), 12_345);
        assert_eq!(Money::new(12).to_account(7), 7);
        assert_eq!(Money::new(0).to_account(7), 7 * USDT);
        // The unchecked product up to the largest amount it fits, saturation past it.
        let edge = i128::MAX / USDT;
        assert_eq!(Money::new(0).to_account(edge), edge * USDT);
        assert_eq!(Money::new(0).to_account(-edge), -edge * USDT);
        assert_eq!(Money::new(0).to_account(edge + 1), i128::MAX);
        assert_eq!(Money::new(0).to_account(-edge - 1), i128::MIN);
    }

    #[test]
    fn rates_from_a_mid_either_way_round() {
        // BTCUSDT at 60,000.50 (price scale 2): 1 BTC = 60,000.5 USDT.
        let r = rate_from_mid(Px(6_000_050), 2, false).unwrap();
        assert_eq!(r, 60_000_500_000_000_000);
        // USDTEUR at 0.9200 (scale 4): 1 EUR = 1/0.92 = 1.086956521739 USDT, truncated.
        assert_eq!(rate_from_mid(Px(9_200), 4, true), Some(1_086_956_521_739));
        assert_eq!(rate_from_mid(Px(0), 2, false), None);
        // 0.0125 ETH in BTC at notional scale 10 (125,000,000) at 60,000.5: 750.00625 USDT.
        let mut m = Money::new(10);
        m.set_rate(Some(r));
        assert_eq!(m.to_account(125_000_000), 750_006_250_000_000);
        // A loss truncates toward zero too.
        assert_eq!(m.to_account(-125_000_000), -750_006_250_000_000);
        m.set_rate(Some(0));
        assert_eq!(m.to_account(125_000_000), 0);
    }

    #[test]
    fn conversions_are_found_from_the_assets_or_configured() {
        let mut reg = InstrumentRegistry::new();
        for (sym, base, quote) in [
            ("ETHBTC", "ETH", "BTC"),
            ("BTCUSDT", "BTC", "USDT"),
            ("EURUSD", "EUR", "USD"),
            ("USDTTRY", "USDT", "TRY"),
            ("XUSDT", "", ""),
        ] {
            let id = reg.add(Venue::Binance, sym, 2, 4, Px(1), Qty(1)).unwrap();
            reg.set_assets(id, base, quote);
        }
        let fixed = vec![("USD".to_owned(), RATE_ONE)];
        let fx = FxTable::resolve(&reg, "USDT", &fixed).unwrap();
        let via = |i: u16, inverted| Conversion::Via {
            instrument: InstrumentId(i),
            inverted,
        };
        assert_eq!(fx.get(0), via(1, false));
        assert_eq!(fx.get(1), Conversion::Identity);
        assert_eq!(fx.get(2), Conversion::Fixed(RATE_ONE));
        assert_eq!(fx.get(3), via(3, true), "converts itself");
        assert_eq!(fx.get(4), Conversion::Identity, "assets not configured");
        assert_eq!((fx.source(0), fx.source(2)), (Some(1), None));
        assert!(
            FxTable::resolve(&reg, "USDT", &[]).is_err(),
            "USD unconvertible"
        );
        // A chain: ETHBTC through EURUSD, itself converted at a fixed rate.
        let mut chained = fx.clone();
        chained.set(InstrumentId(0), via(2, false)).unwrap();
        assert!(chained.validate().is_err());
        assert!(chained.set(InstrumentId(0), Conversion::Fixed(0)).is_err());
    }
}
