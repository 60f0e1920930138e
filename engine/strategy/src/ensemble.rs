//! The ensemble strategy: indicators → agents → meta-agent → aggregator → one IOC order.
//!
//! On every live book event of its instrument it updates the indicators, asks each agent
//! (the four rules and, when a weights file is configured, the policy network) for a signal,
//! lets the meta-agent weigh them by regime and recent performance, and sends an order when the
//! aggregated confidence reaches the minimum. Trades feed the indicators only. Everything runs
//! on the strategy stage's thread with buffers allocated at construction.

use pulse_core::event::{BookState, BookTop, MarketEvent};
use pulse_core::num::Side;

use crate::agents::aggregate::{aggregate, Decision, DEFAULT_MIN_CONFIDENCE};
use crate::agents::meta::{MetaAgent, MetaParams};
use crate::agents::regime::{RegimeClassifier, RegimeParams, REGIMES};
use crate::agents::rules::{self, AgentParams};
use crate::agents::{AgentKind, MarketView, Signal, AGENTS};
use crate::indicators::{Feature, IndicatorConfig, IndicatorSet, FEATURES};
use crate::outside::OutsideScores;
use crate::params::{ParamDecl, ParamTable, StrategyDecl, StrategyParams};
use crate::policy::{Action, PolicyNetwork};
use crate::taker::{Taker, TakerParams, SLIPPAGE_TICKS};
use crate::user::StrategyContext;
use pulse_core::intent::{Feedback, OrderIntent, Origin};

#[derive(Clone, Debug)]
pub struct EnsembleConfig {
    pub taker: TakerParams,
    /// The aggregator's threshold, 0 to 1.
    pub min_confidence: f64,
    pub indicators: IndicatorConfig,
    pub agents: AgentParams,
    pub regime: RegimeParams,
    pub meta: MetaParams,
}

impl EnsembleConfig {
    /// `kind = "ensemble"`: its knobs in `[strategy]` and in one table per part.
    pub const DECL: StrategyDecl = StrategyDecl {
        kind: "ensemble",
        help: "indicators, four rule agents and the policy network, weighed by regime",
        tables: &[
            ParamTable {
                key: "",
                params: &[
                    SLIPPAGE_TICKS,
                    ParamDecl::decimal(
                        "min_confidence",
                        0.0,
                        1.0,
                        DEFAULT_MIN_CONFIDENCE,
                        "the aggregated confidence an order needs",
                    ),
                ],
            },
            ParamTable {
                key: "indicators",
                params: IndicatorConfig::PARAMS,
            },
            ParamTable {
                key: "regime",
                params: RegimeParams::PARAMS,
            },
            ParamTable {
                key: "meta",
                params: MetaParams::PARAMS,
            },
            ParamTable {
                key: "agents.conservative",
                params: rules::Conservative::PARAMS,
            },
            ParamTable {
                key: "agents.aggressive",
                params: rules::Aggressive::PARAMS,
            },
            ParamTable {
                key: "agents.balanced",
                params: rules::Balanced::PARAMS,
            },
            ParamTable {
                key: "agents.contrarian",
                params: rules::Contrarian::PARAMS,
            },
        ],
    };

