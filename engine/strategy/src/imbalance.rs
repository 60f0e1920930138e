//! Book-imbalance taker: when the resting quantity near the touch leans hard to one side, the
//! price tends to move that way; take liquidity in that direction.
//!
//! imbalance = (bid qty - ask qty) / (bid qty + ask qty) over the best `depth_levels` levels,
//! in basis points, in integers. At or above `threshold_bps` it buys (up to `max_position`); at
//! or below `-threshold_bps` it sells what it holds (spot: no short selling). One order works at
//! a time, and after each order the strategy waits `cooldown` of market time.

use pulse_core::event::{BookState, BookTop};
use pulse_core::num::{InstrumentId, Nanos, Px, Qty, Side};

use crate::params::{ParamDecl, ParamTable, StrategyDecl, StrategyParams};
use crate::taker::{Taker, TakerParams, SLIPPAGE_TICKS};
use crate::user::StrategyContext;
use pulse_core::intent::{Feedback, OrderIntent};

/// `kind = "book_imbalance"`: the taker's parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImbalanceConfig {
    pub instrument: InstrumentId,
    pub depth_levels: usize,
    pub threshold_bps: u32,
    pub order_qty: Qty,
    pub max_position: Qty,
    pub cooldown: Nanos,
    pub slippage_ticks: u32,
}

impl ImbalanceConfig {
    /// `kind = "book-imbalance"`: its knobs, all in `[strategy]` and all required.
    pub const DECL: StrategyDecl = StrategyDecl {
        kind: "book-imbalance",
        help: "take liquidity in the direction the resting book leans",
        tables: &[ParamTable {
            key: "",
            params: &[
                SLIPPAGE_TICKS,
                ParamDecl::int(
                    "depth_levels",
                    1.0,
                    10.0,
                    1.0,
                    "book levels per side in the imbalance",
                )
                .required(),
                ParamDecl::int(
                    "threshold_bps",
                    1.0,
                    10_000.0,
                    1.0,
                    "trade when the imbalance reaches this, in bps",
                )
                .required(),
            ],
        }],
    };

    pub fn from_params(ctx: &StrategyContext, params: &StrategyParams) -> ImbalanceConfig {
        let p = params.table("");
        ImbalanceConfig {
            instrument: ctx.instrument,
            depth_levels: p.count("depth_levels"),
            threshold_bps: p.count("threshold_bps") as u32,
            order_qty: ctx.order_qty,
            max_position: ctx.max_position,
            cooldown: ctx.cooldown,
            slippage_ticks: p.count(SLIPPAGE_TICKS.name) as u32,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StrategyCounters {
    pub book_events: u64,
    /// Book events whose imbalance crossed the threshold either way.
    pub signals: u64,
    pub intents: u64,
    /// Intents refused by risk (by reason in the risk counters).
    pub rejected: u64,
}

pub struct ImbalanceTaker {
    cfg: ImbalanceConfig,
    taker: Taker,
    pub counters: StrategyCounters,
}

impl ImbalanceTaker {
    pub fn new(cfg: ImbalanceConfig, tick: Px) -> ImbalanceTaker {
        let taker = Taker::new(TakerParams {
            instrument: cfg.instrument,
            tick,
            order_qty: cfg.order_qty,
            max_position: cfg.max_position,
            cooldown: cfg.cooldown,
            slippage_ticks: cfg.slippage_ticks,
        });
        ImbalanceTaker {
            cfg,
            taker,
            counters: StrategyCounters::default(),
        }
    }

    pub fn position(&self) -> Qty {
        self.taker.position()
    }

    /// The imbalance over the configured depth in basis points, `None` for an empty side.
    pub fn imbalance_bps(&self, top: &BookTop) -> Option<i64> {
        let n = self.cfg.depth_levels;
        let bid: i128 = top.bids().iter().take(n).map(|l| l.qty.0 as i128).sum();
        let ask: i128 = top.asks().iter().take(n).map(|l| l.qty.0 as i128).sum();
        if bid == 0 || ask == 0 {
            return None;
        }
        Some(((bid - ask) * 10_000 / (bid + ask)) as i64)
    }

    pub fn on_book(&mut self, top: &BookTop) -> Option<OrderIntent> {
        if top.meta.instrument != self.cfg.instrument || top.state != BookState::Live {
            return None;
        }
        self.counters.book_events += 1;
        let imbalance = self.imbalance_bps(top)?;
        let threshold = self.cfg.threshold_bps as i64;
        let side = if imbalance >= threshold {
            Side::Buy
        } else if imbalance <= -threshold {
            Side::Sell
        } else {
            return None;
        };
        self.counters.signals += 1;
        let intent = self.taker.order(top, side, self.cfg.order_qty)?;
        self.counters.intents += 1;
        Some(intent)
    }

    pub fn on_feedback(&mut self, feedback: &Feedback) {
        self.taker.on_feedback(feedback);
        self.counters.rejected = self.taker.rejected;
    }
}
