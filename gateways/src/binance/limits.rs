//! Binance's request limits, kept on our side so that the gateway never meets them
//! (`rest-api.md` / `web-socket-api.md`, "LIMITS"):
//!
//! - **request weight** per minute (header `X-MBX-USED-WEIGHT-1M`, limit 6,000 by default);
//! - **orders** per 10 seconds and per day (`X-MBX-ORDER-COUNT-10S`, `X-MBX-ORDER-COUNT-1D`;
//!   100 and 200,000 by default);
//! - HTTP 429 means a limit was broken: back off for `Retry-After` seconds; breaking limits
//!   again after a 429 earns a 418, an IP ban. So after a 429 nothing at all is sent until
//!   the time it gives has passed, and a 418 is honoured the same way.
//!
//! Between responses the counts are ours (every request adds its weight, every order one);
//! each response's headers replace them with the venue's own. A request is let through only
//! while it keeps every count under `headroom` of its limit (90% by default), so that other
//! clients of the same key or IP and our own estimate's errors have room. Windows are fixed,
//! as Binance's are: the minute, the 10 seconds and the UTC day of the venue's clock.

use pulse_feeds::num::Nanos;

const SECOND: u64 = 1_000_000_000;

/// Binance's published limits and how close to them we go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub weight_per_minute: u32,
    pub orders_per_10s: u32,
    pub orders_per_day: u32,
    /// Share of each limit we allow ourselves, in percent.
    pub headroom_pct: u32,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            weight_per_minute: 6_000,
            orders_per_10s: 100,
            orders_per_day: 200_000,
            headroom_pct: 90,
        }
    }
}

/// Why a request must wait, and until when (venue time).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    /// A 429 or 418 told us to stop until then.
    RetryAfter(Nanos),
    /// The request weight of this minute is used up until the next minute.
    Weight(Nanos),
    /// The order count of this 10 s window, or of this day, is used up until it turns.
    Orders(Nanos),
}

#[derive(Clone, Debug)]
pub struct RateLimiter {
    limits: Limits,
    weight: u32,
    minute: u64,
    orders_10s: u32,
    window_10s: u64,
    orders_day: u32,
    day: u64,
    blocked_until: Option<Nanos>,
    /// 429s and 418s seen.
    pub throttled: u64,
    pub banned: u64,
}

impl RateLimiter {
    pub fn new(limits: Limits) -> RateLimiter {
        RateLimiter {
            limits,
            weight: 0,
            minute: 0,
            orders_10s: 0,
            window_10s: 0,
            orders_day: 0,
            day: 0,
            blocked_until: None,
            throttled: 0,
            banned: 0,
        }
    }

    fn roll(&mut self, now: Nanos) {
        let (minute, window, day) = (
            now.0 / (60 * SECOND),
            now.0 / (10 * SECOND),
            now.0 / (86_400 * SECOND),
        );
        if minute != self.minute {
            self.minute = minute;
            self.weight = 0;
        }
        if window != self.window_10s {
            self.window_10s = window;
            self.orders_10s = 0;
        }
        if day != self.day {
            self.day = day;
            self.orders_day = 0;
        }
    }

    fn under(&self, used: u32, adding: u32, limit: u32) -> bool {
        u64::from(used) + u64::from(adding)
            <= u64::from(limit) * u64::from(self.limits.headroom_pct) / 100
    }

    /// Whether a request of `weight` (an order when `order`) may go at venue time `now`.
    pub fn check(&mut self, now: Nanos, weight: u32, order: bool) -> Result<(), Wait> {
        if let Some(until) = self.blocked_until {
            if now < until {
                return Err(Wait::RetryAfter(until));
            }
            self.blocked_until = None;
        }
        self.roll(now);
        if !self.under(self.weight, weight, self.limits.weight_per_minute) {
            return Err(Wait::Weight(Nanos((self.minute + 1) * 60 * SECOND)));
        }
        if order {
            if !self.under(self.orders_10s, 1, self.limits.orders_per_10s) {
                return Err(Wait::Orders(Nanos((self.window_10s + 1) * 10 * SECOND)));
            }
            if !self.under(self.orders_day, 1, self.limits.orders_per_day) {
                return Err(Wait::Orders(Nanos((self.day + 1) * 86_400 * SECOND)));
            }
        }
        Ok(())
    }

    /// Counts a request sent at `now`.
    pub fn sent(&mut self, now: Nanos, weight: u32, order: bool) {
        self.roll(now);
        self.weight = self.weight.saturating_add(weight);
        if order {
            self.orders_10s = self.orders_10s.saturating_add(1);
            self.orders_day = self.orders_day.saturating_add(1);
        }
    }

