//! The venue's clock as we estimate it. Binance refuses a `SIGNED` request whose `timestamp`
//! (venue time, ms) is more than `recvWindow` behind its clock or more than a second ahead of
//! it, so requests must carry the venue's time, not ours. Each answer to a time request
//! (`GET /api/v3/time`, WebSocket `time`) gives the venue's time at some moment between our
//! send and our receive: the offset is estimated from the midpoint, and of the recent samples
//! the one with the shortest round trip (the tightest bound) is trusted.

use pulse_feeds::num::Nanos;

/// Samples kept: the best of the last few, so that a slow answer cannot spoil the estimate and
/// a drifting clock is followed.
const SAMPLES: usize = 8;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Sample {
    /// Venue time minus our time at the midpoint, ns.
    offset: i64,
    round_trip: u64,
}

#[derive(Clone, Debug, Default)]
pub struct VenueClock {
    samples: [Option<Sample>; SAMPLES],
    next: usize,
}

impl VenueClock {
    /// A time answer: sent at `sent` and received at `received` by our clock, saying
    /// `venue_ms` (milliseconds).
    pub fn on_time(&mut self, sent: Nanos, received: Nanos, venue_ms: u64) {
        let round_trip = received.saturating_sub(sent).0;
        let midpoint = sent.0 + round_trip / 2;
        let venue = venue_ms.saturating_mul(1_000_000);
        let offset = venue as i128 - midpoint as i128;
        self.samples[self.next] = Some(Sample {
            offset: offset.clamp(i64::MIN.into(), i64::MAX.into()) as i64,
            round_trip,
        });
        self.next = (self.next + 1) % SAMPLES;
    }

    /// The trusted sample: the shortest round trip of those kept.
    fn best(&self) -> Option<Sample> {
        self.samples
            .iter()
            .flatten()
            .min_by_key(|s| s.round_trip)
            .copied()
    }

    /// Venue time minus ours, ns (0 before any sample).
    pub fn offset(&self) -> i64 {
        self.best().map_or(0, |s| s.offset)
    }

    /// How far off the estimate may be: half the trusted round trip, ns.
    pub fn uncertainty(&self) -> Option<u64> {
        self.best().map(|s| s.round_trip / 2)
    }

    /// The `timestamp` parameter for a request sent at our time `now`, in venue ms.
    pub fn timestamp_ms(&self, now: Nanos) -> u64 {
        let venue = now.0 as i128 + i128::from(self.offset());
        (venue.max(0) / 1_000_000) as u64
    }

    /// Whether a request stamped now would certainly be inside `recv_window_ms` by the time
    /// it arrives `one_way` later, given our uncertainty (and never a second ahead).
    pub fn within_window(&self, one_way: Nanos, recv_window_ms: u64) -> bool {
        let Some(uncertainty) = self.uncertainty() else {
            return false;
        };
        uncertainty < 1_000_000_000
            && one_way.0.saturating_add(uncertainty) < recv_window_ms.saturating_mul(1_000_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_offset_comes_from_the_tightest_round_trip() {
        let mut c = VenueClock::default();
        assert_eq!(c.offset(), 0);
        assert!(!c.within_window(Nanos(0), 5_000), "no estimate, no promise");
        // Our clock is 1.27 s behind the venue's (as the bundled capture's recorder was).
        let behind = 1_270_000_000u64;
        // A slow answer: sent at 10 s, received at 10.2 s, the venue said 10.05 s + 1.27 s.
        c.on_time(
            Nanos(10_000_000_000),
            Nanos(10_200_000_000),
            (10_050_000_000 + behind) / 1_000_000,
        );
        assert_eq!(c.offset(), 1_270_000_000 - 50_000_000);
        // A quick one: 2 ms round trip, the venue's time exactly at the midpoint.
        c.on_time(
            Nanos(20_000_000_000),
            Nanos(20_002_000_000),
            (20_001_000_000 + behind) / 1_000_000,
        );
        assert_eq!(c.offset(), 1_270_000_000);
        assert_eq!(c.uncertainty(), Some(1_000_000));
        assert_eq!(c.timestamp_ms(Nanos(30_000_000_000)), 31_270);
        assert!(c.within_window(Nanos(2_000_000), 5_000));
        assert!(!c.within_window(Nanos(4_999_500_000), 5_000));
        // The quick sample is kept until eight newer ones have passed.
        for i in 0..7 {
            c.on_time(Nanos(40_000_000_000 + i), Nanos(40_300_000_000 + i), 0);
        }
        assert_eq!(c.offset(), 1_270_000_000);
        c.on_time(Nanos(50_000_000_000), Nanos(50_300_000_000), 0);
        assert!(c.offset() < 0, "the quick sample aged out");
    }
}
