//! The Coinbase Exchange adapter: the codec and each product's book sync (see the module docs of
//! [`coinbase`](super) for the procedure).

use crate::book_slots::BookSlots;
use crate::capture::SourceKind;
use crate::coinbase::codec::{CoinbaseCodec, Decoded, MAX_LEVELS_PER_MESSAGE};
use crate::decode_error::DecodeError;
use crate::event::{
    EventMeta, LevelBatch, MdEvent, ResyncRequest, StaleReason, TickerEvent, TradeEvent,
};
use crate::instrument::{InstrumentRegistry, Venue};
use crate::levels::stage_levels;
use crate::num::InstrumentId;
use crate::outbox::Outbox;
use crate::sync_counters::SyncCounters;
use crate::venue::{FrameVerdict, MarketAdapter};

/// One product's book sync.
#[derive(Clone, Debug, Default)]
struct ProductSync {
    synced: bool,
    /// The update id of the last commit staged: counted here, one per snapshot or update, as
    /// the channel numbers nothing.
    update_id: u64,
    /// The commit of the snapshot the book was last rebuilt from.
    snapshot_id: u64,
    counters: SyncCounters,
}

impl ProductSync {
    fn go_stale(&mut self, meta: EventMeta, reason: StaleReason, out: &mut Outbox) -> bool {
        if !self.synced || !out.push(MdEvent::BookStale { meta, reason }) {
            return false;
        }
        self.synced = false;
        true
    }
}

/// Decodes Coinbase Exchange frames and keeps each product's book.
pub struct CoinbaseAdapter {
    registry: InstrumentRegistry,
    codec: CoinbaseCodec,
    books: BookSlots<ProductSync>,
    control: u64,
}

impl CoinbaseAdapter {
    pub fn new(registry: InstrumentRegistry) -> CoinbaseAdapter {
        let books = BookSlots::new(
            &registry,
            |i| i.venue == Venue::CoinbaseExchange,
            |_| ProductSync::default(),
        );
        CoinbaseAdapter {
            registry,
            codec: CoinbaseCodec::new(),
            books,
            control: 0,
        }
    }

    fn sync(&self, instrument: InstrumentId) -> Option<&ProductSync> {
        self.books.get(instrument)
    }

    fn sync_mut(&mut self, instrument: InstrumentId) -> Option<&mut ProductSync> {
        self.books.get_mut(instrument)
    }

    /// Whether `instrument`'s book is in sync (rebuilt from a snapshot, not stale since).
    pub fn is_synced(&self, instrument: InstrumentId) -> bool {
        self.sync(instrument).is_some_and(|s| s.synced)
    }
}

impl MarketAdapter for CoinbaseAdapter {
    fn source(&self) -> &'static str {
        Venue::CoinbaseExchange.name()
    }

    fn owns(&self, instrument: InstrumentId) -> bool {
        self.sync(instrument).is_some()
    }

    fn outbox_capacity(&self) -> usize {
        // A reset, the levels and a commit; a stale mark when it did not fit.
        LevelBatch::events_for(MAX_LEVELS_PER_MESSAGE) + 3
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
        let decoded = self.codec.decode(&self.registry, payload)?;
        let instrument = match decoded {
            Decoded::Snapshot { instrument } | Decoded::Update { instrument } => instrument,
            Decoded::Ticker(TickerEvent { meta, .. }) | Decoded::Trade(TradeEvent { meta, .. }) => {
                meta.instrument
            }
            Decoded::Control => {
                self.control += 1;
                return Ok(FrameVerdict::Ok);
            }
        };
        let meta = EventMeta { instrument, ..meta };
        let Some(sync) = self.books.get_mut(instrument) else {
            return Ok(FrameVerdict::Ok);
        };
        sync.counters.messages += 1;
        let levels = self.codec.levels();
        let snapshot = matches!(decoded, Decoded::Snapshot { .. });
        match decoded {
            Decoded::Snapshot { .. } | Decoded::Update { .. } => {
                if !snapshot {
                    sync.counters.diffs += 1;
                    if !sync.synced {
                        // Before the first snapshot, or stale and waiting for the next.
                        sync.counters.dropped += 1;
                        return Ok(FrameVerdict::Ok);
                    }
                }
                if out.remaining() < LevelBatch::events_for(levels.len()) + 2 {
                    sync.go_stale(meta, StaleReason::RingFull, out);
                    return Ok(FrameVerdict::Ok);
                }
                let update_id = sync.update_id + 1;
                let staged = (!snapshot || out.push(MdEvent::BookReset { meta }))
                    && stage_levels(instrument, levels, out)
                    && out.push(MdEvent::BookCommit { meta, update_id });
                debug_assert!(staged, "outbox room was checked above");
                sync.update_id = update_id;
                sync.counters.last_update_id = update_id;
                if snapshot {
                    if sync.counters.snapshots > 0 && !sync.synced {
                        sync.counters.resyncs += 1;
                    }
                    sync.counters.snapshots += 1;
                    sync.snapshot_id = update_id;
                    sync.synced = true;
                } else {
                    sync.counters.applied += 1;
                }
            }
            // Update id 0: counted by the book stage, never held against the book.
            Decoded::Ticker(ticker) => {
                let _ = out.push(MdEvent::Ticker(TickerEvent { meta, ..ticker }));
            }
            Decoded::Trade(trade) => {
                let _ = out.push(MdEvent::Trade(TradeEvent { meta, ..trade }));
            }
            Decoded::Control => {}
        }
        Ok(FrameVerdict::Ok)
    }

    fn on_resync_request(
        &mut self,
        request: ResyncRequest,
        meta: EventMeta,
        out: &mut Outbox,
    ) -> bool {
        let meta = EventMeta {
            instrument: request.instrument,
            ..meta
        };
        let Some(sync) = self.sync_mut(request.instrument) else {
            return false;
        };
        // Out of date when the book was rebuilt from a snapshot since the crossed commit.
        let current = sync.synced && request.update_id >= sync.snapshot_id;
        if current && sync.go_stale(meta, StaleReason::Crossed, out) {
            sync.counters.resync_requests += 1;
            true
        } else {
            sync.counters.outdated_requests += 1;
            false
        }
    }

    fn force_resync(&mut self, meta: EventMeta, reason: StaleReason, out: &mut Outbox) -> bool {
        self.sync_mut(meta.instrument)
            .is_some_and(|s| s.go_stale(meta, reason, out))
    }

    fn instruments(&self) -> usize {
        self.books.instruments()
    }

    fn stream_path(&self) -> String {
        String::from("/")
    }

    fn sync_counters(&self, instrument: InstrumentId) -> Option<&SyncCounters> {
        self.sync(instrument).map(|s| &s.counters)
    }

    fn control_frames(&self) -> u64 {
        self.control
    }
}
