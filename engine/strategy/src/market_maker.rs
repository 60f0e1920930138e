//! Market maker: a two-sided quote around the micro-price, skewed by inventory.
//!
//! On every live book event of its instrument it computes, in exact integers:
//!
//! ```text
//! micro       = (bid_px * ask_qty + ask_px * bid_qty) / (bid_qty + ask_qty)
//! reservation = micro - skew_ticks * tick * position / max_inventory
//! bid target  = floor to tick (reservation - half_spread_ticks * tick), at most ask - tick
//! ask target  = ceil to tick  (reservation + half_spread_ticks * tick), at least bid + tick
//!               and at least our own bid target + tick
//! ```
//!
//! The skew leans both quotes away from the inventory it holds (long: lower prices, so its
//! bid fills less and its ask more), after Avellaneda and Stoikov's reservation price with a
//! linear inventory term. Quotes are post-only limit orders: they never take liquidity (the
//! venue refuses one that would).
//!
//! **Refresh.** A side's working quote is cancelled and replaced (one cancel intent, then one
//! new order, on the same event) when its target has moved `refresh_ticks` or more away from
//! it, at most once per `cooldown` of market time per side. The replacement goes out only if
//! the inventory would stay within `max_inventory` even should the quote being cancelled fill
//! first; otherwise it follows once the cancel is confirmed.
//!
//! **Inventory.** Position counts from zero at the start (spot: relative to the holdings the
//! account starts with). A side whose fill could take the position past `±max_inventory`,
//! counting every working quote of that side, quotes only the room left, in whole lots, or
//! not at all.
//!
//! **Stale books.** A book event that is not live pulls every quote (cancels them) and
//! nothing is quoted until the book is live again.
//!
//! **Refusals.** A quote risk refuses makes its side wait `max(cooldown, 1 s)` of market time
//! before quoting again, so a refusing risk stage (kill switch, limits) is not flooded.

use pulse_core::event::{BookState, BookTop, EventMeta, MarketEvent};
use pulse_core::num::{InstrumentId, Nanos, Px, Qty, Side};
use pulse_core::order::{ClientOrderId, ExecKind, OrderStatus, TimeInForce};

use pulse_core::intent::{RejectReason, ENGINE_TAG};

use crate::params::{ParamDecl, ParamTable, StrategyDecl, StrategyParams};
use crate::user::StrategyContext;
use pulse_core::intent::{CancelIntent, Feedback, Intent, Intents, OrderIntent, Origin};

/// Quotes tracked at once, both sides: a live one per side and those being cancelled.
pub const MAX_QUOTES: usize = 8;
/// The tag bit marking a cancel intent (the rest is the tag of the quote it cancels).
const CANCEL_TAG: u32 = 1 << 31;
/// The least a side waits after risk refused one of its quotes.
const REFUSAL_BACKOFF: Nanos = Nanos::from_millis(1_000);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MarketMakerConfig {
    pub instrument: InstrumentId,
    pub tick: Px,
    pub lot: Qty,
    /// Size of each quote.
    pub order_qty: Qty,
    /// The position, long or short, beyond which a side stops quoting.
    pub max_inventory: Qty,
    /// Least market time between two changes of one side's quote.
    pub cooldown: Nanos,
    /// Distance of each quote from the reservation price; 0 quotes at the ticks around it
    /// (joining the touch in a one-tick market).
    pub half_spread_ticks: u32,
    /// How far the reservation price moves, against the inventory, at full inventory.
    pub skew_ticks: u32,
    /// Requote a side when its target is this many ticks from the working quote.
    pub refresh_ticks: u32,
}

impl MarketMakerConfig {
    /// `kind = "market-maker"`: its knobs, in `[strategy.quotes]`.
    pub const DECL: StrategyDecl = StrategyDecl {
        kind: "market-maker",
        help: "a two-sided post-only quote around the micro-price, skewed by inventory",
        tables: &[ParamTable {
            key: "quotes",
            params: &[
                ParamDecl::int(
                    "half_spread_ticks",
                    0.0,
                    100_000.0,
                    0.0,
                    "each quote's distance from the reservation price",
                ),
                ParamDecl::int(
                    "skew_ticks",
                    0.0,
                    100_000.0,
                    1.0,
                    "how far full inventory moves the reservation price",
                ),
                ParamDecl::int(
                    "refresh_ticks",
                    1.0,
                    100_000.0,
                    1.0,
                    "requote a side when its target moves this far",
                ),
            ],
        }],
    };

