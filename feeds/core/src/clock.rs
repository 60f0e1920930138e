//! Where a runner's `now` comes from: the wall clock when live, the recorded time on replay.
//! Stages never read a clock for logic; they get `now` from their runner.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::num::Nanos;

/// The time of the last replayed message, advanced by the replaying feed.
#[derive(Clone, Debug, Default)]
pub struct ReplayTime(Arc<AtomicU64>);

impl ReplayTime {
    /// Relaxed: the value is a monotonic timestamp read for timers, and the events themselves
    /// carry their own times; nothing else is published through it.
    pub fn advance(&self, to: Nanos) {
        // Relaxed: see above; fetch_max keeps it monotonic without ordering anything else.
        self.0.fetch_max(to.0, Ordering::Relaxed);
    }

    pub fn get(&self) -> Nanos {
        // Relaxed: a timestamp for timers; no other data is read on its strength.
        Nanos(self.0.load(Ordering::Relaxed))
    }
}

#[derive(Clone, Debug)]
pub enum Clock {
    /// UTC nanoseconds from the TSC, anchored to the system clock once at start.
    Live {
        tsc: quanta::Clock,
        anchor_raw: u64,
        anchor_utc: u64,
    },
    Replay(ReplayTime),
}

impl Clock {
    pub fn live() -> Clock {
        let tsc = quanta::Clock::new();
        let anchor_raw = tsc.raw();
        let anchor_utc = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        Clock::Live {
            tsc,
            anchor_raw,
            anchor_utc,
        }
    }

    pub fn now(&self) -> Nanos {
        match self {
            Clock::Live {
                tsc,
                anchor_raw,
                anchor_utc,
            } => Nanos(anchor_utc + tsc.delta_as_nanos(*anchor_raw, tsc.raw())),
            Clock::Replay(t) => t.get(),
        }
    }
}
