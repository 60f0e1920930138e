//! `[risk]`'s account and portfolio limits and `[risk.sizing]`. `capital` is required: every
//! portfolio limit is a share of it or of the equity grown from it. Money is written in the
//! account currency with at most 6 decimals; percentages with at most 2.

use pulse_feeds::num::Nanos;
use toml::Spanned;

use super::super::raw::{DecimalText, RawRisk, RawSizing, SizingMode};
use super::super::ConfigError;
use super::Checker;
use crate::risk::account::ACCOUNT_SCALE;
use crate::risk::limits::PortfolioLimits;
use crate::risk::sizing::Sizing;
use crate::risk::stage::MAX_OPEN_ORDERS;

/// Decimals of money amounts in the config.
const MONEY_SCALE: u32 = 6;

impl Checker<'_> {
    pub(super) fn portfolio(&self, raw: &RawRisk) -> Result<PortfolioLimits, ConfigError> {
        let Some(capital) = &raw.capital else {
            return Err(ConfigError {
                key: "risk.capital".into(),
                line: None,
                message: "is required: the account's value in its currency, e.g. \"10000\" \
                          (the portfolio limits are shares of it)"
                    .into(),
            });
        };
        let capital = self.money("risk.capital", capital, true)?;
        let mut p = PortfolioLimits::with_capital(capital);
        if let Some(v) = &raw.max_gross_exposure {
            p.max_gross_exposure = self.money("risk.max_gross_exposure", v, true)?;
        }
        if let Some(v) = &raw.daily_loss_limit {
            p.daily_loss_limit = self.money("risk.daily_loss_limit", v, true)?;
        }
        if let Some(v) = &raw.max_position_share_pct {
            p.max_position_share_bps = self.pct("risk.max_position_share_pct", v)?;
        }
        if let Some(v) = &raw.max_open_orders {
            p.max_open_orders =
                self.int("risk.max_open_orders", v, 1, MAX_OPEN_ORDERS as i64)? as usize;
        }
        if let Some(v) = &raw.max_messages {
            p.max_messages = self.int("risk.max_messages", v, 1, 100_000)? as u32;
        }
        let ms = |key: &str, v: &Spanned<i64>| -> Result<Nanos, ConfigError> {
            Ok(Nanos::from_millis(self.int(key, v, 1, 86_400_000)? as u64))
        };
        if let Some(v) = &raw.throttle_window_ms {
            p.throttle_window = ms("risk.throttle_window_ms", v)?;
        }
        if let Some(v) = &raw.duplicate_window_ms {
            p.duplicate_window = ms("risk.duplicate_window_ms", v)?;
        }
        if let Some(v) = &raw.max_auto_fills {
            p.max_auto_fills = self.int("risk.max_auto_fills", v, 1, i64::MAX)? as u64;
        }
        let levels = [
            ("drawdown_halve_pct", &raw.drawdown_halve_pct),
            ("drawdown_restrict_pct", &raw.drawdown_restrict_pct),
            ("drawdown_stop_pct", &raw.drawdown_stop_pct),
        ];
        let mut bps = [
            p.drawdown_halve_bps,
            p.drawdown_restrict_bps,
            p.drawdown_stop_bps,
        ];
        for ((key, v), slot) in levels.iter().zip(bps.iter_mut()) {
            if let Some(v) = v {
                *slot = self.pct(&format!("risk.{key}"), v)?;
            }
        }
        if !(bps[0] < bps[1] && bps[1] < bps[2]) {
            let span = levels
                .iter()
                .find_map(|(_, v)| v.as_ref().map(Spanned::span));
            let message = "the drawdown levels must rise: halve < restrict < stop";
            return Err(match span {
                Some(span) => self.err("risk.drawdown_halve_pct", span, message),
                None => ConfigError {
                    key: "risk".into(),
                    line: None,
                    message: message.into(),
                },
            });
        }
        [
            p.drawdown_halve_bps,
            p.drawdown_restrict_bps,
            p.drawdown_stop_bps,
        ] = bps;
        if let Some(v) = &raw.min_confidence {
            let c = self.fraction_bps("risk.min_confidence", v)?;
            p.min_confidence_bps = c as u16;
        }
        if let Some(sizing) = &raw.sizing {
            p.sizing = self.sizing(sizing)?;
        }
        Ok(p)
    }

    /// A money amount (at most 6 decimals) at the account scale; `positive` refuses zero.
    fn money(
        &self,
        key: &str,
        value: &Spanned<DecimalText>,
        positive: bool,
    ) -> Result<i128, ConfigError> {
        let m = if positive {
            self.positive(key, value, MONEY_SCALE, "a millionth")?
        } else {
            self.non_negative(key, value, MONEY_SCALE, "an amount")?
        };
        Ok(i128::from(m) * 10i128.pow(ACCOUNT_SCALE - MONEY_SCALE))
    }

    /// A percentage from 0 to 100 with at most 2 decimals, in bps.
    fn pct(&self, key: &str, value: &Spanned<DecimalText>) -> Result<u32, ConfigError> {
        let bps = self.non_negative(key, value, 2, "a percentage")?;
        if bps > 10_000 {
            return Err(self.err(key, value.span(), "must be from 0 to 100"));
        }
        Ok(bps as u32)
    }

    /// A fraction from 0 to 1 with at most 4 decimals, in bps.
    fn fraction_bps(&self, key: &str, value: &Spanned<DecimalText>) -> Result<u32, ConfigError> {
        let bps = self.non_negative(key, value, 4, "a fraction from 0 to 1")?;
        if bps > 10_000 {
            return Err(self.err(key, value.span(), "must be from 0 to 1"));
        }
        Ok(bps as u32)
    }

    fn sizing(&self, raw: &RawSizing) -> Result<Sizing, ConfigError> {
        let keys = [
            ("kelly_payoff", &raw.kelly_payoff),
            ("kelly_cap", &raw.kelly_cap),
            ("fraction", &raw.fraction),
            ("stop_vols", &raw.stop_vols),
            ("min_vol_bps", &raw.min_vol_bps),
        ];
        let mode = *raw.mode.get_ref();
        let allowed: &[&str] = match mode {
            SizingMode::Strategy => &[],
            SizingMode::Kelly => &["kelly_payoff", "kelly_cap"],
            SizingMode::FixedFractional => &["fraction", "stop_vols", "min_vol_bps"],
        };
        if let Some((key, Some(v))) = keys
            .iter()
            .find(|(k, v)| v.is_some() && !allowed.contains(k))
        {
            return Err(self.err(
                format!("risk.sizing.{key}"),
                v.span(),
                "does not apply to this sizing mode",
            ));
        }
        let get = |key: &str, v: &Option<Spanned<DecimalText>>, scale: u32, default: i64| {
            v.as_ref().map_or(Ok(default), |v| {
                self.positive(
                    &format!("risk.sizing.{key}"),
                    v,
                    scale,
                    "the precision allowed",
                )
            })
        };
        Ok(match mode {
            SizingMode::Strategy => Sizing::Strategy,
            SizingMode::Kelly => {
                let cap = get("kelly_cap", &raw.kelly_cap, 4, 2_500)?;
                if cap > 10_000 {
                    let span = raw
                        .kelly_cap
                        .as_ref()
                        .map_or(raw.mode.span(), Spanned::span);
                    return Err(self.err("risk.sizing.kelly_cap", span, "must be at most 1"));
                }
                Sizing::Kelly {
                    payoff_bps: get("kelly_payoff", &raw.kelly_payoff, 4, 10_000)?
                        .min(i64::from(u32::MAX)) as u32,
                    cap_bps: cap as u32,
                }
            }
            SizingMode::FixedFractional => {
                let fraction = get("fraction", &raw.fraction, 4, 10)?;
                if fraction > 10_000 {
                    let span = raw.fraction.as_ref().map_or(raw.mode.span(), Spanned::span);
                    return Err(self.err("risk.sizing.fraction", span, "must be at most 1"));
                }
                Sizing::FixedFractional {
                    fraction_bps: fraction as u32,
                    stop_vols_centi: get("stop_vols", &raw.stop_vols, 2, 200)?
                        .min(i64::from(u32::MAX)) as u32,
                    min_vol_bps: get("min_vol_bps", &raw.min_vol_bps, 0, 1)?
                        .min(i64::from(u32::MAX)) as u32,
                }
            }
        })
    }
}
