//! `[risk]`'s funds keys and `[portfolio.allocation]`.
//!
//! - `account_currency` (default "USDT"): what every amount is valued in.
//! - `fixed_rates = { USD = "1" }`: quote assets converted at a fixed rate (account-currency
//!   units per unit of the asset). A rate of 1 for USD states that the stablecoin holds its
//!   peg: Pulse does not check it. Any other quote asset is converted at the mid of a
//!   configured instrument pairing it with the account currency (`BTCUSDT` for BTC), either
//!   way round; an instrument whose quote has neither is an error naming it.
//! - `balances = { USDT = "10000", BTC = "0.5" }`: the venue's balances at start (with the
//!   simulated venue, what it starts with). Spot instruments (every venue but the derivative
//!   ones: Binance USD-M, Bybit linear, OKX swaps and futures) move them with every fill, and
//!   an order that would reserve more than is available is refused (`InsufficientBalance`).
//!   Without it no balance is checked.
//! - `[portfolio.allocation]`: capital across at least two `[[strategies]]`
//!   (`pulse_risk::allocation`): `mode` "fixed" (with `weights`, one per strategy in order,
//!   summing to 1), "vol-target" (with `target_vol_pct`, a year's volatility), "risk-parity"
//!   or "equal-risk"; `rebalance_s`, `sample_ms`, `window`, `min_samples` and `min_vol_pct`
//!   (a year's volatility, the least a strategy is taken to have).

use pulse_feeds::instrument::{Instrument, InstrumentRegistry, Venue};
use pulse_feeds::num::Nanos;
use pulse_risk::allocation::{per_interval, AllocationConfig, AllocationMode, MAX_STRATEGIES};
use pulse_risk::fx::FxTable;

use toml::Spanned;

use super::super::raw::{
    AllocationKind, AssetAmounts, RawAllocation, RawInstrument, RawPortfolio, RawRisk,
};
use super::super::{ConfigError, FundsConfig, StrategyConfig};
use super::Checker;
use crate::risk::account::ACCOUNT_SCALE;

/// The tables the funds are read from: `[risk]`, `[portfolio]`, `[[instruments]]`.
type Tables<'r> = (
    &'r RawRisk,
    Option<&'r RawPortfolio>,
    &'r Spanned<Vec<RawInstrument>>,
);

/// Decimals of a balance (a satoshi).
const BALANCE_SCALE: u32 = 8;
const MAX_WINDOW: i64 = 10_000;

