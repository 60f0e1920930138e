//! The end-of-run summary's funds lines: the account currency and conversions, the
//! allocation in force at the end, and the balances per asset.

use std::fmt::Write as _;

use pulse_feeds::instrument::InstrumentRegistry;
use pulse_feeds::num::Decimal;

use crate::config::FundsConfig;
use crate::risk::account::ACCOUNT_SCALE;
use crate::risk::fx::Conversion;
use crate::risk::stage::RiskStage;

/// An account-scale amount with `decimals` decimals (truncated).
fn amount(x: i128, decimals: u32) -> Decimal {
    Decimal::new(x / 10i128.pow(ACCOUNT_SCALE - decimals), decimals)
}

pub fn render(s: &mut String, f: &FundsConfig, risk: &RiskStage, instruments: &InstrumentRegistry) {
    let conversions: Vec<String> = instruments
        .iter()
        .enumerate()
        .filter_map(|(i, inst)| {
            let name = instruments.display_name(inst.id);
            match f.fx.get(i) {
                Conversion::Identity => None,
                Conversion::Fixed(rate) => Some(format!(
                    "{name} at a fixed {} {} per {}",
                    amount(rate, 6),
                    f.account_currency,
                    inst.quote
                )),
                Conversion::Via {
                    instrument,
                    inverted,
                } => Some(format!(
                    "{name} through {}{}",
                    instruments.display_name(instrument),
                    if inverted { " (inverted)" } else { "" }
                )),
            }
        })
        .collect();
    if !conversions.is_empty() {
        let _ = writeln!(
            s,
            "funds     valued in {}: {}",
            f.account_currency,
            conversions.join(", ")
        );
    }
    if let Some(a) = risk.allocation() {
        let shares: Vec<String> = (0..a.count)
            .map(|k| {
                let name = f.strategy_names.get(k).map_or("?", String::as_str);
                format!(
                    "{name} {}% {}",
                    Decimal::new(i128::from(a.weights_bps[k]), 2),
                    amount(a.capital[k], 2)
                )
            })
            .collect();
        let _ = writeln!(
            s,
            "allocation {} ({} weights) at market time {:.3} s of equity {} {}: {}",
            a.mode_name(),
            a.basis.name(),
            a.at.0 as f64 / 1e9,
            amount(a.equity, 2),
            f.account_currency,
            shares.join(", ")
        );
    }
    if f.balances.is_some() {
        let balances: Vec<String> = risk
            .account()
            .balances()
            .iter()
            .map(|(asset, total, reserved)| {
                format!(
                    "{asset} {} ({} reserved)",
                    amount(total, 8),
                    amount(reserved, 8)
                )
            })
            .collect();
        let _ = writeln!(s, "balances  {}", balances.join(", "));
    }
}
