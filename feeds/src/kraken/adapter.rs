//! The Kraken adapter: one protocol's codec (v1 for recorded data, v2 live and recorded) and a
//! [`BookSync`] per pair, behind the venue-neutral [`MarketAdapter`].
use crate::stale::StaleRules;

use crate::book_slots::BookSlots;
use crate::capture::SourceKind;
use crate::decode_error::DecodeError;
use crate::event::{EventMeta, MdEvent, ResyncRequest, StaleReason, TickerEvent, TradeEvent};
use crate::instrument::{InstrumentRegistry, Venue};
use crate::kraken::frame::{Decoded, Item, MAX_ITEMS, MAX_LEVELS_PER_MESSAGE};
use crate::kraken::session::{resubscription, subscriptions, KEEPALIVE_V2};
use crate::kraken::sync::{BookSync, Outcome};
use crate::kraken::{v1, v2};
use crate::num::InstrumentId;
use crate::outbox::Outbox;
use crate::sync_counters::SyncCounters;
use crate::venue::{send_resubscriptions, FrameVerdict, Keepalive, MarketAdapter};

/// Kraken's default book depth (v2's `depth` default; v1's too).
pub const DEFAULT_DEPTH: usize = 10;

/// Which Kraken WebSocket protocol an adapter speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KrakenProtocol {
    /// WebSocket v1 (source `kraken-v1`): recorded data.
    V1,
    /// WebSocket v2 (source `kraken`).
    V2,
}

impl KrakenProtocol {
    pub fn venue(self) -> Venue {
        match self {
            KrakenProtocol::V1 => Venue::KrakenV1,
            KrakenProtocol::V2 => Venue::Kraken,
        }
    }
}

/// Counts of the adapter's own, beside each book's [`SyncCounters`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KrakenCounters {
    /// Well-formed frames that carried no market data (heartbeats, status, replies).
    pub control: u64,
    /// Pairs whose `instrument` decimals differ from the configured scales.
    pub precision_mismatches: u64,
    /// Book resubscriptions sent (live) after a checksum mismatch or a crossed book.
    pub resubscriptions: u64,
}

pub struct KrakenAdapter {
    protocol: KrakenProtocol,
    registry: InstrumentRegistry,
    decoded: Decoded,
    books: BookSlots<BookSync>,
    depth: usize,
    /// By sync: whether its book waits to be resubscribed (live).
    resubscribe: Vec<bool>,
    /// By sync: the frames that resubscribe it, made at start.
    resubscription: Vec<[String; 2]>,
    pub counters: KrakenCounters,
}

impl KrakenAdapter {
    /// An adapter for the `protocol`'s instruments of `registry`, books at the default depth.
    pub fn new(protocol: KrakenProtocol, registry: InstrumentRegistry) -> KrakenAdapter {
        KrakenAdapter::with_depth(protocol, registry, DEFAULT_DEPTH)
    }

    /// Books subscribed (and truncated) at `depth` levels a side: 10, 25, 100, 500 or 1000.
    /// A v1 frame's channel name and a v2 subscription reply override it per book.
    pub fn with_depth(
        protocol: KrakenProtocol,
        registry: InstrumentRegistry,
        depth: usize,
    ) -> KrakenAdapter {
        let books = BookSlots::new(
            &registry,
            |i| i.venue == protocol.venue(),
            |i| BookSync::new(i, depth),
        );
        let v1 = protocol == KrakenProtocol::V1;
        let resubscription = books
            .syncs()
            .iter()
            .map(|s: &BookSync| {
                let symbol = registry.get(s.instrument()).map_or("", |i| &i.symbol);
                resubscription(v1, symbol, depth)
            })
            .collect();
        KrakenAdapter {
            protocol,
            resubscribe: vec![false; books.syncs().len()],
            resubscription,
            registry,
            decoded: Decoded::default(),
            books,
            depth,
            counters: KrakenCounters::default(),
        }
    }

    pub fn protocol(&self) -> KrakenProtocol {
        self.protocol
    }

    /// The sync of `instrument`, if it is this venue's.
    pub fn sync(&self, instrument: InstrumentId) -> Option<&BookSync> {
        self.books.get(instrument)
    }

    fn slot(&self, instrument: InstrumentId) -> Option<usize> {
        self.books.slot(instrument)
    }

    fn decode(&mut self, payload: &[u8]) -> Result<(), DecodeError> {
        self.decoded.clear();
        match self.protocol {
            KrakenProtocol::V1 => v1::decode(&self.registry, payload, &mut self.decoded),
            KrakenProtocol::V2 => v2::decode(&self.registry, payload, &mut self.decoded),
        }
    }

