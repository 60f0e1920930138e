//! The market-data adapter: what a venue folder gives the generic feeds (the capture feed in
//! `replay.rs`, the live feed in `live.rs`).
//!
//! One adapter serves one market of one venue (Binance spot and Binance USD-M are two): it owns
//! the capture source of that market (`binance` for `binance:ws` and `binance:rest:...` lines),
//! decodes its frames and REST bodies into venue-neutral [`MdEvent`](crate::event::MdEvent)s
//! staged in an [`Outbox`], keeps its instruments' books in sync by the venue's own rules, and
//! says what a live session sends: the stream path, subscription frames on connect, a periodic
//! keepalive, and the REST path of a snapshot where the venue's procedure takes one.
//!
//! The shapes venues use, and where each goes:
//! - sequence numbers per book (Binance `U`/`u`/`pu`, OKX `seqId`/`prevSeqId`, Bybit `u`) and
//!   checksums (Kraken CRC32, OKX signed CRC32): inside the adapter's sync rules; a gap or a
//!   mismatch stages a `BookStale` for that book only and resyncs it;
//! - one sequence per connection (Coinbase `sequence_num`): a break is the adapter's to detect,
//!   and it marks every book of the connection stale ([`MarketAdapter::on_disconnect`]) and asks
//!   for a reconnect by returning [`FrameVerdict::Reconnect`];
//! - snapshot in-band (Kraken, OKX, Coinbase, Bybit: after subscribing) or by REST (Binance):
//!   [`MarketAdapter::needs_snapshot`] and [`MarketAdapter::snapshot_path`];
//! - text pings (OKX `ping`, Bybit `{"op":"ping"}`): [`MarketAdapter::keepalive`], and their
//!   replies are control frames the codec counts and drops;
//! - a book resubscribed alone after a failed check (Kraken, OKX): the adapter returns
//!   [`FrameVerdict::Resubscribe`] and the live feed sends [`MarketAdapter::take_sends`].
//!
//! The hot path calls [`MarketAdapter::on_frame`] once per frame: the live feed is generic over
//! its adapter (static dispatch); the capture feed routes each line by its source to one of its
//! adapters, calling a built-in venue's statically and an added venue's through `dyn`
//! ([`AnyAdapter`](crate::venues::AnyAdapter)).

use crate::capture::SourceKind;
use crate::decode_error::DecodeError;
use crate::event::{EventMeta, ResyncRequest, StaleReason};
use crate::metrics::MetricSink;
use crate::num::{InstrumentId, Nanos};
use crate::outbox::Outbox;
use crate::sync_counters::{report_sync, SyncCounters};

/// A frame to send every `every` on an open connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Keepalive {
    pub every: Nanos,
    pub frame: &'static str,
}

/// What a frame asks of its connection, beyond the events it staged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameVerdict {
    Ok,
    /// The connection's own sequence broke: every book of it is stale already; reconnect and
    /// resubscribe.
    Reconnect,
    /// A book failed the venue's check and is stale already: the adapter has frames to send
    /// that resubscribe it alone ([`MarketAdapter::take_sends`]).
    Resubscribe,
}

/// One venue market's codec, book sync rules and session details, for the generic feeds.
pub trait MarketAdapter: Send {
    /// The capture source this adapter owns: the part before the first `:` of a capture line's
    /// source (`binance` in `binance:ws`).
    fn source(&self) -> &'static str;

    /// Whether `instrument`'s book is this adapter's: resync requests are routed by it.
    fn owns(&self, instrument: InstrumentId) -> bool;

    /// Room an [`Outbox`] needs for the events of the largest single frame or body.
    fn outbox_capacity(&self) -> usize;

    /// Decodes one received frame (`SourceKind::Ws`) or REST body (`SourceKind::Rest`) and
    /// stages its events; `meta.instrument` is filled in here. Recorded sends are ignored.
    fn on_frame(
        &mut self,
        kind: SourceKind<'_>,
        payload: &[u8],
        meta: EventMeta,
        out: &mut Outbox,
    ) -> Result<FrameVerdict, DecodeError>;

