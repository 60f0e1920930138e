//! The venues this build speaks, each a folder of its own: the one place that names them all.
//! A new venue adds its folder, one [`Venue`](crate::instrument::Venue) variant, one config arm
//! and one line here. Venues defined outside Pulse come in through [`Venues`].

use crate::binance::{BinanceAdapter, BinanceMarket};
use crate::instrument::InstrumentRegistry;
use crate::num::InstrumentId;
use crate::venue::MarketAdapter;

/// An adapter for every built-in venue market, over the instruments of `registry`.
pub fn builtin(registry: &InstrumentRegistry) -> Vec<Box<dyn MarketAdapter>> {
    vec![
        Box::new(BinanceAdapter::for_market(
            BinanceMarket::Spot,
            registry.clone(),
        )),
        Box::new(BinanceAdapter::for_market(
            BinanceMarket::UsdmFutures,
            registry.clone(),
        )),
    ]
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
