//! The Bybit adapter, one per market (spot or linear): joins the codec, each instrument's book
//! sync, its last ticker and the session details behind the venue-neutral [`MarketAdapter`]
//! the generic feeds drive.
use crate::stale::StaleRules;

use crate::book_slots::BookSlots;
use crate::bybit::codec::{
    BybitCodec, DecodeError, Decoded, TickerFields, MAX_LEVELS_PER_MESSAGE, MAX_TRADES_PER_MESSAGE,
};
use crate::bybit::session::{self, BybitMarket, DEFAULT_DEPTH, KEEPALIVE};
use crate::bybit::sync::{BookPush, BookSync};
use crate::capture::SourceKind;
use crate::event::{
    EventMeta, Level, MdEvent, ResyncRequest, StaleReason, TickerEvent, TradeEvent,
};
use crate::instrument::InstrumentRegistry;
use crate::num::InstrumentId;
use crate::outbox::Outbox;
use crate::sync_counters::SyncCounters;
use crate::venue::{send_resubscriptions, FrameVerdict, Keepalive, MarketAdapter};

/// Decodes one Bybit market's public frames and keeps each of its instruments' books in sync.
/// Instruments of other venues in the registry are not this adapter's.
pub struct BybitAdapter {
    market: BybitMarket,
    registry: InstrumentRegistry,
    codec: BybitCodec,
    /// The market's instruments, in registry order.
    books: BookSlots<BookSync>,
    /// By sync: the last best bid/ask the venue's tickers gave (linear's deltas carry only the
    /// fields that changed).
    tickers: Vec<TickerFields>,
    /// The book depth subscribed (`orderbook.{depth}.{symbol}`).
    depth: u16,
    /// By sync: the `unsubscribe` and `subscribe` ops that resubscribe its book, prepared.
    resubscribe: Vec<[String; 2]>,
    /// Well-formed frames that carry no market data (subscription acks, pongs).
    pub control: u64,
    /// Replies with `"success":false` (a refused subscription, say).
    pub errors: u64,
}

impl BybitAdapter {
    pub fn new(market: BybitMarket, registry: InstrumentRegistry) -> BybitAdapter {
        let venue = market.venue();
        let books = BookSlots::new(
            &registry,
            |i| i.venue == venue,
            |i| BookSync::new(i.id, MAX_LEVELS_PER_MESSAGE),
        );
        let tickers = vec![TickerFields::default(); books.syncs().len()];
        let mut adapter = BybitAdapter {
            market,
            registry,
            codec: BybitCodec::new(venue),
            books,
            tickers,
            depth: DEFAULT_DEPTH,
            resubscribe: Vec::new(),
            control: 0,
            errors: 0,
        };
        adapter.prepare_resubscriptions();
        adapter
    }

    /// Subscribes each instrument's book at `depth` (1, 50, 200, 500 or 1000) on a live session.
    pub fn with_depth(mut self, depth: u16) -> BybitAdapter {
        self.depth = depth;
        self.prepare_resubscriptions();
        self
    }

    fn prepare_resubscriptions(&mut self) {
        let depth = self.depth;
        let symbol = |s: &BookSync| self.registry.get(s.instrument()).map(|i| i.symbol.as_str());
        self.resubscribe = self
            .books
            .syncs()
            .iter()
            .map(|s| session::resubscribe_frames(depth, symbol(s).unwrap_or_default()))
            .collect();
    }

    pub fn market(&self) -> BybitMarket {
        self.market
    }

    /// Room an [`Outbox`] needs for the largest single frame.
    pub fn outbox_capacity() -> usize {
        BookSync::max_staged(MAX_LEVELS_PER_MESSAGE).max(MAX_TRADES_PER_MESSAGE)
    }

    /// The sync of `instrument`, if it is this market's.
    pub fn sync(&self, instrument: InstrumentId) -> Option<&BookSync> {
        self.books.get(instrument)
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
            // Bybit's book procedure takes no REST body.
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
        let Some(slot) = self.books.slot(instrument) else {
            return Ok(FrameVerdict::Ok);
        };
        let sync = &mut self.books.syncs_mut()[slot];
        sync.counters.messages += 1;
        match decoded {
            Decoded::Book {
                kind,
                depth,
                update_id,
                seq,
                ..
            } => {
                let push = BookPush {
                    kind,
                    depth,
                    update_id,
                    seq,
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
            Decoded::Ticker { fields, .. } => {
                let last = &mut self.tickers[slot];
                last.bid_px = fields.bid_px.or(last.bid_px);
                last.bid_qty = fields.bid_qty.or(last.bid_qty);
                last.ask_px = fields.ask_px.or(last.ask_px);
                last.ask_qty = fields.ask_qty.or(last.ask_qty);
                let changed = fields != TickerFields::default();
                // Spot tickers carry no best bid/ask, and a linear delta that did not change
                // them says nothing new: no event.
                if let (true, Some(bp), Some(bq), Some(ap), Some(aq)) = (
                    changed,
                    last.bid_px,
                    last.bid_qty,
                    last.ask_px,
                    last.ask_qty,
                ) {
                    // Bybit's tickers name no book update: update id 0 is never a commit's, so
                    // the book stage counts them without checking them.
                    let _ = out.push(MdEvent::Ticker(TickerEvent {
                        meta,
                        update_id: 0,
                        bid: Level { px: bp, qty: bq },
                        ask: Level { px: ap, qty: aq },
                    }));
                }
            }
            Decoded::Control | Decoded::Error => {}
        }
        Ok(FrameVerdict::Ok)
    }
}

impl MarketAdapter for BybitAdapter {
    fn source(&self) -> &'static str {
        self.market.venue().name()
    }

    fn owns(&self, instrument: InstrumentId) -> bool {
        self.sync(instrument).is_some()
    }

    fn outbox_capacity(&self) -> usize {
        BybitAdapter::outbox_capacity()
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

    fn force_resync(&mut self, meta: EventMeta, reason: StaleReason, out: &mut Outbox) -> bool {
        self.books
            .get_mut(meta.instrument)
            .is_some_and(|s| s.force_resync(meta, reason, out))
    }

    fn instruments(&self) -> usize {
        self.books.instruments()
    }

    fn stream_path(&self) -> String {
        self.market.stream_path().to_owned()
    }

    fn subscriptions(&self) -> Vec<String> {
        session::subscriptions(&self.registry, self.market, self.depth)
    }

    fn keepalive(&self) -> Option<Keepalive> {
        Some(KEEPALIVE)
    }

    /// Each stale book's `unsubscribe`, then its `subscribe` (Bybit sends a snapshot after it).
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
