//! Turning a decided side into an order: what every taking strategy shares. One order works at
//! a time; after each order the strategy waits `cooldown` of market time; buys stop at
//! `max_position` and sells at what is held (spot: no short selling); the limit price crosses
//! the touch by `slippage_ticks` so that the IOC order takes what is there.

use pulse_core::event::BookTop;
use pulse_core::num::{InstrumentId, Nanos, Px, Qty, Side};
use pulse_core::order::{ClientOrderId, ExecKind, TimeInForce};

use pulse_core::intent::{Feedback, OrderIntent, Origin, ENGINE_TAG};

use crate::params::{ParamDecl, Params};
use crate::user::StrategyContext;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TakerParams {
    pub instrument: InstrumentId,
    pub tick: Px,
    pub order_qty: Qty,
    pub max_position: Qty,
    pub cooldown: Nanos,
    pub slippage_ticks: u32,
}

/// `slippage_ticks`: every taking strategy's knob in `[strategy]`.
pub const SLIPPAGE_TICKS: ParamDecl = ParamDecl::int(
    "slippage_ticks",
    0.0,
    u32::MAX as f64,
    0.0,
    "cross the touch by this many ticks (orders are IOC)",
)
.required();

impl TakerParams {
    /// The `[strategy]` context and the declared [`SLIPPAGE_TICKS`] in `params`.
    pub fn from_params(ctx: &StrategyContext, params: &Params) -> TakerParams {
        TakerParams {
            instrument: ctx.instrument,
            tick: ctx.tick,
            order_qty: ctx.order_qty,
            max_position: ctx.max_position,
            cooldown: ctx.cooldown,
            slippage_ticks: params.count(SLIPPAGE_TICKS.name) as u32,
        }
    }
}

pub struct Taker {
    params: TakerParams,
    position: Qty,
    working: bool,
    /// The client id of the order working, once risk accepted it.
    own: Option<ClientOrderId>,
    last_order: Option<Nanos>,
    /// Intents refused by risk (by reason in the risk counters).
    pub rejected: u64,
}

impl Taker {
    pub fn new(params: TakerParams) -> Taker {
        Taker {
            params,
            position: Qty(0),
            working: false,
            own: None,
            last_order: None,
            rejected: 0,
        }
    }

    pub fn instrument(&self) -> InstrumentId {
        self.params.instrument
    }

    pub fn position(&self) -> Qty {
        self.position
    }

    /// Whether an order may go out at this event (none working, cooldown over).
    pub fn ready(&self, now: Nanos) -> bool {
        let cooling = self
            .last_order
            .is_some_and(|t| now.saturating_sub(t) < self.params.cooldown);
        !self.working && !cooling
    }

    /// An IOC order of up to `qty` on `side` at the touch, or `None` when none may go out.
    pub fn order(&mut self, top: &BookTop, side: Side, qty: Qty) -> Option<OrderIntent> {
        let now = top.meta.recv_ts;
        if !self.ready(now) {
            return None;
        }
        let p = &self.params;
        let slippage = p.tick.0 * i64::from(p.slippage_ticks);
        let (qty, px) = match side {
            Side::Buy => (
                qty.0.min(p.max_position.0 - self.position.0),
                Px(top.best_ask()?.px.0 + slippage),
            ),
            Side::Sell => (
                qty.0.min(self.position.0),
                Px(top.best_bid()?.px.0 - slippage),
            ),
        };
        if qty <= 0 {
            return None;
        }
        self.working = true;
        self.last_order = Some(now);
        Some(OrderIntent {
            meta: top.meta,
            instrument: p.instrument,
            side,
            px,
            qty: Qty(qty),
            tif: TimeInForce::Ioc,
            // One order works at a time: the verdict needs no tag to be matched.
            tag: 0,
            confidence_bps: 10_000,
            vol_bps: 0,
            origin: Origin::Rule,
        })
    }

    /// The configured order size.
    pub fn order_qty(&self) -> Qty {
        self.params.order_qty
    }

    pub fn on_feedback(&mut self, feedback: &Feedback) {
        // The engine's own orders (exits, flatten) move the position too, but their verdicts
        // and their end are not this strategy's order's.
        match feedback {
            Feedback::Accepted {
                instrument,
                tag,
                client_id,
            } if *instrument == self.params.instrument && *tag != ENGINE_TAG => {
                self.own = Some(*client_id);
            }
            Feedback::Rejected {
                instrument, tag, ..
            } if *instrument == self.params.instrument && *tag != ENGINE_TAG => {
                self.rejected += 1;
                self.working = false;
            }
            Feedback::Report(r) if r.instrument == self.params.instrument => {
                if let ExecKind::Fill { qty, .. } | ExecKind::Liquidation { qty, .. } = r.kind {
                    self.position.0 += r.side.sign() * qty.0;
                }
                if r.leaves.0 == 0 && self.own == Some(r.client_id) {
                    self.working = false;
                    self.own = None;
                }
            }
            _ => {}
        }
    }
}
