//! The orders the risk stage makes itself: exits ([`crate::exits`]) and flatten
//! ([`crate::flatten`]). Both close a position one slice at a time through the same path as a
//! strategy's intent (`on_intent`: journaled as intent, decision and order, checked by
//! [`crate::checks::RiskChecks::check`] as [`Origin::Exit`]), with the tag [`ENGINE_TAG`].
//!
//! Per instrument at most one engine order is in flight: the next slice is planned when it
//! ends (filled, cancelled, expired, rejected), from what is left of the position net of the
//! working orders on the closing side. After a rejection (by the checks or the venue) the
//! next try waits [`ExitSettings::retry`] of market time. Exits are evaluated on every mid
//! of the instrument, in the order market events arrive, so a replay fires the same exits at
//! the same events. Once an exit fires it stays in charge (latched) until the position is
//! flat or flips; a flatten stays in charge until flat.
//!
//! A flatten first cancels every working order of the instrument, waits for the venue to
//! confirm, then sends slices until flat, and reports how it stands per instrument
//! ([`RiskStage::flatten_status`]). It does not stop strategies: to stop them too, use the
//! kill switch with [`KillMode::Flatten`], which flattens every instrument with a position
//! once the switch engages; its slices are then the only orders that go out.

use pulse_core::event::EventMeta;
use pulse_core::intent::{ExitKind, OrderIntent, Origin, ENGINE_TAG};
use pulse_core::num::{InstrumentId, Nanos, Px, Qty};
use pulse_core::order::{CancelOrder, ClientOrderId, ExecReport, TimeInForce};

use super::RiskStage;
use crate::exits::{ExitRules, ExitSettings};
use crate::flatten::{
    fresh_mid, plan_slice, FlattenOutcome, FlattenState, Plan, SliceLimits, Unclosable,
};
use crate::kill::{FlattenSwitch, KillMode, TradingMode};
use crate::orders::{OrderState, Transition};
use crate::volatility::Volatility;

/// One instrument's engine-owned closing.
#[derive(Clone, Copy, Debug)]
struct Closer {
    rules: ExitRules,
    vol: Volatility,
    /// The best mid since the position was opened, flipped or increased (trailing stops).
    best: Option<Px>,
    /// What is closing the position now, latched until done.
    closing: Option<ExitKind>,
    /// The engine order working for it.
    in_flight: Option<ClientOrderId>,
    /// No new try before this market time (after a rejection).
    retry_at: Nanos,
}

/// The risk stage's exits and flatten state.
pub(super) struct Closing {
    closers: Vec<Closer>,
    status: Vec<FlattenState>,
    settings: ExitSettings,
    switch: FlattenSwitch,
    /// The flatten switch's generation last seen.
    generation: u64,
    /// The kill switch was engaged at the last poll.
    was_killed: bool,
}

impl Closing {
    pub(super) fn new(instruments: usize) -> Closing {
        let settings = ExitSettings::default();
        let closer = Closer {
            rules: ExitRules::default(),
            vol: Volatility::new(settings.volatility),
            best: None,
            closing: None,
            in_flight: None,
            retry_at: Nanos::ZERO,
        };
        Closing {
            closers: vec![closer; instruments],
            status: (0..instruments)
                .map(|i| FlattenState {
                    instrument: InstrumentId(i as u16),
                    outcome: FlattenOutcome::Idle,
                })
                .collect(),
            settings,
            switch: FlattenSwitch::new(instruments),
            generation: 0,
            was_killed: false,
        }
    }
}

impl RiskStage {
    /// Exit rules by instrument index (an instrument beyond `rules` has none), measured and
    /// retried as `settings` says.
    pub fn with_exits(mut self, rules: Vec<ExitRules>, settings: ExitSettings) -> RiskStage {
        let c = &mut self.closing;
        c.settings = settings;
        for (i, closer) in c.closers.iter_mut().enumerate() {
            closer.rules = rules.get(i).copied().unwrap_or_default();
            closer.vol = Volatility::new(settings.volatility);
        }
        self
    }

