//! What a runner does after a pass that found no work (Agrona's `IdleStrategy`).

use std::time::Duration;

use crate::config::IdleKind;

pub struct Idle {
    kind: IdleKind,
    idle_passes: u32,
}

/// Back-off: spin this many idle passes, then yield this many, then sleep, doubling.
const BACKOFF_SPINS: u32 = 100;
const BACKOFF_YIELDS: u32 = 100;
const BACKOFF_MIN_SLEEP: Duration = Duration::from_micros(1);
const BACKOFF_MAX_SLEEP: Duration = Duration::from_millis(1);

impl Idle {
    pub fn new(kind: IdleKind) -> Idle {
        Idle {
            kind,
            idle_passes: 0,
        }
    }

    pub fn idle(&mut self, work: usize) {
        if work > 0 {
            self.idle_passes = 0;
            return;
        }
        self.idle_passes = self.idle_passes.saturating_add(1);
        match self.kind {
            IdleKind::BusySpin => std::hint::spin_loop(),
            IdleKind::Yield => std::thread::yield_now(),
            IdleKind::Backoff => {
                let n = self.idle_passes;
                if n <= BACKOFF_SPINS {
                    std::hint::spin_loop();
                } else if n <= BACKOFF_SPINS + BACKOFF_YIELDS {
                    std::thread::yield_now();
                } else {
                    let doublings = (n - BACKOFF_SPINS - BACKOFF_YIELDS).min(10);
                    std::thread::sleep(
                        (BACKOFF_MIN_SLEEP * (1 << doublings)).min(BACKOFF_MAX_SLEEP),
                    );
                }
            }
        }
    }
}
