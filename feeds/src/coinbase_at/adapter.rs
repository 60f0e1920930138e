//! The Coinbase Advanced Trade adapter: joins the codec, the connection's sequence, each
//! product's book sync and the session details behind the venue-neutral [`MarketAdapter`] the
//! generic feeds drive.
use crate::stale::StaleRules;

use crate::book_slots::BookSlots;
use crate::capture::SourceKind;
use crate::coinbase_at::codec::{
    Channel, CoinbaseAtCodec, DecodeError, Decoded, MAX_BOOK_EVENTS, MAX_LEVELS_PER_MESSAGE,
    MAX_TICKERS_PER_MESSAGE, MAX_TRADES_PER_MESSAGE,
};
use crate::coinbase_at::sequence::{ConnectionSequence, Order, SequenceCounters};
use crate::coinbase_at::session;
use crate::coinbase_at::sync::ProductSync;
use crate::event::{EventMeta, MdEvent, ResyncRequest, StaleReason, TickerEvent, TradeEvent};
use crate::instrument::{InstrumentRegistry, Venue};
use crate::levels::LevelUpdate;
use crate::num::InstrumentId;
use crate::outbox::Outbox;
use crate::sync_counters::SyncCounters;
use crate::venue::{send_resubscriptions, FrameVerdict, MarketAdapter};

/// Decodes one Coinbase Advanced Trade connection's frames and keeps each of its products'
/// books in sync. Instruments of other venues in the registry are not this adapter's.
pub struct CoinbaseAtAdapter {
    registry: InstrumentRegistry,
    codec: CoinbaseAtCodec,
    sequence: ConnectionSequence,
    /// The connection's products, in registry order.
    books: BookSlots<ProductSync>,
    /// The levels a sync stages for one event: one buffer for every product.
    scratch: Vec<LevelUpdate>,
    /// By sync: the `unsubscribe` and `subscribe` messages that resubscribe its book, prepared.
    resubscribe: Vec<[String; 2]>,
    pub sequence_counters: SequenceCounters,
    /// Well-formed frames that carry no market data (heartbeats, subscription lists).
    pub control: u64,
    /// `{"type":"error"}` replies (a refused subscription, say).
    pub errors: u64,
}

impl CoinbaseAtAdapter {
    pub fn new(registry: InstrumentRegistry) -> CoinbaseAtAdapter {
        let books = BookSlots::new(
            &registry,
            |i| i.venue == Venue::Coinbase,
            |i| ProductSync::new(i.id),
        );
        let symbol = |s: &ProductSync| registry.get(s.instrument()).map(|i| i.symbol.as_str());
        let resubscribe = books
            .syncs()
            .iter()
            .map(|s| session::resubscribe_frames(symbol(s).unwrap_or_default()))
            .collect();
        CoinbaseAtAdapter {
            codec: CoinbaseAtCodec::new(),
            sequence: ConnectionSequence::default(),
            books,
            scratch: Vec::with_capacity(MAX_LEVELS_PER_MESSAGE),
            resubscribe,
            sequence_counters: SequenceCounters::default(),
            control: 0,
            errors: 0,
            registry,
        }
    }

    /// The sync of `instrument`, if it is this connection's.
    pub fn sync(&self, instrument: InstrumentId) -> Option<&ProductSync> {
        self.books.get(instrument)
    }

    /// The last `sequence_num` taken on the connection.
    pub fn last_sequence(&self) -> Option<u64> {
        self.sequence.last()
    }

    /// Room an [`Outbox`] needs for the largest single frame: its levels, a reset, a commit, a
    /// partial batch and a stale mark per book event, and a stale mark per product for the gap
    /// the frame may reveal first.
    pub fn outbox_capacity(&self) -> usize {
        let books = ProductSync::max_staged(MAX_LEVELS_PER_MESSAGE) + 4 * MAX_BOOK_EVENTS;
        books
            .max(MAX_TRADES_PER_MESSAGE)
            .max(MAX_TICKERS_PER_MESSAGE)
            + self.books.syncs().len()
    }

    /// Every book of the connection may have missed an event.
    fn invalidate_all(&mut self, meta: EventMeta, out: &mut Outbox) {
        for sync in self.books.syncs_mut() {
            sync.invalidate(meta, out);
        }
    }

    /// `Resubscribe` while a book wants a snapshot the live feed has not asked for yet.
    fn verdict(&self) -> FrameVerdict {
        if self.books.syncs().iter().any(|s| s.wants_snapshot) {
            FrameVerdict::Resubscribe
        } else {
            FrameVerdict::Ok
        }
    }

