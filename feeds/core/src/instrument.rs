//! The instrument registry: every tradable thing the engine knows, built once from config.
//! Hot-path code carries only the small [`InstrumentId`]; names and scales are looked up here.

use crate::num::{pow10, InstrumentId, Px, Qty};

/// The venues Pulse speaks to. A closed set: adding a venue adds a variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Venue {
    /// Binance spot (`api.binance.com`, `stream.binance.com`).
    Binance,
    /// Binance USD-M futures (`fapi.binance.com`, `fstream.binance.com`): its own symbols, ids
    /// and book sync rules, so a venue of its own.
    BinanceUsdm,
    /// Coinbase Exchange (`ws-feed.exchange.coinbase.com`), the `level2` channel of the
    /// legacy full feed: replay of recorded sessions.
    CoinbaseExchange,
    /// Kraken spot over WebSocket v2 (`ws.kraken.com/v2`): `book` with a CRC32 of the top ten
    /// levels on every message, `trade`, `ticker`, `instrument`.
    Kraken,
    /// Kraken spot over the WebSocket v1 protocol (`ws.kraken.com`), for recorded data: the same
    /// pairs and checksum, frames as arrays of decimal strings. Its own venue because its
    /// frames are another protocol's (source `kraken-v1`).
    KrakenV1,
    /// OKX v5 public market data (`ws.okx.com`, `/ws/v5/public`): spot, futures and swaps in
    /// one venue, named by `instId` (`BTC-USDT`, `BTC-USD-220527`, `UNI-USD-SWAP`).
    Okx,
    /// Bybit v5 public spot market data (`stream.bybit.com`, `/v5/public/spot`).
    BybitSpot,
    /// Bybit v5 public linear (USDT and USDC perpetuals and futures) market data
    /// (`/v5/public/linear`): its own connection and symbols, so a venue of its own, as Binance
    /// USD-M is beside Binance spot.
    BybitLinear,
    /// Coinbase Advanced Trade (`advanced-trade-ws.coinbase.com`): `level2` whole-book
    /// snapshots and updates, `market_trades`, `ticker` and `heartbeats`, all numbered by one
    /// `sequence_num` per connection. Not Coinbase Exchange's legacy feed
    /// ([`Venue::CoinbaseExchange`]): another protocol, another source name.
    Coinbase,
}

impl Venue {
    pub const ALL: [Venue; 9] = [
        Venue::Binance,
        Venue::BinanceUsdm,
        Venue::CoinbaseExchange,
        Venue::Kraken,
        Venue::KrakenV1,
        Venue::Okx,
        Venue::BybitSpot,
        Venue::BybitLinear,
        Venue::Coinbase,
    ];

    /// The name used in configs and in capture sources (`binance-usdm:ws`).
    pub fn name(self) -> &'static str {
        match self {
            Venue::Binance => "binance",
            Venue::BinanceUsdm => "binance-usdm",
            Venue::CoinbaseExchange => "coinbase-exchange",
            Venue::Kraken => "kraken",
            Venue::KrakenV1 => "kraken-v1",
            Venue::Okx => "okx",
            Venue::BybitSpot => "bybit-spot",
            Venue::BybitLinear => "bybit-linear",
            Venue::Coinbase => "coinbase",
        }
    }

    /// Levels a side a book of this venue must be able to hold, whatever the configured bound:
    /// Coinbase Advanced Trade's `level2` snapshot is the whole book (tens of thousands of
    /// levels a side on BTC-USD, from 0.01 to far above the touch), and a book that truncated
    /// it could not tell a delete of a level it dropped from one the venue never had. 0: the
    /// configured bound serves.
    pub fn whole_book_levels(self) -> usize {
        match self {
            Venue::Coinbase => 65_536,
            _ => 0,
        }
    }

    /// Whether the venue's best bid/ask ticker names the book update it reflects (Binance's
    /// `bookTicker` `u`), so that the rebuilt book can be held to it at that update. Other
    /// venues' tickers run on their own sequence: counted, never compared.
    ///
    /// Coinbase Advanced Trade numbers its tickers and book messages with one connection
    /// sequence, but that orders what the gateway sent, not what the matching engine did: the
    /// ticker is emitted per match ("batches updates during cascading matches") and `level2`
    /// on its own cadence, so a ticker's place in the stream does not name a book state, and
    /// holding the book to it would fail real sessions whose books are right. Counted only.
    pub fn ticker_names_book_update(self) -> bool {
        matches!(self, Venue::Binance | Venue::BinanceUsdm)
    }

    /// Whether the venue's book messages carry a checksum of the book (Kraken's CRC32, OKX's
    /// signed CRC32, which OKX may leave out: 0): the replay report then shows how many matched.
    pub fn sends_checksum(self) -> bool {
        matches!(self, Venue::Kraken | Venue::KrakenV1 | Venue::Okx)
    }

    pub fn from_name(name: &str) -> Option<Venue> {
        Venue::from_name_bytes(name.as_bytes())
    }

    /// [`Venue::from_name`] for the raw bytes of a capture line's source.
    pub fn from_name_bytes(name: &[u8]) -> Option<Venue> {
        Venue::ALL.into_iter().find(|v| v.name().as_bytes() == name)
    }
}

