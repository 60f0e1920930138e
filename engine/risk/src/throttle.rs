//! The message throttle and the duplicate-order guard: fixed-size windows over market time,
//! allocated at start, O(1) (or a fixed small scan) per decision.

use pulse_core::num::{InstrumentId, Nanos, Px, Qty, Side};

/// At most `max` messages in any `window` of market time: a ring of the last `max` send times.
pub struct MessageThrottle {
    times: Vec<Nanos>,
    /// Index of the oldest time once the ring is full.
    head: usize,
    len: usize,
    window: Nanos,
}

impl MessageThrottle {
    pub fn new(max: u32, window: Nanos) -> MessageThrottle {
        MessageThrottle {
            times: vec![Nanos::ZERO; (max as usize).max(1)],
            head: 0,
            len: 0,
            window,
        }
    }

    /// Whether one more message at `now` would pass the limit.
    pub fn is_full(&self, now: Nanos) -> bool {
        self.len == self.times.len() && now.saturating_sub(self.times[self.head]) < self.window
    }

    /// Counts a message sent at `now`.
    pub fn record(&mut self, now: Nanos) {
        let cap = self.times.len();
        if self.len < cap {
            self.times[(self.head + self.len) % cap] = now;
            self.len += 1;
        } else {
            self.times[self.head] = now;
            self.head = (self.head + 1) % cap;
        }
    }
}

/// The orders sent most recently, for the duplicate guard.
pub const RECENT_ORDERS: usize = 16;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Sent {
    instrument: InstrumentId,
    side: Side,
    px: Px,
    qty: Qty,
    at: Nanos,
}

pub struct RecentOrders {
    /// Fixed length, allocated at start.
    sent: Vec<Option<Sent>>,
    next: usize,
    window: Nanos,
}

impl RecentOrders {
    pub fn new(window: Nanos) -> RecentOrders {
        RecentOrders {
            sent: vec![None; RECENT_ORDERS],
            next: 0,
            window,
        }
    }

    /// Whether the same order was sent less than the window before `now`.
    pub fn seen(&self, instrument: InstrumentId, side: Side, px: Px, qty: Qty, now: Nanos) -> bool {
        self.sent.iter().flatten().any(|s| {
            s.instrument == instrument
                && s.side == side
                && s.px == px
                && s.qty == qty
                && now.saturating_sub(s.at) < self.window
        })
    }

    pub fn record(&mut self, instrument: InstrumentId, side: Side, px: Px, qty: Qty, at: Nanos) {
        self.sent[self.next] = Some(Sent {
            instrument,
            side,
            px,
            qty,
            at,
        });
        self.next = (self.next + 1) % RECENT_ORDERS;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_throttle_holds_max_messages_in_any_window() {
        let mut t = MessageThrottle::new(3, Nanos(100));
        for at in [0, 10, 20] {
            assert!(!t.is_full(Nanos(at)));
            t.record(Nanos(at));
        }
        assert!(t.is_full(Nanos(99)));
        // At 100 the first message is a whole window old.
        assert!(!t.is_full(Nanos(100)));
        t.record(Nanos(100));
        assert!(t.is_full(Nanos(109)));
        assert!(!t.is_full(Nanos(110)));
    }

    #[test]
    fn duplicates_are_the_same_order_within_the_window() {
        let mut r = RecentOrders::new(Nanos(50));
        let i = InstrumentId(0);
        r.record(i, Side::Buy, Px(10), Qty(2), Nanos(100));
        assert!(r.seen(i, Side::Buy, Px(10), Qty(2), Nanos(149)));
        assert!(!r.seen(i, Side::Buy, Px(10), Qty(2), Nanos(150)));
        assert!(!r.seen(i, Side::Sell, Px(10), Qty(2), Nanos(120)));
        assert!(!r.seen(i, Side::Buy, Px(11), Qty(2), Nanos(120)));
        assert!(!r.seen(i, Side::Buy, Px(10), Qty(3), Nanos(120)));
        assert!(!r.seen(InstrumentId(1), Side::Buy, Px(10), Qty(2), Nanos(120)));
    }
}
