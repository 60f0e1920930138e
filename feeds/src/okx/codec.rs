//! OKX v5 public market data frames -> exact integers, keeping each book level's wire strings.
//!
//! simd-json in its allocation-free mode ([`TapeDecoder`], as every venue's codec): the tape is
//! walked straight into [`Px`]/[`Qty`] mantissas at the instrument's scales. After the largest frame has been seen,
//! decoding allocates nothing. Frames:
//! - `{"arg":{"channel":"books"|"books5"|"bbo-tbt"|..,"instId":..},"action":..,"data":[{"asks":
//!   [[px,sz,"0",orders],..],"bids":..,"ts":..,"checksum":..,"seqId":..,"prevSeqId":..}]}`;
//! - `{"arg":{"channel":"trades",..},"data":[{"tradeId":..,"px":..,"sz":..,"side":..},..]}`;
//! - `{"arg":{"channel":"tickers",..},"data":[{"bidPx":..,"bidSz":..,"askPx":..,"askSz":..}]}`;
//! - `{"event":"subscribe"|"unsubscribe"|"error",..}` replies and the text `pong`.

use simd_json::prelude::*;
use simd_json::tape::Value;

pub use crate::decode_error::DecodeError;
use crate::event::Level;
use crate::instrument::{Instrument, InstrumentRegistry, Venue};
use crate::json_tape::TapeDecoder;
use crate::num::{parse_decimal, DecimalError, Px, Qty, Side};
pub use crate::okx::frame::{
    BookAction, Decoded, OkxLevel, OkxTrade, Wire, MAX_LEVELS_PER_MESSAGE, MAX_TRADES_PER_MESSAGE,
};

pub struct OkxCodec {
    tape: TapeDecoder,
    levels: Vec<OkxLevel>,
    trades: Vec<OkxTrade>,
}

impl Default for OkxCodec {
    fn default() -> Self {
        Self::new()
    }
}

impl OkxCodec {
    pub fn new() -> OkxCodec {
        OkxCodec {
            tape: TapeDecoder::new(1 << 16),
            levels: Vec::with_capacity(MAX_LEVELS_PER_MESSAGE),
            trades: Vec::with_capacity(MAX_TRADES_PER_MESSAGE),
        }
    }

    /// The levels of the last `Book` decoded: bids then asks, each in message order.
    pub fn levels(&self) -> &[OkxLevel] {
        &self.levels
    }

    /// The trades of the last `Trades` decoded, in message order.
    pub fn trades(&self) -> &[OkxTrade] {
        &self.trades
    }

    /// Decodes one WebSocket frame of OKX's public channels: book and ticker pushes in OKX's
    /// own layout take the fixed-layout scanners ([`super::scan`]); every other frame, and any that
    /// departs from it, the tape.
    #[inline]
    pub fn decode_ws(
        &mut self,
        registry: &InstrumentRegistry,
        frame: &[u8],
    ) -> Result<Decoded, DecodeError> {
        let scanned = super::scan::scan_books(registry, frame, &mut self.levels)
            .or_else(|| super::scan::scan_tickers(registry, frame));
        match scanned {
            Some(decoded) => Ok(decoded),
            None => self.decode_tape(registry, frame),
        }
    }

    /// The general path: the frame through simd-json's tape.
    pub fn decode_tape(
        &mut self,
        registry: &InstrumentRegistry,
        frame: &[u8],
    ) -> Result<Decoded, DecodeError> {
        if frame == b"pong" {
            return Ok(Decoded::Control);
        }
        self.levels.clear();
        self.trades.clear();
        let (levels, trades) = (&mut self.levels, &mut self.trades);
        self.tape
            .decode(frame, |root| walk(registry, root, levels, trades))
    }
}

