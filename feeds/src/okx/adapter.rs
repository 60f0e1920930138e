//! The OKX adapter: joins the codec, each instrument's book sync and the session details
//! behind the venue-neutral [`MarketAdapter`] the generic feeds drive.
use crate::stale::StaleRules;

use crate::book_slots::BookSlots;
use crate::capture::SourceKind;
use crate::event::{EventMeta, MdEvent, ResyncRequest, StaleReason, TickerEvent, TradeEvent};
use crate::instrument::{InstrumentRegistry, Venue};
use crate::num::InstrumentId;
use crate::okx::codec::{
    DecodeError, Decoded, OkxCodec, MAX_LEVELS_PER_MESSAGE, MAX_TRADES_PER_MESSAGE,
};
use crate::okx::session::{self, BookChannel, KEEPALIVE, STREAM_PATH};
use crate::okx::sync::{BookPush, BookSync};
use crate::outbox::Outbox;
use crate::sync_counters::SyncCounters;
use crate::venue::{send_resubscriptions, FrameVerdict, Keepalive, MarketAdapter};

/// Decodes OKX public frames and keeps each OKX instrument's book in sync. Instruments of
/// other venues in the registry are not this adapter's.
pub struct OkxAdapter {
    registry: InstrumentRegistry,
    codec: OkxCodec,
    /// OKX's instruments, in registry order.
    books: BookSlots<BookSync>,
    book: BookChannel,
    /// By sync: the `unsubscribe` and `subscribe` ops that resubscribe its book, prepared.
    resubscribe: Vec<[String; 2]>,
    /// Well-formed frames that carry no market data (subscription replies, `pong`).
    pub control: u64,
    /// `{"event":"error"}` replies (a refused subscription, say).
    pub errors: u64,
}

impl OkxAdapter {
    pub fn new(registry: InstrumentRegistry) -> OkxAdapter {
        let books = BookSlots::new(
            &registry,
            |i| i.venue == Venue::Okx,
            |i| BookSync::new(i.id),
        );
        let mut adapter = OkxAdapter {
            registry,
            codec: OkxCodec::new(),
            books,
            book: BookChannel::Books,
            resubscribe: Vec::new(),
            control: 0,
            errors: 0,
        };
        adapter.prepare_resubscriptions();
        adapter
    }

    /// Subscribes each instrument's book on `channel` (`books` by default) on a live session.
    pub fn with_book_channel(mut self, channel: BookChannel) -> OkxAdapter {
        self.book = channel;
        self.prepare_resubscriptions();
        self
    }

    fn prepare_resubscriptions(&mut self) {
        let book = self.book;
        let symbol = |s: &BookSync| self.registry.get(s.instrument()).map(|i| i.symbol.as_str());
        self.resubscribe = self
            .books
            .syncs()
            .iter()
            .map(|s| session::resubscribe_frames(book, symbol(s).unwrap_or_default()))
            .collect();
    }

    /// Room an [`Outbox`] needs for the largest single frame.
    pub fn outbox_capacity() -> usize {
        BookSync::max_staged(MAX_LEVELS_PER_MESSAGE).max(MAX_TRADES_PER_MESSAGE)
    }

    /// The sync of `instrument`, if it is OKX's.
    pub fn sync(&self, instrument: InstrumentId) -> Option<&BookSync> {
        self.books.get(instrument)
    }

    fn sync_mut(&mut self, instrument: InstrumentId) -> Option<&mut BookSync> {
        self.books.get_mut(instrument)
    }

