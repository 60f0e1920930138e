//! Bybit v5 public market data frames -> exact integers.
//!
//! simd-json in its allocation-free mode ([`TapeDecoder`], as every venue's codec): the tape is
//! walked straight into [`Px`]/[`Qty`] mantissas at the instrument's scales. After the largest
//! frame has been seen, decoding allocates nothing. Frames:
//! - `{"topic":"orderbook.50.BTCUSDT","type":"snapshot"|"delta","ts":..,"data":{"s":..,
//!   "b":[[px,size],..],"a":[[px,size],..],"u":..,"seq":..},"cts":..}`;
//! - `{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":..,"data":[{"T":..,"s":..,
//!   "S":"Buy"|"Sell","v":size,"p":px,"i":tradeId,..},..]}`;
//! - `{"topic":"tickers.BTCUSDT","type":"snapshot"|"delta","data":{"symbol":..,"bid1Price":..,
//!   "bid1Size":..,"ask1Price":..,"ask1Size":..,..},"cs":..,"ts":..}` (linear; spot tickers carry
//!   no best bid/ask);
//! - replies to the client's ops: `{"success":true|false,"ret_msg":..,"op":"subscribe"|"ping"..}`
//!   and spot's pong, `{"op":"pong","args":[..],..}`.

use simd_json::prelude::*;
use simd_json::tape::Value;

pub use crate::decode_error::DecodeError;
use crate::instrument::{Instrument, InstrumentRegistry, Venue};
use crate::json_tape::{decimal, push_pairs, str_field, u64_field, TapeDecoder};
use crate::levels::LevelUpdate;
use crate::num::{InstrumentId, Px, Qty, Side};

/// The most price levels one `orderbook` frame may carry (both sides together): Bybit's deepest
/// book is 1000 a side; anything above is refused as hostile.
pub const MAX_LEVELS_PER_MESSAGE: usize = 2_000;
/// The most trades one `publicTrade` frame may carry (Bybit pushes one or a few per frame).
pub const MAX_TRADES_PER_MESSAGE: usize = 1_024;

/// How an `orderbook` frame relates to the book (`"type"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BookKind {
    /// The whole book of the topic's depth: replaces the local book.
    Snapshot,
    /// Changes to apply: size `"0"` deletes.
    Delta,
}

/// One trade of a `publicTrade` frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BybitTrade {
    /// `"i"`: a decimal number on spot, a UUID on linear (its first 16 hex digits then).
    pub trade_id: u64,
    pub px: Px,
    pub qty: Qty,
    /// The taker's side (`"S"`).
    pub aggressor: Side,
}

/// The best bid/ask fields a `tickers` frame carried; each absent from a delta that did not
/// change it, and from every spot ticker.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TickerFields {
    pub bid_px: Option<Px>,
    pub bid_qty: Option<Qty>,
    pub ask_px: Option<Px>,
    pub ask_qty: Option<Qty>,
}

/// What a frame was. Book levels are in [`BybitCodec::levels`], trades in
/// [`BybitCodec::trades`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decoded {
    Book {
        instrument: InstrumentId,
        kind: BookKind,
        /// The topic's depth (`orderbook.{depth}.{symbol}`).
        depth: u16,
        /// `data.u`, the book's update id.
        update_id: u64,
        /// `data.seq`, the matching engine's cross sequence (0 when absent).
        seq: u64,
        /// `ts`, the venue's time in milliseconds.
        ts: u64,
    },
    Trades {
        instrument: InstrumentId,
    },
    Ticker {
        instrument: InstrumentId,
        fields: TickerFields,
    },
    /// A well-formed frame that carries no market data: a subscription ack, a pong.
    Control,
    /// A reply with `"success":false` (a refused subscription, say).
    Error,
}

pub struct BybitCodec {
    pub(super) venue: Venue,
    tape: TapeDecoder,
    pub(super) levels: Vec<LevelUpdate>,
    trades: Vec<BybitTrade>,
}

