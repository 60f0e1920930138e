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
    if one_pass(registry, frame, out).is_some() {
        return Ok(());
    }
    out.clear();
    two_passes(registry, frame, out)
}

/// The market data frames as Kraken writes them, `{"channel":"book"|"ticker"|"trade",` then
/// `"type"` and `"data"` in either order (real book frames put `"type"` last) and nothing
/// else, decoded in one pass: `data` is walked where it stands rather than skipped first to
/// find `type` and walked again. A book's items are marked snapshots once `type` is read.
/// `None` for anything else, or any error: [`two_passes`] then decodes the frame again from
/// scratch and classifies the error, so both give the same answer on every frame (the
/// `one_pass_agrees_with_two_passes` test holds them to it).
fn one_pass(registry: &InstrumentRegistry, frame: &[u8], out: &mut Decoded) -> Option<()> {
    type Entry = fn(&InstrumentRegistry, &mut Cursor<'_>, &mut Decoded) -> Result<(), DecodeError>;
    let (rest, entry): (&[u8], Entry) =
        if let Some(rest) = frame.strip_prefix(br#"{"channel":"book","#) {
            (rest, |r, d, out| book(r, d, out, false))
        } else if let Some(rest) = frame.strip_prefix(br#"{"channel":"ticker","#) {
            (rest, ticker)
        } else if let Some(rest) = frame.strip_prefix(br#"{"channel":"trade","#) {
            (rest, trade)
        } else {
            return None;
        };
    let mut c = Cursor::at(
        frame,
        Span {
            start: frame.len() - rest.len(),
            end: frame.len(),
        },
    );
    let (mut kind, mut data) = (None, false);
    for last in [false, true] {
        let key = c.string().ok()?;
        c.expect(b':').ok()?;
        match c.text(key) {
            b"type" if kind.is_none() => kind = Some(c.string().ok()?),
            b"data" if !data => {
                c.array(|d| entry(registry, d, out)).ok()?;
                data = true;
            }
            _ => return None,
        }
        c.expect(if last { b'}' } else { b',' }).ok()?;
    }
    c.end().ok()?;
    let snapshot = match c.text(kind?) {
        b"snapshot" => true,
        b"update" => false,
        _ => return None,
    };
    if snapshot {
        for item in &mut out.items {
            if let Item::Book { snapshot, .. } = item {
                *snapshot = true;
            }
        }
    }
    Some(())
}

/// Any v2 frame, keys in any order: the object walked once to find `channel`, `type` and
/// `data`, then `data` walked for its items.
fn two_passes(
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kraken::frame::Item;
    use crate::num::{Px, Qty};
    use crate::scan_cursor::scan_capture;

    fn registry() -> InstrumentRegistry {
        let mut registry = InstrumentRegistry::new();
        for (pair, px, qty) in [("BTC/USD", 1, 8), ("ETH/USD", 2, 8), ("MATIC/USD", 4, 8)] {
            let _ = registry.add(Venue::Kraken, pair, px, qty, Px(1), Qty(1));
        }
        registry
    }

    /// Every frame the one-pass path takes, it decodes exactly as the two-pass path does
    /// (items, their snapshot marks, levels); it takes every book, ticker and trade frame of the
    /// generated capture, both key orders; and each frame cut short, with a byte changed or
    /// whitespace added, still agrees (or is left to the two passes).
    #[test]
    fn one_pass_agrees_with_two_passes() {
        let registry = registry();
        let (mut fast, mut slow) = (Decoded::default(), Decoded::default());
        let (mut snapshots, mut data_first) = (0, 0);
        let market = |f: &[u8]| {
            [
                &br#"{"channel":"book","#[..],
                br#"{"channel":"ticker","#,
                br#"{"channel":"trade","#,
            ]
            .iter()
            .any(|p| f.starts_with(p))
        };
        let tally = scan_capture("kraken_v2_book_generated.cap", market, 10, 3, |f| {
            fast.clear();
            if one_pass(&registry, f, &mut fast).is_none() {
                return false;
            }
            slow.clear();
            let text = String::from_utf8_lossy(f);
            assert_eq!(two_passes(&registry, f, &mut slow), Ok(()), "{text}");
            assert_eq!(fast.items, slow.items, "{text}");
            assert_eq!(fast.levels, slow.levels, "{text}");
            snapshots += fast
                .items
                .iter()
                .filter(|i| matches!(i, Item::Book { snapshot: true, .. }))
                .count();
            data_first += usize::from(f.starts_with(br#"{"channel":"book","data""#));
            true
        });
        assert!(tally.wanted > 150, "{tally:?}");
        assert_eq!(tally.claimed, tally.wanted, "{tally:?}");
        assert_eq!(tally.claimed_other, 0, "{tally:?}");
        assert!(tally.variants > 0, "{tally:?}");
        assert!(snapshots > 0 && data_first > 0, "{snapshots} {data_first}");
    }
}
