//! The venues this build speaks, each a folder of its own: the one place that names them all.
//! A new venue adds its folder, one [`Venue`] variant, one config arm
//! and one line here. Venues defined outside Pulse come in through [`Venues`].

use crate::binance::{BinanceAdapter, BinanceMarket};
use crate::bybit::{BybitAdapter, BybitMarket};
use crate::capture::SourceKind;
use crate::coinbase::CoinbaseAdapter;
use crate::coinbase_at::CoinbaseAtAdapter;
use crate::decode_error::DecodeError;
use crate::event::{EventMeta, ResyncRequest, StaleReason};
use crate::instrument::{InstrumentRegistry, Venue};
use crate::kraken::{KrakenAdapter, KrakenProtocol};
use crate::live::LiveFeed;
use crate::metrics::MetricSink;
use crate::num::InstrumentId;
use crate::okx::OkxAdapter;
use crate::outbox::Outbox;
use crate::sync_counters::SyncCounters;
use crate::tardis::TardisAdapter;
use crate::venue::{FrameVerdict, Keepalive, MarketAdapter};

/// A venue market's adapter as a feed of several venues holds it: a built-in venue's by its
/// type, so that the per-frame call is static (and the decoder inlined into the feed's loop, as
/// before there were several venues), an added venue's behind `dyn`. Boxed either way: adapters
/// inline (each with its codec's buffers) would make the feed by far the largest stage.
///
/// Measured: the capture feed calling every adapter through `dyn` ran the `depth-frame` case
/// of `pulse-bench tick-to-trade` ~10% slower at p50 with 1% more instructions and 60% more
/// instruction-cache misses (`valgrind --tool=cachegrind`).
pub enum AnyAdapter {
    Binance(Box<BinanceAdapter>),
    CoinbaseExchange(Box<CoinbaseAdapter>),
    Kraken(Box<KrakenAdapter>),
    Okx(Box<OkxAdapter>),
    Bybit(Box<BybitAdapter>),
    Coinbase(Box<CoinbaseAtAdapter>),
    /// Tardis.dev CSV messages, of any venue's instruments (`tardis:ws`).
    Tardis(Box<TardisAdapter>),
    Added(Box<dyn MarketAdapter>),
}

impl AnyAdapter {
    /// The Binance adapter, if this is one.
    pub fn binance(&self) -> Option<&BinanceAdapter> {
        match self {
            AnyAdapter::Binance(a) => Some(a),
            _ => None,
        }
    }

    /// The Kraken adapter (v2 or v1), if this is one.
    pub fn kraken(&self) -> Option<&KrakenAdapter> {
        match self {
            AnyAdapter::Kraken(a) => Some(a),
            _ => None,
        }
    }

    /// The OKX adapter, if this is one.
    pub fn okx(&self) -> Option<&OkxAdapter> {
        match self {
            AnyAdapter::Okx(a) => Some(a),
            _ => None,
        }
    }

    /// The adapter, for the cold calls.
    pub fn get(&self) -> &dyn MarketAdapter {
        match self {
            AnyAdapter::Binance(a) => &**a,
            AnyAdapter::CoinbaseExchange(a) => &**a,
            AnyAdapter::Kraken(a) => &**a,
            AnyAdapter::Okx(a) => &**a,
            AnyAdapter::Bybit(a) => &**a,
            AnyAdapter::Coinbase(a) => &**a,
            AnyAdapter::Tardis(a) => &**a,
            AnyAdapter::Added(a) => &**a,
        }
    }

    pub fn get_mut(&mut self) -> &mut dyn MarketAdapter {
        match self {
            AnyAdapter::Binance(a) => &mut **a,
            AnyAdapter::CoinbaseExchange(a) => &mut **a,
            AnyAdapter::Kraken(a) => &mut **a,
            AnyAdapter::Okx(a) => &mut **a,
            AnyAdapter::Bybit(a) => &mut **a,
            AnyAdapter::Coinbase(a) => &mut **a,
            AnyAdapter::Tardis(a) => &mut **a,
            AnyAdapter::Added(a) => &mut **a,
        }
    }
}

