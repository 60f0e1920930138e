//! `[portfolio]` and `[[portfolio.stress]]`: the portfolio stage's model (sampling interval,
//! window, EWMA decay, correlation threshold), the limits on its figures, and the stress
//! scenarios. Amounts are in the account currency, percentages of equity or of price.

use std::collections::BTreeMap;

use pulse_feeds::instrument::{InstrumentRegistry, Venue};
use pulse_feeds::num::Nanos;
use pulse_risk::published::{BookRiskLimits, MAX_BOOK_INSTRUMENTS};
use toml::Spanned;

use super::super::raw::{DecimalText, RawPortfolio, RawStress};
use super::super::{ConfigError, PortfolioRiskConfig, StressConfig, StressKind};
use super::Checker;

/// The most stress scenarios one config runs.
pub const MAX_STRESS_SCENARIOS: usize = 16;
const MAX_WINDOW: i64 = 10_000;

impl Checker<'_> {
    pub(super) fn book_risk(
        &self,
        raw: &RawPortfolio,
        instruments: &InstrumentRegistry,
    ) -> Result<PortfolioRiskConfig, ConfigError> {
        if instruments.len() > MAX_BOOK_INSTRUMENTS {
            return Err(ConfigError {
                key: "portfolio".into(),
                line: None,
                message: format!(
                    "covers at most {MAX_BOOK_INSTRUMENTS} instruments; this config has {}",
                    instruments.len()
                ),
            });
        }
        let int = |key: &str, v: &Option<Spanned<i64>>, default: i64, min: i64, max: i64| match v {
            Some(v) => self.int(&format!("portfolio.{key}"), v, min, max),
            None => Ok(default),
        };
        let interval = int("interval_ms", &raw.interval_ms, 1_000, 1, 86_400_000)?;
        let window = int("window", &raw.window, 500, 2, MAX_WINDOW)?;
        let min_rows = int("min_rows", &raw.min_rows, 30.min(window), 2, window)?;
        let lambda = match &raw.ewma_lambda {
            Some(v) => self.unit_fraction("portfolio.ewma_lambda", v)?,
            None => 0.94,
        };
        if !(lambda > 0.0 && lambda < 1.0) {
            let span = raw.ewma_lambda.as_ref().map(Spanned::span);
            return Err(self.err_at("portfolio.ewma_lambda", span, "must be between 0 and 1"));
        }
        let correlation_threshold = match &raw.correlation_threshold {
            Some(v) => self.unit_fraction("portfolio.correlation_threshold", v)?,
            None => 0.7,
        };
        let confidence = match &raw.confidence {
            Some(v) if matches!(*v.get_ref(), 95 | 99) => *v.get_ref() as u8,
            Some(v) => return Err(self.err("portfolio.confidence", v.span(), "must be 95 or 99")),
            None => 99,
        };
        let amount = |key: &str, v: &Option<Spanned<DecimalText>>| match v {
            Some(v) => {
                let micros = self.positive(&format!("portfolio.{key}"), v, 6, "a millionth")?;
                Ok(Some(micros as f64 / 1e6))
            }
            None => Ok(None),
        };
        let max_correlated_exposure = match &raw.max_correlated_exposure_pct {
            Some(v) => {
                let bps = self.non_negative(
                    "portfolio.max_correlated_exposure_pct",
                    v,
                    2,
                    "a percentage",
                )?;
                Some(bps as f64 / 10_000.0)
            }
            None => Some(0.10),
        };
        let limits = BookRiskLimits {
            max_var: amount("max_var", &raw.max_var)?,
            max_correlated_exposure,
            max_stress_loss: amount("max_stress_loss", &raw.max_stress_loss)?,
        };
        if raw.stress.len() > MAX_STRESS_SCENARIOS {
            return Err(ConfigError {
                key: "portfolio.stress".into(),
                line: None,
                message: format!("at most {MAX_STRESS_SCENARIOS} scenarios"),
            });
        }
        let interval = Nanos::from_millis(interval as u64);
        let mut stress: Vec<StressConfig> = Vec::with_capacity(raw.stress.len());
        for (n, s) in raw.stress.iter().enumerate() {
            let scenario = self.stress(n, s, instruments, interval)?;
            if stress.iter().any(|o| o.name == scenario.name) {
                let message = format!("`{}` is used twice", scenario.name);
                return Err(self.err(
                    format!("portfolio.stress[{n}].name"),
                    s.name.span(),
                    message,
                ));
            }
            stress.push(scenario);
        }
        Ok(PortfolioRiskConfig {
            interval,
            window: window as usize,
            min_rows: min_rows as usize,
            lambda,
            correlation_threshold,
            confidence,
            limits,
            stress,
        })
    }

    fn stress(
        &self,
        n: usize,
        raw: &RawStress,
        instruments: &InstrumentRegistry,
        interval: Nanos,
    ) -> Result<StressConfig, ConfigError> {
        let key = format!("portfolio.stress[{n}]");
        let name = raw.name.get_ref().trim();
        if name.is_empty() || name.len() > 64 || !name.bytes().all(|b| b.is_ascii_graphic()) {
            let message = "must be 1 to 64 printable characters without spaces";
            return Err(self.err(format!("{key}.name"), raw.name.span(), message));
        }
        let kinds = [
            raw.shock_pct.is_some(),
            raw.vol_scale.is_some(),
            raw.correlation_one.is_some(),
            raw.outage_venue.is_some(),
        ];
        if kinds.iter().filter(|k| **k).count() != 1 {
            let message = "give exactly one of shock_pct, vol_scale, correlation_one, outage_venue";
            return Err(self.err(key, raw.name.span(), message));
        }
        if raw.outage_s.is_some() && raw.outage_venue.is_none() {
            let span = raw.outage_s.as_ref().map(Spanned::span);
            return Err(self.err_at(&format!("{key}.outage_s"), span, "needs outage_venue"));
        }
        let kind = if let Some(shocks) = &raw.shock_pct {
            StressKind::Shock(self.shocks(&key, shocks, instruments)?)
        } else if let Some(v) = &raw.vol_scale {
            let factor = self.positive(&format!("{key}.vol_scale"), v, 4, "a ten-thousandth")?;
            StressKind::VolScale(factor as f64 / 1e4)
        } else if let Some(one) = &raw.correlation_one {
            if !*one.get_ref() {
                let message = "is a scenario only when true; remove the table otherwise";
                return Err(self.err(format!("{key}.correlation_one"), one.span(), message));
            }
            StressKind::CorrelationOne
        } else {
            let Some(v) = &raw.outage_venue else {
                return Err(self.err(key, raw.name.span(), "has no kind"));
            };
            let Some(venue) = Venue::from_name(v.get_ref()) else {
                let message = format!("unknown venue `{}`", v.get_ref());
                return Err(self.err(format!("{key}.outage_venue"), v.span(), message));
            };
            let frozen: Vec<usize> = instruments
                .iter()
                .enumerate()
                .filter(|(_, i)| i.venue == venue)
                .map(|(n, _)| n)
                .collect();
            if frozen.is_empty() {
                let message = format!("no configured instrument trades on `{}`", v.get_ref());
                return Err(self.err(format!("{key}.outage_venue"), v.span(), message));
            }
            let ms = match &raw.outage_s {
                Some(s) => self.positive(&format!("{key}.outage_s"), s, 3, "a millisecond")?,
                None => 60_000,
            };
            StressKind::Outage {
                instruments: frozen,
                intervals: (ms as f64 * 1e6 / interval.0 as f64).max(1.0),
            }
        };
        Ok(StressConfig {
            name: name.to_owned(),
            kind,
        })
    }

    /// `{ BTC = "-10", "okx:ETH-USDT" = "-15" }`: an asset moves every instrument with that
    /// base; an instrument's own entry wins over its asset's.
    fn shocks(
        &self,
        key: &str,
        raw: &Spanned<BTreeMap<String, DecimalText>>,
        instruments: &InstrumentRegistry,
    ) -> Result<Vec<(usize, f64)>, ConfigError> {
        let mut by_instrument: Vec<Option<(f64, bool)>> = vec![None; instruments.len()];
        for (name, pct) in raw.get_ref() {
            let text = &pct.0;
            let bps = pulse_feeds::num::parse_decimal(text.trim_start_matches('-').as_bytes(), 2)
                .ok()
                .filter(|bps| *bps <= 1_000_000);
            let Some(bps) = bps else {
                let message =
                    format!("`{name} = \"{text}\"` is not a percentage with at most 2 decimals");
                return Err(self.err(format!("{key}.shock_pct"), raw.span(), message));
            };
            let shock = if text.starts_with('-') { -1.0 } else { 1.0 } * bps as f64 / 10_000.0;
            if shock <= -1.0 {
                let message = format!("`{name}`: a price cannot fall by 100% or more");
                return Err(self.err(format!("{key}.shock_pct"), raw.span(), message));
            }
            let exact = name.contains(':');
            let mut hit = false;
            for (n, inst) in instruments.iter().enumerate() {
                let matches = if exact {
                    let (venue, symbol) = name.split_once(':').unwrap_or_default();
                    inst.venue.name() == venue && inst.symbol.eq_ignore_ascii_case(symbol)
                } else {
                    inst.base.eq_ignore_ascii_case(name)
                };
                if matches {
                    hit = true;
                    let slot = &mut by_instrument[n];
                    if exact || !slot.is_some_and(|(_, e)| e) {
                        *slot = Some((shock, exact));
                    }
                }
            }
            if !hit {
                let message = format!(
                    "`{name}` is neither a configured instrument (venue:SYMBOL) nor the base \
                     asset of one"
                );
                return Err(self.err(format!("{key}.shock_pct"), raw.span(), message));
            }
        }
        Ok(by_instrument
            .into_iter()
            .enumerate()
            .filter_map(|(n, s)| s.map(|(shock, _)| (n, shock)))
            .collect())
    }

    /// A decimal from 0 to 1 with at most 4 decimals.
    fn unit_fraction(&self, key: &str, v: &Spanned<DecimalText>) -> Result<f64, ConfigError> {
        let m = self.non_negative(key, v, 4, "a fraction from 0 to 1")?;
        if m > 10_000 {
            return Err(self.err(key, v.span(), "must be from 0 to 1"));
        }
        Ok(m as f64 / 10_000.0)
    }

    fn err_at(
        &self,
        key: &str,
        span: Option<std::ops::Range<usize>>,
        message: &str,
    ) -> ConfigError {
        match span {
            Some(span) => self.err(key, span, message),
            None => ConfigError {
                key: key.into(),
                line: None,
                message: message.into(),
            },
        }
    }
}
