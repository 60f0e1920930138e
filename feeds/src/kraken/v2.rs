//! Kraken WebSocket v2 frames (source `kraken`), per Kraken's API reference
//! (docs.kraken.com/api/docs/websocket-v2/book, `/trade`, `/ticker`, `/instrument`,
//! `/heartbeat`, `/status`, `/ping`) and the "Spot WebSocket v2: book" guide
//! (docs.kraken.com/api/docs/guides/spot-ws-book-v2):
//!
//! - `{"channel":"book","type":"snapshot"|"update","data":[{"symbol","bids":[{"price","qty"}],
//!   "asks":[..],"checksum","timestamp"}]}`: prices, quantities and the checksum are JSON
//!   numbers; quantities may come in exponent form (`5.325e-05`, real frames do);
//! - `trade` (`data`: trades with `symbol`, `side`, `price`, `qty`, `trade_id`), `ticker`
//!   (`bid`, `bid_qty`, `ask`, `ask_qty`), `instrument` (`data.pairs[]` with `price_precision`
//!   and `qty_precision`), `heartbeat` and `status`;
//! - method replies `{"method":"subscribe","result":{..},"success":..}` (and `pong`): control
//!   frames, except that a book subscription's reply says its depth.
//!
//! Keys are read in any order: real frames put `"type"` after `"data"` and `"symbol"` after
//! the levels, though the reference's examples never do.

use crate::book::Level;
use crate::decode_error::DecodeError;
use crate::instrument::{Instrument, InstrumentRegistry, Venue};
use crate::kraken::frame::{checksum, integer, price, qty, Decoded, Item, MAX_DEPTH};
use crate::kraken::json::{Cursor, Span};
use crate::num::Side;

/// Decodes one v2 frame into `out`.
pub fn decode(
    registry: &InstrumentRegistry,
    frame: &[u8],
    out: &mut Decoded,
) -> Result<(), DecodeError> {
    let mut c = Cursor::new(frame);
    if c.peek() != Some(b'{') {
        return Err(DecodeError::NotAnObject);
    }
    let (mut channel, mut kind, mut data, mut method, mut result) = (None, None, None, None, None);
    c.object(|c, key| {
        match key {
            b"channel" => channel = Some(c.string()?),
            b"type" => kind = Some(c.string()?),
            b"data" => data = Some(c.value()?),
            b"method" => method = Some(c.string()?),
            b"result" => result = Some(c.value()?),
            _ => c.skip()?,
        }
        Ok(())
    })?;
    c.end()?;
    if method.is_some() {
        return match result {
            Some(span) => subscribed(registry, &mut Cursor::at(frame, span), out),
            None => Ok(()),
        };
    }
    let channel = channel.ok_or(DecodeError::MissingField("channel"))?;
    let each =
        |out: &mut Decoded,
         entry: &dyn Fn(&mut Cursor<'_>, &mut Decoded) -> Result<(), DecodeError>| {
            let span = data.ok_or(DecodeError::MissingField("data"))?;
            let mut d = Cursor::at(frame, span);
            d.array(|d| entry(d, out))
                .map_err(|e| wrong_shape(e, "data"))
        };
    match c.text(channel) {
        b"book" => {
            let snapshot = match kind.map(|k| c.text(k)) {
                Some(b"snapshot") => true,
                Some(b"update") => false,
                Some(_) => return Err(DecodeError::WrongType("type")),
                None => return Err(DecodeError::MissingField("type")),
            };
            each(out, &|d, out| book(registry, d, out, snapshot))
        }
        b"trade" => each(out, &|d, out| trade(registry, d, out)),
        b"ticker" => each(out, &|d, out| ticker(registry, d, out)),
        b"instrument" => {
            let span = data.ok_or(DecodeError::MissingField("data"))?;
            instruments(registry, &mut Cursor::at(frame, span), out)
        }
        b"heartbeat" | b"status" => Ok(()),
        _ => Err(DecodeError::UnknownEvent),
    }
}

/// A structural error inside a known field is that field's wrong type, not broken JSON (the
/// whole frame was well-formed JSON already).
fn wrong_shape(e: DecodeError, field: &'static str) -> DecodeError {
    match e {
        DecodeError::Json => DecodeError::WrongType(field),
        e => e,
    }
}

fn instrument<'r>(
    registry: &'r InstrumentRegistry,
    c: &Cursor<'_>,
    symbol: Option<Span>,
) -> Result<&'r Instrument, DecodeError> {
    let symbol = c.text(symbol.ok_or(DecodeError::MissingField("symbol"))?);
    registry
        .find(Venue::Kraken, symbol)
        .and_then(|id| registry.get(id))
        .ok_or(DecodeError::UnknownSymbol)
}

fn number(c: &mut Cursor<'_>, field: &'static str) -> Result<Span, DecodeError> {
    c.scalar()?.ok_or(DecodeError::WrongType(field))
}

fn book(
    registry: &InstrumentRegistry,
    c: &mut Cursor<'_>,
    out: &mut Decoded,
    snapshot: bool,
) -> Result<(), DecodeError> {
    let (mut symbol, mut sum) = (None, None);
    c.object(|c, key| {
        let side = match key {
            b"symbol" => return c.string().map(|s| symbol = Some(s)),
            b"checksum" => return number(c, "checksum").map(|s| sum = Some(s)),
            b"bids" => Side::Buy,
            b"asks" => Side::Sell,
            _ => return c.skip(),
        };
        c.array(|c| {
            let (mut px, mut q) = (None, None);
            c.object(|c, key| match key {
                b"price" => number(c, "price").map(|s| px = Some(s)),
                b"qty" => number(c, "qty").map(|s| q = Some(s)),
                _ => c.skip(),
            })?;
            let px = px.ok_or(DecodeError::MissingField("price"))?;
            let q = q.ok_or(DecodeError::MissingField("qty"))?;
            out.push_raw(side, px, q)
        })
        .map_err(|e| wrong_shape(e, "level"))
    })?;
    let inst = instrument(registry, c, symbol)?;
    let sum = match sum {
        Some(span) => Some(checksum(c.text(span))?),
        None => None,
    };
    out.book_entry(c, inst, snapshot, sum, None)
}

