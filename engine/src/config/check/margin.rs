//! `[instruments.margin]`: an instrument traded on margin as a linear perpetual. The venue's
//! brackets (`[notional cap, max leverage, maintenance rate %]`, the maintenance amounts
//! computed as Binance does), the leverage set, the margin-call and auto-deleverage levels on
//! the margin ratio, the margin put up, and the simulated venue's funding. Amounts are in the
//! account currency, which must be the instrument's quote currency (USDⓈ-M: USDT).

use pulse_feeds::instrument::InstrumentRegistry;
use pulse_feeds::num::{parse_decimal, InstrumentId};
use pulse_risk::margin::{MarginSettings, MarginTiers};
use toml::Spanned;

use super::super::raw::{DecimalText, RawInstrument, RawMargin};
use super::super::{ConfigError, MarginConfig};
use super::Checker;
use crate::risk::account::ACCOUNT_SCALE;

/// Brackets a config may list (the check is O(brackets) per order).
pub const MAX_BRACKETS: usize = 16;
/// Bracket caps are read with this many decimals (then rescaled to the account scale).
const CAP_SCALE: u32 = 6;
/// The most leverage a bracket may allow (Binance's highest is 125x).
const MAX_LEVERAGE: i64 = 1_000;

impl Checker<'_> {
    /// Every instrument's `[instruments.margin]`, by instrument index.
    pub(super) fn margins(
        &self,
        raw: &Spanned<Vec<RawInstrument>>,
        instruments: &InstrumentRegistry,
    ) -> Result<Vec<Option<MarginConfig>>, ConfigError> {
        let mut out = Vec::with_capacity(raw.get_ref().len());
        for (i, inst) in raw.get_ref().iter().enumerate() {
            let margin = match (&inst.margin, instruments.get(InstrumentId(i as u16))) {
                (Some(m), Some(instrument)) => {
                    let key = format!("instruments[{i}].margin");
                    Some(self.margin(&key, m, instrument.notional_scale())?)
                }
                _ => None,
            };
            out.push(margin);
        }
        Ok(out)
    }

    fn margin(
        &self,
        key: &str,
        raw: &RawMargin,
        notional_scale: u32,
    ) -> Result<MarginConfig, ConfigError> {
        let tiers = self.brackets(key, raw)?;
        let first = i64::from(tiers.tiers()[0].max_leverage);
        let leverage_key = format!("{key}.leverage");
        let leverage = self.int(&leverage_key, &raw.leverage, 1, MAX_LEVERAGE)?;
        if leverage > first {
            let message = format!("{leverage} is above the first bracket's maximum of {first}x");
            return Err(self.err(&leverage_key, raw.leverage.span(), message));
        }
        let pct = |name: &str, v: &Spanned<DecimalText>| {
            let bps = self.non_negative(&format!("{key}.{name}"), v, 2, "a percentage")?;
            if !(1..=10_000).contains(&bps) {
                let message = "must be above 0 and at most 100";
                return Err(self.err(format!("{key}.{name}"), v.span(), message));
            }
            Ok(bps as u32)
        };
        let call_bps = pct("call_pct", &raw.call_pct)?;
        let reduce_bps = pct("reduce_pct", &raw.reduce_pct)?;
        if reduce_bps <= call_bps {
            let message = "must be above call_pct (the alert comes before the cut)";
            return Err(self.err(format!("{key}.reduce_pct"), raw.reduce_pct.span(), message));
        }
        // At 100% the venue liquidates first: the guard only alerts.
        let deleverage = reduce_bps < 10_000;
        let settings = MarginSettings::new(
            leverage as u32,
            tiers,
            call_bps,
            reduce_bps.min(9_999),
            notional_scale,
        )
        .map_err(|e| self.err(format!("{key}.call_pct"), raw.call_pct.span(), e))?;
        let margin_key = format!("{key}.margin");
        let margin_notional = self.positive(
            &margin_key,
            &raw.margin,
            notional_scale,
            "the notional scale",
        )?;
        let margin = i128::from(margin_notional) * 10i128.pow(ACCOUNT_SCALE - notional_scale);
        let funding = self.funding(key, raw)?;
        Ok(MarginConfig {
            settings,
            deleverage,
            margin,
            margin_notional: i128::from(margin_notional),
            funding,
        })
    }

    /// The brackets as tiers at the account scale: caps rising, leverage not rising, rates
    /// not falling and below 100%.
    fn brackets(&self, key: &str, raw: &RawMargin) -> Result<MarginTiers, ConfigError> {
        let list = raw.brackets.get_ref();
        let brackets_key = format!("{key}.brackets");
        if list.is_empty() || list.len() > MAX_BRACKETS {
            let message = format!("list 1 to {MAX_BRACKETS} brackets");
            return Err(self.err(&brackets_key, raw.brackets.span(), message));
        }
        let mut tiers: Vec<(i128, u32, u32)> = Vec::with_capacity(list.len());
        for (n, b) in list.iter().enumerate() {
            let (cap, lev, mmr) = b.get_ref();
            let k = format!("{brackets_key}[{n}]");
            let at = |m: String| self.err(&k, b.span(), m);
            let cap = parse_decimal(cap.0.as_bytes(), CAP_SCALE)
                .ok()
                .filter(|c| *c > 0)
                .ok_or_else(|| at(format!("notional cap `{}` is not a positive amount", cap.0)))?;
            let cap = i128::from(cap) * 10i128.pow(ACCOUNT_SCALE - CAP_SCALE);
            if !(1..=MAX_LEVERAGE).contains(lev) {
                return Err(at(format!(
                    "max leverage {lev} is not from 1 to {MAX_LEVERAGE}"
                )));
            }
            let mmr_bps = parse_decimal(mmr.0.as_bytes(), 2)
                .ok()
                .filter(|m| (0..10_000).contains(m))
                .ok_or_else(|| {
                    at(format!(
                        "maintenance rate `{}` is not a percentage from 0 to below 100 with at most 2 decimals",
                        mmr.0
                    ))
                })?;
            if let Some(&(prev_cap, prev_lev, prev_mmr)) = tiers.last() {
                if cap <= prev_cap {
                    return Err(at(
                        "notional caps must rise from one bracket to the next".into()
                    ));
                }
                if *lev as u32 > prev_lev {
                    return Err(at(
                        "max leverage must not rise from one bracket to the next".into(),
                    ));
                }
                if (mmr_bps as u32) < prev_mmr {
                    return Err(at(
                        "maintenance rates must not fall from one bracket to the next".into(),
                    ));
                }
            }
            tiers.push((cap, *lev as u32, mmr_bps as u32));
        }
        MarginTiers::from_brackets(&tiers)
            .map_err(|e| self.err(&brackets_key, raw.brackets.span(), e))
    }
}