fn walk(
    registry: &InstrumentRegistry,
    root: Value<'_, '_>,
    levels: &mut Vec<OkxLevel>,
    trades: &mut Vec<OkxTrade>,
) -> Result<Decoded, DecodeError> {
    if root.as_object().is_none() {
        return Err(DecodeError::NotAnObject);
    }
    if let Some(event) = root.get("event") {
        return match event.into_string() {
            Some("error") => Ok(Decoded::Error),
            Some(_) => Ok(Decoded::Control),
            None => Err(DecodeError::WrongType("event")),
        };
    }
    let arg = root.get("arg").ok_or(DecodeError::MissingField("arg"))?;
    let channel = str_field(arg, "channel")?;
    let inst_id = str_field(arg, "instId")?;
    let inst = registry
        .find(Venue::Okx, inst_id.as_bytes())
        .and_then(|id| registry.get(id))
        .ok_or(DecodeError::UnknownSymbol)?;
    let data = root
        .get("data")
        .ok_or(DecodeError::MissingField("data"))?
        .as_array()
        .ok_or(DecodeError::WrongType("data"))?;
    match channel {
        "trades" => {
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
        "tickers" => {
            let item = data.get(0).ok_or(DecodeError::MissingField("data"))?;
            let (ps, qs) = (inst.price_scale, inst.qty_scale);
            Ok(Decoded::Ticker {
                instrument: inst.id,
                bid: Level {
                    px: Px(decimal_field(item, "bidPx", ps)?),
                    qty: Qty(decimal_field(item, "bidSz", qs)?),
                },
                ask: Level {
                    px: Px(decimal_field(item, "askPx", ps)?),
                    qty: Qty(decimal_field(item, "askSz", qs)?),
                },
            })
        }
        _ if channel.starts_with("books") || channel == "bbo-tbt" => {
            let action = match root.get("action").map(|a| a.into_string()) {
                None => BookAction::Whole,
                Some(Some("snapshot")) => BookAction::Snapshot,
                Some(Some("update")) => BookAction::Update,
                Some(_) => return Err(DecodeError::WrongType("action")),
            };
            // OKX sends one book per frame; a second would be another state of the same book.
            if data.len() != 1 {
                return Err(DecodeError::WrongType("data"));
            }
            let item = data.get(0).ok_or(DecodeError::MissingField("data"))?;
            push_levels(inst, item, "bids", Side::Buy, levels)?;
            push_levels(inst, item, "asks", Side::Sell, levels)?;
            let checksum = match item.get("checksum") {
                None => 0,
                Some(v) => v
                    .as_i64()
                    .and_then(|c| i32::try_from(c).ok())
                    .ok_or(DecodeError::WrongType("checksum"))?,
            };
            Ok(Decoded::Book {
                instrument: inst.id,
                action,
                seq_id: opt_i64(item, "seqId")?,
                prev_seq_id: opt_i64(item, "prevSeqId")?,
                checksum,
                ts: ts_field(item)?,
            })
        }
        _ => Err(DecodeError::UnknownEvent),
    }
}

fn trade(inst: &Instrument, item: Value<'_, '_>) -> Result<OkxTrade, DecodeError> {
    let aggressor = match str_field(item, "side")? {
        "buy" => Side::Buy,
        "sell" => Side::Sell,
        _ => return Err(DecodeError::WrongType("side")),
    };
    let trade_id = str_field(item, "tradeId")?
        .parse::<u64>()
        .map_err(|_| DecodeError::WrongType("tradeId"))?;
    Ok(OkxTrade {
        trade_id,
        px: Px(decimal_field(item, "px", inst.price_scale)?),
        qty: Qty(decimal_field(item, "sz", inst.qty_scale)?),
        aggressor,
    })
}

fn push_levels(
    inst: &Instrument,
    item: Value<'_, '_>,
    key: &'static str,
    side: Side,
    levels: &mut Vec<OkxLevel>,
) -> Result<(), DecodeError> {
    let array = item
        .get(key)
        .ok_or(DecodeError::MissingField(key))?
        .as_array()
        .ok_or(DecodeError::WrongType(key))?;
    for level in array.iter() {
        let level = level.as_array().ok_or(DecodeError::WrongType(key))?;
        // [price, size, liquidated orders (deprecated, "0"), orders]: the first two matter.
        let (Some(px), Some(qty), 2..=4) = (level.get(0), level.get(1), level.len()) else {
            return Err(DecodeError::WrongType(key));
        };
        let px = px.into_string().ok_or(DecodeError::WrongType(key))?;
        let qty = qty.into_string().ok_or(DecodeError::WrongType(key))?;
        if levels.len() == MAX_LEVELS_PER_MESSAGE {
            return Err(DecodeError::TooManyLevels);
        }
        let wire = |s: &str| Wire::new(s.as_bytes()).ok_or(DecimalError::Overflow);
        let decimal = |s: &str, scale| parse_decimal(s.as_bytes(), scale);
        let parsed = (|| {
            Ok::<_, DecimalError>(OkxLevel {
                side,
                px: Px(decimal(px, inst.price_scale)?),
                qty: Qty(decimal(qty, inst.qty_scale)?),
                px_text: wire(px)?,
                qty_text: wire(qty)?,
            })
        })();
        let level = parsed.map_err(|e| DecodeError::Decimal(key, e))?;
        // A price is positive and a size not negative: anything else is no book level.
        if level.px.0 <= 0 || level.qty.0 < 0 {
            return Err(DecodeError::WrongType(key));
        }
        levels.push(level);
    }
    Ok(())
}

fn str_field<'t, 'i>(data: Value<'t, 'i>, key: &'static str) -> Result<&'i str, DecodeError> {
    data.get(key)
        .ok_or(DecodeError::MissingField(key))?
        .into_string()
        .ok_or(DecodeError::WrongType(key))
}

fn opt_i64(data: Value<'_, '_>, key: &'static str) -> Result<Option<i64>, DecodeError> {
    data.get(key)
        .map(|v| v.as_i64().ok_or(DecodeError::WrongType(key)))
        .transpose()
}

/// `ts`: milliseconds as a decimal string (OKX's convention for times).
fn ts_field(data: Value<'_, '_>) -> Result<u64, DecodeError> {
    str_field(data, "ts")?
        .parse::<u64>()
        .map_err(|_| DecodeError::WrongType("ts"))
}

fn decimal_field(data: Value<'_, '_>, key: &'static str, scale: u32) -> Result<i64, DecodeError> {
    parse_decimal(str_field(data, key)?.as_bytes(), scale).map_err(|e| DecodeError::Decimal(key, e))
}
