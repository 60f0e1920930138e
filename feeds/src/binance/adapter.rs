//! The Binance adapter: joins the codec and the book sync rules for one market, and speaks the
//! venue-neutral [`MarketAdapter`] the generic feeds drive.
use crate::stale::StaleRules;

use crate::binance::codec::{BinanceCodec, DecodeError, Decoded, MAX_LEVELS_PER_MESSAGE};
use crate::binance::market::BinanceMarket;
use crate::binance::session::{depth_path, stream_path};
use crate::binance::sync::DepthSync;
use crate::book_slots::BookSlots;
use crate::capture::{query_param, SourceKind};
use crate::event::{EventMeta, MdEvent, ResyncRequest, StaleReason, TickerEvent, TradeEvent};
use crate::instrument::InstrumentRegistry;
use crate::num::InstrumentId;
use crate::outbox::Outbox;
use crate::sync_counters::SyncCounters;
use crate::venue::{FrameVerdict, MarketAdapter};

/// Decodes one Binance market's messages and keeps each of its instruments' books in sync.
/// Instruments of other venues in the registry are not this adapter's: their symbols are
/// unknown to it.
pub struct BinanceAdapter {
    market: BinanceMarket,
    registry: InstrumentRegistry,
    codec: BinanceCodec,
    /// This market's instruments' syncs, in registry order.
    books: BookSlots<DepthSync>,
    /// The depth stream each instrument subscribes to (`depth@100ms`).
    depth_stream: String,
    /// Well-formed frames that carry no market data (subscription replies).
    pub control: u64,
}

impl BinanceAdapter {
    /// The spot adapter.
    pub fn new(registry: InstrumentRegistry) -> BinanceAdapter {
        BinanceAdapter::for_market(BinanceMarket::Spot, registry)
    }

    pub fn for_market(market: BinanceMarket, registry: InstrumentRegistry) -> BinanceAdapter {
        let books = BookSlots::new(
            &registry,
            |i| i.venue == market.venue(),
            |i| DepthSync::for_market(i.id, market),
        );
        BinanceAdapter {
            market,
            registry,
            codec: BinanceCodec::for_market(market),
            books,
            depth_stream: String::from("depth@100ms"),
            control: 0,
        }
    }

    /// Subscribes each instrument to `stream` (`depth@100ms`, `depth`) on a live session.
    pub fn with_depth_stream(mut self, stream: &str) -> BinanceAdapter {
        self.depth_stream = stream.to_owned();
        self
    }

    pub fn market(&self) -> BinanceMarket {
        self.market
    }

    /// Room an [`Outbox`] needs for the largest single message.
    pub fn outbox_capacity() -> usize {
        DepthSync::max_staged(MAX_LEVELS_PER_MESSAGE)
    }

    /// This market's instruments' syncs, in registry order.
    pub fn syncs(&self) -> &[DepthSync] {
        self.books.syncs()
    }

    /// The sync of `instrument`, if it is this market's.
    pub fn sync(&self, instrument: InstrumentId) -> Option<&DepthSync> {
        self.books.get(instrument)
    }

    fn sync_mut(&mut self, instrument: InstrumentId) -> Option<&mut DepthSync> {
        self.books.get_mut(instrument)
    }

    /// Whether `instrument` is this market's and waits for a snapshot with diffs buffered: the
    /// moment a live feed should fetch one (Binance's step 3).
    pub fn needs_snapshot(&self, instrument: InstrumentId) -> bool {
        self.sync(instrument).is_some_and(DepthSync::needs_snapshot)
    }

    /// Marks the book of `meta.instrument` stale so that it resyncs from the next snapshot: what
    /// a live feed calls when its ring to the book is full (`StaleReason::RingFull`). `false` if
    /// the instrument is not this market's, was not in sync, or `out` has no room for the stale
    /// mark.
    pub fn force_resync(&mut self, meta: EventMeta, reason: StaleReason, out: &mut Outbox) -> bool {
        self.sync_mut(meta.instrument)
            .is_some_and(|s| s.force_resync(meta, reason, out))
    }

    /// Acts on the book stage's resync request (a crossed book); `false` if the instrument is
    /// not this market's or the request was out of date.
    pub fn on_resync_request(
        &mut self,
        request: ResyncRequest,
        meta: EventMeta,
        out: &mut Outbox,
    ) -> bool {
        let meta = EventMeta {
            instrument: request.instrument,
            ..meta
        };
        self.sync_mut(request.instrument)
            .is_some_and(|s| s.on_resync_request(meta, request, out))
    }

