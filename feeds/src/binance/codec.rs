//! Binance market data frames → exact integers.
//!
//! simd-json in its allocation-free mode ([`TapeDecoder`]): the tape is walked straight into
//! [`Px`]/[`Qty`] mantissas. After the largest frame has been seen, decoding allocates nothing. Handles combined-stream frames (`{"stream":..,"data":..}`) and single streams:
//! `depthUpdate` (spot `U`/`u`, futures also `pu`), `trade`, `aggTrade`, `bookTicker` (spot
//! frames carry no `"e"`, futures ones `"e":"bookTicker"`), and the REST depth snapshot body.
//!
//! Frames in Binance's exact layouts skip the tape: [`scan`] reads them once, left to right, and
//! hands anything else to the tape path, whose answers it must reproduce exactly.
//!
//! One codec serves one [`BinanceMarket`]: symbols are looked up under that market's venue, and
//! a futures depth diff without `pu` is refused (its sync cannot check continuity without it).

use simd_json::prelude::*;
use simd_json::tape::Value;

pub use crate::binance::frame::{Decoded, LevelUpdate, MAX_LEVELS_PER_MESSAGE};
use crate::binance::market::BinanceMarket;
use crate::binance::scan;
use crate::book::Level;
pub use crate::decode_error::DecodeError;
use crate::instrument::{Instrument, InstrumentRegistry, Venue};
use crate::json_tape::{decimal_field, push_pairs, str_field, u64_field, TapeDecoder};
use crate::num::{Px, Qty, Side};

pub struct BinanceCodec {
    market: BinanceMarket,
    tape: TapeDecoder,
    levels: Vec<LevelUpdate>,
}

impl Default for BinanceCodec {
    fn default() -> Self {
        Self::new()
    }
}

impl BinanceCodec {
    /// A spot codec.
    pub fn new() -> BinanceCodec {
        BinanceCodec::for_market(BinanceMarket::Spot)
    }

    pub fn for_market(market: BinanceMarket) -> BinanceCodec {
        BinanceCodec {
            market,
            tape: TapeDecoder::new(1 << 16),
            levels: Vec::with_capacity(MAX_LEVELS_PER_MESSAGE),
        }
    }

    /// The levels of the last `Depth` or `Snapshot` decoded, bids then asks, in message order.
    pub fn levels(&self) -> &[LevelUpdate] {
        &self.levels
    }

    /// Decodes a WebSocket market data frame.
    ///
    /// Frames in Binance's own layouts take the [`scan`] fast path; any other frame, and any
    /// frame that does not decode, is left to [`BinanceCodec::decode_ws_tape`], so the result
    /// (errors included) is always the tape path's.
    pub fn decode_ws(
        &mut self,
        registry: &InstrumentRegistry,
        frame: &[u8],
    ) -> Result<Decoded, DecodeError> {
        match scan::scan_ws(registry, self.market, frame, &mut self.levels) {
            Some(decoded) => Ok(decoded),
            None => self.decode_ws_tape(registry, frame),
        }
    }

    /// Decodes a WebSocket frame through simd-json's tape alone: the general path behind
    /// [`BinanceCodec::decode_ws`], public so that tests and benches can hold the fast path to it.
    pub fn decode_ws_tape(
        &mut self,
        registry: &InstrumentRegistry,
        frame: &[u8],
    ) -> Result<Decoded, DecodeError> {
        let (venue, futures) = (
            self.market.venue(),
            self.market == BinanceMarket::UsdmFutures,
        );
        self.decode(frame, |root, levels| {
            let data = match root.get("data") {
                Some(data) if root.contains_key("stream") => data,
                _ => root,
            };
            if data.as_object().is_none() {
                return Err(DecodeError::NotAnObject);
            }
            match data.get("e").map(|e| e.into_string()) {
                Some(Some("depthUpdate")) => depth(registry, venue, futures, data, levels),
                Some(Some("trade")) => trade(registry, venue, data, "t"),
                Some(Some("aggTrade")) => trade(registry, venue, data, "a"),
                Some(Some("bookTicker")) => ticker(registry, venue, data),
                Some(_) => Err(DecodeError::UnknownEvent),
                // Spot bookTicker frames carry no "e"; a subscription reply has "result" and "id".
                None if data.contains_key("u") && data.contains_key("b") => {
                    ticker(registry, venue, data)
                }
                None if data.contains_key("result") && data.contains_key("id") => {
                    Ok(Decoded::Control)
                }
                None => Err(DecodeError::UnknownEvent),
            }
        })
    }

