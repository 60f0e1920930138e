//! The market thread's fan-out to WebSocket connections: one bounded queue per connection.
//!
//! As fast as possible (speed 0), a full queue makes the market wait: the timeline runs as fast
//! as the slowest connected client reads. At a recorded pace the market never waits; a client
//! whose queue overflows is too slow and is cut, as a real venue would.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::timeline::Frame;

/// Queue capacity when the market waits for clients: small, so it stays close to them.
const QUEUE_BACKPRESSURE: usize = 256;
/// Queue capacity at a recorded pace: minutes of Binance traffic at the busiest speeds tested.
const QUEUE_PACED: usize = 1 << 14;

/// What the market hands a connection, in timeline order.
#[derive(Clone, Debug)]
pub(crate) enum Outgoing {
    Frame(Arc<Frame>),
    /// The frame once more (the duplicate fault): Coinbase repeats its `sequence_num`.
    Again(Arc<Frame>),
    /// A frame dropped by the drop fault: sent to nobody, but on Coinbase it uses up its
    /// connection's `sequence_num` (a gap).
    Skip(Arc<Frame>),
    /// A truncated copy of the frame (the malformed fault).
    Garbage(Arc<Frame>),
    /// Send nothing at all for this long.
    Silence(Duration),
    /// Cut the connection abruptly once everything before has been written.
    Close,
}

struct Slot {
    id: u64,
    tx: SyncSender<Outgoing>,
    kicked: Arc<AtomicBool>,
}

pub(crate) struct Hub {
    slots: Mutex<Vec<Slot>>,
    next_id: AtomicU64,
    subscribed: AtomicBool,
    backpressure: bool,
    connections: AtomicU64,
    slow_cut: AtomicU64,
}

/// A connection's end of its queue; unregisters on drop.
pub(crate) struct Client<'a> {
    hub: &'a Hub,
    id: u64,
    pub rx: Receiver<Outgoing>,
    /// Set when the market cut this client for being too slow.
    pub kicked: Arc<AtomicBool>,
}

impl Drop for Client<'_> {
    fn drop(&mut self) {
        self.hub.remove(self.id);
    }
}

impl Hub {
    pub fn new(backpressure: bool) -> Hub {
        Hub {
            slots: Mutex::new(Vec::new()),
            next_id: AtomicU64::new(0),
            subscribed: AtomicBool::new(false),
            backpressure,
            connections: AtomicU64::new(0),
            slow_cut: AtomicU64::new(0),
        }
    }

    /// A new connection receives every item dispatched from now on.
    pub fn register(&self) -> Client<'_> {
        let capacity = if self.backpressure {
            QUEUE_BACKPRESSURE
        } else {
            QUEUE_PACED
        };
        let (tx, rx) = mpsc::sync_channel(capacity);
        // Relaxed: ids only need to be unique; no other memory hangs on them.
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let kicked = Arc::new(AtomicBool::new(false));
        let slot = Slot {
            id,
            tx,
            kicked: Arc::clone(&kicked),
        };
        self.lock().push(slot);
        // Relaxed: a statistic, read on its own.
        self.connections.fetch_add(1, Ordering::Relaxed);
        Client {
            hub: self,
            id,
            rx,
            kicked,
        }
    }

    /// Some connection has subscribed to at least one stream (what `wait_for_client` waits for).
    pub fn mark_subscribed(&self) {
        // Release: pairs with the market's Acquire; the subscriber registered before this.
        self.subscribed.store(true, Ordering::Release);
    }

    pub fn has_subscriber(&self) -> bool {
        // Acquire: pairs with `mark_subscribed`, so the registered subscriber is visible.
        self.subscribed.load(Ordering::Acquire)
    }

    pub fn clients(&self) -> usize {
        self.lock().len()
    }

    pub fn connections(&self) -> u64 {
        // Relaxed: a statistic, read on its own.
        self.connections.load(Ordering::Relaxed)
    }

    pub fn slow_cut(&self) -> u64 {
        // Relaxed: a statistic, read on its own.
        self.slow_cut.load(Ordering::Relaxed)
    }

    /// Hands `item` to every registered connection. With backpressure, waits for room (until
    /// `stop`); without, cuts a connection whose queue is full.
    pub fn dispatch(&self, item: &Outgoing, stop: &AtomicBool) {
        let targets: Vec<(u64, SyncSender<Outgoing>, Arc<AtomicBool>)> = self
            .lock()
            .iter()
            .map(|s| (s.id, s.tx.clone(), Arc::clone(&s.kicked)))
            .collect();
        for (id, tx, kicked) in targets {
            let mut item = item.clone();
            let mut waits = 0u32;
            loop {
                match tx.try_send(item) {
                    Ok(()) => break,
                    Err(TrySendError::Disconnected(_)) => {
                        self.remove(id);
                        break;
                    }
                    Err(TrySendError::Full(back)) if self.backpressure => {
                        // Acquire: see a stop request made by another thread promptly.
                        if stop.load(Ordering::Acquire) {
                            return;
                        }
                        item = back;
                        waits += 1;
                        if waits < 64 {
                            std::thread::yield_now();
                        } else {
                            std::thread::sleep(Duration::from_micros(50));
                        }
                    }
                    Err(TrySendError::Full(_)) => {
                        // Release: the connection thread acts on the flag after seeing it.
                        kicked.store(true, Ordering::Release);
                        // Relaxed: a statistic, read on its own.
                        self.slow_cut.fetch_add(1, Ordering::Relaxed);
                        self.remove(id);
                        break;
                    }
                }
            }
        }
    }

    fn remove(&self, id: u64) {
        self.lock().retain(|s| s.id != id);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Slot>> {
        // A panic while holding this lock leaves the list itself valid.
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_get_items_from_registration_on_and_leave_on_drop() {
        let hub = Hub::new(true);
        let stop = AtomicBool::new(false);
        hub.dispatch(&Outgoing::Close, &stop);
        let a = hub.register();
        hub.dispatch(&Outgoing::Silence(Duration::from_millis(1)), &stop);
        assert!(matches!(a.rx.try_recv(), Ok(Outgoing::Silence(_))));
        assert!(a.rx.try_recv().is_err());
        assert_eq!(hub.clients(), 1);
        drop(a);
        assert_eq!((hub.clients(), hub.connections()), (0, 1));
    }

    #[test]
    fn a_full_queue_cuts_the_client_at_a_recorded_pace() {
        let hub = Hub::new(false);
        let stop = AtomicBool::new(false);
        let a = hub.register();
        for _ in 0..QUEUE_PACED + 1 {
            hub.dispatch(&Outgoing::Close, &stop);
        }
        assert!(a.kicked.load(Ordering::Acquire));
        assert_eq!((hub.clients(), hub.slow_cut()), (0, 1));
    }

    #[test]
    fn with_backpressure_a_full_queue_waits_until_stop() {
        let hub = Hub::new(true);
        let stop = AtomicBool::new(true);
        let a = hub.register();
        for _ in 0..QUEUE_BACKPRESSURE + 5 {
            hub.dispatch(&Outgoing::Close, &stop);
        }
        assert!(!a.kicked.load(Ordering::Acquire));
        assert_eq!(hub.clients(), 1);
        assert_eq!(a.rx.try_iter().count(), QUEUE_BACKPRESSURE);
    }
}
