//! Requests sent and not yet answered, in a list reserved at start.

use pulse_feeds::num::Nanos;

/// Requests awaiting their response at once.
pub const MAX_INFLIGHT: usize = 512;

/// One request awaiting its answer. `K` is the order protocol's own request kind.
#[derive(Clone, Copy, Debug)]
pub struct Inflight<K> {
    pub kind: K,
    /// The order concerned (0 for requests about no order; a replace's new order).
    pub client_id: u64,
    /// A replace's cancelled order.
    pub replaced: u64,
    /// Sent over a fallback link (REST): not settled by the session closing or opening.
    pub rest: bool,
    /// The request's sequence number, unique per session.
    pub seq: u64,
    pub sent: Nanos,
}

/// The requests in flight. Lookups scan: a few hundred entries at most, and answers come
/// mostly in order.
pub struct InflightRequests<K> {
    list: Vec<Inflight<K>>,
}

impl<K: Copy> InflightRequests<K> {
    pub fn new() -> InflightRequests<K> {
        InflightRequests {
            list: Vec::with_capacity(MAX_INFLIGHT),
        }
    }

    pub fn is_full(&self) -> bool {
        self.list.len() >= MAX_INFLIGHT
    }

    /// Keeps `r` in flight; dropped (never answered, never timed out) when the list is full.
    pub fn push(&mut self, r: Inflight<K>) {
        if !self.is_full() {
            self.list.push(r);
        }
    }

    /// Takes out the first request `matches` accepts.
    pub fn take(&mut self, matches: impl Fn(&Inflight<K>) -> bool) -> Option<Inflight<K>> {
        let pos = self.list.iter().position(matches)?;
        Some(self.list.swap_remove(pos))
    }

    /// Takes out the first request sent `timeout` or longer before `now`.
    pub fn take_expired(&mut self, now: Nanos, timeout: Nanos) -> Option<Inflight<K>> {
        self.take(|r| now.saturating_sub(r.sent) >= timeout)
    }

    /// Forgets the requests sent on the session (a new session never answers them); those on
    /// the fallback link are answered on their own.
    pub fn keep_fallback(&mut self) {
        self.list.retain(|r| r.rest);
    }
}

impl<K: Copy> Default for InflightRequests<K> {
    fn default() -> Self {
        InflightRequests::new()
    }
}
