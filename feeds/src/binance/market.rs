//! Binance's two markets: spot and USD-M futures.

use crate::instrument::Venue;

/// Which Binance market a codec, sync or adapter speaks: the same message shapes, different
/// symbols (a venue each) and different book sync rules (see [`sync`](crate::binance::sync)).
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
            Venue::CoinbaseExchange
            | Venue::Kraken
            | Venue::KrakenV1
            | Venue::Okx
            | Venue::BybitSpot
            | Venue::BybitLinear
            | Venue::Coinbase => None,
        }
    }
}