impl Checker<'_> {
    pub(super) fn funds(
        &self,
        (risk, portfolio, raw_instruments): Tables<'_>,
        instruments: &InstrumentRegistry,
        strategies: &[&StrategyConfig],
    ) -> Result<FundsConfig, ConfigError> {
        let currency = match &risk.account_currency {
            Some(c) if asset_name_ok(c.get_ref()) => c.get_ref().clone(),
            Some(c) => {
                let message = "must be an asset name of 1 to 16 letters or digits, e.g. \"USDT\"";
                return Err(self.err("risk.account_currency", c.span(), message));
            }
            None => "USDT".to_owned(),
        };
        let fixed = self.amounts("risk.fixed_rates", &risk.fixed_rates, ACCOUNT_SCALE)?;
        if let (Some(t), Some((asset, _))) = (
            &risk.fixed_rates,
            fixed.iter().find(|(a, _)| *a == currency),
        ) {
            let message = format!("{asset} is the account currency: it needs no rate");
            return Err(self.err("risk.fixed_rates", t.span(), message));
        }
        if fixed.iter().any(|(_, rate)| *rate == 0) {
            let span = risk.fixed_rates.as_ref().map_or(0..0, |t| t.span());
            return Err(self.err("risk.fixed_rates", span, "a rate must be positive"));
        }
        for (i, inst) in instruments.iter().enumerate() {
            let q = inst.quote.as_str();
            if q.is_empty() || q == currency || fixed.iter().any(|(a, _)| a == q) {
                continue;
            }
            let pairs = |c: &Instrument| {
                (c.base == q && c.quote == currency) || (c.base == currency && c.quote == q)
            };
            if !instruments.iter().any(pairs) {
                let raw_inst = &raw_instruments.get_ref()[i];
                let span = raw_inst
                    .quote
                    .as_ref()
                    .map_or(raw_inst.symbol.span(), |s| s.span());
                let message = format!(
                    "{} is quoted in {q}, which cannot be converted into the account currency \
                     {currency}: configure an instrument pairing {q} with {currency}, or a fixed \
                     rate ([risk] fixed_rates = {{ {q} = \"1\" }})",
                    instruments.display_name(inst.id)
                );
                return Err(self.err(format!("instruments[{i}].quote"), span, message));
            }
        }
        let fx = FxTable::resolve(instruments, &currency, &fixed).map_err(|e| ConfigError {
            key: "risk.fixed_rates".into(),
            line: None,
            message: format!("{e:#}"),
        })?;
        let spot: Vec<bool> = instruments.iter().map(is_spot).collect();
        let balances = match &risk.balances {
            Some(_) => {
                let amounts = self.amounts("risk.balances", &risk.balances, BALANCE_SCALE)?;
                let scale = 10i128.pow(ACCOUNT_SCALE - BALANCE_SCALE);
                let amounts: Vec<_> = amounts.into_iter().map(|(a, m)| (a, m * scale)).collect();
                let result = pulse_risk::balance::Balances::new(instruments, &spot, &amounts);
                if let Err(e) = result {
                    let span = risk.balances.as_ref().map_or(0..0, |t| t.span());
                    return Err(self.err("risk.balances", span, format!("{e:#}")));
                }
                Some(amounts)
            }
            None => None,
        };
        let mut strategy_of = vec![0; instruments.len()];
        if strategies.len() <= MAX_STRATEGIES {
            for (s, strategy) in strategies.iter().enumerate() {
                if let Some(slot) = strategy_of.get_mut(usize::from(strategy.instrument().0)) {
                    *slot = s;
                }
            }
        }
        let strategy_names = strategies
            .iter()
            .map(|s| format!("{} {}", s.kind(), instruments.display_name(s.instrument())))
            .collect();
        let allocation = match portfolio.and_then(|p| p.allocation.as_ref()) {
            Some(a) => Some(self.allocation(a, strategies.len())?),
            None => None,
        };
        Ok(FundsConfig {
            account_currency: currency,
            fx,
            spot,
            balances,
            strategy_of,
            strategy_instruments: strategies.iter().map(|s| s.instrument()).collect(),
            strategy_names,
            allocation,
        })
    }

    /// An asset table, each amount non-negative with at most `scale` decimals, at
    /// [`ACCOUNT_SCALE`] for `ACCOUNT_SCALE` and at `scale` otherwise.
    fn amounts(
        &self,
        key: &str,
        table: &Option<AssetAmounts>,
        scale: u32,
    ) -> Result<Vec<(String, i128)>, ConfigError> {
        let Some(table) = table else {
            return Ok(Vec::new());
        };
        let mut out = Vec::with_capacity(table.get_ref().len());
        for (asset, v) in table.get_ref() {
            let key = format!("{key}.{asset}");
            if !asset_name_ok(asset) {
                let message = "an asset name is 1 to 16 letters or digits";
                return Err(self.err(key, v.span(), message));
            }
            let m = self.non_negative(&key, v, scale, "an amount")?;
            out.push((asset.clone(), i128::from(m)));
        }
        Ok(out)
    }

    fn allocation(
        &self,
        a: &RawAllocation,
        strategies: usize,
    ) -> Result<AllocationConfig, ConfigError> {
        let key = "portfolio.allocation";
        if !(2..=MAX_STRATEGIES).contains(&strategies) {
            let message = format!(
                "allocates capital across 2 to {MAX_STRATEGIES} [[strategies]]; this config has \
                 {strategies}"
            );
            return Err(self.err(format!("{key}.mode"), a.mode.span(), message));
        }
        let int = |name: &str, v: &Option<Spanned<i64>>, default, min, max| match v {
            Some(v) => self.int(&format!("{key}.{name}"), v, min, max),
            None => Ok(default),
        };
        let rebalance = int("rebalance_s", &a.rebalance_s, 300, 1, 30 * 86_400)?;
        let sample = int("sample_ms", &a.sample_ms, 1_000, 1, 86_400_000)?;
        let window = int("window", &a.window, 500, 2, MAX_WINDOW)?;
        let min_samples = int("min_samples", &a.min_samples, 30.min(window), 2, window)?;
        let sample_every = Nanos::from_millis(sample as u64);
        let annual = |name: &str, v: &Spanned<_>| -> Result<f64, ConfigError> {
            let bps = self.positive(&format!("{key}.{name}"), v, 2, "a hundredth of a percent")?;
            Ok(per_interval(bps as f64 / 10_000.0, sample_every))
        };
        let min_vol = match &a.min_vol_pct {
            Some(v) => annual("min_vol_pct", v)?,
            None => per_interval(0.05, sample_every),
        };
        let kind = *a.mode.get_ref();
        if let (false, Some(w)) = (matches!(kind, AllocationKind::Fixed), &a.weights) {
            let message = "only mode = \"fixed\" takes weights";
            return Err(self.err(format!("{key}.weights"), w.span(), message));
        }
        if let (false, Some(t)) = (matches!(kind, AllocationKind::VolTarget), &a.target_vol_pct) {
            let message = "only mode = \"vol-target\" takes a volatility target";
            return Err(self.err(format!("{key}.target_vol_pct"), t.span(), message));
        }
        let mode = match kind {
            AllocationKind::Fixed => AllocationMode::Fixed(self.weights(a, strategies)?),
            AllocationKind::VolTarget => match &a.target_vol_pct {
                Some(t) => AllocationMode::VolTarget {
                    target_vol: annual("target_vol_pct", t)?,
                },
                None => {
                    let message = "mode = \"vol-target\" needs target_vol_pct, the volatility a \
                                   year each strategy is sized to, e.g. \"20\"";
                    return Err(self.err(format!("{key}.mode"), a.mode.span(), message));
                }
            },
            AllocationKind::RiskParity => AllocationMode::RiskParity,
            AllocationKind::EqualRisk => AllocationMode::EqualRisk,
        };
        Ok(AllocationConfig {
            mode,
            strategies,
            rebalance_every: Nanos::from_millis(rebalance as u64 * 1_000),
            sample_every,
            window: window as usize,
            min_samples: min_samples as usize,
            min_vol,
        })
    }

    /// `weights`: one per strategy, at most 4 decimals each, summing to exactly 1.
    fn weights(&self, a: &RawAllocation, strategies: usize) -> Result<Vec<f64>, ConfigError> {
        let key = "portfolio.allocation.weights";
        let Some(w) = &a.weights else {
            let message = format!(
                "mode = \"fixed\" needs weights, one per strategy in [[strategies]] order, \
                 summing to 1 (here {strategies})"
            );
            return Err(self.err("portfolio.allocation.mode", a.mode.span(), message));
        };
        if w.get_ref().len() != strategies {
            let message = format!(
                "{} weights for {strategies} strategies: one per strategy, in [[strategies]] order",
                w.get_ref().len()
            );
            return Err(self.err(key, w.span(), message));
        }
        let mut bps = Vec::with_capacity(strategies);
        for v in w.get_ref() {
            bps.push(self.non_negative(key, v, 4, "a ten-thousandth")?);
        }
        let sum: i64 = bps.iter().sum();
        if sum != 10_000 {
            let message = format!("must sum to 1, not {}", sum as f64 / 10_000.0);
            return Err(self.err(key, w.span(), message));
        }
        Ok(bps.into_iter().map(|b| b as f64 / 10_000.0).collect())
    }
}

/// 1 to 16 ASCII letters or digits.
fn asset_name_ok(name: &str) -> bool {
    (1..=16).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Spot, unless its venue (or, on OKX, its symbol: `-SWAP`, or a dated future) is a
/// derivative's.
fn is_spot(inst: &Instrument) -> bool {
    match inst.venue {
        Venue::BinanceUsdm | Venue::BybitLinear => false,
        Venue::Okx => !(inst.symbol.ends_with("-SWAP") || inst.symbol.matches('-').count() >= 2),
        _ => true,
    }
}
