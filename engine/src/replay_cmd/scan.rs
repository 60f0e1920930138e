//! The instruments of a capture, found by reading it: the symbols of the Binance markets' and
//! Coinbase Exchange's lines and, from their prices, a tick each, at an exact wire precision;
//! Kraken's pairs at the decimals Kraken sends ([`super::kraken_scan`]); and OKX's `instId`s at
//! the precision their strings show ([`okx_scan`](super::okx_scan)), and Bybit's symbols and
//! Coinbase Advanced Trade's products likewise ([`bybit_scan`](super::bybit_scan),
//! [`coinbase_at_scan`](super::coinbase_at_scan)), and the instruments of Tardis CSV data too
//! ([`tardis_scan`](super::tardis_scan)).

use std::path::Path;

use anyhow::Context;
use pulse_feeds::binance::BinanceMarket;
use pulse_feeds::capture::{query_param, SourceKind};
use pulse_feeds::instrument::{InstrumentRegistry, Venue};
use pulse_feeds::num::{parse_decimal, Px, Qty};
use pulse_feeds::replay::RecordedInput;

use super::bybit_scan::bybit_strings;
use super::coinbase_at_scan::coinbase_at_strings;
use super::kraken_scan::{is_kraken, KrakenScan};
use super::okx_scan::{euclid, okx_strings, Scales, WireStrings};
use super::tardis_scan::tardis_strings;

/// The wire precision, used as both price and quantity scale for every instrument: Binance's,
/// and enough for Coinbase Exchange's (at most 8 decimals, `"0.00001305"`, `"0.00120000"`).
///
/// Exact, not approximate: Binance sends prices and quantities as decimal strings, spot always
/// with 8 fractional digits (`"0.00000637"`, `"66703.00000000"`), USD-M futures with the
/// symbol's own precision, fewer digits (BTCUSDT: `"61800.20"`, `"0.014"`). At scale 8
/// `parse_decimal` turns each string into an `i64` mantissa with no float and no rounding; a value
/// with more than 8 decimals, or too large for the mantissa (above 92,233,720,368.54775807), is
/// refused and counted as a decode error rather than rounded. Every value in the bundled captures
/// fits (none is refused), so every book level and ticker compared here is the venue's exact
/// number, and the ticker check is integer equality. Lot is 1 mantissa unit (a replay places no
/// orders); the tick, on which the book lays out its levels, is derived from the capture's own
/// prices by [`scan_instruments`].
pub const WIRE_SCALE: u32 = 8;
/// Instruments one replay takes at most: each costs about 1.8 MB of preallocated book and sync
/// buffers (1 MB of it the book's tick windows, whose untouched pages take no memory), so a
/// capture naming thousands of symbols is refused rather than exhausting memory.
pub const MAX_INSTRUMENTS: usize = 256;

