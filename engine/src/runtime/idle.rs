//! What a runner does after a pass that found no work (Agrona's `IdleStrategy`).
//!
//! `busy-spin` and `yield` keep no state: a pass with work costs a match and nothing else.
//! `backoff` spins, then yields, by `crossbeam_utils::Backoff` (exponential spinning, then
//! `yield_now` until it says it is completed), then sleeps, doubling; any work starts it over.

use std::time::Duration;

use crossbeam_utils::Backoff;

use crate::config::IdleKind;

pub struct Idle {
    kind: Kind,
}

enum Kind {
    BusySpin,
    Yield,
    Backoff { backoff: Backoff, sleeps: u32 },
}

/// Once spinning and yielding are done, sleep this long, doubling up to the maximum.
const BACKOFF_MIN_SLEEP: Duration = Duration::from_micros(1);
const BACKOFF_MAX_SLEEP: Duration = Duration::from_millis(1);
/// Doublings after which the sleep stays at its maximum (1 µs << 10 > 1 ms).
const BACKOFF_MAX_DOUBLINGS: u32 = 10;

impl Idle {
    pub fn new(kind: IdleKind) -> Idle {
        let kind = match kind {
            IdleKind::BusySpin => Kind::BusySpin,
            IdleKind::Yield => Kind::Yield,
            IdleKind::Backoff => Kind::Backoff {
                backoff: Backoff::new(),
                sleeps: 0,
            },
        };
        Idle { kind }
    }

    pub fn idle(&mut self, work: usize) {
        match &mut self.kind {
            Kind::BusySpin => {
                if work == 0 {
                    std::hint::spin_loop();
                }
            }
            Kind::Yield => {
                if work == 0 {
                    std::thread::yield_now();
                }
            }
            Kind::Backoff { backoff, sleeps } => {
                if work > 0 {
                    backoff.reset();
                    *sleeps = 0;
                } else if !backoff.is_completed() {
                    backoff.snooze();
                } else {
                    *sleeps = (*sleeps + 1).min(BACKOFF_MAX_DOUBLINGS);
                    std::thread::sleep((BACKOFF_MIN_SLEEP * (1 << *sleeps)).min(BACKOFF_MAX_SLEEP));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backoff_state(idle: &Idle) -> (bool, u32) {
        match &idle.kind {
            Kind::Backoff { backoff, sleeps } => (backoff.is_completed(), *sleeps),
            _ => unreachable!(),
        }
    }

    #[test]
    fn backoff_spins_and_yields_then_sleeps_doubling_and_any_work_starts_it_over() {
        let mut idle = Idle::new(IdleKind::Backoff);
        let mut passes = 0;
        while !backoff_state(&idle).0 {
            idle.idle(0);
            passes += 1;
            assert_eq!(
                backoff_state(&idle).1,
                0,
                "no sleep before spinning and yielding end"
            );
        }
        assert!(passes > 1, "{passes}");
        idle.idle(0);
        idle.idle(0);
        assert_eq!(backoff_state(&idle), (true, 2));
        idle.idle(1);
        assert_eq!(backoff_state(&idle), (false, 0));
    }
}