fn trade(
    registry: &InstrumentRegistry,
    c: &mut Cursor<'_>,
    out: &mut Decoded,
) -> Result<(), DecodeError> {
    let (mut symbol, mut side, mut px, mut q, mut id) = (None, None, None, None, None);
    c.object(|c, key| {
        match key {
            b"symbol" => symbol = Some(c.string()?),
            b"side" => side = Some(c.string()?),
            b"price" => px = Some(number(c, "price")?),
            b"qty" => q = Some(number(c, "qty")?),
            b"trade_id" => id = Some(number(c, "trade_id")?),
            _ => c.skip()?,
        }
        Ok(())
    })?;
    let inst = instrument(registry, c, symbol)?;
    let aggressor = match side.map(|s| c.text(s)) {
        Some(b"buy") => Side::Buy,
        Some(b"sell") => Side::Sell,
        Some(_) => return Err(DecodeError::WrongType("side")),
        None => return Err(DecodeError::MissingField("side")),
    };
    let field = |s: Option<Span>, name| s.map(|s| c.text(s)).ok_or(DecodeError::MissingField(name));
    out.push_item(Item::Trade {
        instrument: inst.id,
        trade_id: integer(field(id, "trade_id")?, "trade_id")?,
        px: price(field(px, "price")?, inst, "price")?,
        qty: qty(field(q, "qty")?, inst, "qty")?,
        aggressor,
    })
}

fn ticker(
    registry: &InstrumentRegistry,
    c: &mut Cursor<'_>,
    out: &mut Decoded,
) -> Result<(), DecodeError> {
    let mut symbol = None;
    let mut v: [Option<Span>; 4] = [None; 4];
    c.object(|c, key| {
        let i = match key {
            b"symbol" => return c.string().map(|s| symbol = Some(s)),
            b"bid" => 0,
            b"bid_qty" => 1,
            b"ask" => 2,
            b"ask_qty" => 3,
            _ => return c.skip(),
        };
        number(c, "ticker").map(|s| v[i] = Some(s))
    })?;
    let inst = instrument(registry, c, symbol)?;
    let field = |i: usize, name| {
        v[i].map(|s| c.text(s))
            .ok_or(DecodeError::MissingField(name))
    };
    out.push_item(Item::Ticker {
        instrument: inst.id,
        bid: Level {
            px: price(field(0, "bid")?, inst, "bid")?,
            qty: qty(field(1, "bid_qty")?, inst, "bid_qty")?,
        },
        ask: Level {
            px: price(field(2, "ask")?, inst, "ask")?,
            qty: qty(field(3, "ask_qty")?, inst, "ask_qty")?,
        },
    })
}

/// The `instrument` channel: each pair this adapter keeps, with its decimals. Pairs of no
/// configured instrument are skipped (the channel lists every pair of the venue).
fn instruments(
    registry: &InstrumentRegistry,
    c: &mut Cursor<'_>,
    out: &mut Decoded,
) -> Result<(), DecodeError> {
    c.object(|c, key| {
        if key != b"pairs" {
            return c.skip();
        }
        c.array(|c| {
            let (mut symbol, mut px, mut q) = (None, None, None);
            c.object(|c, key| {
                match key {
                    b"symbol" => symbol = Some(c.string()?),
                    b"price_precision" => px = Some(number(c, "price_precision")?),
                    b"qty_precision" => q = Some(number(c, "qty_precision")?),
                    _ => c.skip()?,
                }
                Ok(())
            })?;
            let Ok(inst) = instrument(registry, c, symbol) else {
                return Ok(());
            };
            let decimals = |s: Option<Span>, name| {
                let n = integer(c.text(s.ok_or(DecodeError::MissingField(name))?), name)?;
                u32::try_from(n)
                    .ok()
                    .filter(|&n| n <= crate::num::MAX_SCALE)
                    .ok_or(DecodeError::WrongType(name))
            };
            out.push_item(Item::Precision {
                instrument: inst.id,
                price: decimals(px, "price_precision")?,
                qty: decimals(q, "qty_precision")?,
            })
        })
    })
    .map_err(|e| wrong_shape(e, "data"))
}

/// A method's reply: a book subscription's says its depth; the rest are control frames.
fn subscribed(
    registry: &InstrumentRegistry,
    c: &mut Cursor<'_>,
    out: &mut Decoded,
) -> Result<(), DecodeError> {
    if c.peek() != Some(b'{') {
        return Ok(());
    }
    let (mut channel, mut symbol, mut depth) = (None, None, None);
    c.object(|c, key| {
        match key {
            b"channel" => channel = c.scalar()?,
            b"symbol" => symbol = c.scalar()?,
            b"depth" => depth = c.scalar()?,
            _ => c.skip()?,
        }
        Ok(())
    })?;
    let (Some(channel), Some(depth)) = (channel, depth) else {
        return Ok(());
    };
    if c.text(channel) != b"book" {
        return Ok(());
    }
    let depth = integer(c.text(depth), "depth")?;
    if depth == 0 || depth > MAX_DEPTH as u64 {
        return Err(DecodeError::WrongType("depth"));
    }
    match instrument(registry, c, symbol) {
        Ok(inst) => out.push_item(Item::Depth {
            instrument: inst.id,
            depth: depth as u32,
        }),
        Err(_) => Ok(()),
    }
}