/// One instrument with its exact-number conventions. Prices are mantissas at `price_scale`
/// decimal places, quantities at `qty_scale`; every price is a multiple of `tick` and every
/// quantity a multiple of `lot`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instrument {
    pub id: InstrumentId,
    pub venue: Venue,
    pub symbol: String,
    pub price_scale: u32,
    pub qty_scale: u32,
    pub tick: Px,
    pub lot: Qty,
    /// The asset bought and sold (`BTC` of Binance's `BTCUSDT`), as the venue's balances and
    /// fees name it; empty when not configured. Never guessed from the symbol: a symbol does
    /// not say where its base ends (`BTCUSDT`, `1000SATSFDUSD`).
    pub base: String,
    /// The asset prices are in (`USDT`); empty when not configured.
    pub quote: String,
}

impl Instrument {
    /// The scale of `price * quantity` mantissas (notional, PnL, fees).
    pub fn notional_scale(&self) -> u32 {
        self.price_scale + self.qty_scale
    }

    /// `px * qty` as a mantissa at [`Instrument::notional_scale`]. Exact: i128 cannot overflow
    /// for two i64 factors.
    pub fn notional(&self, px: Px, qty: Qty) -> i128 {
        px.0 as i128 * qty.0 as i128
    }

    /// One whole unit of the quote currency at notional scale.
    pub fn notional_unit(&self) -> i128 {
        pow10(self.price_scale).unwrap_or(1) as i128 * pow10(self.qty_scale).unwrap_or(1) as i128
    }
}

/// All instruments, indexed by [`InstrumentId`] (dense, from 0, in config order).
#[derive(Clone, Debug, Default)]
pub struct InstrumentRegistry {
    instruments: Vec<Instrument>,
}