impl BybitCodec {
    /// A codec of the market of `venue` (its symbols are looked up under that venue).
    pub fn new(venue: Venue) -> BybitCodec {
        BybitCodec {
            venue,
            tape: TapeDecoder::new(1 << 16),
            levels: Vec::with_capacity(MAX_LEVELS_PER_MESSAGE),
            trades: Vec::with_capacity(MAX_TRADES_PER_MESSAGE),
        }
    }

    /// The levels of the last `Book` decoded: bids then asks, each in message order.
    pub fn levels(&self) -> &[LevelUpdate] {
        &self.levels
    }

    /// The trades of the last `Trades` decoded, in message order.
    pub fn trades(&self) -> &[BybitTrade] {
        &self.trades
    }

    /// The general path: the frame through simd-json's tape.
    pub fn decode_tape(
        &mut self,
        registry: &InstrumentRegistry,
        frame: &[u8],
    ) -> Result<Decoded, DecodeError> {
        self.levels.clear();
        self.trades.clear();
        let venue = self.venue;
        let (levels, trades) = (&mut self.levels, &mut self.trades);
        self.tape
            .decode(frame, |root| walk(venue, registry, root, levels, trades))
    }
}

fn walk(
    venue: Venue,
    registry: &InstrumentRegistry,
    root: Value<'_, '_>,
    levels: &mut Vec<LevelUpdate>,
    trades: &mut Vec<BybitTrade>,
) -> Result<Decoded, DecodeError> {
    if root.as_object().is_none() {
        return Err(DecodeError::NotAnObject);
    }
    let Some(topic) = root.get("topic") else {
        return reply(root);
    };
    let topic = topic.into_string().ok_or(DecodeError::WrongType("topic"))?;
    let (channel, rest) = topic
        .split_once('.')
        .ok_or(DecodeError::WrongType("topic"))?;
    let (depth, symbol) = match channel {
        "orderbook" => {
            let (depth, symbol) = rest
                .split_once('.')
                .ok_or(DecodeError::WrongType("topic"))?;
            let depth = depth
                .parse::<u16>()
                .map_err(|_| DecodeError::WrongType("topic"))?;
            (depth, symbol)
        }
        "publicTrade" | "tickers" => (0, rest),
        _ => return Err(DecodeError::UnknownEvent),
    };
    let inst = registry
        .find(venue, symbol.as_bytes())
        .and_then(|id| registry.get(id))
        .ok_or(DecodeError::UnknownSymbol)?;
    let data = root.get("data").ok_or(DecodeError::MissingField("data"))?;
    match channel {
        "orderbook" => {
            let kind = match str_field(root, "type")? {
                "snapshot" => BookKind::Snapshot,
                "delta" => BookKind::Delta,
                _ => return Err(DecodeError::WrongType("type")),
            };
            if data.as_object().is_none() {
                return Err(DecodeError::WrongType("data"));
            }
            if !str_field(data, "s")?.eq_ignore_ascii_case(symbol) {
                return Err(DecodeError::WrongType("s"));
            }
            push_pairs(inst, data, "b", Side::Buy, levels, MAX_LEVELS_PER_MESSAGE)?;
            push_pairs(inst, data, "a", Side::Sell, levels, MAX_LEVELS_PER_MESSAGE)?;
            // A price is positive and a size not negative: anything else is no book level.
            // (`as_slice`: the prelude's `Array::iter` on a `Vec` would box its iterator.)
            if levels.as_slice().iter().any(|l| l.px.0 <= 0 || l.qty.0 < 0) {
                return Err(DecodeError::WrongType("b"));
            }
            let seq = match data.get("seq") {
                None => 0,
                Some(v) => v.as_u64().ok_or(DecodeError::WrongType("seq"))?,
            };
            Ok(Decoded::Book {
                instrument: inst.id,
                kind,
                depth,
                update_id: u64_field(data, "u")?,
                seq,
                ts: u64_field(root, "ts")?,
            })
        }
        "publicTrade" => {
            let data = data.as_array().ok_or(DecodeError::WrongType("data"))?;
            for item in data.iter() {
                if trades.len() == MAX_TRADES_PER_MESSAGE {
                    return Err(DecodeError::TooManyLevels);
                }
                trades.push(trade(inst, item)?);
            }
            Ok(Decoded::Trades {
                instrument: inst.id,
            })
        }
        _ => {
            if data.as_object().is_none() {
                return Err(DecodeError::WrongType("data"));
            }
            let (ps, qs) = (inst.price_scale, inst.qty_scale);
            Ok(Decoded::Ticker {
                instrument: inst.id,
                fields: TickerFields {
                    bid_px: opt_decimal(data, "bid1Price", ps)?.map(Px),
                    bid_qty: opt_decimal(data, "bid1Size", qs)?.map(Qty),
                    ask_px: opt_decimal(data, "ask1Price", ps)?.map(Px),
                    ask_qty: opt_decimal(data, "ask1Size", qs)?.map(Qty),
                },
            })
        }
    }
}

