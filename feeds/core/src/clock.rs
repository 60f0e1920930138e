//! Where a runner's `now` comes from: the wall clock when live, the recorded time on replay.
//! Stages never read a clock for logic; they get `now` from their runner.

use std::fmt::Write as _;
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

/// `unix_ns` as `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ` (proleptic Gregorian, UTC).
pub fn rfc3339(unix_ns: u64, out: &mut String) {
    let secs = unix_ns / 1_000_000_000;
    let nanos = unix_ns % 1_000_000_000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    let _ = write!(
        out,
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{nanos:09}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    );
}

/// Days since 1970-01-01 to (year, month, day): Howard Hinnant's `civil_from_days`.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_match_known_instants() {
        let ts = |ns| {
            let mut s = String::new();
            rfc3339(ns, &mut s);
            s
        };
        assert_eq!(ts(0), "1970-01-01T00:00:00.000000000Z");
        // Day 20_063 is 2024-12-06.
        assert_eq!(
            ts(20_063 * 86_400 * 1_000_000_000),
            "2024-12-06T00:00:00.000000000Z"
        );
        // 951_782_400 s = 2000-02-29 00:00:00 UTC (a leap day of a century leap year).
        assert_eq!(
            ts(951_782_400_000_000_001),
            "2000-02-29T00:00:00.000000001Z"
        );
        // 2026-12-07 is day 20_794: 20_794 * 86_400 = 1_796_601_600 s, plus 03:40 (13_200 s)
        // = 1_796_614_800 s.
        assert_eq!(
            ts(1_796_614_800_123_456_789),
            "2026-12-07T03:40:00.123456789Z"
        );
    }
}