    /// `lot`: the instrument's lot size.
    pub fn from_params(ctx: &StrategyContext, lot: Qty, params: &StrategyParams) -> Self {
        let p = params.table("quotes");
        MarketMakerConfig {
            instrument: ctx.instrument,
            tick: ctx.tick,
            lot,
            order_qty: ctx.order_qty,
            max_inventory: ctx.max_position,
            cooldown: ctx.cooldown,
            half_spread_ticks: p.count("half_spread_ticks") as u32,
            skew_ticks: p.count("skew_ticks") as u32,
            refresh_ticks: p.count("refresh_ticks") as u32,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MarketMakerCounters {
    pub book_events: u64,
    /// New quotes sent to risk.
    pub quotes: u64,
    /// Cancels sent to risk (requotes and pulls).
    pub cancels: u64,
    /// Of `cancels`, those followed by a new quote on the same event.
    pub replaces: u64,
    /// Quotes pulled because the book went stale.
    pub pulled_stale: u64,
    /// Book events on which a side quoted less than its size, or nothing, for inventory.
    pub inventory_capped: u64,
    /// Fills of our quotes.
    pub fills: u64,
    pub bought: i64,
    pub sold: i64,
    /// Intents refused by risk (by reason in the risk counters).
    pub rejected: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Quote {
    tag: u32,
    side: Side,
    px: Px,
    /// What can still fill.
    leaves: Qty,
    /// Known once risk has accepted it.
    client_id: Option<ClientOrderId>,
    /// A cancel went out for it.
    cancelling: bool,
}

pub struct MarketMaker {
    cfg: MarketMakerConfig,
    quotes: [Option<Quote>; MAX_QUOTES],
    position: Qty,
    next_tag: u32,
    /// Per side (buy, sell): market time before which the side's quote is left as it is.
    quiet_until: [Nanos; 2],
    /// The time of the last book event, for the refusal back-off.
    now: Nanos,
    pub counters: MarketMakerCounters,
}

impl MarketMaker {
    pub fn new(cfg: MarketMakerConfig) -> MarketMaker {
        MarketMaker {
            cfg,
            quotes: [None; MAX_QUOTES],
            position: Qty(0),
            next_tag: 1,
            quiet_until: [Nanos::ZERO; 2],
            now: Nanos::ZERO,
            counters: MarketMakerCounters::default(),
        }
    }

    pub fn position(&self) -> Qty {
        self.position
    }

    /// Working quotes (accepted or on their way), both sides.
    pub fn working(&self) -> usize {
        self.quotes.iter().flatten().count()
    }

    /// The live (not cancelling) quote of `side`: price and leaves.
    pub fn live_quote(&self, side: Side) -> Option<(Px, Qty)> {
        self.live(side).map(|q| (q.px, q.leaves))
    }

    pub fn on_event(&mut self, event: &MarketEvent, out: &mut Intents) {
        if let MarketEvent::Book(top) = event {
            if top.meta.instrument == self.cfg.instrument {
                self.on_book(top, out);
            }
        }
    }

    fn on_book(&mut self, top: &BookTop, out: &mut Intents) {
        self.now = top.meta.recv_ts;
        if top.state != BookState::Live {
            for i in 0..MAX_QUOTES {
                if self.quotes[i].is_some_and(|q| !q.cancelling && q.client_id.is_some())
                    && self.cancel(i, top.meta, out)
                {
                    self.counters.pulled_stale += 1;
                }
            }
            return;
        }
        self.counters.book_events += 1;
        let Some((bid, ask)) = self.targets(top) else {
            return;
        };
        for (side, target) in [(Side::Buy, bid), (Side::Sell, ask)] {
            self.quote_side(top.meta, side, target, out);
        }
    }

    /// The bid and ask targets, `None` without both sides of the book.
    fn targets(&self, top: &BookTop) -> Option<(Px, Px)> {
        let (b, a) = (top.best_bid()?, top.best_ask()?);
        let c = &self.cfg;
        let (tick, max) = (i128::from(c.tick.0), i128::from(c.max_inventory.0));
        let (bq, aq) = (i128::from(b.qty.0), i128::from(a.qty.0));
        // reservation = num / den, exactly.
        let den = (bq + aq) * max;
        let num = (i128::from(b.px.0) * aq + i128::from(a.px.0) * bq) * max
            - i128::from(c.skew_ticks) * tick * i128::from(self.position.0) * (bq + aq);
        let half = i128::from(c.half_spread_ticks) * tick * den;
        let bid = (num - half).div_euclid(tick * den) * tick;
        let ask = -((-(num + half)).div_euclid(tick * den)) * tick;
        let bid = bid.min(i128::from(a.px.0) - tick);
        // Never at or through our own bid (with no half spread, both round to one price).
        let ask = ask.max(i128::from(b.px.0) + tick).max(bid + tick);
        Some((Px(bid as i64), Px(ask as i64)))
    }

    fn quote_side(&mut self, meta: EventMeta, side: Side, target: Px, out: &mut Intents) {
        let s = side_index(side);
        if meta.recv_ts < self.quiet_until[s] {
            return;
        }
        let live = self.live_slot(side);
        if let Some(i) = live {
            let Some(q) = self.quotes[i] else {
                return;
            };
            let moved =
                (q.px.0 - target.0).abs() >= i64::from(self.cfg.refresh_ticks) * self.cfg.tick.0;
            if q.client_id.is_none() || !moved {
                return;
            }
        }
        // Room for this side: every working quote of the side may still fill.
        let working: i64 = self
            .quotes
            .iter()
            .flatten()
            .filter(|q| q.side == side)
            .map(|q| q.leaves.0)
            .sum();
        let room = match side {
            Side::Buy => self.cfg.max_inventory.0 - self.position.0 - working,
            Side::Sell => self.cfg.max_inventory.0 + self.position.0 - working,
        };
        let qty = room.min(self.cfg.order_qty.0);
        let qty = qty - qty.rem_euclid(self.cfg.lot.0);
        if qty < self.cfg.order_qty.0 {
            self.counters.inventory_capped += 1;
        }
        let mut replaced = false;
        if let Some(i) = live {
            if !self.cancel(i, meta, out) {
                return;
            }
            replaced = true;
            self.quiet_until[s] = meta.recv_ts.saturating_add(self.cfg.cooldown);
        }
        if qty <= 0 || out.room() == 0 {
            return;
        }
        let Some(slot) = self.quotes.iter().position(Option::is_none) else {
            return;
        };
        let tag = self.next_tag;
        self.next_tag = (self.next_tag + 1) & !CANCEL_TAG;
        let intent = OrderIntent {
            meta,
            instrument: self.cfg.instrument,
            side,
            px: target,
            qty: Qty(qty),
            tif: TimeInForce::PostOnly,
            tag,
            confidence_bps: 10_000,
            vol_bps: 0,
            origin: Origin::Rule,
        };
        if !out.push(Intent::New(intent)) {
            return;
        }
        self.quotes[slot] = Some(Quote {
            tag,
            side,
            px: target,
            leaves: Qty(qty),
            client_id: None,
            cancelling: false,
        });
        self.counters.quotes += 1;
        if replaced {
            self.counters.replaces += 1;
        }
        self.quiet_until[s] = meta.recv_ts.saturating_add(self.cfg.cooldown);
    }

    /// Asks for quote `i` to be cancelled; `false` when there was no room to ask.
    fn cancel(&mut self, i: usize, meta: EventMeta, out: &mut Intents) -> bool {
        let Some(q) = self.quotes[i].as_mut() else {
            return false;
        };
        let Some(client_id) = q.client_id else {
            return false;
        };
        let cancel = CancelIntent {
            meta,
            instrument: self.cfg.instrument,
            client_id,
            tag: q.tag | CANCEL_TAG,
        };
        if !out.push(Intent::Cancel(cancel)) {
            return false;
        }
        q.cancelling = true;
        self.counters.cancels += 1;
        true
    }

    fn live(&self, side: Side) -> Option<&Quote> {
        self.live_slot(side).and_then(|i| self.quotes[i].as_ref())
    }

    fn live_slot(&self, side: Side) -> Option<usize> {
        self.quotes
            .iter()
            .position(|q| q.is_some_and(|q| q.side == side && !q.cancelling))
    }

    fn slot_by(&self, f: impl Fn(&Quote) -> bool) -> Option<usize> {
        self.quotes.iter().position(|q| q.as_ref().is_some_and(&f))
    }

    pub fn on_feedback(&mut self, feedback: &Feedback) {
        match *feedback {
            Feedback::Accepted {
                instrument,
                tag,
                client_id,
            } if instrument == self.cfg.instrument => {
                if let Some(i) = self.slot_by(|q| q.tag == tag) {
                    if let Some(q) = self.quotes[i].as_mut() {
                        q.client_id = Some(client_id);
                    }
                }
            }
            Feedback::Rejected {
                instrument,
                tag,
                reason,
            } if instrument == self.cfg.instrument && tag != ENGINE_TAG => {
                self.counters.rejected += 1;
                let Some(i) = self.slot_by(|q| q.tag == tag & !CANCEL_TAG) else {
                    return;
                };
                if tag & CANCEL_TAG == 0 {
                    // The quote never went out.
                    let side = self.quotes[i].map_or(Side::Buy, |q| q.side);
                    self.quotes[i] = None;
                    self.quiet_until[side_index(side)] = self
                        .now
                        .saturating_add(self.cfg.cooldown.max(REFUSAL_BACKOFF));
                } else if reason == RejectReason::UnknownOrder {
                    // Risk no longer knows the order: it is done, its report already applied.
                    self.quotes[i] = None;
                } else if let Some(q) = self.quotes[i].as_mut() {
                    // Not sent (a full ring): the quote still works; retry on a later event.
                    q.cancelling = false;
                }
            }
            Feedback::Report(r) if r.instrument == self.cfg.instrument => {
                // Every fill on the instrument is inventory, the engine's exits' and a
                // liquidation's too; only the quotes' own are counted as quote fills.
                if let ExecKind::Fill { qty, .. } | ExecKind::Liquidation { qty, .. } = r.kind {
                    self.position.0 += r.side.sign() * qty.0;
                }
                let Some(i) = self.slot_by(|q| q.client_id == Some(r.client_id)) else {
                    return;
                };
                match r.kind {
                    ExecKind::Fill { qty, .. } => {
                        self.counters.fills += 1;
                        match r.side {
                            Side::Buy => self.counters.bought += qty.0,
                            Side::Sell => self.counters.sold += qty.0,
                        }
                        if let Some(q) = self.quotes[i].as_mut() {
                            q.leaves = r.leaves;
                        }
                        if r.leaves.0 == 0 {
                            self.quotes[i] = None;
                        }
                    }
                    ExecKind::Cancelled
                    | ExecKind::Expired
                    | ExecKind::Rejected(_)
                    | ExecKind::Status(OrderStatus::Done | OrderStatus::NotFound) => {
                        self.quotes[i] = None;
                    }
                    // A refused cancel: the order's own final report settles it. An order in
                    // doubt stays a quote (it may be working) until risk's query settles it.
                    ExecKind::Ack
                    | ExecKind::CancelRejected
                    | ExecKind::OutcomeUnknown
                    | ExecKind::Status(OrderStatus::Working)
                    | ExecKind::Funding { .. }
                    | ExecKind::Liquidation { .. } => {}
                }
            }
            _ => {}
        }
    }
}

fn side_index(side: Side) -> usize {
    match side {
        Side::Buy => 0,
        Side::Sell => 1,
    }
}

#[cfg(test)]
#[cfg(test)]
mod tests;
