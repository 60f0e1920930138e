//! The health state machine (DESIGN.md, "Metrics and health"): Initializing → Healthy ↔
//! Warning ↔ Degraded → Critical → EmergencyStop.
//!
//! The metrics thread feeds it what the stages report (stale books, resyncs, full rings, risk
//! breaches, the feed's connection) and what it sees itself (journal faults, a failed runner,
//! the kill switch) once per tick. Each tick's level is the worst condition present:
//!
//! | level | when |
//! |---|---|
//! | Critical (sticky) | a journal fault (nothing may trade unrecorded), a runner thread died |
//! | Degraded | the feed is disconnected; a book stale longer than `stale_degraded_after`; a ring overflowed within `window`; the kill switch is engaged |
//! | Warning | a book is stale; a resync or a risk breach within `window` |
//! | Healthy | none of these |
//!
//! Levels can move by more than one step at once (a disconnect takes Healthy straight to
//! Degraded); the table decides, not adjacency. Initializing lasts until every book has been
//! live once or `startup_grace` has passed. Critical engages the kill switch (the caller does
//! it) and becomes EmergencyStop once the kill switch is engaged and no order is open: nothing
//! more can happen until an operator restarts the engine.

use std::time::Duration;

pub use crate::layout::Health;

/// What the monitor reads each tick. Counters are totals since start.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HealthInputs {
    /// Instruments whose book is not live (stale or crossed) now.
    pub stale: u64,
    pub resyncs: u64,
    pub ring_full: u64,
    /// Intents refused for breaching a limit (position, size, notional, collar).
    pub breaches: u64,
    /// `None` for recorded input, which has no connection.
    pub feed_connected: Option<bool>,
    pub journal_fault: bool,
    pub runner_failed: bool,
    pub kill_engaged: bool,
    pub open_orders: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HealthPolicy {
    pub window: Duration,
    pub stale_degraded_after: Duration,
    pub startup_grace: Duration,
}

impl Default for HealthPolicy {
    fn default() -> HealthPolicy {
        HealthPolicy {
            window: Duration::from_secs(10),
            stale_degraded_after: Duration::from_secs(5),
            startup_grace: Duration::from_secs(30),
        }
    }
}

/// Why health moved: the worst condition present at the transition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u16)]
pub enum HealthReason {
    AllClear = 0,
    BookStale = 1,
    Resync = 2,
    RiskBreach = 3,
    StaleTooLong = 4,
    RingOverflow = 5,
    FeedDisconnected = 6,
    KillSwitch = 7,
    JournalFault = 8,
    RunnerFailed = 9,
    Stopped = 10,
}

impl HealthReason {
    pub const ALL: [HealthReason; 11] = [
        HealthReason::AllClear,
        HealthReason::BookStale,
        HealthReason::Resync,
        HealthReason::RiskBreach,
        HealthReason::StaleTooLong,
        HealthReason::RingOverflow,
        HealthReason::FeedDisconnected,
        HealthReason::KillSwitch,
        HealthReason::JournalFault,
        HealthReason::RunnerFailed,
        HealthReason::Stopped,
    ];

    pub fn from_code(code: u16) -> Option<HealthReason> {
        HealthReason::ALL.into_iter().find(|r| *r as u16 == code)
    }

