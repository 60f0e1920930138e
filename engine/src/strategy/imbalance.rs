//! Book-imbalance taker: when the resting quantity near the touch leans hard to one side, the
//! price tends to move that way; take liquidity in that direction.
//!
//! imbalance = (bid qty - ask qty) / (bid qty + ask qty) over the best `depth_levels` levels,
//! in basis points, in integers. At or above `threshold_bps` it buys (up to `max_position`); at
//! or below `-threshold_bps` it sells what it holds (spot: no short selling). One order works at
//! a time, and after each order the strategy waits `cooldown` of market time.

use pulse_feeds::event::{BookState, BookTop};
use pulse_feeds::num::{Nanos, Px, Qty, Side};
use pulse_gateways::order::{ExecKind, TimeInForce};

use crate::config::ImbalanceConfig;
use crate::intent::{Feedback, OrderIntent};

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
    tick: Px,
    position: Qty,
    working: bool,
    last_order: Option<Nanos>,
    pub counters: StrategyCounters,
}

impl ImbalanceTaker {
    pub fn new(cfg: ImbalanceConfig, tick: Px) -> ImbalanceTaker {
        ImbalanceTaker {
            cfg,
            tick,
            position: Qty(0),
            working: false,
            last_order: None,
            counters: StrategyCounters::default(),
        }
    }

    pub fn position(&self) -> Qty {
        self.position
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
        let now = top.meta.recv_ts;
        let cooling = self
            .last_order
            .is_some_and(|t| now.saturating_sub(t) < self.cfg.cooldown);
        if self.working || cooling {
            return None;
        }
        let slippage = self.tick.0 * self.cfg.slippage_ticks as i64;
        let (qty, px) = match side {
            Side::Buy => (
                self.cfg
                    .order_qty
                    .0
                    .min(self.cfg.max_position.0 - self.position.0),
                Px(top.best_ask()?.px.0 + slippage),
            ),
            Side::Sell => (
                self.cfg.order_qty.0.min(self.position.0),
                Px(top.best_bid()?.px.0 - slippage),
            ),
        };
        if qty <= 0 {
            return None;
        }
        self.working = true;
        self.last_order = Some(now);
        self.counters.intents += 1;
        Some(OrderIntent {
            meta: top.meta,
            instrument: self.cfg.instrument,
            side,
            px,
            qty: Qty(qty),
            tif: TimeInForce::Ioc,
        })
    }

    pub fn on_feedback(&mut self, feedback: &Feedback) {
        match feedback {
            Feedback::Rejected { instrument, .. } if *instrument == self.cfg.instrument => {
                self.counters.rejected += 1;
                self.working = false;
            }
            Feedback::Report(r) if r.instrument == self.cfg.instrument => {
                if let ExecKind::Fill { qty, .. } = r.kind {
                    self.position.0 += r.side.sign() * qty.0;
                }
                if r.leaves.0 == 0 {
                    self.working = false;
                }
            }
            _ => {}
        }
    }
}
