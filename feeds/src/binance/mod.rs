//! Binance spot and USD-M market data: the codec (bytes → exact integers), the book sync rules,
//! and the adapter that joins them for one feed.

pub mod codec;
pub mod sync;

use crate::capture::{query_param, SourceKind};
use crate::event::{EventMeta, MdEvent, TickerEvent, TradeEvent};
use crate::instrument::InstrumentRegistry;
use crate::outbox::Outbox;
use codec::{BinanceCodec, DecodeError, Decoded};
use sync::DepthSync;

/// Decodes Binance messages and keeps every configured instrument's book in sync.
pub struct BinanceAdapter {
    registry: InstrumentRegistry,
    codec: BinanceCodec,
    syncs: Vec<DepthSync>,
    /// Well-formed frames that carry no market data (subscription replies).
    pub control: u64,
}

impl BinanceAdapter {
    pub fn new(registry: InstrumentRegistry) -> BinanceAdapter {
        let syncs = registry.iter().map(|i| DepthSync::new(i.id)).collect();
        BinanceAdapter {
            registry,
            codec: BinanceCodec::new(),
            syncs,
            control: 0,
        }
    }

    /// Room an [`Outbox`] needs for the largest single message.
    pub fn outbox_capacity() -> usize {
        DepthSync::max_staged(codec::MAX_LEVELS_PER_MESSAGE)
    }

    pub fn syncs(&self) -> &[DepthSync] {
        &self.syncs
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
        let levels = self.codec.levels();
        match decoded {
            Decoded::Depth {
                instrument,
                first_id,
                last_id,
                prev_last_id,
            } => {
                let meta = EventMeta { instrument, ..meta };
                if let Some(sync) = self.syncs.get_mut(instrument.0 as usize) {
                    sync.on_diff(meta, first_id, last_id, prev_last_id, levels, out);
                }
            }
            Decoded::Snapshot {
                instrument,
                last_update_id,
            } => {
                let meta = EventMeta { instrument, ..meta };
                if let Some(sync) = self.syncs.get_mut(instrument.0 as usize) {
                    sync.on_snapshot(meta, last_update_id, levels, out);
                }
            }
            Decoded::Trade {
                instrument,
                trade_id,
                px,
                qty,
                aggressor,
            } => {
                let _ = out.push(MdEvent::Trade(TradeEvent {
                    meta: EventMeta { instrument, ..meta },
                    trade_id,
                    px,
                    qty,
                    aggressor,
                }));
            }
            Decoded::Ticker {
                instrument,
                update_id,
                bid,
                ask,
            } => {
                let _ = out.push(MdEvent::Ticker(TickerEvent {
                    meta: EventMeta { instrument, ..meta },
                    update_id,
                    bid,
                    ask,
                }));
            }
            Decoded::Control => self.control += 1,
        }
        Ok(())
    }
}