    /// Acts on each item of the frame just decoded; whether a book asks to be resubscribed,
    /// and whether a pair's decimals disagreed with its configured scales.
    fn apply(&mut self, meta: EventMeta, out: &mut Outbox) -> (bool, bool) {
        let (mut resubscribe, mut precision) = (false, false);
        for n in 0..self.decoded.items.len() {
            let Some(item) = self.decoded.items.get(n).copied() else {
                break;
            };
            let instrument = item_instrument(item);
            let Some(slot) = self.slot(instrument) else {
                continue;
            };
            let meta = EventMeta { instrument, ..meta };
            let Some(sync) = self.books.syncs_mut().get_mut(slot) else {
                continue;
            };
            match item {
                Item::Book {
                    snapshot,
                    checksum,
                    depth,
                    start,
                    end,
                    ..
                } => {
                    sync.counters.messages += 1;
                    if let Some(depth) = depth.filter(|_| snapshot) {
                        sync.set_depth(depth as usize);
                    }
                    let levels = self.decoded.levels.get(start..end).unwrap_or(&[]);
                    if sync.on_book(meta, snapshot, checksum, levels, out) == Outcome::Stale {
                        if let Some(flag) = self.resubscribe.get_mut(slot) {
                            *flag = true;
                        }
                        resubscribe = true;
                    }
                }
                Item::Trade {
                    trade_id,
                    px,
                    qty,
                    aggressor,
                    ..
                } => {
                    sync.counters.messages += 1;
                    let _ = out.push(MdEvent::Trade(TradeEvent {
                        meta,
                        trade_id,
                        px,
                        qty,
                        aggressor,
                    }));
                }
                Item::Ticker { bid, ask, .. } => {
                    sync.counters.messages += 1;
                    // Update id 0: Kraken's ticker is not sequenced with the book (another
                    // channel, no update id), so the book stage counts it and never checks
                    // it; the checksum is Kraken's check.
                    let _ = out.push(MdEvent::Ticker(TickerEvent {
                        meta,
                        update_id: 0,
                        bid,
                        ask,
                    }));
                }
                Item::Depth { depth, .. } => sync.set_depth(depth as usize),
                Item::Precision { price, qty, .. } => {
                    let p = sync.precision();
                    if (price, qty) != (p.price_scale, p.qty_scale) {
                        self.counters.precision_mismatches += 1;
                        precision = true;
                    }
                    // The checksum writes numbers with the venue's decimals, whatever the scales.
                    sync.set_decimals(price, qty);
                }
            }
        }
        (resubscribe, precision)
    }
}

impl KrakenAdapter {
    /// Marks `instrument`'s book stale through `mark`, and if it did, flags the pair for a
    /// resubscription when `resubscribe`.
    fn stale_book(
        &mut self,
        instrument: InstrumentId,
        resubscribe: bool,
        mark: impl FnOnce(&mut BookSync) -> bool,
    ) -> bool {
        let Some(slot) = self.slot(instrument) else {
            return false;
        };
        let done = self.books.syncs_mut().get_mut(slot).is_some_and(mark);
        if let Some(flag) = self
            .resubscribe
            .get_mut(slot)
            .filter(|_| done && resubscribe)
        {
            *flag = true;
        }
        done
    }
}

fn item_instrument(item: Item) -> InstrumentId {
    match item {
        Item::Book { instrument, .. }
        | Item::Trade { instrument, .. }
        | Item::Ticker { instrument, .. }
        | Item::Depth { instrument, .. }
        | Item::Precision { instrument, .. } => instrument,
    }
}

impl MarketAdapter for KrakenAdapter {
    fn source(&self) -> &'static str {
        self.protocol.venue().name()
    }

    fn owns(&self, instrument: InstrumentId) -> bool {
        self.slot(instrument).is_some()
    }

    fn outbox_capacity(&self) -> usize {
        BookSync::max_staged(MAX_LEVELS_PER_MESSAGE) + 4 * MAX_ITEMS
    }

    #[inline]
    fn on_frame(
        &mut self,
        kind: SourceKind<'_>,
        payload: &[u8],
        meta: EventMeta,
        out: &mut Outbox,
    ) -> Result<FrameVerdict, DecodeError> {
        match kind {
            SourceKind::Ws => {}
            SourceKind::Send => return Ok(FrameVerdict::Ok),
            SourceKind::Rest { .. } => return Err(DecodeError::UnknownEvent),
        }
        self.decode(payload)?;
        if self.decoded.items.is_empty() {
            self.counters.control += 1;
            return Ok(FrameVerdict::Ok);
        }
        let (resubscribe, precision) = self.apply(meta, out);
        if precision {
            // Counted and logged by the feed as a refused field; the frame's other pairs
            // were taken.
            return Err(DecodeError::WrongType("price_precision"));
        }
        Ok(if resubscribe {
            FrameVerdict::Resubscribe
        } else {
            FrameVerdict::Ok
        })
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
        // A crossed book needs this pair's snapshot again.
        self.stale_book(request.instrument, true, |s| {
            s.on_resync_request(meta, request, out)
        })
    }

    fn force_resync(&mut self, meta: EventMeta, reason: StaleReason, out: &mut Outbox) -> bool {
        // A lost connection resubscribes everything on reconnect; a full ring needs this
        // book's snapshot again.
        let resubscribe = reason != StaleReason::Disconnected;
        self.stale_book(meta.instrument, resubscribe, |s| {
            s.force_resync(meta, reason, out)
        })
    }

    fn instruments(&self) -> usize {
        self.books.instruments()
    }

    fn stream_path(&self) -> String {
        match self.protocol {
            KrakenProtocol::V1 => String::from("/"),
            KrakenProtocol::V2 => String::from("/v2"),
        }
    }

    fn subscriptions(&self) -> Vec<String> {
        let pairs: Vec<&str> = self
            .books
            .syncs()
            .iter()
            .filter_map(|s| self.registry.get(s.instrument()))
            .map(|i| i.symbol.as_str())
            .collect();
        subscriptions(self.protocol == KrakenProtocol::V1, &pairs, self.depth)
    }

    fn keepalive(&self) -> Option<Keepalive> {
        (self.protocol == KrakenProtocol::V2).then_some(KEEPALIVE_V2)
    }

    fn take_sends(&mut self, send: &mut dyn FnMut(&str) -> bool) -> usize {
        let sent = send_resubscriptions(self.resubscribe.iter_mut(), &self.resubscription, send);
        self.counters.resubscriptions += sent as u64;
        sent
    }

    fn sync_counters(&self, instrument: InstrumentId) -> Option<&SyncCounters> {
        self.sync(instrument).map(|s| &s.counters)
    }

    fn control_frames(&self) -> u64 {
        self.counters.control
    }
}