    /// What an engaged kill switch does to positions (default [`KillMode::Cancel`]).
    pub fn with_kill_mode(mut self, mode: KillMode) -> RiskStage {
        self.checks.kill_mode = mode;
        self
    }

    /// The switch the control side asks for flattens with; clone it before the stage moves
    /// to its thread.
    pub fn flatten_switch(&self) -> FlattenSwitch {
        self.closing.switch.clone()
    }

    /// How each instrument's flatten stands, by instrument index.
    pub fn flatten_status(&self) -> &[FlattenState] {
        &self.closing.status
    }

    /// A new mid of instrument `meta.instrument`: volatility bars, the trailing best, then
    /// whatever closing it calls for.
    pub(super) fn closing_on_mid(&mut self, meta: EventMeta, mid: Px) {
        let i = usize::from(meta.instrument.0);
        let qty = self.position(i);
        let Some(c) = self.closing.closers.get_mut(i) else {
            return;
        };
        if c.rules.is_empty() && c.closing.is_none() {
            // No exit rules and no flatten under way: nothing reads the volatility or the
            // best mid, and there is nothing to drive (most instruments, most of the time).
            return;
        }
        c.vol.on_mid(mid, meta.recv_ts);
        c.best = match (qty.0.signum(), c.best) {
            (0, _) => None,
            (1, Some(best)) => Some(best.max(mid)),
            (_, Some(best)) => Some(best.min(mid)),
            (_, None) => Some(mid),
        };
        self.drive(i, meta);
    }

    /// A fill moved instrument `i` from `before`: opening, flipping or increasing restarts
    /// the trailing best at the fill's price; flipping ends an exit (not a flatten).
    pub(super) fn closing_on_fill(&mut self, i: usize, before: Qty, px: Px) {
        let after = self.position(i);
        let Some(c) = self.closing.closers.get_mut(i) else {
            return;
        };
        let flipped = after.0 != 0 && after.0.signum() != before.0.signum();
        if after.0 == 0 {
            c.best = None;
        } else if flipped || after.0.abs() > before.0.abs() {
            c.best = Some(px);
        }
        if flipped && before.0 != 0 && c.closing != Some(ExitKind::Flatten) {
            c.closing = None;
        }
    }

    /// A report the order table applied: an engine order that ended frees its instrument
    /// for the next slice (a venue rejection also waits the retry interval).
    pub(super) fn closing_on_report(&mut self, report: &ExecReport, transition: Transition) {
        let i = usize::from(report.instrument.0);
        let at = self.checks.latest_ts();
        let retry = self.closing.settings.retry;
        let Some(c) = self.closing.closers.get_mut(i) else {
            return;
        };
        let mut ended = false;
        if let (Some(id), Transition::Applied(state)) = (c.in_flight, transition) {
            if id == report.client_id && state.is_terminal() {
                c.in_flight = None;
                ended = true;
                if state == OrderState::Rejected {
                    c.retry_at = at.saturating_add(retry);
                    self.counters.exit_rejected += 1;
                }
            }
        }
        if c.closing.is_some() {
            self.drive(i, engine_meta(report.instrument, at));
        } else if ended {
            // A deleverage cut ended: the guard looks again at the same mid.
            self.margin_after_cut(engine_meta(report.instrument, at));
        }
    }