    pub fn name(self) -> &'static str {
        match self {
            HealthReason::AllClear => "all_clear",
            HealthReason::BookStale => "book_stale",
            HealthReason::Resync => "resync",
            HealthReason::RiskBreach => "risk_breach",
            HealthReason::StaleTooLong => "stale_too_long",
            HealthReason::RingOverflow => "ring_overflow",
            HealthReason::FeedDisconnected => "feed_disconnected",
            HealthReason::KillSwitch => "kill_switch",
            HealthReason::JournalFault => "journal_fault",
            HealthReason::RunnerFailed => "runner_failed",
            HealthReason::Stopped => "stopped",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transition {
    pub from: Health,
    pub to: Health,
    pub reason: HealthReason,
    /// Monitor time, ns since the monitor started.
    pub at: u64,
}

pub struct HealthMonitor {
    policy: HealthPolicy,
    state: Health,
    last: HealthInputs,
    /// When each windowed condition last happened (ns), if ever.
    resync_at: Option<u64>,
    ring_full_at: Option<u64>,
    breach_at: Option<u64>,
    stale_since: Option<u64>,
}

impl HealthMonitor {
    pub fn new(policy: HealthPolicy) -> HealthMonitor {
        HealthMonitor {
            policy,
            state: Health::Initializing,
            last: HealthInputs::default(),
            resync_at: None,
            ring_full_at: None,
            breach_at: None,
            stale_since: None,
        }
    }

    pub fn state(&self) -> Health {
        self.state
    }

    /// Takes this tick's inputs at `now` (ns since start); returns the transition, if any.
    pub fn step(&mut self, now: u64, inputs: &HealthInputs) -> Option<Transition> {
        let rose = |now_v: u64, then: u64, at: &mut Option<u64>| {
            if now_v > then {
                *at = Some(now);
            }
        };
        rose(inputs.resyncs, self.last.resyncs, &mut self.resync_at);
        rose(
            inputs.ring_full,
            self.last.ring_full,
            &mut self.ring_full_at,
        );
        rose(inputs.breaches, self.last.breaches, &mut self.breach_at);
        if inputs.stale == 0 {
            self.stale_since = None;
        } else if self.stale_since.is_none() {
            self.stale_since = Some(now);
        }
        self.last = *inputs;
        let (to, reason) = self.target(now, inputs)?;
        if to == self.state {
            return None;
        }
        let from = std::mem::replace(&mut self.state, to);
        Some(Transition {
            from,
            to,
            reason,
            at: now,
        })
    }

    /// The level this tick calls for, or `None` to stay.
    fn target(&self, now: u64, inputs: &HealthInputs) -> Option<(Health, HealthReason)> {
        match self.state {
            Health::EmergencyStop => return None,
            Health::Critical => {
                return (inputs.kill_engaged && inputs.open_orders == 0)
                    .then_some((Health::EmergencyStop, HealthReason::Stopped));
            }
            _ => {}
        }
        if inputs.journal_fault {
            return Some((Health::Critical, HealthReason::JournalFault));
        }
        if inputs.runner_failed {
            return Some((Health::Critical, HealthReason::RunnerFailed));
        }
        let within = |at: Option<u64>| at.is_some_and(|t| now - t < nanos(self.policy.window));
        let stale_for = self.stale_since.map_or(0, |t| now - t);
        let level = if inputs.feed_connected == Some(false) {
            (Health::Degraded, HealthReason::FeedDisconnected)
        } else if inputs.kill_engaged {
            (Health::Degraded, HealthReason::KillSwitch)
        } else if within(self.ring_full_at) {
            (Health::Degraded, HealthReason::RingOverflow)
        } else if inputs.stale > 0 && stale_for >= nanos(self.policy.stale_degraded_after) {
            (Health::Degraded, HealthReason::StaleTooLong)
        } else if inputs.stale > 0 {
            (Health::Warning, HealthReason::BookStale)
        } else if within(self.resync_at) {
            (Health::Warning, HealthReason::Resync)
        } else if within(self.breach_at) {
            (Health::Warning, HealthReason::RiskBreach)
        } else {
            (Health::Healthy, HealthReason::AllClear)
        };
        let starting = self.state == Health::Initializing
            && inputs.stale > 0
            && now < nanos(self.policy.startup_grace);
        (!starting).then_some(level)
    }
}

fn nanos(d: Duration) -> u64 {
    d.as_nanos().min(u64::MAX as u128) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    fn live() -> HealthInputs {
        HealthInputs {
            feed_connected: Some(true),
            ..HealthInputs::default()
        }
    }

    #[test]
    fn initializing_until_every_book_is_live() {
        let mut m = HealthMonitor::new(HealthPolicy::default());
        let stale = HealthInputs { stale: 1, ..live() };
        assert_eq!(m.step(S, &stale), None);
        assert_eq!(m.state(), Health::Initializing);
        let t = m.step(2 * S, &live()).unwrap();
        assert_eq!(
            (t.from, t.to, t.reason),
            (
                Health::Initializing,
                Health::Healthy,
                HealthReason::AllClear
            )
        );
    }

    #[test]
    fn initializing_ends_after_the_grace_period_even_if_stale() {
        let mut m = HealthMonitor::new(HealthPolicy::default());
        let stale = HealthInputs { stale: 1, ..live() };
        assert_eq!(m.step(20 * S, &stale), None);
        let t = m.step(31 * S, &stale).unwrap();
        assert_eq!(
            (t.to, t.reason),
            (Health::Degraded, HealthReason::StaleTooLong)
        );
    }

    #[test]
    fn stale_warns_then_degrades_then_recovers() {
        let mut m = HealthMonitor::new(HealthPolicy::default());
        m.step(S, &live());
        let stale = HealthInputs { stale: 1, ..live() };
        let t = m.step(2 * S, &stale).unwrap();
        assert_eq!((t.to, t.reason), (Health::Warning, HealthReason::BookStale));
        assert_eq!(m.step(6 * S, &stale), None);
        let t = m.step(7 * S, &stale).unwrap();
        assert_eq!(
            (t.to, t.reason),
            (Health::Degraded, HealthReason::StaleTooLong)
        );
        let t = m.step(8 * S, &live()).unwrap();
        assert_eq!((t.from, t.to), (Health::Degraded, Health::Healthy));
    }

    #[test]
    fn windowed_conditions_expire() {
        let mut m = HealthMonitor::new(HealthPolicy::default());
        m.step(S, &live());
        let resynced = HealthInputs {
            resyncs: 1,
            ..live()
        };
        let t = m.step(2 * S, &resynced).unwrap();
        assert_eq!((t.to, t.reason), (Health::Warning, HealthReason::Resync));
        assert_eq!(m.step(11 * S, &resynced), None);
        let t = m.step(12 * S, &resynced).unwrap();
        assert_eq!(t.to, Health::Healthy);
        let overflow = HealthInputs {
            ring_full: 3,
            ..resynced
        };
        let t = m.step(13 * S, &overflow).unwrap();
        assert_eq!(
            (t.to, t.reason),
            (Health::Degraded, HealthReason::RingOverflow)
        );
        let breach = HealthInputs {
            breaches: 1,
            ..overflow
        };
        assert_eq!(m.step(14 * S, &breach), None, "the worse condition wins");
        let t = m.step(23 * S, &breach).unwrap();
        assert_eq!(
            (t.to, t.reason),
            (Health::Warning, HealthReason::RiskBreach)
        );
    }

    #[test]
    fn disconnect_jumps_straight_to_degraded() {
        let mut m = HealthMonitor::new(HealthPolicy::default());
        m.step(S, &live());
        let down = HealthInputs {
            feed_connected: Some(false),
            ..live()
        };
        let t = m.step(2 * S, &down).unwrap();
        assert_eq!(
            (t.from, t.to, t.reason),
            (
                Health::Healthy,
                Health::Degraded,
                HealthReason::FeedDisconnected
            )
        );
    }

    #[test]
    fn critical_is_sticky_and_ends_in_emergency_stop() {
        let mut m = HealthMonitor::new(HealthPolicy::default());
        m.step(S, &live());
        let fault = HealthInputs {
            journal_fault: true,
            open_orders: 2,
            ..live()
        };
        let t = m.step(2 * S, &fault).unwrap();
        assert_eq!(
            (t.to, t.reason),
            (Health::Critical, HealthReason::JournalFault)
        );
        assert_eq!(
            m.step(3 * S, &live()),
            None,
            "critical never recovers by itself"
        );
        let killed = HealthInputs {
            kill_engaged: true,
            open_orders: 1,
            ..live()
        };
        assert_eq!(m.step(4 * S, &killed), None, "an order is still open");
        let done = HealthInputs {
            kill_engaged: true,
            ..live()
        };
        let t = m.step(5 * S, &done).unwrap();
        assert_eq!(
            (t.from, t.to, t.reason),
            (
                Health::Critical,
                Health::EmergencyStop,
                HealthReason::Stopped
            )
        );
        assert_eq!(m.step(6 * S, &fault), None);
    }

    #[test]
    fn a_dead_runner_is_critical() {
        let mut m = HealthMonitor::new(HealthPolicy::default());
        let t = m
            .step(
                S,
                &HealthInputs {
                    runner_failed: true,
                    stale: 1,
                    ..live()
                },
            )
            .unwrap();
        assert_eq!(
            (t.from, t.to, t.reason),
            (
                Health::Initializing,
                Health::Critical,
                HealthReason::RunnerFailed
            )
        );
    }
}