/// A reply to one of the client's ops: an ack, a pong, or a refusal (`"success":false`).
fn reply(root: Value<'_, '_>) -> Result<Decoded, DecodeError> {
    let op = str_field(root, "op")?;
    match root.get("success") {
        Some(success) => match success.as_bool() {
            Some(true) => Ok(Decoded::Control),
            Some(false) => Ok(Decoded::Error),
            None => Err(DecodeError::WrongType("success")),
        },
        // Spot answers `{"op":"ping"}` with `{"op":"pong","args":[..]}`, no `success`.
        None if op == "pong" => Ok(Decoded::Control),
        None => Err(DecodeError::MissingField("success")),
    }
}

fn trade(inst: &Instrument, item: Value<'_, '_>) -> Result<BybitTrade, DecodeError> {
    let aggressor = match str_field(item, "S")? {
        "Buy" => Side::Buy,
        "Sell" => Side::Sell,
        _ => return Err(DecodeError::WrongType("S")),
    };
    Ok(BybitTrade {
        trade_id: trade_id(str_field(item, "i")?).ok_or(DecodeError::WrongType("i"))?,
        px: Px(decimal(str_field(item, "p")?, "p", inst.price_scale)?),
        qty: Qty(decimal(str_field(item, "v")?, "v", inst.qty_scale)?),
        aggressor,
    })
}

/// A trade id as a number: spot's decimal ids as they are, linear's UUIDs by their first 16
/// hex digits (the dashes skipped), which is unique enough to tell trades apart in a log.
pub fn trade_id(text: &str) -> Option<u64> {
    if let Ok(id) = text.parse::<u64>() {
        return Some(id);
    }
    let mut id = 0u64;
    let mut digits = 0;
    for c in text.bytes() {
        if c == b'-' {
            continue;
        }
        let d = (c as char).to_digit(16)?;
        if digits < 16 {
            id = id << 4 | u64::from(d);
            digits += 1;
        }
    }
    (digits == 16).then_some(id)
}

fn opt_decimal(
    data: Value<'_, '_>,
    key: &'static str,
    scale: u32,
) -> Result<Option<i64>, DecodeError> {
    match data.get(key) {
        None => Ok(None),
        Some(v) => {
            let text = v.into_string().ok_or(DecodeError::WrongType(key))?;
            // A ticker of an empty side sends `""`: no value.
            if text.is_empty() {
                return Ok(None);
            }
            decimal(text, key, scale).map(Some)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trade_ids_of_both_markets() {
        assert_eq!(trade_id("2290000000061666327"), Some(2290000000061666327));
        assert_eq!(
            trade_id("20f43950-d8dd-5b31-9112-a178eb6023af"),
            Some(0x20f4_3950_d8dd_5b31)
        );
        assert_eq!(trade_id("xyz"), None);
        assert_eq!(trade_id("20f4"), None);
    }
}