impl InstrumentRegistry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an instrument and returns its id. A duplicate (venue, symbol) is refused with the
    /// id it already has.
    pub fn add(
        &mut self,
        venue: Venue,
        symbol: &str,
        price_scale: u32,
        qty_scale: u32,
        tick: Px,
        lot: Qty,
    ) -> Result<InstrumentId, InstrumentId> {
        if let Some(existing) = self.find(venue, symbol.as_bytes()) {
            return Err(existing);
        }
        let id = InstrumentId(self.instruments.len() as u16);
        self.instruments.push(Instrument {
            id,
            venue,
            symbol: symbol.to_owned(),
            price_scale,
            qty_scale,
            tick,
            lot,
            base: String::new(),
            quote: String::new(),
        });
        Ok(id)
    }

    /// Names an instrument's base and quote assets (config's `base` and `quote`).
    pub fn set_assets(&mut self, id: InstrumentId, base: &str, quote: &str) {
        if let Some(i) = self.instruments.get_mut(id.0 as usize) {
            i.base = base.to_owned();
            i.quote = quote.to_owned();
        }
    }

    /// Looks an instrument up by the symbol bytes a venue sends, case-insensitively (Binance
    /// streams name `btcusdt`, payloads `BTCUSDT`). Linear over a handful of instruments: no
    /// hashing, no allocation.
    pub fn find(&self, venue: Venue, symbol: &[u8]) -> Option<InstrumentId> {
        self.instruments
            .iter()
            .find(|i| i.venue == venue && i.symbol.as_bytes().eq_ignore_ascii_case(symbol))
            .map(|i| i.id)
    }

    pub fn get(&self, id: InstrumentId) -> Option<&Instrument> {
        self.instruments.get(id.0 as usize)
    }

    /// Whether the instruments are of more than one venue.
    pub fn spans_venues(&self) -> bool {
        let mut venues = self.instruments.iter().map(|i| i.venue);
        let first = venues.next();
        venues.any(|v| Some(v) != first)
    }

    /// What metrics and reports call `id`: its symbol when every instrument is of one venue,
    /// `venue:SYMBOL` when they span several (so that one symbol on two venues, BTCUSDT on
    /// spot and on futures, is two names, and each instrument shows its venue).
    pub fn display_name(&self, id: InstrumentId) -> String {
        match self.get(id) {
            Some(i) if self.spans_venues() => format!("{}:{}", i.venue.name(), i.symbol),
            Some(i) => i.symbol.clone(),
            None => id.0.to_string(),
        }
    }

    pub fn len(&self) -> usize {
        self.instruments.len()
    }

    pub fn is_empty(&self) -> bool {
        self.instruments.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Instrument> {
        self.instruments.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_is_by_venue_and_case_insensitive_symbol() {
        let mut reg = InstrumentRegistry::new();
        let btc = reg
            .add(Venue::Binance, "BTCUSDT", 2, 5, Px(1), Qty(1))
            .unwrap();
        let eth = reg
            .add(Venue::Binance, "ETHUSDT", 2, 4, Px(1), Qty(1))
            .unwrap();
        assert_eq!(btc, InstrumentId(0));
        assert_eq!(eth, InstrumentId(1));
        assert_eq!(reg.find(Venue::Binance, b"btcusdt"), Some(btc));
        assert_eq!(reg.find(Venue::Binance, b"ETHUSDT"), Some(eth));
        assert_eq!(reg.find(Venue::Binance, b"BTCUSD"), None);
        assert_eq!(
            reg.add(Venue::Binance, "btcusdt", 2, 5, Px(1), Qty(1)),
            Err(btc)
        );
        assert_eq!(reg.get(eth).unwrap().notional_scale(), 6);
        let perp = reg
            .add(Venue::BinanceUsdm, "BTCUSDT", 2, 3, Px(10), Qty(1))
            .unwrap();
        assert_eq!(perp, InstrumentId(2), "same symbol, another venue");
        assert_eq!(reg.find(Venue::BinanceUsdm, b"btcusdt"), Some(perp));
    }

    #[test]
    fn venue_names_round_trip() {
        for venue in Venue::ALL {
            assert_eq!(Venue::from_name(venue.name()), Some(venue));
        }
        assert_eq!(Venue::from_name("binance-usdm"), Some(Venue::BinanceUsdm));
        assert_eq!(Venue::from_name_bytes(b"binance"), Some(Venue::Binance));
        assert_eq!(Venue::from_name("kraken-v1"), Some(Venue::KrakenV1));
        assert_eq!(Venue::from_name("okx"), Some(Venue::Okx));
        assert_eq!(Venue::from_name("bybit-spot"), Some(Venue::BybitSpot));
        assert_eq!(Venue::from_name("bybit-linear"), Some(Venue::BybitLinear));
        assert_eq!(Venue::from_name("coinbase"), Some(Venue::Coinbase));
        assert_eq!(
            Venue::from_name("coinbase-exchange"),
            Some(Venue::CoinbaseExchange)
        );
        assert_eq!(Venue::from_name("binance-coinm"), None);
    }
}

#[cfg(test)]
mod display_name_tests {
    use super::*;
    use crate::num::{Px, Qty};

    #[test]
    fn one_venue_names_symbols_several_venues_name_venue_and_symbol() {
        let mut r = InstrumentRegistry::new();
        let spot = r
            .add(Venue::Binance, "BTCUSDT", 2, 8, Px(1), Qty(1))
            .unwrap();
        assert!(!r.spans_venues());
        assert_eq!(r.display_name(spot), "BTCUSDT");
        let perp = r
            .add(Venue::BinanceUsdm, "BTCUSDT", 1, 3, Px(1), Qty(1))
            .unwrap();
        assert!(r.spans_venues());
        assert_eq!(r.display_name(spot), "binance:BTCUSDT");
        assert_eq!(r.display_name(perp), "binance-usdm:BTCUSDT");
        assert_eq!(r.display_name(InstrumentId(9)), "9");
    }
}
