//! The decoders compared by `pulse-bench parse` and by the criterion bench `parse`: Pulse's
//! `BinanceCodec` and general-purpose parsers (`serde_json`, `sonic-rs`, simd-json's value API)
//! decoding the same Binance frames into the same integers. Shared by both (the bench includes
//! this file with `#[path]`), so the two measure exactly the same code.

use pulse_feeds::binance::codec::{BinanceCodec, DecodeError, Decoded, LevelUpdate};
use pulse_feeds::book::Level;
use pulse_feeds::instrument::{InstrumentRegistry, Venue};
use pulse_feeds::num::{parse_decimal, InstrumentId, Px, Qty, Side};
use serde::Deserialize;
use simd_json::prelude::*;

/// What every decoder produces for a `depthUpdate`: the header, with the levels beside it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DepthHeader {
    instrument: InstrumentId,
    first_id: u64,
    last_id: u64,
}

/// What every decoder produces for a `bookTicker`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ticker {
    instrument: InstrumentId,
    update_id: u64,
    bid: Level,
    ask: Level,
}

/// A combined-stream frame. The stream name must be there but is not kept, as in `pulse`.
#[derive(Deserialize)]
struct Combined<T> {
    #[allow(dead_code)]
    stream: serde::de::IgnoredAny,
    data: T,
}

#[derive(Deserialize)]
struct DepthUpdate<'a> {
    #[serde(rename = "e")]
    event: &'a str,
    #[serde(rename = "s")]
    symbol: &'a str,
    #[serde(rename = "U")]
    first_id: u64,
    #[serde(rename = "u")]
    last_id: u64,
    #[serde(rename = "b", borrow)]
    bids: Vec<(&'a str, &'a str)>,
    #[serde(rename = "a", borrow)]
    asks: Vec<(&'a str, &'a str)>,
}

#[derive(Deserialize)]
struct BookTicker<'a> {
    #[serde(rename = "u")]
    update_id: u64,
    #[serde(rename = "s")]
    symbol: &'a str,
    #[serde(rename = "b")]
    bid_px: &'a str,
    #[serde(rename = "B")]
    bid_qty: &'a str,
    #[serde(rename = "a")]
    ask_px: &'a str,
    #[serde(rename = "A")]
    ask_qty: &'a str,
}

fn instrument(registry: &InstrumentRegistry, symbol: &str) -> Option<InstrumentId> {
    registry.find(Venue::Binance, symbol.as_bytes())
}

fn level(side: Side, px: &str, qty: &str, price_scale: u32, qty_scale: u32) -> Option<LevelUpdate> {
    Some(LevelUpdate {
        side,
        px: Px(parse_decimal(px.as_bytes(), price_scale).ok()?),
        qty: Qty(parse_decimal(qty.as_bytes(), qty_scale).ok()?),
    })
}

/// The serde structs into the common output: what `serde_json` and `sonic_rs` share.
fn depth_from_serde(
    registry: &InstrumentRegistry,
    d: &DepthUpdate<'_>,
    levels: &mut Vec<LevelUpdate>,
) -> Option<DepthHeader> {
    if d.event != "depthUpdate" {
        return None;
    }
    let id = instrument(registry, d.symbol)?;
    let inst = registry.get(id)?;
    levels.clear();
    for (side, pairs) in [(Side::Buy, &d.bids), (Side::Sell, &d.asks)] {
        for &(px, qty) in pairs {
            levels.push(level(side, px, qty, inst.price_scale, inst.qty_scale)?);
        }
    }
    Some(DepthHeader {
        instrument: id,
        first_id: d.first_id,
        last_id: d.last_id,
    })
}

fn ticker_from_serde(registry: &InstrumentRegistry, t: &BookTicker<'_>) -> Option<Ticker> {
    let id = instrument(registry, t.symbol)?;
    let inst = registry.get(id)?;
    let (ps, qs) = (inst.price_scale, inst.qty_scale);
    let bid = level(Side::Buy, t.bid_px, t.bid_qty, ps, qs)?;
    let ask = level(Side::Sell, t.ask_px, t.ask_qty, ps, qs)?;
    Some(Ticker {
        instrument: id,
        update_id: t.update_id,
        bid: Level {
            px: bid.px,
            qty: bid.qty,
        },
        ask: Level {
            px: ask.px,
            qty: ask.qty,
        },
    })
}

/// The decoders under test, each owning whatever it reuses between frames.
pub trait Decoder {
    fn depth(&mut self, r: &InstrumentRegistry, frame: &[u8]) -> Option<DepthHeader>;
    /// The levels of the last `depth` call, bids then asks.
    fn levels(&self) -> &[LevelUpdate];
    fn ticker(&mut self, r: &InstrumentRegistry, frame: &[u8]) -> Option<Ticker>;
}

pub struct Pulse {
    codec: BinanceCodec,
    /// Only simd-json's tape, without the scanner in front: `pulse_tape`.
    tape_only: bool,
}

impl Pulse {
    pub fn new() -> Pulse {
        Pulse {
            codec: BinanceCodec::new(),
            tape_only: false,
        }
    }

    /// Used by the criterion bench only.
    #[allow(dead_code)]
    pub fn tape() -> Pulse {
        Pulse {
            codec: BinanceCodec::new(),
            tape_only: true,
        }
    }

