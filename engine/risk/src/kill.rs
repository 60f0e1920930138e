//! The kill switch and the trading modes it sets: what an operator (or health) steers and no
//! strategy can reach.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;

use pulse_core::num::InstrumentId;

use crate::halt::HaltReason;

/// Trading modes an operator (or health) sets; strategies cannot reach them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TradingMode {
    /// Every check applies; nothing else stands in the way.
    Armed,
    /// Only orders that reduce a position pass; cancels always do.
    ReduceOnly,
    /// Nothing new goes out, and every open order is cancelled.
    Killed,
}

impl TradingMode {
    pub fn name(self) -> &'static str {
        match self {
            TradingMode::Armed => "armed",
            TradingMode::ReduceOnly => "reduce_only",
            TradingMode::Killed => "killed",
        }
    }
}

/// What an engaged kill switch does besides refusing every new order and cancelling every
/// working one (config `[risk] kill_mode`, set once at construction).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum KillMode {
    /// Cancel and stop: positions stay as they are.
    #[default]
    Cancel,
    /// Cancel, then close every position with flatten slices ([`crate::flatten`]), the only
    /// orders that pass the engaged switch.
    Flatten,
}

/// The kill switch: once engaged, risk approves nothing and cancels every open order; only an
/// explicit re-arm resumes. Engaged by the operator (`pulse kill`, SIGUSR1, the kill file), by
/// health Critical, by the live gateway's balance check, by a reconciliation mismatch, or at
/// start by config or by the halt a previous session journaled. Reduce-only is its softer
/// state. Shared between the risk thread (which reads it before every decision and journals
/// every change of it) and the control side.
#[derive(Clone, Debug, Default)]
pub struct KillSwitch {
    /// Set by [`KillSwitch::engage`], with the reason in `reason`.
    engaged: Arc<AtomicBool>,
    /// Set by SIGUSR1 (`signal_hook` needs an `AtomicBool` of its own, so the signal is its
    /// own reason).
    signalled: Arc<AtomicBool>,
    /// Set by the live gateway when the venue's balances disagree with the positions.
    venue: Arc<AtomicBool>,
    /// [`HaltReason::code`] of the first engage since the last re-arm; 0 when none.
    reason: Arc<AtomicU8>,
    /// 1: reduce-only (when not engaged).
    reduce_only: Arc<AtomicBool>,
    /// Bumped by every re-arm, so the risk stage can reset what a re-arm resets and journal it.
    rearms: Arc<AtomicU64>,
    /// Who re-armed last (uid) and when (unix ns): written before `rearms` is bumped.
    rearm_uid: Arc<AtomicU32>,
    rearm_at: Arc<AtomicU64>,
}

/// An operator's re-arm: who sent it and when (wall clock), as the risk stage journals it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rearm {
    pub uid: u32,
    pub at_unix_ns: u64,
}

impl KillSwitch {
    pub fn new(start_killed: bool) -> KillSwitch {
        let k = KillSwitch::default();
        if start_killed {
            k.engage(HaltReason::StartKilled);
        }
        k
    }

    /// Engages for `reason`; the first reason since the last re-arm is the one reported.
    /// Release: the risk thread must see the flag (and the reason before it) promptly.
    pub fn engage(&self, reason: HaltReason) {
        // AcqRel/Acquire: only the first reason since a re-arm sticks; the Release store of
        // `engaged` below already publishes it, so Relaxed would do here too.
        let _ = self
            .reason
            .compare_exchange(0, reason.code(), Ordering::AcqRel, Ordering::Acquire);
        // Release: whoever sees `engaged` (Acquire, `is_engaged`) also sees the reason above.
        self.engaged.store(true, Ordering::Release);
    }

    pub fn is_engaged(&self) -> bool {
        // Acquire (all three): pairs with the Release of `engage` and the signal/venue setters,
        // so a reader that sees a flag also sees the reason stored before it.
        self.engaged.load(Ordering::Acquire)
            || self.signalled.load(Ordering::Acquire)
            || self.venue.load(Ordering::Acquire)
    }

    /// Why it is engaged (`None` when it is not): an explicit engage's reason, else the signal
    /// or the venue's balance check, whichever flag is set.
    pub fn reason(&self) -> Option<HaltReason> {
        if !self.is_engaged() {
            return None;
        }
        // Acquire: pairs with the reason's compare-exchange in `engage` (and its reset on re-arm).
        HaltReason::from_code(self.reason.load(Ordering::Acquire)).or_else(|| {
            // Acquire: pairs with the store of the SIGUSR1 handler (`signal_hook`).
            Some(if self.signalled.load(Ordering::Acquire) {
                HaltReason::Signal
            } else {
                HaltReason::VenueBalance
            })
        })
    }

    /// Reduce-only from now on (a kill still overrides it).
    pub fn reduce_only(&self) {
        // Release: pairs with `mode`'s Acquire load; nothing else is published with it.
        self.reduce_only.store(true, Ordering::Release);
    }

    /// Back to armed on an operator's word: clears every kill and reduce-only, and starts a
    /// new re-arm generation (the risk stage resets its fill pause on it and journals who and
    /// when). Two re-arms within one risk poll are journaled once, as the later one.
    pub fn rearm(&self, by: Rearm) {
        // Relaxed (both): published by the AcqRel increment of `rearms` below.
        self.rearm_uid.store(by.uid, Ordering::Relaxed);
        self.rearm_at.store(by.at_unix_ns, Ordering::Relaxed);
        // Release (all five): pair with the Acquire loads of `is_engaged`, `reason` and `mode`;
        // `engaged` is cleared last, so a reader that sees it clear sees the reason cleared too.
        self.reduce_only.store(false, Ordering::Release);
        self.reason.store(0, Ordering::Release);
        self.signalled.store(false, Ordering::Release);
        self.venue.store(false, Ordering::Release);
        self.engaged.store(false, Ordering::Release);
        // AcqRel: a reader that sees the new generation also sees who and when above.
        self.rearms.fetch_add(1, Ordering::AcqRel);
    }