    /// Decodes one received frame and stages its events. `meta.instrument` is filled in here.
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
            // The book comes in-band: no REST body belongs to this venue.
            SourceKind::Rest { .. } => return Err(DecodeError::UnknownEvent),
        }
        let decoded = self.codec.decode(&self.registry, payload);
        // The sequence first, whatever the events were: a frame counts in it once its
        // envelope was read.
        let order = match self.codec.header() {
            Some(h) => self
                .sequence
                .take(h.sequence_num, &mut self.sequence_counters),
            None => Order::InOrder,
        };
        match order {
            Order::InOrder | Order::Duplicate => {}
            Order::Gap => self.invalidate_all(meta, out),
            Order::Restart => {
                for sync in self.books.syncs_mut() {
                    sync.restart(meta, out);
                }
            }
            Order::Corrupt => return Err(DecodeError::WrongType("sequence_num")),
        }
        let header = match decoded {
            Ok(Decoded::Message(header)) => header,
            Ok(Decoded::VenueError) => {
                self.errors += 1;
                return Ok(self.verdict());
            }
            Err(e) => {
                let lost_book_event = self.codec.header().map(|h| h.channel)
                    == Some(Channel::Level2)
                    && e != DecodeError::UnknownSymbol
                    && order != Order::Duplicate;
                if lost_book_event {
                    // A book message that cannot be read is a message missed: of which
                    // product is unknown, so every book.
                    self.invalidate_all(meta, out);
                }
                return Err(e);
            }
        };
        let seq = header.sequence_num;
        match header.channel {
            Channel::Level2 => {
                for book in self.codec.books() {
                    let Some(sync) = self.books.get_mut(book.instrument) else {
                        continue;
                    };
                    sync.counters.messages += 1;
                    if order == Order::Duplicate {
                        sync.counters.duplicates += 1;
                        continue;
                    }
                    let meta = EventMeta {
                        instrument: book.instrument,
                        ..meta
                    };
                    let levels = self.codec.levels_of(book);
                    sync.on_event(meta, book.kind, seq, levels, &mut self.scratch, out);
                }
            }
            Channel::MarketTrades => {
                for t in self.codec.trades() {
                    let Some(sync) = self.books.get_mut(t.instrument) else {
                        continue;
                    };
                    sync.counters.messages += 1;
                    if order == Order::Duplicate {
                        continue;
                    }
                    let _ = out.push(MdEvent::Trade(TradeEvent {
                        meta: EventMeta {
                            instrument: t.instrument,
                            ..meta
                        },
                        trade_id: t.trade_id,
                        px: t.px,
                        qty: t.qty,
                        aggressor: t.aggressor,
                    }));
                }
            }
            Channel::Ticker => {
                for t in self.codec.tickers() {
                    let Some(sync) = self.books.get_mut(t.instrument) else {
                        continue;
                    };
                    sync.counters.messages += 1;
                    if order == Order::Duplicate {
                        continue;
                    }
                    // Counted, not held to the book: its place in the connection's sequence
                    // names no book state (`Venue::ticker_names_book_update`). Update id 0
                    // is never a commit's, so the book stage counts it without checking.
                    let _ = out.push(MdEvent::Ticker(TickerEvent {
                        meta: EventMeta {
                            instrument: t.instrument,
                            ..meta
                        },
                        update_id: 0,
                        bid: t.bid,
                        ask: t.ask,
                    }));
                }
            }
            Channel::Heartbeats | Channel::Subscriptions | Channel::Other => self.control += 1,
        }
        Ok(self.verdict())
    }
}

impl MarketAdapter for CoinbaseAtAdapter {
    fn source(&self) -> &'static str {
        Venue::Coinbase.name()
    }

    fn owns(&self, instrument: InstrumentId) -> bool {
        self.sync(instrument).is_some()
    }

    fn outbox_capacity(&self) -> usize {
        CoinbaseAtAdapter::outbox_capacity(self)
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
        self.books
            .get_mut(request.instrument)
            .is_some_and(|s| s.on_resync_request(meta, request, out))
    }

    /// A lost connection also ends its sequence: the next connection numbers from 0 again.
    fn force_resync(&mut self, meta: EventMeta, reason: StaleReason, out: &mut Outbox) -> bool {
        if reason == StaleReason::Disconnected {
            self.sequence.reset();
        }
        self.books
            .get_mut(meta.instrument)
            .is_some_and(|s| s.force_resync(meta, reason, out))
    }

    fn instruments(&self) -> usize {
        self.books.instruments()
    }

    fn stream_path(&self) -> String {
        String::from("/")
    }

    fn subscriptions(&self) -> Vec<String> {
        session::subscriptions(&self.registry)
    }

    /// Each stale book's `unsubscribe`, then its `subscribe` (the venue sends a snapshot after
    /// it).
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