    fn decode(&mut self, r: &InstrumentRegistry, frame: &[u8]) -> Result<Decoded, DecodeError> {
        if self.tape_only {
            self.codec.decode_ws_tape(r, frame)
        } else {
            self.codec.decode_ws(r, frame)
        }
    }
}

impl Decoder for Pulse {
    fn depth(&mut self, r: &InstrumentRegistry, frame: &[u8]) -> Option<DepthHeader> {
        match self.decode(r, frame) {
            Ok(Decoded::Depth {
                instrument,
                first_id,
                last_id,
                ..
            }) => Some(DepthHeader {
                instrument,
                first_id,
                last_id,
            }),
            _ => None,
        }
    }

    fn levels(&self) -> &[LevelUpdate] {
        self.codec.levels()
    }

    fn ticker(&mut self, r: &InstrumentRegistry, frame: &[u8]) -> Option<Ticker> {
        match self.decode(r, frame) {
            Ok(Decoded::Ticker {
                instrument,
                update_id,
                bid,
                ask,
            }) => Some(Ticker {
                instrument,
                update_id,
                bid,
                ask,
            }),
            _ => None,
        }
    }
}

#[derive(Default)]
pub struct SerdeJson(Vec<LevelUpdate>);

impl Decoder for SerdeJson {
    fn depth(&mut self, r: &InstrumentRegistry, frame: &[u8]) -> Option<DepthHeader> {
        let c: Combined<DepthUpdate<'_>> = serde_json::from_slice(frame).ok()?;
        depth_from_serde(r, &c.data, &mut self.0)
    }

    fn levels(&self) -> &[LevelUpdate] {
        &self.0
    }

    fn ticker(&mut self, r: &InstrumentRegistry, frame: &[u8]) -> Option<Ticker> {
        let c: Combined<BookTicker<'_>> = serde_json::from_slice(frame).ok()?;
        ticker_from_serde(r, &c.data)
    }
}

#[derive(Default)]
pub struct SonicRs(Vec<LevelUpdate>);

impl Decoder for SonicRs {
    fn depth(&mut self, r: &InstrumentRegistry, frame: &[u8]) -> Option<DepthHeader> {
        let c: Combined<DepthUpdate<'_>> = sonic_rs::from_slice(frame).ok()?;
        depth_from_serde(r, &c.data, &mut self.0)
    }

    fn levels(&self) -> &[LevelUpdate] {
        &self.0
    }

    fn ticker(&mut self, r: &InstrumentRegistry, frame: &[u8]) -> Option<Ticker> {
        let c: Combined<BookTicker<'_>> = sonic_rs::from_slice(frame).ok()?;
        ticker_from_serde(r, &c.data)
    }
}

/// simd-json's borrowed value tree, with its buffers and the mutable copy of the frame reused.
pub struct SimdJsonValue {
    buffers: simd_json::Buffers,
    scratch: Vec<u8>,
    levels: Vec<LevelUpdate>,
}

impl SimdJsonValue {
    pub fn new() -> SimdJsonValue {
        SimdJsonValue {
            buffers: simd_json::Buffers::new(1 << 16),
            scratch: Vec::with_capacity(1 << 16),
            levels: Vec::with_capacity(1 << 14),
        }
    }
}

impl Decoder for SimdJsonValue {
    fn depth(&mut self, r: &InstrumentRegistry, frame: &[u8]) -> Option<DepthHeader> {
        self.scratch.clear();
        self.scratch.extend_from_slice(frame);
        let root =
            simd_json::to_borrowed_value_with_buffers(&mut self.scratch, &mut self.buffers).ok()?;
        let data = root.get("data")?;
        if data.get_str("e")? != "depthUpdate" {
            return None;
        }
        let id = instrument(r, data.get_str("s")?)?;
        let inst = r.get(id)?;
        self.levels.clear();
        for (side, key) in [(Side::Buy, "b"), (Side::Sell, "a")] {
            for pair in data.get_array(key)? {
                let pair = pair.as_array()?;
                let (px, qty) = (pair.first()?.as_str()?, pair.get(1)?.as_str()?);
                let level = level(side, px, qty, inst.price_scale, inst.qty_scale)?;
                self.levels.push(level);
            }
        }
        Some(DepthHeader {
            instrument: id,
            first_id: data.get_u64("U")?,
            last_id: data.get_u64("u")?,
        })
    }

    fn levels(&self) -> &[LevelUpdate] {
        &self.levels
    }

    fn ticker(&mut self, r: &InstrumentRegistry, frame: &[u8]) -> Option<Ticker> {
        self.scratch.clear();
        self.scratch.extend_from_slice(frame);
        let root =
            simd_json::to_borrowed_value_with_buffers(&mut self.scratch, &mut self.buffers).ok()?;
        let data = root.get("data")?;
        let id = instrument(r, data.get_str("s")?)?;
        let inst = r.get(id)?;
        let (ps, qs) = (inst.price_scale, inst.qty_scale);
        let bid = level(Side::Buy, data.get_str("b")?, data.get_str("B")?, ps, qs)?;
        let ask = level(Side::Sell, data.get_str("a")?, data.get_str("A")?, ps, qs)?;
        Some(Ticker {
            instrument: id,
            update_id: data.get_u64("u")?,
            bid: Level {
                px: bid.px,
                qty: bid.qty,
            },
            ask: Level {
                px: ask.px,
                qty: ask.qty,
            },
        })
    }
}
