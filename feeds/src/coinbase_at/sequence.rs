//! The connection's `sequence_num`: one counter across every channel of one WebSocket
//! connection (heartbeats, subscriptions, tickers, trades and book messages alike), which
//! Coinbase Advanced Trade starts at 0 for each connection. The only sequence the venue gives:
//! a book message has no number of its own.
//!
//! Rules (the docs say a gap means messages were missed; the rest is Pulse's reading):
//! - the number after the last: in order;
//! - larger than that: a gap, every book of the connection may have missed an event;
//! - at or below the last: a message received twice, dropped and counted;
//! - 0 after a larger number: a new connection (a recording spanning a reconnect, or the live
//!   session reopened): every book waits for the snapshot its new subscription brings;
//! - more than [`MAX_SEQUENCE_JUMP`] ahead: a corrupt number, refused (the sequence stays
//!   where it was, so the next genuine message shows the gap the refused one left).

use crate::coinbase_at::codec::MAX_SEQUENCE_JUMP;

/// Where one frame's `sequence_num` stands in its connection's sequence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    /// The first number seen on the connection, or the next one.
    InOrder,
    /// Numbers were skipped: every book is stale.
    Gap,
    /// At or below the last: already received.
    Duplicate,
    /// 0 after a larger number: a new connection.
    Restart,
    /// Implausibly far ahead: refused.
    Corrupt,
}

#[derive(Clone, Copy, Debug, Default)]
pub struct ConnectionSequence {
    /// The last number taken; `None` on a new connection.
    last: Option<u64>,
}

/// What the connection's sequence saw: the adapter's counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SequenceCounters {
    /// Breaks in the sequence (each made every book stale).
    pub gaps: u64,
    /// Messages received twice (dropped).
    pub duplicates: u64,
    /// New connections seen as the sequence starting again at 0.
    pub restarts: u64,
    /// Numbers refused as corrupt.
    pub corrupt: u64,
}

impl ConnectionSequence {
    /// Takes the number of one frame.
    pub fn take(&mut self, seq: u64, counters: &mut SequenceCounters) -> Order {
        let order = match self.last {
            None => Order::InOrder,
            Some(last) if seq == 0 && last > 0 => Order::Restart,
            Some(last) if seq <= last => Order::Duplicate,
            Some(last) if seq == last + 1 => Order::InOrder,
            Some(last) if seq - last > MAX_SEQUENCE_JUMP => Order::Corrupt,
            Some(_) => Order::Gap,
        };
        match order {
            Order::InOrder => {}
            Order::Gap => counters.gaps += 1,
            Order::Duplicate => counters.duplicates += 1,
            Order::Restart => counters.restarts += 1,
            Order::Corrupt => counters.corrupt += 1,
        }
        if !matches!(order, Order::Duplicate | Order::Corrupt) {
            self.last = Some(seq);
        }
        order
    }

    /// The connection closed: the next number starts a new sequence.
    pub fn reset(&mut self) {
        self.last = None;
    }

    pub fn last(&self) -> Option<u64> {
        self.last
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_order() {
        let mut s = ConnectionSequence::default();
        let mut k = SequenceCounters::default();
        let orders: Vec<Order> = [0, 1, 2, 2, 1, 5, 6, 6 + MAX_SEQUENCE_JUMP + 1, 7, 0, 1, 0]
            .into_iter()
            .map(|n| s.take(n, &mut k))
            .collect();
        use Order::*;
        assert_eq!(
            orders,
            [
                InOrder, InOrder, InOrder, Duplicate, Duplicate, Gap, InOrder, Corrupt, InOrder,
                Restart, InOrder, Restart
            ]
        );
        assert_eq!(
            k,
            SequenceCounters {
                gaps: 1,
                duplicates: 2,
                restarts: 2,
                corrupt: 1
            }
        );
        assert_eq!(s.take(u64::MAX, &mut k), Corrupt);
        s.reset();
        assert_eq!(s.take(u64::MAX, &mut k), InOrder);
        assert_eq!(s.take(u64::MAX, &mut k), Duplicate);
        assert_eq!(s.last(), Some(u64::MAX));
    }
}