    /// Decodes a REST depth body (spot `/api/v3/depth`, futures `/fapi/v1/depth`; a spot partial
    /// depth stream payload has the same shape). The body does not name its symbol, the request
    /// does.
    pub fn decode_rest_depth(
        &mut self,
        registry: &InstrumentRegistry,
        symbol: &[u8],
        body: &[u8],
    ) -> Result<Decoded, DecodeError> {
        let venue = self.market.venue();
        self.decode(body, |root, levels| {
            if root.as_object().is_none() {
                return Err(DecodeError::NotAnObject);
            }
            let inst = registry
                .find(venue, symbol)
                .and_then(|id| registry.get(id))
                .ok_or(DecodeError::UnknownSymbol)?;
            let last_update_id = u64_field(root, "lastUpdateId")?;
            push_levels(inst, root, "bids", Side::Buy, levels)?;
            push_levels(inst, root, "asks", Side::Sell, levels)?;
            Ok(Decoded::Snapshot {
                instrument: inst.id,
                last_update_id,
            })
        })
    }

    fn decode(
        &mut self,
        frame: &[u8],
        walk: impl FnOnce(Value<'_, '_>, &mut Vec<LevelUpdate>) -> Result<Decoded, DecodeError>,
    ) -> Result<Decoded, DecodeError> {
        self.levels.clear();
        let levels = &mut self.levels;
        self.tape.decode(frame, |root| walk(root, levels))
    }
}

fn instrument<'r>(
    registry: &'r InstrumentRegistry,
    venue: Venue,
    data: Value<'_, '_>,
) -> Result<&'r Instrument, DecodeError> {
    let symbol = str_field(data, "s")?;
    registry
        .find(venue, symbol.as_bytes())
        .and_then(|id| registry.get(id))
        .ok_or(DecodeError::UnknownSymbol)
}

fn depth(
    registry: &InstrumentRegistry,
    venue: Venue,
    futures: bool,
    data: Value<'_, '_>,
    levels: &mut Vec<LevelUpdate>,
) -> Result<Decoded, DecodeError> {
    let inst = instrument(registry, venue, data)?;
    let first_id = u64_field(data, "U")?;
    let last_id = u64_field(data, "u")?;
    let prev_last_id = match data.get("pu") {
        Some(v) => Some(v.as_u64().ok_or(DecodeError::WrongType("pu"))?),
        None if futures => return Err(DecodeError::MissingField("pu")),
        None => None,
    };
    push_levels(inst, data, "b", Side::Buy, levels)?;
    push_levels(inst, data, "a", Side::Sell, levels)?;
    Ok(Decoded::Depth {
        instrument: inst.id,
        first_id,
        last_id,
        prev_last_id,
    })
}

fn trade(
    registry: &InstrumentRegistry,
    venue: Venue,
    data: Value<'_, '_>,
    id_key: &'static str,
) -> Result<Decoded, DecodeError> {
    let inst = instrument(registry, venue, data)?;
    let buyer_is_maker = data
        .get("m")
        .ok_or(DecodeError::MissingField("m"))?
        .as_bool()
        .ok_or(DecodeError::WrongType("m"))?;
    Ok(Decoded::Trade {
        instrument: inst.id,
        trade_id: u64_field(data, id_key)?,
        px: Px(decimal_field(data, "p", inst.price_scale)?),
        qty: Qty(decimal_field(data, "q", inst.qty_scale)?),
        aggressor: if buyer_is_maker {
            Side::Sell
        } else {
            Side::Buy
        },
    })
}

fn ticker(
    registry: &InstrumentRegistry,
    venue: Venue,
    data: Value<'_, '_>,
) -> Result<Decoded, DecodeError> {
    let inst = instrument(registry, venue, data)?;
    let (ps, qs) = (inst.price_scale, inst.qty_scale);
    Ok(Decoded::Ticker {
        instrument: inst.id,
        update_id: u64_field(data, "u")?,
        bid: Level {
            px: Px(decimal_field(data, "b", ps)?),
            qty: Qty(decimal_field(data, "B", qs)?),
        },
        ask: Level {
            px: Px(decimal_field(data, "a", ps)?),
            qty: Qty(decimal_field(data, "A", qs)?),
        },
    })
}

fn push_levels(
    inst: &Instrument,
    data: Value<'_, '_>,
    key: &'static str,
    side: Side,
    levels: &mut Vec<LevelUpdate>,
) -> Result<(), DecodeError> {
    push_pairs(inst, data, key, side, levels, MAX_LEVELS_PER_MESSAGE)
}
