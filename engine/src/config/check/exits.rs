//! The exits the engine owns: each strategy's `exits` table (stop-loss, take-profit and
//! trailing stop, each a fixed distance in bps or a multiple of realized volatility or ATR),
//! given to every instrument the strategy trades; `[risk.exits]` (volatility bars, retry);
//! and `[risk] kill_mode`.

use pulse_feeds::instrument::InstrumentRegistry;
use pulse_feeds::num::Nanos;
use pulse_risk::exits::{ExitDistance, ExitRules, ExitSettings};
use pulse_risk::KillMode;
use toml::Spanned;

use super::super::raw::{DecimalText, RawExits, RawRisk, RawStrategy};
use super::super::ConfigError;
use super::Checker;

/// A bps distance above this is no exit (the price would have to fall through zero).
const MAX_EXIT_BPS: i64 = 5_000;

impl Checker<'_> {
    pub(super) fn exits(
        &self,
        risk: &RawRisk,
        strategies: &[&RawStrategy],
        instruments: &InstrumentRegistry,
    ) -> Result<(KillMode, Vec<ExitRules>, ExitSettings), ConfigError> {
        let kill_mode = match &risk.kill_mode {
            None => KillMode::Cancel,
            Some(m) => match m.get_ref().as_str() {
                "cancel" => KillMode::Cancel,
                "flatten" => KillMode::Flatten,
                other => {
                    let message = format!("`{other}`: must be \"cancel\" or \"flatten\"");
                    return Err(self.err("risk.kill_mode", m.span(), message));
                }
            },
        };
        let mut settings = ExitSettings::default();
        if let Some(raw) = &risk.exits {
            if let Some(v) = &raw.bar_ms {
                let ms = self.int("risk.exits.bar_ms", v, 1, 3_600_000)?;
                settings.volatility.interval = Nanos::from_millis(ms as u64);
            }
            if let Some(v) = &raw.bars {
                settings.volatility.bars = self.int("risk.exits.bars", v, 2, 10_000)? as u32;
            }
            if let Some(v) = &raw.retry_ms {
                let ms = self.int("risk.exits.retry_ms", v, 1, 3_600_000)?;
                settings.retry = Nanos::from_millis(ms as u64);
            }
        }
        let mut rules = vec![ExitRules::default(); instruments.len()];
        for (n, raw) in strategies.iter().enumerate() {
            let Some(exits) = &raw.exits else {
                continue;
            };
            let key = format!("strategies[{n}].exits");
            let id = self.claimed(&raw.instrument, "strategy.instrument", instruments)?;
            if let Some(slot) = rules.get_mut(id.0 as usize) {
                *slot = self.exit_rules(&key, exits)?;
            }
        }
        Ok((kill_mode, rules, settings))
    }

    fn exit_rules(&self, key: &str, raw: &RawExits) -> Result<ExitRules, ConfigError> {
        Ok(ExitRules {
            stop_loss: self.distance(
                key,
                "stop_loss",
                &raw.stop_loss_bps,
                &raw.stop_loss_vol,
                &raw.stop_loss_atr,
            )?,
            take_profit: self.distance(
                key,
                "take_profit",
                &raw.take_profit_bps,
                &raw.take_profit_vol,
                &raw.take_profit_atr,
            )?,
            trailing: self.distance(
                key,
                "trailing",
                &raw.trailing_bps,
                &raw.trailing_vol,
                &raw.trailing_atr,
            )?,
        })
    }

    fn distance(
        &self,
        key: &str,
        name: &str,
        bps: &Option<Spanned<i64>>,
        vol: &Option<Spanned<DecimalText>>,
        atr: &Option<Spanned<DecimalText>>,
    ) -> Result<Option<ExitDistance>, ConfigError> {
        let multiple = |suffix: &str, v: &Spanned<DecimalText>| -> Result<f64, ConfigError> {
            let m = self.positive(&format!("{key}.{name}_{suffix}"), v, 4, "a ten-thousandth")?;
            Ok(m as f64 / 1e4)
        };
        match (bps, vol, atr) {
            (None, None, None) => Ok(None),
            (Some(b), None, None) => {
                let b = self.int(&format!("{key}.{name}_bps"), b, 1, MAX_EXIT_BPS)?;
                Ok(Some(ExitDistance::Bps(b as u32)))
            }
            (None, Some(v), None) => Ok(Some(ExitDistance::Volatility {
                multiple: multiple("vol", v)?,
            })),
            (None, None, Some(v)) => Ok(Some(ExitDistance::Atr {
                multiple: multiple("atr", v)?,
            })),
            _ => {
                let span = bps
                    .as_ref()
                    .map(Spanned::span)
                    .or_else(|| vol.as_ref().map(Spanned::span))
                    .unwrap_or_default();
                let message = format!("give {name} one way: {name}_bps, {name}_vol or {name}_atr");
                Err(self.err(format!("{key}.{name}"), span, message))
            }
        }
    }
}