    pub fn mode(&self) -> TradingMode {
        if self.is_engaged() {
            TradingMode::Killed
        } else if self.reduce_only.load(Ordering::Acquire) {
            // Acquire above: pairs with the Release stores of `reduce_only` and `rearm`.
            TradingMode::ReduceOnly
        } else {
            TradingMode::Armed
        }
    }

    /// How many re-arms there have been.
    pub fn rearms(&self) -> u64 {
        // Acquire: pairs with `rearm`'s AcqRel increment, so `last_rearm` then reads its who/when.
        self.rearms.load(Ordering::Acquire)
    }

    /// The last re-arm's sender and time.
    pub fn last_rearm(&self) -> Rearm {
        // Relaxed (both): read after `rearms` (Acquire), which orders them behind their re-arm.
        Rearm {
            uid: self.rearm_uid.load(Ordering::Relaxed),
            at_unix_ns: self.rearm_at.load(Ordering::Relaxed),
        }
    }

    /// The SIGUSR1 flag, for `signal_hook::flag::register`.
    pub fn signal_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.signalled)
    }

    /// The live gateway's flag, set when the venue's balances disagree with the positions.
    pub fn venue_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.venue)
    }
}

/// An operator's flatten requests (`pulse flatten [--instrument X]`), shared between the
/// control side, which asks, and the risk stage, which closes the positions (see
/// [`crate::flatten`]). Requests are never lost: each instrument has its own flag, and the
/// stage takes every flag that is set when it sees a new generation.
#[derive(Clone, Debug)]
pub struct FlattenSwitch {
    /// One per instrument: a flatten of it was asked for and the stage has not taken it yet.
    pending: Arc<[AtomicBool]>,
    /// Bumped by every request, so the stage looks at the flags only when there is news.
    generation: Arc<AtomicU64>,
}

impl FlattenSwitch {
    pub fn new(instruments: usize) -> FlattenSwitch {
        FlattenSwitch {
            pending: (0..instruments).map(|_| AtomicBool::new(false)).collect(),
            generation: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Asks for `instrument`'s position to be closed, or every instrument's with `None`.
    /// An unknown instrument is ignored (`false`).
    pub fn request(&self, instrument: Option<InstrumentId>) -> bool {
        let flags = match instrument {
            None => &self.pending[..],
            Some(i) => match self.pending.get(usize::from(i.0)..=usize::from(i.0)) {
                Some(one) => one,
                None => return false,
            },
        };
        for flag in flags {
            // Relaxed: published by the Release increment of `generation` below.
            flag.store(true, Ordering::Relaxed);
        }
        // Release: a stage that sees the new generation (Acquire) also sees the flags above.
        self.generation.fetch_add(1, Ordering::Release);
        true
    }

    /// How many requests there have been.
    pub(crate) fn generation(&self) -> u64 {
        // Acquire: pairs with `request`'s Release increment, so `take` then sees its flags.
        self.generation.load(Ordering::Acquire)
    }

    /// Whether a flatten of instrument `i` was asked for since the last take; clears it.
    pub(crate) fn take(&self, i: usize) -> bool {
        // AcqRel: a request racing with this take either is taken now or leaves its flag set
        // for the next generation; nothing else is published through the flag.
        self.pending
            .get(i)
            .is_some_and(|f| f.swap(false, Ordering::AcqRel))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flatten_requests_are_per_instrument_and_never_lost() {
        let f = FlattenSwitch::new(3);
        assert_eq!(f.generation(), 0);
        assert!(f.request(Some(InstrumentId(1))));
        assert!(!f.request(Some(InstrumentId(3))));
        assert_eq!(f.generation(), 1);
        assert_eq!([f.take(0), f.take(1), f.take(2)], [false, true, false]);
        assert!(!f.take(1), "taken once");
        f.clone().request(None);
        assert_eq!(f.generation(), 2);
        assert_eq!([f.take(0), f.take(1), f.take(2)], [true, true, true]);
    }

    #[test]
    fn the_kill_switch_keeps_its_first_reason_until_a_rearm() {
        let k = KillSwitch::new(false);
        assert_eq!((k.mode(), k.reason()), (TradingMode::Armed, None));
        k.signal_flag().store(true, Ordering::Release);
        assert_eq!(k.reason(), Some(HaltReason::Signal));
        k.engage(HaltReason::KillFile);
        k.engage(HaltReason::HealthCritical);
        assert_eq!(k.reason(), Some(HaltReason::KillFile));
        let by = Rearm {
            uid: 1000,
            at_unix_ns: 7,
        };
        k.rearm(by);
        assert_eq!((k.mode(), k.reason()), (TradingMode::Armed, None));
        assert_eq!((k.rearms(), k.last_rearm()), (1, by));
        k.venue_flag().store(true, Ordering::Release);
        assert_eq!(
            (k.mode(), k.reason()),
            (TradingMode::Killed, Some(HaltReason::VenueBalance))
        );
        assert_eq!(
            KillSwitch::new(true).reason(),
            Some(HaltReason::StartKilled)
        );
    }
}
