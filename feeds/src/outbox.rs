//! A feed's bounded staging area between decoding a message and pushing its events to the
//! ring. One message can expand into thousands of events (a snapshot); when the ring has less
//! room, the rest waits here and the feed reads no new input until it has drained: backpressure
//! instead of loss. Preallocated; it never grows.

use crate::event::MdEvent;

pub struct Outbox {
    events: Vec<MdEvent>,
    sent: usize,
}

impl Outbox {
    pub fn with_capacity(capacity: usize) -> Outbox {
        Outbox {
            events: Vec::with_capacity(capacity),
            sent: 0,
        }
    }

    /// Room for this many more events.
    pub fn remaining(&self) -> usize {
        self.events.capacity() - self.events.len()
    }

    /// Stages one event; `false` (and nothing staged) when full.
    #[must_use]
    pub fn push(&mut self, event: MdEvent) -> bool {
        if self.events.len() == self.events.capacity() {
            return false;
        }
        self.events.push(event);
        true
    }

    pub fn is_drained(&self) -> bool {
        self.sent == self.events.len()
    }

    /// Drops the staged events not yet sent, except those `keep` says to hold on to (in order),
    /// showing each dropped one to `dropped` first. A live feed that cannot wait on a full ring
    /// discards this way, keeping its stale marks: losing one would let the book pass off a
    /// book with missing updates as live.
    pub fn discard_pending(
        &mut self,
        keep: impl Fn(&MdEvent) -> bool,
        mut dropped: impl FnMut(&MdEvent),
    ) {
        let mut kept = 0;
        for i in self.sent..self.events.len() {
            let event = self.events[i];
            if keep(&event) {
                self.events[kept] = event;
                kept += 1;
            } else {
                dropped(&event);
            }
        }
        self.events.truncate(kept);
        self.sent = 0;
    }

    /// Moves as many staged events as fit into `ring`; returns how many moved.
    pub fn drain_into(&mut self, ring: &mut rtrb::Producer<MdEvent>) -> usize {
        let pending = &self.events[self.sent..];
        let n = pending.len().min(ring.slots());
        if n == 0 {
            return 0;
        }
        match ring.write_chunk_uninit(n) {
            Ok(chunk) => {
                let moved = chunk.fill_from_iter(pending[..n].iter().copied());
                self.sent += moved;
                if self.is_drained() {
                    self.events.clear();
                    self.sent = 0;
                }
                moved
            }
            Err(_) => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{EventMeta, StaleReason};

    fn stale(n: u64) -> MdEvent {
        MdEvent::BookStale {
            meta: EventMeta {
                recv_ts: crate::num::Nanos(n),
                ..EventMeta::default()
            },
            reason: StaleReason::Gap,
        }
    }

    #[test]
    fn holds_what_the_ring_cannot_take_and_never_grows() {
        let mut outbox = Outbox::with_capacity(4);
        let (mut tx, mut rx) = rtrb::RingBuffer::new(2);
        for i in 0..4 {
            assert!(outbox.push(stale(i)));
        }
        assert!(!outbox.push(stale(9)));
        assert_eq!(outbox.drain_into(&mut tx), 2);
        assert!(!outbox.is_drained());
        assert_eq!(outbox.drain_into(&mut tx), 0);
        assert_eq!(rx.pop(), Ok(stale(0)));
        assert_eq!(rx.pop(), Ok(stale(1)));
        assert_eq!(outbox.drain_into(&mut tx), 2);
        assert!(outbox.is_drained());
        assert_eq!(outbox.remaining(), 4);
        assert_eq!(rx.pop(), Ok(stale(2)));
        assert_eq!(rx.pop(), Ok(stale(3)));
    }

    #[test]
    fn discarding_shows_the_unsent_events_and_keeps_what_it_is_told() {
        let mut outbox = Outbox::with_capacity(5);
        let (mut tx, _rx) = rtrb::RingBuffer::new(1);
        let reset = |n: u64| MdEvent::BookReset {
            meta: EventMeta {
                recv_ts: crate::num::Nanos(n),
                ..EventMeta::default()
            },
        };
        for event in [reset(0), stale(1), reset(2), stale(3), reset(4)] {
            assert!(outbox.push(event));
        }
        assert_eq!(outbox.drain_into(&mut tx), 1);
        let mut seen = Vec::new();
        outbox.discard_pending(
            |e| matches!(e, MdEvent::BookStale { .. }),
            |e| seen.push(*e),
        );
        assert_eq!(seen, [reset(2), reset(4)]);
        assert!(!outbox.is_drained());
        assert_eq!(outbox.remaining(), 3);
        let (mut tx, mut rx) = rtrb::RingBuffer::new(8);
        assert_eq!(outbox.drain_into(&mut tx), 2);
        assert_eq!((rx.pop(), rx.pop()), (Ok(stale(1)), Ok(stale(3))));
        assert!(outbox.is_drained());
    }
}
