//! The Kraken pairs of a capture, at the decimals the venue sends them with.
//!
//! - v1 (`kraken-v1`): prices and volumes are decimal strings written with the pair's own
//!   decimals (`"13.284500"`, `"1396.00000000"`; every string of a pair has the same count in
//!   the bundled capture), so a pair's scales are the most decimals its strings carry. Those
//!   are also the decimals Kraken's checksum is computed with.
//! - v2 (`kraken`): the `instrument` channel's `price_precision` and `qty_precision` when the
//!   capture holds them (a live session subscribes to it first); otherwise, as an estimate, the
//!   most decimals of the pair's JSON numbers (a number drops trailing zeros, so an estimate
//!   can fall short of the venue's decimals, and the checksums then fail: record the
//!   `instrument` channel).
//!
//! Each pair's tick is the greatest common divisor of its prices at its scale ([`Pair::prices`],
//! folded by the scan).

use pulse_feeds::capture::SourceKind;
use pulse_feeds::instrument::Venue;
use pulse_feeds::num::parse_decimal;
use serde_json::Value;

#[derive(Debug, Default)]
pub struct Pair {
    pub venue: Option<Venue>,
    pub symbol: String,
    pub price_scale: u32,
    pub qty_scale: u32,
    prices: Vec<String>,
}

impl Pair {
    /// Every positive price seen, as a mantissa at the price scale.
    pub fn prices(&self) -> impl Iterator<Item = i64> + '_ {
        self.prices
            .iter()
            .filter_map(|p| parse_decimal(p.as_bytes(), self.price_scale).ok())
            .filter(|&m| m > 0)
    }
}

/// Whether `venue` is one of Kraken's.
pub fn is_kraken(venue: Venue) -> bool {
    matches!(venue, Venue::Kraken | Venue::KrakenV1)
}

/// What a scan has seen of Kraken's pairs so far.
#[derive(Debug, Default)]
pub struct KrakenScan {
    /// In order of first appearance.
    pub pairs: Vec<Pair>,
    /// The `instrument` channel's (symbol, price decimals, qty decimals), latest last.
    declared: Vec<(String, u32, u32)>,
}

impl KrakenScan {
    /// Notes what one Kraken line says about its pairs.
    pub fn observe(&mut self, venue: Venue, kind: SourceKind<'_>, payload: &[u8]) {
        if kind != SourceKind::Ws {
            return;
        }
        let Ok(frame) = serde_json::from_slice::<Value>(payload) else {
            return;
        };
        match venue {
            Venue::KrakenV1 => v1_book(&mut self.pairs, &frame),
            _ => v2_frame(self, &frame),
        }
    }

    /// The pairs, with the decimals the `instrument` channel declared where it did.
    pub fn finish(mut self) -> Vec<Pair> {
        for (symbol, px, qty) in &self.declared {
            for p in &mut self.pairs {
                if p.venue == Some(Venue::Kraken) && p.symbol == *symbol {
                    (p.price_scale, p.qty_scale) = (*px, *qty);
                }
            }
        }
        self.pairs
    }
}

fn pair<'p>(pairs: &'p mut Vec<Pair>, venue: Venue, symbol: &str) -> &'p mut Pair {
    let i = match pairs
        .iter()
        .position(|p| p.venue == Some(venue) && p.symbol == symbol)
    {
        Some(i) => i,
        None => {
            pairs.push(Pair {
                venue: Some(venue),
                symbol: symbol.to_owned(),
                ..Pair::default()
            });
            pairs.len() - 1
        }
    };
    &mut pairs[i]
}

/// Decimals of a number's text: those after the point, less a positive exponent's, plus a
/// negative one's (`5.325e-05` has 8).
pub fn decimals(text: &str) -> u32 {
    let (mantissa, exp) = match text.find(['e', 'E']) {
        Some(i) => (&text[..i], text[i + 1..].parse::<i64>().unwrap_or(0)),
        None => (text, 0),
    };
    let frac = mantissa.split_once('.').map_or(0, |(_, f)| f.len() as i64);
    (frac - exp).clamp(0, i64::from(pulse_feeds::num::MAX_SCALE)) as u32
}

fn note(p: &mut Pair, px: &str, qty: &str) {
    p.price_scale = p.price_scale.max(decimals(px));
    p.qty_scale = p.qty_scale.max(decimals(qty));
    p.prices.push(px.to_owned());
}

/// `[channelID, {"as"|"bs"|"a"|"b": [[price, volume, ts], ..]}, .., "book-N", "PAIR"]`.
fn v1_book(pairs: &mut Vec<Pair>, frame: &Value) {
    let Some(items) = frame.as_array() else {
        return;
    };
    let (Some(Value::String(channel)), Some(Value::String(symbol))) =
        (items.get(items.len().wrapping_sub(2)), items.last())
    else {
        return;
    };
    if !channel.starts_with("book-") {
        return;
    }
    let p = pair(pairs, Venue::KrakenV1, symbol);
    for object in items.iter().filter_map(Value::as_object) {
        for key in ["as", "bs", "a", "b"] {
            for level in object
                .get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let (Some(px), Some(qty)) = (
                    level.get(0).and_then(Value::as_str),
                    level.get(1).and_then(Value::as_str),
                ) {
                    note(p, px, qty);
                }
            }
        }
    }
}

/// A v2 `book` frame's levels, or the `instrument` channel's pairs.
fn v2_frame(scan: &mut KrakenScan, frame: &Value) {
    let number = |v: &Value| match v {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(s.clone()),
        _ => None,
    };
    match frame.get("channel").and_then(Value::as_str) {
        Some("instrument") => {
            let listed = frame.pointer("/data/pairs").and_then(Value::as_array);
            for entry in listed.into_iter().flatten() {
                let (Some(symbol), Some(px), Some(qty)) = (
                    entry.get("symbol").and_then(Value::as_str),
                    entry.get("price_precision").and_then(Value::as_u64),
                    entry.get("qty_precision").and_then(Value::as_u64),
                ) else {
                    continue;
                };
                let max = u64::from(pulse_feeds::num::MAX_SCALE);
                if px <= max && qty <= max {
                    scan.declared
                        .push((symbol.to_owned(), px as u32, qty as u32));
                }
            }
        }
        Some("book") => {
            for entry in frame
                .get("data")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let Some(symbol) = entry.get("symbol").and_then(Value::as_str) else {
                    continue;
                };
                let p = pair(&mut scan.pairs, Venue::Kraken, symbol);
                for key in ["bids", "asks"] {
                    for level in entry
                        .get(key)
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                    {
                        if let (Some(px), Some(qty)) = (
                            level.get("price").and_then(number),
                            level.get("qty").and_then(number),
                        ) {
                            note(p, &px, &qty);
                        }
                    }
                }
            }
        }
        _ => {}
    }
}
