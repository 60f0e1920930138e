//! The venues this build speaks, each a folder of its own: the one place that names them all.
//! A new venue adds its folder, one [`Venue`](crate::instrument::Venue) variant, one config arm
//! and one line here.

use crate::binance::{BinanceAdapter, BinanceMarket};
use crate::instrument::InstrumentRegistry;
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