    /// A response at `now`: its status and headers (names in any case). The venue's counts
    /// replace ours; a 429 or 418 stops everything for `Retry-After` seconds (a minute when
    /// the header is missing or unreadable).
    pub fn on_response(&mut self, now: Nanos, status: u16, headers: &[(&str, &str)]) {
        self.roll(now);
        let header = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .and_then(|(_, v)| v.trim().parse::<u32>().ok())
        };
        let secs = u64::from(header("retry-after").unwrap_or(60));
        let until = Nanos(now.0.saturating_add(secs.saturating_mul(SECOND)));
        self.apply(
            status,
            Counts {
                weight: header("x-mbx-used-weight-1m"),
                orders_10s: header("x-mbx-order-count-10s"),
                orders_day: header("x-mbx-order-count-1d"),
            },
            until,
        );
    }

    /// A WebSocket API response at `now`: its status, the counts of its `rateLimits`, and for
    /// a 429 or 418 the `retryAfter` it gave (venue time; a minute from now when missing).
    pub fn on_ws_response(
        &mut self,
        now: Nanos,
        status: u16,
        counts: Counts,
        retry_after: Option<Nanos>,
    ) {
        self.roll(now);
        let until = retry_after.unwrap_or(Nanos(now.0.saturating_add(60 * SECOND)));
        self.apply(status, counts, until);
    }

    fn apply(&mut self, status: u16, counts: Counts, blocked_until: Nanos) {
        if let Some(w) = counts.weight {
            self.weight = w;
        }
        if let Some(n) = counts.orders_10s {
            self.orders_10s = n;
        }
        if let Some(n) = counts.orders_day {
            self.orders_day = n;
        }
        if status == 429 || status == 418 {
            if status == 429 {
                self.throttled += 1;
            } else {
                self.banned += 1;
            }
            let until = blocked_until;
            self.blocked_until = Some(self.blocked_until.map_or(until, |b| b.max(until)));
        }
    }
}

/// The venue's own counts, as a response reports them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub weight: Option<u32>,
    pub orders_10s: Option<u32>,
    pub orders_day: Option<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// On a 10 s boundary, 20 s into its minute.
    const T0: u64 = 1_700_000_000 * SECOND;

    #[test]
    fn weight_and_orders_stop_short_of_the_limits_and_windows_turn() {
        let mut r = RateLimiter::new(Limits {
            weight_per_minute: 100,
            orders_per_10s: 10,
            orders_per_day: 1_000,
            headroom_pct: 90,
        });
        let now = Nanos(T0);
        for _ in 0..9 {
            assert_eq!(r.check(now, 1, true), Ok(()));
            r.sent(now, 1, true);
        }
        // 9 orders of 10 is the 90% headroom: the tenth waits for the next 10 s window.
        let next_window = Nanos((T0 / (10 * SECOND) + 1) * 10 * SECOND);
        assert_eq!(r.check(now, 1, true), Err(Wait::Orders(next_window)));
        // A query (not an order) still goes, while the weight allows.
        assert_eq!(r.check(now, 80, false), Ok(()));
        assert!(matches!(r.check(now, 82, false), Err(Wait::Weight(_))));
        assert_eq!(r.check(next_window, 1, true), Ok(()));
        // The venue's own count replaces ours.
        r.on_response(
            next_window,
            200,
            &[
                ("X-MBX-USED-WEIGHT-1M", "89"),
                ("x-mbx-order-count-10s", "0"),
            ],
        );
        assert!(matches!(
            r.check(next_window, 2, false),
            Err(Wait::Weight(_))
        ));
        assert_eq!(r.check(next_window, 1, false), Ok(()));
        let next_minute = Nanos((T0 / (60 * SECOND) + 1) * 60 * SECOND);
        assert_eq!(r.check(next_minute, 50, false), Ok(()));
    }

    #[test]
    fn after_a_429_nothing_goes_until_retry_after_so_no_418_follows() {
        let mut r = RateLimiter::new(Limits::default());
        let now = Nanos(T0);
        r.on_response(now, 429, &[("Retry-After", "7")]);
        let until = Nanos(T0 + 7 * SECOND);
        for t in [T0, T0 + SECOND, T0 + 7 * SECOND - 1] {
            assert_eq!(r.check(Nanos(t), 1, false), Err(Wait::RetryAfter(until)));
            assert_eq!(r.check(Nanos(t), 1, true), Err(Wait::RetryAfter(until)));
        }
        assert_eq!(r.check(until, 1, true), Ok(()));
        // A 418 without a readable Retry-After stops everything for a minute.
        r.on_response(until, 418, &[("retry-after", "soon")]);
        assert!(matches!(
            r.check(Nanos(until.0 + 59 * SECOND), 1, false),
            Err(Wait::RetryAfter(_))
        ));
        assert_eq!(r.check(Nanos(until.0 + 60 * SECOND), 1, false), Ok(()));
        assert_eq!((r.throttled, r.banned), (1, 1));
    }
}