    /// Decodes one received frame and stages its events. `meta.instrument` is filled in here.
    /// `Resubscribe` when the frame left its book stale and wanting a new snapshot.
    pub fn on_message(
        &mut self,
        kind: SourceKind<'_>,
        payload: &[u8],
        meta: EventMeta,
        out: &mut Outbox,
    ) -> Result<FrameVerdict, DecodeError> {
        match kind {
            SourceKind::Ws => {}
            // Recorded sends are not input.
            SourceKind::Send => return Ok(FrameVerdict::Ok),
            // OKX's book procedure takes no REST body.
            SourceKind::Rest { .. } => return Err(DecodeError::UnknownEvent),
        }
        let decoded = self.codec.decode_ws(&self.registry, payload)?;
        let instrument = match decoded {
            Decoded::Book { instrument, .. }
            | Decoded::Trades { instrument }
            | Decoded::Ticker { instrument, .. } => instrument,
            Decoded::Control => {
                self.control += 1;
                return Ok(FrameVerdict::Ok);
            }
            Decoded::Error => {
                self.errors += 1;
                return Ok(FrameVerdict::Ok);
            }
        };
        let meta = EventMeta { instrument, ..meta };
        let Some(sync) = self.books.get_mut(instrument) else {
            return Ok(FrameVerdict::Ok);
        };
        sync.counters.messages += 1;
        match decoded {
            Decoded::Book {
                action,
                seq_id,
                prev_seq_id,
                checksum,
                ts,
                ..
            } => {
                let push = BookPush {
                    action,
                    seq_id,
                    prev_seq_id,
                    checksum,
                    ts,
                };
                sync.on_push(meta, push, self.codec.levels(), out);
                if sync.wants_snapshot {
                    // Stale on its own account: the live feed takes the book's
                    // resubscription ([`MarketAdapter::take_sends`]).
                    return Ok(FrameVerdict::Resubscribe);
                }
            }
            Decoded::Trades { .. } => {
                for t in self.codec.trades() {
                    let _ = out.push(MdEvent::Trade(TradeEvent {
                        meta,
                        trade_id: t.trade_id,
                        px: t.px,
                        qty: t.qty,
                        aggressor: t.aggressor,
                    }));
                }
            }
            Decoded::Ticker { bid, ask, .. } => {
                // OKX's tickers name no book update: update id 0 is never a commit's, so the
                // book stage counts them without checking them (the checksum checks the book).
                let _ = out.push(MdEvent::Ticker(TickerEvent {
                    meta,
                    update_id: 0,
                    bid,
                    ask,
                }));
            }
            Decoded::Control | Decoded::Error => {}
        }
        Ok(FrameVerdict::Ok)
    }
}

impl MarketAdapter for OkxAdapter {
    fn source(&self) -> &'static str {
        Venue::Okx.name()
    }

    fn owns(&self, instrument: InstrumentId) -> bool {
        self.sync(instrument).is_some()
    }

    fn outbox_capacity(&self) -> usize {
        OkxAdapter::outbox_capacity()
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
        self.sync_mut(request.instrument)
            .is_some_and(|s| s.on_resync_request(meta, request, out))
    }

    fn force_resync(&mut self, meta: EventMeta, reason: StaleReason, out: &mut Outbox) -> bool {
        self.sync_mut(meta.instrument)
            .is_some_and(|s| s.force_resync(meta, reason, out))
    }

    fn instruments(&self) -> usize {
        self.books.instruments()
    }

    fn stream_path(&self) -> String {
        STREAM_PATH.to_owned()
    }

    fn subscriptions(&self) -> Vec<String> {
        session::subscriptions(&self.registry, self.book)
    }

    fn keepalive(&self) -> Option<Keepalive> {
        Some(KEEPALIVE)
    }

    /// Each stale book's `unsubscribe`, then its `subscribe` (OKX sends a snapshot after it).
    fn take_sends(&mut self, send: &mut dyn FnMut(&str) -> bool) -> usize {
        let wants = self
            .books
            .syncs_mut()
            .iter_mut()
            .map(|s| &mut s.wants_snapshot);
        send_resubscriptions(wants, &self.resubscribe, send)
    }

    fn sync_counters(&self, instrument: InstrumentId) -> Option<&SyncCounters> {
        self.sync(instrument).map(|s| &s.counters)
    }

    fn control_frames(&self) -> u64 {
        self.control + self.errors
    }
}
