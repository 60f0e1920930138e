//! Coinbase Exchange frames -> exact integers, through the reused simd-json tape.

use simd_json::prelude::*;
use simd_json::tape::Value;

use crate::book::Level;
use crate::decode_error::DecodeError;
use crate::event::{EventMeta, TickerEvent, TradeEvent};
use crate::instrument::{Instrument, InstrumentRegistry, Venue};
use crate::json_tape::{
    array, decimal_field, push_level, push_pairs, str_field, u64_field, TapeDecoder,
};
use crate::levels::LevelUpdate;
use crate::num::{InstrumentId, Px, Qty, Side};

/// The most price levels one message may carry (both sides together). A `level2` snapshot is
/// the product's whole book: tens of thousands of levels on the busiest products (BTC-USD),
/// hundreds to a few thousand on the bundled ones. Anything above is refused as hostile.
pub const MAX_LEVELS_PER_MESSAGE: usize = 65_536;

/// What a frame was. Book levels are in [`CoinbaseCodec::levels`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decoded {
    /// The whole book of one product.
    Snapshot {
        instrument: InstrumentId,
    },
    /// Changes to one product's book.
    Update {
        instrument: InstrumentId,
    },
    /// The event as it goes to the book stage, but for its receive time and ingress stamp
    /// (`meta` names only the instrument).
    Ticker(TickerEvent),
    Trade(TradeEvent),
    /// A well-formed frame that carries no market data.
    Control,
}

pub struct CoinbaseCodec {
    tape: TapeDecoder,
    pub(super) levels: Vec<LevelUpdate>,
}

impl Default for CoinbaseCodec {
    fn default() -> Self {
        CoinbaseCodec::new()
    }
}

impl CoinbaseCodec {
    pub fn new() -> CoinbaseCodec {
        CoinbaseCodec {
            tape: TapeDecoder::new(1 << 16),
            levels: Vec::with_capacity(MAX_LEVELS_PER_MESSAGE),
        }
    }

    /// The levels of the last snapshot (bids then asks) or update (in message order).
    pub fn levels(&self) -> &[LevelUpdate] {
        &self.levels
    }

    /// The general path: the frame through simd-json's tape.
    pub fn decode_tape(
        &mut self,
        registry: &InstrumentRegistry,
        frame: &[u8],
    ) -> Result<Decoded, DecodeError> {
        self.levels.clear();
        let levels = &mut self.levels;
        self.tape.decode(frame, |root| {
            if root.as_object().is_none() {
                return Err(DecodeError::NotAnObject);
            }
            match str_field(root, "type")? {
                "snapshot" => {
                    let inst = instrument(registry, root)?;
                    let max = MAX_LEVELS_PER_MESSAGE;
                    push_pairs(inst, root, "bids", Side::Buy, levels, max)?;
                    push_pairs(inst, root, "asks", Side::Sell, levels, max)?;
                    Ok(Decoded::Snapshot {
                        instrument: inst.id,
                    })
                }
                "l2update" => {
                    let inst = instrument(registry, root)?;
                    push_changes(inst, root, levels)?;
                    Ok(Decoded::Update {
                        instrument: inst.id,
                    })
                }
                "ticker" => ticker(registry, root),
                "match" => trade(registry, root),
                "last_match" | "subscriptions" | "heartbeat" => Ok(Decoded::Control),
                _ => Err(DecodeError::UnknownEvent),
            }
        })
    }
}

fn instrument<'r>(
    registry: &'r InstrumentRegistry,
    data: Value<'_, '_>,
) -> Result<&'r Instrument, DecodeError> {
    let product = str_field(data, "product_id")?;
    registry
        .find(Venue::CoinbaseExchange, product.as_bytes())
        .and_then(|id| registry.get(id))
        .ok_or(DecodeError::UnknownSymbol)
}

fn ticker(registry: &InstrumentRegistry, data: Value<'_, '_>) -> Result<Decoded, DecodeError> {
    let inst = instrument(registry, data)?;
    let (ps, qs) = (inst.price_scale, inst.qty_scale);
    // Sizes came later to the feed: absent, the level's quantity is 0 (unknown).
    let size = |key: &'static str| match data.get(key) {
        Some(_) => decimal_field(data, key, qs),
        None => Ok(0),
    };
    Ok(Decoded::Ticker(TickerEvent {
        meta: meta(inst),
        // 0: the ticker's sequence is not the level2 channel's (see the module docs).
        update_id: 0,
        bid: Level {
            px: Px(decimal_field(data, "best_bid", ps)?),
            qty: Qty(size("best_bid_size")?),
        },
        ask: Level {
            px: Px(decimal_field(data, "best_ask", ps)?),
            qty: Qty(size("best_ask_size")?),
        },
    }))
}

pub(super) fn meta(inst: &Instrument) -> EventMeta {
    EventMeta {
        instrument: inst.id,
        ..EventMeta::default()
    }
}

fn trade(registry: &InstrumentRegistry, data: Value<'_, '_>) -> Result<Decoded, DecodeError> {
    let inst = instrument(registry, data)?;
    Ok(Decoded::Trade(TradeEvent {
        meta: meta(inst),
        trade_id: u64_field(data, "trade_id")?,
        px: Px(decimal_field(data, "price", inst.price_scale)?),
        qty: Qty(decimal_field(data, "size", inst.qty_scale)?),
        // `side` is the maker order's: a sell maker means a buyer took it.
        aggressor: match side(str_field(data, "side")?, "side")? {
            Side::Buy => Side::Sell,
            Side::Sell => Side::Buy,
        },
    }))
}

fn side(text: &str, key: &'static str) -> Result<Side, DecodeError> {
    match text {
        "buy" => Ok(Side::Buy),
        "sell" => Ok(Side::Sell),
        _ => Err(DecodeError::WrongType(key)),
    }
}

/// An update's `changes`: `[[side, price, size], ...]`.
fn push_changes(
    inst: &Instrument,
    data: Value<'_, '_>,
    levels: &mut Vec<LevelUpdate>,
) -> Result<(), DecodeError> {
    const KEY: &str = "changes";
    for change in array(data, KEY)?.iter() {
        let change = change.as_array().ok_or(DecodeError::WrongType(KEY))?;
        if change.len() != 3 {
            return Err(DecodeError::WrongType(KEY));
        }
        let text = |i| change.get(i).and_then(|v: Value<'_, '_>| v.into_string());
        let side = text(0)
            .ok_or(DecodeError::WrongType(KEY))
            .and_then(|s| side(s, KEY))?;
        push_level(
            inst,
            KEY,
            side,
            (text(1), text(2)),
            levels,
            MAX_LEVELS_PER_MESSAGE,
        )?;
    }
    Ok(())
}