    /// Takes new flatten requests, and flattens everything when the kill switch has just
    /// engaged in [`KillMode::Flatten`]. Returns the work done.
    pub(super) fn closing_poll(&mut self) -> usize {
        let mut work = 0;
        let generation = self.closing.switch.generation();
        if generation != self.closing.generation {
            self.closing.generation = generation;
            for i in 0..self.closing.closers.len() {
                if self.closing.switch.take(i) {
                    self.start_flatten(i);
                    work += 1;
                }
            }
        }
        let killed = self.kill.mode() == TradingMode::Killed;
        if killed && !self.closing.was_killed && self.checks.kill_mode == KillMode::Flatten {
            for i in 0..self.closing.closers.len() {
                let id = InstrumentId(i as u16);
                if self.position(i).0 != 0 || self.orders.working(id).orders > 0 {
                    self.start_flatten(i);
                    work += 1;
                }
            }
        }
        self.closing.was_killed = killed;
        work
    }

    /// Whether the kill switch leaves this order working: a flatten slice in kill mode Flatten.
    pub(super) fn spared_by_kill(&self, client_id: ClientOrderId) -> bool {
        self.checks.kill_mode == KillMode::Flatten
            && self
                .closing
                .closers
                .iter()
                .any(|c| c.in_flight == Some(client_id) && c.closing == Some(ExitKind::Flatten))
    }

    fn start_flatten(&mut self, i: usize) {
        let at = self.checks.latest_ts();
        let open = self.position(i).0 != 0;
        let Some(c) = self.closing.closers.get_mut(i) else {
            return;
        };
        if c.closing != Some(ExitKind::Flatten) && open {
            self.counters.exits[ExitKind::Flatten.index()] += 1;
        }
        c.closing = Some(ExitKind::Flatten);
        c.retry_at = Nanos::ZERO;
        if let Some(s) = self.closing.status.get_mut(i) {
            s.outcome = FlattenOutcome::InProgress;
        }
        self.drive(i, engine_meta(InstrumentId(i as u16), at));
    }

    fn position(&self, i: usize) -> Qty {
        self.account
            .instrument(i)
            .map_or(Qty(0), |a| a.position.qty)
    }

    /// The next step closing instrument `i` at the market event `meta`, if any is due.
    fn drive(&mut self, i: usize, meta: EventMeta) {
        let Some(&c) = self.closing.closers.get(i) else {
            return;
        };
        if c.in_flight.is_some() {
            return;
        }
        let id = InstrumentId(i as u16);
        let at = meta.recv_ts;
        let position = self.position(i);
        let kind = match c.closing {
            Some(kind) => kind,
            None if c.rules.is_empty() => return,
            None => {
                let entry = self.account.instrument(i).and_then(|a| a.position.avg_px());
                let mid = self.checks.reference(i).and_then(|r| r.mid);
                let (Some(entry), Some(best), Some(mid)) = (entry, c.best, mid) else {
                    return;
                };
                let Some(kind) = c.rules.evaluate(position, entry, best, mid, &c.vol) else {
                    return;
                };
                self.closing.closers[i].closing = Some(kind);
                self.counters.exits[kind.index()] += 1;
                kind
            }
        };
        let working = self.orders.working(id);
        if kind == ExitKind::Flatten && working.orders > 0 {
            self.cancel_instrument(id, at);
            return;
        }
        if position.0 == 0 {
            self.closing.closers[i].closing = None;
            if kind == ExitKind::Flatten {
                self.set_outcome(i, FlattenOutcome::Closed);
            }
            return;
        }
        self.send_closing(i, meta, kind, None);
    }

    /// The margin guard asks to cut `cut` of instrument `i`'s position at the market event
    /// `meta`: one [`ExitKind::Deleverage`] slice of at most that much, unless an engine order
    /// is in flight, another exit or a flatten is in charge (it closes more), or a rejection's
    /// retry interval runs. Not latched: the guard asks again on the next mid.
    pub(super) fn closing_deleverage(&mut self, i: usize, meta: EventMeta, cut: Qty) {
        let Some(c) = self.closing.closers.get(i) else {
            return;
        };
        let busy = c.in_flight.is_some() || c.closing.is_some();
        if busy || meta.recv_ts < c.retry_at || self.position(i).0 == 0 {
            return;
        }
        self.send_closing(i, meta, ExitKind::Deleverage, Some(cut));
    }

