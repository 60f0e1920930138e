//! A fake venue: a few lines of codec over a tiny synthetic text protocol, implementing
//! [`MarketAdapter`] and nothing else. Shared by the feeds' fake-venue test (beside Binance in
//! one capture feed) and the engine's (a feed of its own from one config).
//!
//! The protocol, one frame per capture line of source `fake:ws`:
//! - `S <seq> <bid px> <ask px>`: a snapshot, one level a side of quantity 1;
//! - `U <seq> <b|a> <px> <qty>`: one level set (quantity 0 deletes); `seq` must follow the
//!   last one, or the book goes stale until the next snapshot.
//!
//! Prices are mantissas at the instrument's scale. The adapter keeps the book of one
//! instrument, registered under a built-in venue (the registry's venue is a closed enum: a real
//! new venue adds its variant there).
#![allow(dead_code)]

use pulse_feeds::capture::SourceKind;
use pulse_feeds::decode_error::DecodeError;
use pulse_feeds::event::{EventMeta, LevelBatch, MdEvent, ResyncRequest, StaleReason};
use pulse_feeds::instrument::InstrumentRegistry;
use pulse_feeds::num::{InstrumentId, Px, Qty, Side};
use pulse_feeds::outbox::Outbox;
use pulse_feeds::sync_counters::SyncCounters;
use pulse_feeds::venue::{FrameVerdict, Keepalive, MarketAdapter};

/// The source of the fake venue's capture lines (`fake:ws`).
pub const SOURCE: &str = "fake";

pub struct FakeAdapter {
    instrument: InstrumentId,
    instruments: usize,
    /// The last sequence applied; `None` while stale.
    seq: Option<u64>,
    /// Whether the book was ever in sync (a later snapshot is a resync).
    synced: bool,
    counters: SyncCounters,
    control: u64,
    keepalive: Option<Keepalive>,
}

impl FakeAdapter {
    /// The adapter of `instrument`, in a registry of `instruments`.
    pub fn new(instrument: InstrumentId, instruments: usize) -> FakeAdapter {
        FakeAdapter {
            instrument,
            instruments,
            seq: None,
            synced: false,
            counters: SyncCounters::default(),
            control: 0,
            keepalive: None,
        }
    }

    /// Asks a live session to send `keepalive` periodically.
    pub fn with_keepalive(mut self, keepalive: Keepalive) -> FakeAdapter {
        self.keepalive = Some(keepalive);
        self
    }

    /// The factory an engine's venue registry takes: the adapter of the first instrument the
    /// source feeds.
    pub fn factory(registry: &InstrumentRegistry, ids: &[InstrumentId]) -> Box<dyn MarketAdapter> {
        Box::new(FakeAdapter::new(ids[0], registry.len()))
    }
}

fn num(field: Option<&str>) -> Result<i64, DecodeError> {
    field
        .and_then(|f| f.parse().ok())
        .ok_or(DecodeError::MissingField("number"))
}

impl MarketAdapter for FakeAdapter {
    fn source(&self) -> &'static str {
        SOURCE
    }

    fn owns(&self, instrument: InstrumentId) -> bool {
        instrument == self.instrument
    }

    fn outbox_capacity(&self) -> usize {
        8
    }

    fn on_frame(
        &mut self,
        kind: SourceKind<'_>,
        payload: &[u8],
        meta: EventMeta,
        out: &mut Outbox,
    ) -> Result<FrameVerdict, DecodeError> {
        if kind != SourceKind::Ws {
            return Ok(FrameVerdict::Ok);
        }
        let text = std::str::from_utf8(payload).map_err(|_| DecodeError::Json)?;
        let mut f = text.split(' ');
        let meta = EventMeta {
            instrument: self.instrument,
            ..meta
        };
        let op = f.next();
        let seq = num(f.next())? as u64;
        let mut batch = LevelBatch::new(self.instrument);
        self.counters.messages += 1;
        match op {
            Some("S") => {
                let _ = batch.push(Side::Buy, Px(num(f.next())?), Qty(1));
                let _ = batch.push(Side::Sell, Px(num(f.next())?), Qty(1));
                let _ = out.push(MdEvent::BookReset { meta });
                self.counters.snapshots += 1;
                if self.synced {
                    self.counters.resyncs += 1;
                }
                self.synced = true;
            }
            Some("U") => {
                let side = match f.next() {
                    Some("b") => Side::Buy,
                    Some("a") => Side::Sell,
                    _ => return Err(DecodeError::WrongType("side")),
                };
                let _ = batch.push(side, Px(num(f.next())?), Qty(num(f.next())?));
                self.counters.diffs += 1;
                if self.seq.map(|s| s + 1) != Some(seq) {
                    if self.seq.take().is_some() {
                        self.counters.gaps += 1;
                        let reason = StaleReason::Gap;
                        let _ = out.push(MdEvent::BookStale { meta, reason });
                    }
                    return Ok(FrameVerdict::Ok);
                }
                self.counters.applied += 1;
            }
            _ => {
                self.control += 1;
                return Ok(FrameVerdict::Ok);
            }
        }
        self.seq = Some(seq);
        self.counters.last_update_id = seq;
        let _ = out.push(batch.event());
        let _ = out.push(MdEvent::BookCommit {
            meta,
            update_id: seq,
        });
        Ok(FrameVerdict::Ok)
    }

    fn on_resync_request(
        &mut self,
        _request: ResyncRequest,
        meta: EventMeta,
        out: &mut Outbox,
    ) -> bool {
        let marked = self.force_resync(meta, StaleReason::Crossed, out);
        if marked {
            self.counters.resync_requests += 1;
        } else {
            self.counters.outdated_requests += 1;
        }
        marked
    }

    fn force_resync(&mut self, meta: EventMeta, reason: StaleReason, out: &mut Outbox) -> bool {
        self.seq.take().is_some() && out.push(MdEvent::BookStale { meta, reason })
    }

    fn instruments(&self) -> usize {
        self.instruments
    }

    fn stream_path(&self) -> String {
        String::from("/fake")
    }

    fn keepalive(&self) -> Option<Keepalive> {
        self.keepalive
    }

    fn sync_counters(&self, instrument: InstrumentId) -> Option<&SyncCounters> {
        self.owns(instrument).then_some(&self.counters)
    }

    fn control_frames(&self) -> u64 {
        self.control
    }
}
