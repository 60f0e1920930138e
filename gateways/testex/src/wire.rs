//! Wire-to-wire measurement at the venue: when a market data frame last left for a client, and
//! how long after it an order (or an echo) came back. For `pulse-bench wire-to-wire`, whose
//! capture spaces frames evenly so that a reply arriving within `window` of the last frame
//! can only answer that frame; a reply later than that is counted as unattributed, never
//! recorded against the wrong frame.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What came back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WireReply {
    /// `order.place` or `order.cancelReplace` on the WebSocket API.
    Order,
    /// `ping` on the WebSocket API: the echo floor.
    Echo,
}

/// The latencies recorded so far, ns, from the frame's write to the reply's read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WireSamples {
    pub orders: Vec<u64>,
    pub echoes: Vec<u64>,
    /// Replies that came more than the window after the last frame.
    pub unattributed: u64,
}

pub(crate) struct WireClock {
    origin: Instant,
    /// When the last frame was flushed to a client, ns since `origin`; 0 before any.
    last_frame: AtomicU64,
    window: Duration,
    samples: Mutex<WireSamples>,
}

impl WireClock {
    pub fn new(window: Duration) -> WireClock {
        WireClock {
            origin: Instant::now(),
            last_frame: AtomicU64::new(0),
            window,
            samples: Mutex::new(WireSamples::default()),
        }
    }

    /// Now, on this clock: taken as soon as a reply is read, before it is parsed.
    pub fn stamp(&self) -> u64 {
        self.now()
    }

    fn now(&self) -> u64 {
        (self.origin.elapsed().as_nanos() as u64).max(1)
    }

    /// A frame has just been flushed to a client's socket.
    pub fn frame_written(&self) {
        // Release: pairs with the Acquire in `reply`.
        self.last_frame.store(self.now(), Ordering::Release);
    }

    /// A reply read at `now` ([`WireClock::stamp`]).
    pub fn reply(&self, kind: WireReply, now: u64) {
        // Acquire: see the latest frame's stamp.
        let last = self.last_frame.load(Ordering::Acquire);
        let mut samples = self.samples.lock().unwrap_or_else(|e| e.into_inner());
        let since = now.saturating_sub(last);
        if last == 0 || since > self.window.as_nanos() as u64 {
            samples.unattributed += 1;
            return;
        }
        match kind {
            WireReply::Order => samples.orders.push(since),
            WireReply::Echo => samples.echoes.push(since),
        }
    }

    pub fn take(&self) -> WireSamples {
        std::mem::take(&mut *self.samples.lock().unwrap_or_else(|e| e.into_inner()))
    }
}
