//! The recording tap of a live feed: raw frames, REST bodies and the frames the feed sent,
//! copied into pooled buffers for a writer thread (`pulse record`).

use crate::num::Nanos;
use crate::rest::SnapshotRequest;

/// Recording tap: raw frames and REST bodies, copied into pooled buffers for a writer thread.
pub struct Tap {
    pub records: rtrb::Producer<TapRecord>,
    pub returns: rtrb::Consumer<Vec<u8>>,
    /// Records lost because the writer fell behind.
    pub lost: u64,
}

pub struct TapRecord {
    pub recv_ts: Nanos,
    pub kind: TapKind,
    pub bytes: Vec<u8>,
}

/// What a record is: a capture line's source after the venue (`ws`, `rest:<path>`, `send`).
#[derive(Clone, Copy, Debug)]
pub enum TapKind {
    /// A WebSocket frame received.
    Ws,
    /// A REST body, with its request.
    Rest(SnapshotRequest),
    /// A WebSocket frame the feed sent (subscriptions, keepalives, resubscriptions).
    Send,
}

impl Tap {
    pub(crate) fn record(&mut self, recv_ts: Nanos, kind: TapKind, bytes: &[u8]) {
        if self.records.slots() == 0 {
            self.lost += 1;
            return;
        }
        let mut buf = self.returns.pop().unwrap_or_default();
        buf.clear();
        buf.extend_from_slice(bytes);
        if self
            .records
            .push(TapRecord {
                recv_ts,
                kind,
                bytes: buf,
            })
            .is_err()
        {
            self.lost += 1;
        }
    }
}