    /// Acts on the book stage's resync request (a crossed book); `false` if the instrument is
    /// not this adapter's or the request was out of date.
    fn on_resync_request(
        &mut self,
        request: ResyncRequest,
        meta: EventMeta,
        out: &mut Outbox,
    ) -> bool;

    /// Marks the book of `meta.instrument` stale (a full ring, a lost connection); `false` if
    /// it is not this adapter's, was not in sync, or `out` had no room.
    fn force_resync(&mut self, meta: EventMeta, reason: StaleReason, out: &mut Outbox) -> bool;

    /// The connection dropped: every book of this adapter goes stale.
    fn on_disconnect(&mut self, meta: EventMeta, out: &mut Outbox) {
        for i in 0..self.instruments() {
            let instrument = InstrumentId(i as u16);
            if self.owns(instrument) {
                let meta = EventMeta { instrument, ..meta };
                self.force_resync(meta, StaleReason::Disconnected, out);
            }
        }
    }

    /// The size of the registry this adapter was made with (instrument ids are below it).
    fn instruments(&self) -> usize;

    /// Whether `instrument` waits for a snapshot by REST now (venues whose snapshot comes
    /// in-band after subscribing never do).
    fn needs_snapshot(&self, _instrument: InstrumentId) -> bool {
        false
    }

    /// The REST path (with query) of `instrument`'s snapshot of `limit` levels a side, if this
    /// venue's procedure takes one by REST. Cold: called once per instrument at start.
    fn snapshot_path(&self, _instrument: InstrumentId, _limit: u32) -> Option<String> {
        None
    }

    /// The websocket path (with query) to connect to. Cold.
    fn stream_path(&self) -> String;

    /// Text frames to send, in order, each time a connection opens. Cold.
    fn subscriptions(&self) -> Vec<String> {
        Vec::new()
    }

    /// The frame to send periodically on an open connection, if the venue asks for one.
    fn keepalive(&self) -> Option<Keepalive> {
        None
    }

    /// Hands the frames the adapter needs sent now on the open connection (resubscriptions of
    /// books that failed a check) to `send`, which says whether each went out; returns how
    /// many books were resubscribed. Frames not sent are offered again on the next call.
    fn take_sends(&mut self, _send: &mut dyn FnMut(&str) -> bool) -> usize {
        0
    }

    /// The sync counters of `instrument`, if it is this adapter's.
    fn sync_counters(&self, instrument: InstrumentId) -> Option<&SyncCounters>;

    /// Well-formed frames that carried no market data (subscription replies, pongs).
    fn control_frames(&self) -> u64;

    /// Reports this adapter's metrics: by default each instrument's sync counters.
    fn report(&self, out: MetricSink<'_>) {
        for i in 0..self.instruments() {
            let instrument = InstrumentId(i as u16);
            if let Some(k) = self.sync_counters(instrument) {
                report_sync(instrument, k, out);
            }
        }
    }
}

/// Every instrument of `adapter` with its sync counters, in registry order. Cold.
pub fn adapter_syncs<A: MarketAdapter + ?Sized>(
    adapter: &A,
) -> impl Iterator<Item = (InstrumentId, &SyncCounters)> {
    (0..adapter.instruments()).filter_map(move |i| {
        let id = InstrumentId(i as u16);
        adapter.sync_counters(id).map(|k| (id, k))
    })
}

/// Sends, for each book that `wants` a resubscription (a flag per book, in the order of
/// `frames`), its prepared frames (`unsubscribe`, then `subscribe`); a book whose frames all
/// went out stops wanting one. Returns how many books were resubscribed. What every adapter's
/// [`MarketAdapter::take_sends`] does with its books' flags.
pub fn send_resubscriptions<'a>(
    wants: impl Iterator<Item = &'a mut bool>,
    frames: &[[String; 2]],
    send: &mut dyn FnMut(&str) -> bool,
) -> usize {
    let mut sent = 0;
    for (wants, frames) in wants.zip(frames) {
        if *wants && frames.iter().all(|f| send(f)) {
            *wants = false;
            sent += 1;
        }
    }
    sent
}