    /// Decodes one received message and stages its events. `meta.instrument` is filled in here.
    pub fn on_message(
        &mut self,
        kind: SourceKind<'_>,
        payload: &[u8],
        meta: EventMeta,
        out: &mut Outbox,
    ) -> Result<(), DecodeError> {
        let decoded = match kind {
            SourceKind::Ws => self.codec.decode_ws(&self.registry, payload)?,
            SourceKind::Rest { path } => {
                let symbol = query_param(path, b"symbol").ok_or(DecodeError::UnknownSymbol)?;
                self.codec
                    .decode_rest_depth(&self.registry, symbol, payload)?
            }
            SourceKind::Send => return Ok(()),
        };
        let instrument = match decoded {
            Decoded::Depth { instrument, .. }
            | Decoded::Snapshot { instrument, .. }
            | Decoded::Trade { instrument, .. }
            | Decoded::Ticker { instrument, .. } => instrument,
            Decoded::Control => {
                self.control += 1;
                return Ok(());
            }
        };
        let meta = EventMeta { instrument, ..meta };
        let Some(sync) = self.books.get_mut(instrument) else {
            return Ok(());
        };
        sync.counters.messages += 1;
        let levels = self.codec.levels();
        match decoded {
            Decoded::Depth {
                first_id,
                last_id,
                prev_last_id,
                ..
            } => sync.on_diff(meta, first_id, last_id, prev_last_id, levels, out),
            Decoded::Snapshot { last_update_id, .. } => {
                sync.on_snapshot(meta, last_update_id, levels, out)
            }
            Decoded::Trade {
                trade_id,
                px,
                qty,
                aggressor,
                ..
            } => {
                let _ = out.push(MdEvent::Trade(TradeEvent {
                    meta,
                    trade_id,
                    px,
                    qty,
                    aggressor,
                }));
            }
            Decoded::Ticker {
                update_id,
                bid,
                ask,
                ..
            } => {
                let _ = out.push(MdEvent::Ticker(TickerEvent {
                    meta,
                    update_id,
                    bid,
                    ask,
                }));
            }
            Decoded::Control => {}
        }
        Ok(())
    }
}

impl MarketAdapter for BinanceAdapter {
    fn source(&self) -> &'static str {
        self.market.venue().name()
    }

    fn owns(&self, instrument: InstrumentId) -> bool {
        self.sync(instrument).is_some()
    }

    fn outbox_capacity(&self) -> usize {
        BinanceAdapter::outbox_capacity()
    }

    #[inline]
    fn on_frame(
        &mut self,
        kind: SourceKind<'_>,
        payload: &[u8],
        meta: EventMeta,
        out: &mut Outbox,
    ) -> Result<FrameVerdict, DecodeError> {
        self.on_message(kind, payload, meta, out)
            .map(|()| FrameVerdict::Ok)
    }

    fn on_resync_request(
        &mut self,
        request: ResyncRequest,
        meta: EventMeta,
        out: &mut Outbox,
    ) -> bool {
        BinanceAdapter::on_resync_request(self, request, meta, out)
    }

    fn force_resync(&mut self, meta: EventMeta, reason: StaleReason, out: &mut Outbox) -> bool {
        BinanceAdapter::force_resync(self, meta, reason, out)
    }

    fn instruments(&self) -> usize {
        self.books.instruments()
    }

    fn needs_snapshot(&self, instrument: InstrumentId) -> bool {
        BinanceAdapter::needs_snapshot(self, instrument)
    }

    fn snapshot_path(&self, instrument: InstrumentId, limit: u32) -> Option<String> {
        let inst = self.registry.get(instrument)?;
        (inst.venue == self.market.venue()).then(|| depth_path(inst.venue, &inst.symbol, limit))
    }

    fn stream_path(&self) -> String {
        stream_path(&self.registry, self.market.venue(), &self.depth_stream)
    }

    fn sync_counters(&self, instrument: InstrumentId) -> Option<&SyncCounters> {
        self.sync(instrument).map(|s| &s.counters)
    }

    fn control_frames(&self) -> u64 {
        self.control
    }
}
