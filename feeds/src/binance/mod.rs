//! Binance spot and USD-M market data: the codec (bytes → exact integers), the book sync rules,
//! and the adapter that joins them for one feed.

pub mod codec;
pub mod live;
pub mod scan;
pub mod sync;

use crate::capture::{query_param, SourceKind};
use crate::event::{EventMeta, MdEvent, ResyncRequest, StaleReason, TickerEvent, TradeEvent};
use crate::instrument::{InstrumentRegistry, Venue};
use crate::num::InstrumentId;
use crate::outbox::Outbox;
use codec::{BinanceCodec, DecodeError, Decoded};
use sync::DepthSync;

/// Which Binance market a codec, sync or adapter speaks: the same message shapes, different
/// symbols (a venue each) and different book sync rules (see [`sync`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinanceMarket {
    Spot,
    UsdmFutures,
}

impl BinanceMarket {
    pub fn venue(self) -> Venue {
        match self {
            BinanceMarket::Spot => Venue::Binance,
            BinanceMarket::UsdmFutures => Venue::BinanceUsdm,
        }
    }

    /// The market a venue's messages belong to; `None` for a venue that is not Binance.
    pub fn from_venue(venue: Venue) -> Option<BinanceMarket> {
        match venue {
            Venue::Binance => Some(BinanceMarket::Spot),
            Venue::BinanceUsdm => Some(BinanceMarket::UsdmFutures),
        }
    }
}

/// Decodes one Binance market's messages and keeps each of its instruments' books in sync.
/// Instruments of other venues in the registry are not this adapter's: their symbols are
/// unknown to it.
pub struct BinanceAdapter {
    market: BinanceMarket,
    registry: InstrumentRegistry,
    codec: BinanceCodec,
    /// This market's instruments, in registry order.
    syncs: Vec<DepthSync>,
    /// By [`InstrumentId`]: the index into `syncs`, if the instrument is this market's.
    slots: Vec<Option<usize>>,
    /// Well-formed frames that carry no market data (subscription replies).
    pub control: u64,
}

impl BinanceAdapter {
    /// The spot adapter.
    pub fn new(registry: InstrumentRegistry) -> BinanceAdapter {
        BinanceAdapter::for_market(BinanceMarket::Spot, registry)
    }

    pub fn for_market(market: BinanceMarket, registry: InstrumentRegistry) -> BinanceAdapter {
        let mut syncs = Vec::new();
        let slots = registry
            .iter()
            .map(|i| {
                (i.venue == market.venue()).then(|| {
                    syncs.push(DepthSync::for_market(i.id, market));
                    syncs.len() - 1
                })
            })
            .collect();
        BinanceAdapter {
            market,
            registry,
            codec: BinanceCodec::for_market(market),
            syncs,
            slots,
            control: 0,
        }
    }

    pub fn market(&self) -> BinanceMarket {
        self.market
    }

    /// Room an [`Outbox`] needs for the largest single message.
    pub fn outbox_capacity() -> usize {
        DepthSync::max_staged(codec::MAX_LEVELS_PER_MESSAGE)
    }

    /// This market's instruments' syncs, in registry order.
    pub fn syncs(&self) -> &[DepthSync] {
        &self.syncs
    }

    /// The sync of `instrument`, if it is this market's.
    pub fn sync(&self, instrument: InstrumentId) -> Option<&DepthSync> {
        let slot = (*self.slots.get(instrument.0 as usize)?)?;
        self.syncs.get(slot)
    }

    fn sync_mut(&mut self, instrument: InstrumentId) -> Option<&mut DepthSync> {
        let slot = (*self.slots.get(instrument.0 as usize)?)?;
        self.syncs.get_mut(slot)
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
        let Some(slot) = self.slots.get(instrument.0 as usize).copied().flatten() else {
            return Ok(());
        };
        let sync = &mut self.syncs[slot];
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