/// Every (venue, symbol) a capture holds market data for: the `"s"` of its depth, trade and
/// ticker frames and the `symbol=` of its REST depth requests, in order of first appearance, at
/// [`WIRE_SCALE`]; and the `instId` of OKX's book, trade and ticker pushes, at the scales its
/// strings show ([`Scales`]). Lines this build cannot replay (other venues, malformed ones) are left to the
/// replay to count.
///
/// The capture does not say an instrument's tick, and the book lays its levels out by tick, so
/// each instrument's tick is the greatest common divisor of every price the capture carries for
/// it (depth levels, snapshot levels, ticker and trade prices): the venue's tick or a multiple of
/// it that every replayed price sits on. An instrument with no price gets a tick of 1.
pub fn scan_instruments(path: &Path) -> anyhow::Result<InstrumentRegistry> {
    let mut reader =
        RecordedInput::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    // (venue, symbol, scales and GCD of its prices so far; 0 before the first).
    let mut seen: Vec<(Venue, String, Scales)> = Vec::new();
    // Binance and Coinbase Exchange: both at the wire scale.
    let binance = Scales {
        price: WIRE_SCALE,
        qty: WIRE_SCALE,
        gcd: 0,
    };
    let mut kraken = KrakenScan::default();
    while let Some(record) = reader.next_record() {
        let record = match record {
            Ok(record) => record,
            Err(Ok(_malformed)) => continue,
            Err(Err(e)) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        if record.venue == pulse_feeds::tardis::SOURCE.as_bytes() {
            if let Some((venue, strings)) = tardis_strings(record.payload) {
                let others = kraken.pairs.len();
                let scales = Scales::default();
                let i = entry(&mut seen, others, venue, &strings.symbol, scales, path)?;
                seen[i].2.add(&strings);
            }
            continue;
        }
        let Some(venue) = Venue::from_name_bytes(record.venue) else {
            continue;
        };
        if is_kraken(venue) {
            kraken.observe(venue, record.kind, record.payload);
            anyhow::ensure!(
                seen.len() + kraken.pairs.len() <= MAX_INSTRUMENTS,
                "{}: more than {MAX_INSTRUMENTS} instruments",
                path.display()
            );
            continue;
        }
        if venue == Venue::Coinbase {
            if record.kind == SourceKind::Ws {
                for strings in coinbase_at_strings(record.payload) {
                    let others = kraken.pairs.len();
                    let symbol = strings.symbol.clone();
                    let i = entry(&mut seen, others, venue, &symbol, Scales::default(), path)?;
                    seen[i].2.add(&strings);
                }
            }
            continue;
        }
        let wire_strings = match venue {
            Venue::Okx => Some(okx_strings as fn(&[u8]) -> Option<WireStrings>),
            Venue::BybitSpot | Venue::BybitLinear => Some(bybit_strings as _),
            _ => None,
        };
        if let Some(strings_of) = wire_strings {
            if let Some(strings) =
                strings_of(record.payload).filter(|_| record.kind == SourceKind::Ws)
            {
                let others = kraken.pairs.len();
                let i = entry(
                    &mut seen,
                    others,
                    venue,
                    &strings.symbol,
                    Scales::default(),
                    path,
                )?;
                seen[i].2.add(&strings);
            }
            continue;
        }
        let is_binance = BinanceMarket::from_venue(venue).is_some();
        let found = match record.kind {
            SourceKind::Rest { path } if is_binance => query_param(path, b"symbol")
                .and_then(|s| std::str::from_utf8(s).ok())
                .map(|s| (s.to_owned(), serde_json::from_slice(record.payload).ok())),
            SourceKind::Ws if is_binance => {
                market_data(record.payload).map(|(s, data)| (s, Some(data)))
            }
            SourceKind::Ws if venue == Venue::CoinbaseExchange => {
                coinbase_data(record.payload).map(|(s, data)| (s, Some(data)))
            }
            _ => None,
        };
        let Some((symbol, data)) = found.filter(|(s, _)| !s.is_empty()) else {
            continue;
        };
        let symbol = symbol.to_ascii_uppercase();
        let i = entry(&mut seen, kraken.pairs.len(), venue, &symbol, binance, path)?;
        if let Some(data) = &data {
            seen[i].2.gcd = price_gcd(seen[i].2.gcd, data);
        }
    }
    let mut registry = InstrumentRegistry::new();
    for (venue, symbol, scales) in seen {
        let (tick, lot) = (Px(scales.gcd.max(1)), Qty(1));
        let _ = registry.add(venue, &symbol, scales.price, scales.qty, tick, lot);
    }
    for p in kraken.finish() {
        if let Some(venue) = p.venue {
            let (tick, lot) = (Px(p.prices().fold(0, euclid).max(1)), Qty(1));
            let _ = registry.add(venue, &p.symbol, p.price_scale, p.qty_scale, tick, lot);
        }
    }
    Ok(registry)
}

/// The index of (`venue`, `symbol`) in `seen`, added with `scales` if new (with `others`
/// instruments found besides `seen`, the whole stays within [`MAX_INSTRUMENTS`]).
fn entry(
    seen: &mut Vec<(Venue, String, Scales)>,
    others: usize,
    venue: Venue,
    symbol: &str,
    scales: Scales,
    path: &Path,
) -> anyhow::Result<usize> {
    if let Some(i) = seen
        .iter()
        .position(|(v, s, _)| *v == venue && *s == symbol)
    {
        return Ok(i);
    }
    anyhow::ensure!(
        seen.len() + others < MAX_INSTRUMENTS,
        "{}: more than {MAX_INSTRUMENTS} instruments",
        path.display()
    );
    seen.push((venue, symbol.to_owned(), scales));
    Ok(seen.len() - 1)
}

/// The `"s"` of a depth, trade or ticker frame (plain or combined-stream), with its data object.
fn market_data(payload: &[u8]) -> Option<(String, serde_json::Value)> {
    let mut root: serde_json::Value = serde_json::from_slice(payload).ok()?;
    let data = if root.get("stream").is_some() && root.get("data").is_some() {
        root["data"].take()
    } else {
        root
    };
    let is_market_data = match data.get("e").and_then(|e| e.as_str()) {
        Some(e) => matches!(e, "depthUpdate" | "trade" | "aggTrade" | "bookTicker"),
        // Spot bookTicker frames carry no "e".
        None => data.get("u").is_some() && data.get("b").is_some(),
    };
    if !is_market_data {
        return None;
    }
    let symbol = data.get("s")?.as_str()?.to_owned();
    Some((symbol, data))
}

/// The `product_id` of a Coinbase Exchange book, ticker or trade frame, with the frame.
fn coinbase_data(payload: &[u8]) -> Option<(String, serde_json::Value)> {
    let data: serde_json::Value = serde_json::from_slice(payload).ok()?;
    let kind = data.get("type")?.as_str()?;
    if !matches!(kind, "snapshot" | "l2update" | "ticker" | "match") {
        return None;
    }
    let product = data.get("product_id")?.as_str()?.to_owned();
    Some((product, data))
}

/// `gcd` folded with every positive price in `data` at [`WIRE_SCALE`]: the price element of each
/// level of `b`, `a`, `bids` and `asks` (Binance, Coinbase snapshots) and `changes` (Coinbase
/// updates: `[side, price, size]`), and the `b`, `a`, `best_bid`, `best_ask` (tickers), `p` and
/// `price` (trades) strings. Prices that do not parse are left to the replay to refuse and count.
fn price_gcd(mut gcd: i64, data: &serde_json::Value) -> i64 {
    use serde_json::Value;
    let mut fold = |px: &str| {
        if let Ok(m) = parse_decimal(px.as_bytes(), WIRE_SCALE) {
            if m > 0 {
                gcd = euclid(gcd, m);
            }
        }
    };
    for key in [
        "b", "a", "bids", "asks", "changes", "p", "price", "best_bid", "best_ask",
    ] {
        let at = usize::from(key == "changes");
        match data.get(key) {
            Some(Value::String(px)) => fold(px),
            Some(Value::Array(levels)) => levels
                .iter()
                .filter_map(|level| level.get(at)?.as_str())
                .for_each(&mut fold),
            _ => {}
        }
    }
    gcd
}
