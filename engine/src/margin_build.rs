//! `[instruments.margin]` into the stages: the risk stage's margin check and guard, and the
//! simulated venue's perpetuals (leverage, brackets at the notional scale, funding, the
//! wallet the margin put up is).

use anyhow::Context as _;
use pulse_feeds::instrument::InstrumentRegistry;
use pulse_feeds::num::InstrumentId;
use pulse_gateways::sim::{DerivativesSim, Funding, FundingEvent, SimVenue};

use crate::config::Config;
use crate::risk::account::ACCOUNT_SCALE;
use crate::risk::margin::{Guard, InstrumentMargin};
use crate::risk::stage::RiskStage;

/// Gives the risk stage its margined instruments, if any.
pub fn attach_risk(cfg: &Config, instruments: &InstrumentRegistry, risk: RiskStage) -> RiskStage {
    if cfg.margins.iter().all(Option::is_none) {
        return risk;
    }
    let margins = cfg
        .margins
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let m = m.as_ref()?;
            let lot = instruments.get(InstrumentId(i as u16))?.lot;
            Some(InstrumentMargin {
                guard: Guard::new(m.settings.clone(), lot),
                margin: m.margin,
                deleverage: m.deleverage,
            })
        })
        .collect();
    risk.with_margin(margins)
}

/// The simulated venue with every margined instrument as a perpetual.
pub fn attach_sim(
    cfg: &Config,
    instruments: &InstrumentRegistry,
    mut venue: SimVenue,
) -> anyhow::Result<SimVenue> {
    for (i, m) in cfg.margins.iter().enumerate() {
        let Some(m) = m else { continue };
        let id = InstrumentId(i as u16);
        let inst = instruments.get(id).context("a margined instrument")?;
        let tiers = m
            .settings
            .tiers()
            .rescaled(ACCOUNT_SCALE, inst.notional_scale())
            .map_err(anyhow::Error::msg)?;
        let funding = m
            .funding
            .clone()
            .unwrap_or(Funding::Recorded(Vec::<FundingEvent>::new()));
        let settings = DerivativesSim {
            leverage: m.settings.leverage(),
            tiers,
            funding,
            wallet_balance: m.margin_notional,
        };
        venue = venue
            .with_derivatives(id, settings)
            .map_err(anyhow::Error::msg)
            .with_context(|| format!("instruments[{i}].margin on the simulated venue"))?;
    }
    Ok(venue)
}