    /// Sends the next slice closing instrument `i` for `kind` (at most `cap` of it), if the
    /// retry interval has run and working orders do not already cover the position.
    fn send_closing(&mut self, i: usize, meta: EventMeta, kind: ExitKind, cap: Option<Qty>) {
        let Some(&c) = self.closing.closers.get(i) else {
            return;
        };
        let id = InstrumentId(i as u16);
        let at = meta.recv_ts;
        let position = self.position(i);
        let working = self.orders.working(id);
        if at < c.retry_at {
            return;
        }
        // Working orders on the closing side already close that much.
        let uncovered = if position.0 > 0 {
            position.0 - working.sell.0
        } else {
            position.0 + working.buy.0
        };
        if uncovered.signum() != position.0.signum() {
            return;
        }
        let uncovered = cap.map_or(uncovered, |cap| {
            uncovered.signum() * uncovered.abs().min(cap.0)
        });
        let Some((inst, limits)) = self.checks.instrument(i) else {
            return;
        };
        let plan = match fresh_mid(self.checks.reference(i), at, limits.max_ref_age) {
            Ok(mid) => plan_slice(Qty(uncovered), mid, &SliceLimits::of(inst, limits)),
            Err(why) => Plan::Unclosable(why),
        };
        let slice = match plan {
            Plan::Slice(slice) => slice,
            Plan::Flat => return,
            Plan::Unclosable(why) => {
                if kind == ExitKind::Flatten {
                    self.set_outcome(i, FlattenOutcome::Unclosable(why));
                }
                return;
            }
        };
        let intent = OrderIntent {
            meta: EventMeta {
                instrument: id,
                ..meta
            },
            instrument: id,
            side: slice.side,
            px: slice.px,
            qty: slice.qty,
            tif: TimeInForce::Ioc,
            tag: ENGINE_TAG,
            confidence_bps: 10_000,
            vol_bps: 0,
            origin: Origin::Exit(kind),
        };
        match self.on_intent(intent) {
            Ok(client_id) => {
                self.closing.closers[i].in_flight = Some(client_id);
                if kind == ExitKind::Deleverage {
                    // Not latched: each cut counts.
                    self.counters.exits[kind.index()] += 1;
                }
                if kind == ExitKind::Flatten {
                    self.set_outcome(i, FlattenOutcome::InProgress);
                }
            }
            Err(reason) => {
                let retry = self.closing.settings.retry;
                self.closing.closers[i].retry_at = at.saturating_add(retry);
                self.counters.exit_rejected += 1;
                if kind == ExitKind::Flatten {
                    let why = Unclosable::Rejected(reason);
                    self.set_outcome(i, FlattenOutcome::Unclosable(why));
                }
            }
        }
    }

    fn set_outcome(&mut self, i: usize, outcome: FlattenOutcome) {
        if let Some(s) = self.closing.status.get_mut(i) {
            s.outcome = outcome;
        }
    }

    /// Cancels every working order of `instrument` that has no cancel yet (as many as the
    /// ring takes; the rest when the next report or mid drives the flatten again).
    fn cancel_instrument(&mut self, instrument: InstrumentId, at: Nanos) {
        while self.orders_out.slots() > 0 {
            let Some(o) = self
                .orders
                .uncancelled()
                .find(|o| o.instrument == instrument)
                .copied()
            else {
                break;
            };
            let cancel = CancelOrder {
                meta: engine_meta(instrument, at),
                client_id: o.client_id,
                instrument,
                side: o.side,
            };
            self.send_cancel(cancel, true);
            self.counters.engine_cancels += 1;
        }
    }
}

/// The event an engine decision without a market event of its own is made at: the latest
/// market time risk has seen.
fn engine_meta(instrument: InstrumentId, at: Nanos) -> EventMeta {
    EventMeta {
        instrument,
        recv_ts: at,
        ..EventMeta::default()
    }
}
