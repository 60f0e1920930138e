//! State shared by the market thread, the acceptor and the connections.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::book::TrueBook;
use crate::exchange::Exchange;
use crate::fault::OrderFault;
use crate::hub::{Hub, Outgoing};
use crate::inband::Precision;
use crate::protocol::Protocol;
use crate::timeline::TimelineStats;
use crate::wire;

/// State shared by the market thread, the acceptor and the connections.
pub(crate) struct Shared {
    pub stop: AtomicBool,
    pub books: Mutex<HashMap<String, TrueBook>>,
    pub hub: Hub,
    pub frames_played: AtomicU64,
    pub finished: AtomicBool,
    pub capture_gaps: AtomicU64,
    /// Bybit: deltas of a book from a recording's gap to its next snapshot, neither applied
    /// nor sent.
    pub held_pushes: AtomicU64,
    pub(crate) timeline_stats: Mutex<TimelineStats>,
    pub(crate) capture_error: Mutex<Option<String>>,
    pub ping_interval: Duration,
    pub pong_timeout: Duration,
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// The order side, when the venue serves the order API.
    pub exchange: Option<Mutex<Exchange>>,
    /// `order.place` requests received so far: the index order faults refer to.
    pub order_requests: AtomicU64,
    pub order_faults: HashMap<u64, OrderFault>,
    pub subscribe_delay: Duration,
    pub wire: Option<wire::WireClock>,
    pub protocol: Protocol,
    /// Kraken: the capture's `instrument` snapshot (served on subscription) and each pair's
    /// decimals, as soon as the timeline has played it.
    pub instruments: Mutex<Option<(tungstenite::Utf8Bytes, HashMap<String, Precision>)>>,
    /// Bybit: the topics the capture carries, the ones a client may subscribe.
    pub topics: BTreeSet<String>,
    /// Venue faults whose frame is not a book push, each with why (not applied).
    pub misplaced_faults: Mutex<Vec<String>>,
}

impl Shared {
    pub fn stopping(&self) -> bool {
        // Acquire: pairs with the Release in `Venue::shutdown`.
        self.stop.load(Ordering::Acquire)
    }

    pub fn books(&self) -> MutexGuard<'_, HashMap<String, TrueBook>> {
        // A panic while holding the lock leaves each book whole (levels change one at a time).
        self.books.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn dispatch(&self, item: Outgoing) {
        self.hub.dispatch(&item, &self.stop);
    }

    pub fn publish_timeline_stats(&self, stats: TimelineStats) {
        *self
            .timeline_stats
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = stats;
    }

    /// The fault on this request, if it places an order (`order.place`, a cancel-replace):
    /// order-placing requests are counted over every connection and protocol.
    pub fn order_fault(&self, places: bool) -> Option<OrderFault> {
        if !places {
            return None;
        }
        // Relaxed: an index, not a synchronisation point.
        let index = self.order_requests.fetch_add(1, Ordering::Relaxed);
        self.order_faults.get(&index).copied()
    }

    /// Runs `f` on the order side, if the venue has one.
    pub fn with_exchange(&self, f: impl FnOnce(&mut Exchange)) {
        if let Some(exchange) = &self.exchange {
            // A panic mid-request leaves the venue's state as far as it got; serve on.
            f(&mut exchange.lock().unwrap_or_else(|e| e.into_inner()));
        }
    }

    pub fn instruments(
        &self,
    ) -> MutexGuard<'_, Option<(tungstenite::Utf8Bytes, HashMap<String, Precision>)>> {
        self.instruments.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn misplaced_faults(&self) -> MutexGuard<'_, Vec<String>> {
        self.misplaced_faults
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    pub fn capture_error(&self) -> MutexGuard<'_, Option<String>> {
        self.capture_error.lock().unwrap_or_else(|e| e.into_inner())
    }
}
