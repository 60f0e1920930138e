//! The venues this build speaks, each a folder of its own: the one place that names them all.
//! A new venue adds its folder, one [`Venue`](crate::instrument::Venue) variant, one config arm
//! and one line here. Venues defined outside Pulse come in through [`Venues`].

use crate::binance::{BinanceAdapter, BinanceMarket};
use crate::capture::SourceKind;
use crate::decode_error::DecodeError;
use crate::event::EventMeta;
use crate::instrument::InstrumentRegistry;
use crate::num::InstrumentId;
use crate::okx::OkxAdapter;
use crate::outbox::Outbox;
use crate::venue::{FrameVerdict, MarketAdapter};

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
    Okx(Box<OkxAdapter>),
    Added(Box<dyn MarketAdapter>),
}

impl AnyAdapter {
    /// The adapter, for the cold calls.
    pub fn get(&self) -> &dyn MarketAdapter {
        match self {
            AnyAdapter::Binance(a) => &**a,
            AnyAdapter::Okx(a) => &**a,
            AnyAdapter::Added(a) => &**a,
        }
    }

    pub fn get_mut(&mut self) -> &mut dyn MarketAdapter {
        match self {
            AnyAdapter::Binance(a) => &mut **a,
            AnyAdapter::Okx(a) => &mut **a,
            AnyAdapter::Added(a) => &mut **a,
        }
    }

    /// [`MarketAdapter::on_frame`], called statically for a built-in venue.
    #[inline]
    pub fn on_frame(
        &mut self,
        kind: SourceKind<'_>,
        payload: &[u8],
        meta: EventMeta,
        out: &mut Outbox,
    ) -> Result<FrameVerdict, DecodeError> {
        match self {
            AnyAdapter::Binance(a) => a.on_frame(kind, payload, meta, out),
            AnyAdapter::Okx(a) => a.on_frame(kind, payload, meta, out),
            AnyAdapter::Added(a) => a.on_frame(kind, payload, meta, out),
        }
    }
}

/// An adapter for every built-in venue market, over the instruments of `registry`.
pub fn builtin(registry: &InstrumentRegistry) -> Vec<AnyAdapter> {
    [BinanceMarket::Spot, BinanceMarket::UsdmFutures]
        .into_iter()
        .map(|market| {
            AnyAdapter::Binance(Box::new(BinanceAdapter::for_market(
                market,
                registry.clone(),
            )))
        })
        .chain([AnyAdapter::Okx(Box::new(OkxAdapter::new(registry.clone())))])
        .collect()
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