/// Every call delegates: a built-in venue's statically, an added venue's through `dyn`. So one
/// live feed type ([`VenueLiveFeed`]) serves every venue.
impl MarketAdapter for AnyAdapter {
    fn source(&self) -> &'static str {
        self.get().source()
    }

    fn owns(&self, instrument: InstrumentId) -> bool {
        self.get().owns(instrument)
    }

    fn outbox_capacity(&self) -> usize {
        self.get().outbox_capacity()
    }

    /// Static for a built-in venue: the decoder inlines into the feed's loop.
    #[inline]
    fn on_frame(
        &mut self,
        kind: SourceKind<'_>,
        payload: &[u8],
        meta: EventMeta,
        out: &mut Outbox,
    ) -> Result<FrameVerdict, DecodeError> {
        match self {
            AnyAdapter::Binance(a) => a.on_frame(kind, payload, meta, out),
            AnyAdapter::CoinbaseExchange(a) => a.on_frame(kind, payload, meta, out),
            AnyAdapter::Kraken(a) => a.on_frame(kind, payload, meta, out),
            AnyAdapter::Okx(a) => a.on_frame(kind, payload, meta, out),
            AnyAdapter::Bybit(a) => a.on_frame(kind, payload, meta, out),
            AnyAdapter::Coinbase(a) => a.on_frame(kind, payload, meta, out),
            AnyAdapter::Tardis(a) => a.on_frame(kind, payload, meta, out),
            AnyAdapter::Added(a) => a.on_frame(kind, payload, meta, out),
        }
    }

    fn on_resync_request(
        &mut self,
        request: ResyncRequest,
        meta: EventMeta,
        out: &mut Outbox,
    ) -> bool {
        self.get_mut().on_resync_request(request, meta, out)
    }

    fn force_resync(&mut self, meta: EventMeta, reason: StaleReason, out: &mut Outbox) -> bool {
        self.get_mut().force_resync(meta, reason, out)
    }

    fn on_disconnect(&mut self, meta: EventMeta, out: &mut Outbox) {
        self.get_mut().on_disconnect(meta, out)
    }

    fn instruments(&self) -> usize {
        self.get().instruments()
    }

    fn needs_snapshot(&self, instrument: InstrumentId) -> bool {
        self.get().needs_snapshot(instrument)
    }

    fn snapshot_path(&self, instrument: InstrumentId, limit: u32) -> Option<String> {
        self.get().snapshot_path(instrument, limit)
    }

    fn stream_path(&self) -> String {
        self.get().stream_path()
    }

    fn subscriptions(&self) -> Vec<String> {
        self.get().subscriptions()
    }

    fn keepalive(&self) -> Option<Keepalive> {
        self.get().keepalive()
    }

    fn take_sends(&mut self, send: &mut dyn FnMut(&str) -> bool) -> usize {
        self.get_mut().take_sends(send)
    }

    fn sync_counters(&self, instrument: InstrumentId) -> Option<&SyncCounters> {
        self.get().sync_counters(instrument)
    }

    fn control_frames(&self) -> u64 {
        self.get().control_frames()
    }

    fn report(&self, out: MetricSink<'_>) {
        self.get().report(out)
    }
}

/// The live feed of any venue market.
pub type VenueLiveFeed = LiveFeed<AnyAdapter>;

/// An adapter for every built-in venue market, over the instruments of `registry`.
/// A venue whose registry has no instrument gets no adapter: its lines are then counted as of
/// an unknown venue, as before the venue was built in.
pub fn builtin(registry: &InstrumentRegistry) -> Vec<AnyAdapter> {
    let mut adapters: Vec<AnyAdapter> = [BinanceMarket::Spot, BinanceMarket::UsdmFutures]
        .into_iter()
        .map(|market| {
            AnyAdapter::Binance(Box::new(BinanceAdapter::for_market(
                market,
                registry.clone(),
            )))
        })
        .collect();
    // The other venues' adapters (their buffers sized for whole-book snapshots) only where
    // the registry holds an instrument of theirs.
    let has = |venue: Venue| registry.iter().any(|i| i.venue == venue);
    if has(Venue::CoinbaseExchange) {
        let adapter = CoinbaseAdapter::new(registry.clone());
        adapters.push(AnyAdapter::CoinbaseExchange(Box::new(adapter)));
    }
    if has(Venue::Okx) {
        adapters.push(AnyAdapter::Okx(Box::new(OkxAdapter::new(registry.clone()))));
    }
    if has(Venue::Coinbase) {
        let adapter = CoinbaseAtAdapter::new(registry.clone());
        adapters.push(AnyAdapter::Coinbase(Box::new(adapter)));
    }
    for market in BybitMarket::ALL {
        if has(market.venue()) {
            let adapter = BybitAdapter::new(market, registry.clone());
            adapters.push(AnyAdapter::Bybit(Box::new(adapter)));
        }
    }
    for protocol in [KrakenProtocol::V2, KrakenProtocol::V1] {
        if has(protocol.venue()) {
            let adapter = KrakenAdapter::new(protocol, registry.clone());
            adapters.push(AnyAdapter::Kraken(Box::new(adapter)));
        }
    }
    adapters
}

/// Makes the adapter of an added venue over the instruments of `registry` it is given to feed
/// (by id; a capture source's `instruments`, or every instrument the config gives the source).
pub type AdapterFactory = fn(&InstrumentRegistry, &[InstrumentId]) -> Box<dyn MarketAdapter>;

/// The venues a `pulse` process can take market data from beyond the built-in ones: each a
/// name (what a source's `venue` key says, and the source of its capture lines) and the
/// factory of its adapter. A program built on Pulse registers its own and hands them to the
/// config loader (`pulse_engine::config::load_with_venues`, `pulse_engine::cli::main_with_venues`).
#[derive(Clone, Debug, Default)]
pub struct Venues {
    added: Vec<(&'static str, AdapterFactory)>,
}

impl Venues {
    /// Only the built-in venues.
    pub fn builtin() -> Venues {
        Venues::default()
    }

    /// Adds the venue `name` (`[a-z0-9-]`, not a built-in venue's name) and its adapter.
    pub fn with(mut self, name: &'static str, factory: AdapterFactory) -> Venues {
        self.added.push((name, factory));
        self
    }

    /// The factory of the added venue `name`.
    pub fn get(&self, name: &str) -> Option<AdapterFactory> {
        self.added.iter().find(|(n, _)| *n == name).map(|&(_, f)| f)
    }

    /// The names of the added venues, in the order they were added.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.added.iter().map(|&(n, _)| n)
    }
}