    pub fn from_params(ctx: &StrategyContext, params: &StrategyParams) -> EnsembleConfig {
        let top = params.table("");
        EnsembleConfig {
            taker: TakerParams::from_params(ctx, top),
            min_confidence: top.value("min_confidence"),
            indicators: IndicatorConfig::from_params(params.table("indicators")),
            agents: AgentParams {
                conservative: rules::Conservative::from_params(params.table("agents.conservative")),
                aggressive: rules::Aggressive::from_params(params.table("agents.aggressive")),
                balanced: rules::Balanced::from_params(params.table("agents.balanced")),
                contrarian: rules::Contrarian::from_params(params.table("agents.contrarian")),
            },
            regime: RegimeParams::from_params(params.table("regime")),
            meta: MetaParams::from_params(params.table("meta")),
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EnsembleCounters {
    pub book_events: u64,
    pub trades: u64,
    /// Signals per agent, in [`AgentKind::ALL`] order.
    pub signals: [u64; AGENTS],
    /// Book events spent in each regime, in [`crate::agents::regime::Regime::ALL`] order.
    pub regimes: [u64; REGIMES],
    /// Aggregated decisions at or above the minimum confidence.
    pub decisions: u64,
    /// Book events where some agent spoke but the ensemble was not sure enough.
    pub below_confidence: u64,
    pub intents: u64,
    pub rejected: u64,
}

pub struct EnsembleStrategy {
    taker: Taker,
    indicators: IndicatorSet,
    features: [f64; FEATURES],
    agents: AgentParams,
    regime: RegimeClassifier,
    meta: MetaAgent,
    policy: Option<PolicyNetwork>,
    outside: Option<OutsideScores>,
    min_confidence: f64,
    pub counters: EnsembleCounters,
}

impl EnsembleStrategy {
    pub fn new(
        cfg: &EnsembleConfig,
        policy: Option<PolicyNetwork>,
    ) -> anyhow::Result<EnsembleStrategy> {
        Ok(EnsembleStrategy {
            taker: Taker::new(cfg.taker),
            indicators: IndicatorSet::new(&cfg.indicators, cfg.taker.tick)?,
            features: [0.0; FEATURES],
            agents: cfg.agents,
            regime: RegimeClassifier::new(cfg.regime),
            meta: MetaAgent::new(cfg.meta),
            policy,
            outside: None,
            min_confidence: cfg.min_confidence,
            counters: EnsembleCounters::default(),
        })
    }

    /// Feeds the agents an outside score (sentiment, fundamentals) as [`MarketView::outside`].
    pub fn with_outside(mut self, outside: OutsideScores) -> EnsembleStrategy {
        self.outside = Some(outside);
        self
    }

    pub fn outside(&self) -> Option<&OutsideScores> {
        self.outside.as_ref()
    }

    pub fn meta(&self) -> &MetaAgent {
        &self.meta
    }

    /// The feature vector of the last live book event of its instrument, as the agents read it
    /// and the policy network is fed it (the network only once `ready` is 1); all neutral
    /// before the first. `pulse features` exports exactly this.
    pub fn features(&self) -> &[f64; FEATURES] {
        &self.features
    }

    /// The mid of the last live book event, in price-mantissa units; 0 before the first.
    pub fn mid(&self) -> f64 {
        self.indicators.mid()
    }

    pub fn on_event(&mut self, event: &MarketEvent) -> Option<OrderIntent> {
        match event {
            MarketEvent::Trade(trade) if trade.meta.instrument == self.taker.instrument() => {
                self.counters.trades += 1;
                self.indicators.on_trade(trade);
                None
            }
            MarketEvent::Book(top) if top.meta.instrument == self.taker.instrument() => {
                self.on_book(top)
            }
            _ => None,
        }
    }

    fn on_book(&mut self, top: &BookTop) -> Option<OrderIntent> {
        self.indicators.on_book(top);
        if top.state != BookState::Live {
            return None;
        }
        self.counters.book_events += 1;
        self.indicators.features(&mut self.features);
        let mut view = view(&self.features);
        if let Some(outside) = &mut self.outside {
            view.outside = outside.at(top.meta.instrument, top.meta.recv_ts);
        }
        let mid = self.indicators.mid();
        self.meta.on_event(mid);
        let regime = self.regime.update(&view);
        self.counters.regimes[regime.index()] += 1;
        let signals = self.signals(&view);
        for agent in AgentKind::ALL {
            if let Some(signal) = &signals[agent.index()] {
                self.counters.signals[agent.index()] += 1;
                self.meta.on_call(agent, signal, mid);
            }
        }
        let weights = self.meta.weights(regime);
        let Some(Decision {
            side,
            confidence,
            lead,
            ..
        }) = aggregate(&signals, &weights, self.min_confidence)
        else {
            if signals.iter().any(Option::is_some) {
                self.counters.below_confidence += 1;
            }
            return None;
        };
        self.counters.decisions += 1;
        let mut intent = self.taker.order(top, side, self.taker.order_qty())?;
        // In [min_confidence, 1] by the aggregator; to the nearest bps.
        intent.confidence_bps = (confidence * 10_000.0).round().clamp(0.0, 10_000.0) as u16;
        intent.vol_bps = view.vol_bps.clamp(0.0, f64::from(u32::MAX)) as u32;
        intent.origin = lead.map_or(Origin::Rule, Origin::Agent);
        self.counters.intents += 1;
        Some(intent)
    }

    fn signals(&mut self, view: &MarketView) -> [Option<Signal>; AGENTS] {
        let p = &self.agents;
        let mut s = [None; AGENTS];
        s[AgentKind::Conservative.index()] = rules::conservative(view, &p.conservative);
        s[AgentKind::Aggressive.index()] = rules::aggressive(view, &p.aggressive);
        s[AgentKind::Balanced.index()] = rules::balanced(view, &p.balanced);
        s[AgentKind::Contrarian.index()] = rules::contrarian(view, &p.contrarian);
        if let (Some(policy), true) = (&mut self.policy, view.ready) {
            let out = policy.infer(&self.features);
            let side = match out.action {
                Action::Buy => Some(Side::Buy),
                Action::Sell => Some(Side::Sell),
                Action::Hold => None,
            };
            s[AgentKind::Policy.index()] =
                side.map(|side| Signal::new(side, out.confidence, out.confidence));
        }
        s
    }

    pub fn on_feedback(&mut self, feedback: &Feedback) {
        self.taker.on_feedback(feedback);
        self.counters.rejected = self.taker.rejected;
    }
}

/// The agents' view of the feature vector (see [`Feature`] for each slot's meaning).
fn view(f: &[f64; FEATURES]) -> MarketView {
    let at = |x: Feature| f[x as usize];
    MarketView {
        ready: at(Feature::Ready) == 1.0,
        trend_bps: at(Feature::MacdBps),
        macd_hist_bps: at(Feature::MacdHistogramBps),
        rsi: at(Feature::Rsi) * 100.0,
        pct_b: at(Feature::BollingerPercentB),
        imbalance: at(Feature::BookImbalance),
        micro_dev_bps: at(Feature::MicroPriceOffsetBps),
        vol_bps: at(Feature::RealizedVolBps),
        flow: at(Feature::TradeFlowImbalance),
        outside: 0.0,
    }
}
