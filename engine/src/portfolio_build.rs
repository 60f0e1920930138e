//! Builds the portfolio stage from `[portfolio]` and joins it to the risk stage with its two
//! rings (snapshots out of risk, figures back).

use pulse_feeds::num::Nanos;
use rtrb::RingBuffer;

use crate::config::{PortfolioRiskConfig, StressKind};
use crate::hot_stage::HotStage;
use crate::risk::portfolio::{RiskModelConfig, StressScenario};
use crate::risk::portfolio_link::PortfolioLink;
use crate::risk::portfolio_stage::{PortfolioRings, PortfolioStage};
use crate::risk::stage::RiskStage;

/// Room for a few intervals each way: the portfolio stage computes once per interval, so
/// the rings only fill when it falls several intervals behind (then counted).
const PORTFOLIO_RING: usize = 8;

/// The risk stage sending snapshots to a new portfolio stage, and that stage; the risk stage
/// as it was without `[portfolio]`.
pub fn attach(
    cfg: Option<&PortfolioRiskConfig>,
    instruments: usize,
    risk: RiskStage,
) -> anyhow::Result<(RiskStage, Option<HotStage>)> {
    let Some(p) = cfg else {
        return Ok((risk, None));
    };
    let (snapshots_tx, snapshots_rx) = RingBuffer::new(PORTFOLIO_RING);
    let (figures_tx, figures_rx) = RingBuffer::new(PORTFOLIO_RING);
    let stage = PortfolioStage::new(
        instruments,
        model_config(p),
        p.confidence,
        scenarios(p),
        PortfolioRings {
            snapshots: snapshots_rx,
            out: figures_tx,
        },
    )?;
    let link = PortfolioLink::new(snapshots_tx, figures_rx, p.interval);
    Ok((
        risk.with_portfolio(link, p.limits),
        Some(HotStage::Portfolio(Box::new(stage))),
    ))
}

pub fn model_config(p: &PortfolioRiskConfig) -> RiskModelConfig {
    RiskModelConfig {
        interval: Nanos(p.interval.0),
        window: p.window,
        lambda: p.lambda,
        corr_threshold: p.correlation_threshold,
        min_rows: p.min_rows,
    }
}

pub fn scenarios(p: &PortfolioRiskConfig) -> Vec<StressScenario> {
    p.stress
        .iter()
        .map(|s| {
            let name = s.name.clone();
            match &s.kind {
                StressKind::Shock(shocks) => StressScenario::Shock {
                    name,
                    shocks: shocks.clone(),
                },
                StressKind::VolScale(factor) => StressScenario::VolScale {
                    name,
                    factor: *factor,
                },
                StressKind::CorrelationOne => StressScenario::CorrelationOne { name },
                StressKind::Outage {
                    instruments,
                    intervals,
                } => StressScenario::Outage {
                    name,
                    instruments: instruments.clone(),
                    horizon_intervals: *intervals,
                },
            }
        })
        .collect()
}
