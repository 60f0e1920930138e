//! What a backtest report needs from the simulated venue and nobody else sees: each
//! instrument's touch sampled on a fixed grid of market time (for the equity curve, the
//! position's value and the mid the fills are drawn over), and the touch each order met when it
//! reached the venue (its arrival mid, for implementation shortfall).
//!
//! Off unless `pulse backtest` asks for it (`SimGatewayStage::with_tape`); a live gateway has no
//! tape. Samples go into vectors that grow with the run: the simulated venue is the research
//! loop's, never a live hot path.

use pulse_feeds::event::BookTop;
use pulse_feeds::num::{InstrumentId, Nanos, Px};

/// The touch of one instrument at a sample time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mark {
    /// The grid time: the touch is the last one received at or before it.
    pub ts: Nanos,
    pub instrument: InstrumentId,
    pub bid: Px,
    pub ask: Px,
}

/// The touch an order met on arrival at the venue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arrival {
    pub client_id: u64,
    /// Venue time of its arrival.
    pub ts: Nanos,
    /// `None` when the venue had no two-sided book for it yet.
    pub touch: Option<(Px, Px)>,
}

pub struct Tape {
    interval: u64,
    /// The next grid time to sample at; `None` before the first book.
    next: Option<u64>,
    touch: Vec<Option<(Px, Px)>>,
    last_ts: Nanos,
    first_ts: Option<Nanos>,
    /// Market events the venue applied (books and trades).
    pub events: u64,
    pub marks: Vec<Mark>,
    pub arrivals: Vec<Arrival>,
}

impl Tape {
    /// Samples every `interval` of market time (at least 1 ns) for `instruments` instruments.
    pub fn new(instruments: usize, interval: Nanos) -> Tape {
        Tape {
            interval: interval.0.max(1),
            next: None,
            touch: vec![None; instruments],
            last_ts: Nanos::ZERO,
            first_ts: None,
            events: 0,
            marks: Vec::new(),
            arrivals: Vec::new(),
        }
    }

    pub fn interval(&self) -> Nanos {
        Nanos(self.interval)
    }

    /// The time of the first market event seen.
    pub fn first_ts(&self) -> Option<Nanos> {
        self.first_ts
    }

    /// The time of the last market event seen.
    pub fn last_ts(&self) -> Nanos {
        self.last_ts
    }

    /// The touch of `instrument` as the venue sees it now.
    pub fn touch(&self, instrument: InstrumentId) -> Option<(Px, Px)> {
        self.touch.get(usize::from(instrument.0)).copied().flatten()
    }

    /// A market event at `ts` is about to be applied: every grid time before it is sampled
    /// first, then the event's touch (if it is a book with both sides) becomes current.
    pub fn on_event(&mut self, ts: Nanos, book: Option<&BookTop>) {
        let ts = ts.max(self.last_ts);
        self.events += 1;
        self.first_ts.get_or_insert(ts);
        if let Some(mut next) = self.next {
            while next < ts.0 {
                self.sample(Nanos(next));
                next = next.saturating_add(self.interval);
            }
            self.next = Some(next);
        }
        self.last_ts = ts;
        let Some(top) = book else { return };
        let (Some(bid), Some(ask)) = (top.best_bid(), top.best_ask()) else {
            return;
        };
        if let Some(slot) = self.touch.get_mut(usize::from(top.meta.instrument.0)) {
            *slot = Some((bid.px, ask.px));
        }
        if self.next.is_none() {
            // The grid starts at the first book, on a multiple of the interval.
            self.next = Some((ts.0 / self.interval + 1).saturating_mul(self.interval));
        }
    }

    /// An order reached the venue at `ts`.
    pub fn on_arrival(&mut self, client_id: u64, instrument: InstrumentId, ts: Nanos) {
        let touch = self.touch(instrument);
        self.arrivals.push(Arrival {
            client_id,
            ts,
            touch,
        });
    }

    fn sample(&mut self, ts: Nanos) {
        for (i, touch) in self.touch.iter().enumerate() {
            if let Some((bid, ask)) = *touch {
                self.marks.push(Mark {
                    ts,
                    instrument: InstrumentId(i as u16),
                    bid,
                    ask,
                });
            }
        }
    }

    /// The run ended: one last sample at the last event's time, so the curve ends where the
    /// input did.
    pub fn finish(&mut self) {
        let end = self.last_ts;
        if self.marks.last().is_none_or(|m| m.ts < end) && self.next.is_some() {
            self.sample(end);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pulse_feeds::book::Level;
    use pulse_feeds::event::{BookState, EventMeta};
    use pulse_feeds::num::Qty;

    fn top(instrument: u16, ts: u64, bid: i64, ask: i64) -> BookTop {
        let meta = EventMeta {
            instrument: InstrumentId(instrument),
            recv_ts: Nanos(ts),
            ..EventMeta::default()
        };
        let level = |px| Level {
            px: Px(px),
            qty: Qty(1),
        };
        BookTop::with_touch(meta, BookState::Live, level(bid), level(ask))
    }

    /// Each grid time carries the last touch received at or before it; a quiet stretch is
    /// sampled at every grid time it spans; the end gets its own sample.
    #[test]
    fn samples_the_last_touch_at_or_before_each_grid_time() {
        let mut tape = Tape::new(2, Nanos(10));
        for (i, ts, bid, ask) in [
            (0, 5, 99, 101),
            (1, 7, 9, 11),
            (0, 10, 98, 100),
            (0, 34, 97, 99),
        ] {
            let t = top(i, ts, bid, ask);
            tape.on_event(Nanos(ts), Some(&t));
        }
        tape.on_arrival(7, InstrumentId(0), Nanos(35));
        tape.finish();
        let got: Vec<(u64, u16, i64)> = tape
            .marks
            .iter()
            .map(|m| (m.ts.0, m.instrument.0, m.bid.0))
            .collect();
        assert_eq!(
            got,
            [
                (10, 0, 98),
                (10, 1, 9),
                (20, 0, 98),
                (20, 1, 9),
                (30, 0, 98),
                (30, 1, 9),
                (34, 0, 97),
                (34, 1, 9)
            ]
        );
        assert_eq!(tape.arrivals[0].touch, Some((Px(97), Px(99))));
    }
}
