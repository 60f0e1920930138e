//! The fast path of [`BybitCodec::decode_ws`](super::codec::BybitCodec::decode_ws): a
//! fixed-layout scanner for the frames that are nearly all of a book stream, `orderbook`
//! snapshots and deltas, as Bybit writes them (one serializer: the same keys in the same order,
//! no whitespace):
//!
//! ```text
//! {"topic":"orderbook.50.BTCUSDT","type":"delta","ts":..,"data":{"s":"BTCUSDT",
//!  "b":[["px","size"],..],"a":[["px","size"],..],"u":..,"seq":..},"cts":..}
//! ```
//!
//! Read once, left to right, straight into integers ([`Cursor`]). Anything else (another key
//! order, whitespace, an escape, no `seq`, an unknown symbol, a decimal that does not fit or is
//! no price, too many levels) is `None`, and the tape path decodes the frame and classifies
//! any error, so both paths give the same answer on every frame (`tests` below hold them to it
//! over the bundled captures and their mutations).

use crate::bybit::codec::{
    BookKind, BybitCodec, DecodeError, Decoded, TickerFields, MAX_LEVELS_PER_MESSAGE,
};
use crate::instrument::{InstrumentRegistry, Venue};
use crate::levels::LevelUpdate;
use crate::num::{parse_decimal, Px, Qty, Side};
use crate::scan_cursor::{Cursor, Picked};

/// Decodes `frame` if it is an `orderbook` push of `venue` in Bybit's layout; `None`
/// otherwise. The levels are in `levels`, cleared first; after `None` they are meaningless.
pub fn scan_orderbook(
    venue: Venue,
    registry: &InstrumentRegistry,
    frame: &[u8],
    levels: &mut Vec<LevelUpdate>,
) -> Option<Decoded> {
    levels.clear();
    let mut c = Cursor { rest: frame };
    c.expect(br#"{"topic":"orderbook."#)?;
    let depth = u16::try_from(c.uint()?).ok()?;
    c.expect(b".")?;
    let symbol = c.plain_string()?;
    let inst = registry.get(registry.find(venue, symbol)?)?;
    c.expect(br#","type":""#)?;
    let kind = if c.eat(br#"delta""#) {
        BookKind::Delta
    } else if c.eat(br#"snapshot""#) {
        BookKind::Snapshot
    } else {
        return None;
    };
    c.expect(br#","ts":"#)?;
    let ts = c.uint()?;
    c.expect(br#","data":{"s":""#)?;
    if !c.plain_string()?.eq_ignore_ascii_case(symbol) {
        return None;
    }
    c.expect(br#","b":["#)?;
    c.levels(inst, Side::Buy, levels, MAX_LEVELS_PER_MESSAGE)?;
    c.expect(br#","a":["#)?;
    c.levels(inst, Side::Sell, levels, MAX_LEVELS_PER_MESSAGE)?;
    c.expect(br#","u":"#)?;
    let update_id = c.uint()?;
    c.expect(br#","seq":"#)?;
    let seq = c.uint()?;
    c.expect(b"}")?;
    if c.eat(br#","cts":"#) {
        c.uint()?;
    }
    c.expect(b"}")?;
    // A price is positive and a size not negative; the tape path names anything else.
    let sane = levels.iter().all(|l| l.px.0 > 0 && l.qty.0 >= 0);
    (c.rest.is_empty() && sane).then_some(Decoded::Book {
        instrument: inst.id,
        kind,
        depth,
        update_id,
        seq,
        ts,
    })
}

/// Decodes `frame` if it is a `tickers` push of `venue` in Bybit's layout: `topic` first, then
/// `type`, `ts`, `cs` (strings or integers) and `data` in any order, `data` a flat object whose
/// `bid1Price`, `bid1Size`, `ask1Price`, `ask1Size` come once each if at all (spot's carry
/// none); `None` otherwise.
pub fn scan_tickers(venue: Venue, registry: &InstrumentRegistry, frame: &[u8]) -> Option<Decoded> {
    let mut c = Cursor { rest: frame };
    c.expect(br#"{"topic":"tickers."#)?;
    let inst = registry.get(registry.find(venue, c.plain_string()?)?)?;
    const KEYS: [&[u8]; 4] = [b"bid1Price", b"bid1Size", b"ask1Price", b"ask1Size"];
    let mut picked = Picked::<4>::new();
    let mut data = false;
    loop {
        c.expect(br#",""#)?;
        let key = c.plain_string()?;
        c.expect(b":")?;
        match key {
            b"data" if !data => {
                c.expect(b"{")?;
                c.members(|key, value| picked.take(&KEYS, key, value))?;
                data = true;
            }
            b"type" | b"ts" | b"cs" => {
                c.scalar()?;
            }
            _ => return None,
        }
        if c.eat(b"}") {
            break;
        }
    }
    if !(data && c.rest.is_empty()) {
        return None;
    }
    // A ticker of an empty side sends `""`: no value.
    let at = |i: usize, scale| match picked.values[i] {
        None | Some(b"") => Some(None),
        Some(text) => parse_decimal(text, scale).ok().map(Some),
    };
    let (ps, qs) = (inst.price_scale, inst.qty_scale);
    Some(Decoded::Ticker {
        instrument: inst.id,
        fields: TickerFields {
            bid_px: at(0, ps)?.map(Px),
            bid_qty: at(1, qs)?.map(Qty),
            ask_px: at(2, ps)?.map(Px),
            ask_qty: at(3, qs)?.map(Qty),
        },
    })
}

impl BybitCodec {
    /// Decodes one WebSocket frame of Bybit's public streams: `orderbook` and `tickers` pushes
    /// in Bybit's own layout take the fixed-layout scanners (this module's); every other frame, and any
    /// that departs from it, the tape.
    #[inline]
    pub fn decode_ws(
        &mut self,
        registry: &InstrumentRegistry,
        frame: &[u8],
    ) -> Result<Decoded, DecodeError> {
        let venue = self.venue;
        let scanned = scan_orderbook(venue, registry, frame, &mut self.levels)
            .or_else(|| scan_tickers(venue, registry, frame));
        match scanned {
            Some(decoded) => Ok(decoded),
            None => self.decode_tape(registry, frame),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::num::{Px, Qty};
    use crate::scan_cursor::scan_capture;

    /// Every frame the scanners claim, they decode exactly as the tape path does; they claim
    /// every `orderbook` and `tickers` push of the bundled captures; and each frame cut short, with a byte
    /// changed or whitespace added, still agrees (or is left to the tape).
    #[test]
    fn the_scanner_agrees_with_the_tape_path_on_every_frame() {
        for (venue, file, symbols) in [
            (
                Venue::BybitSpot,
                "bybit_spot_generated.cap",
                ["BTCUSDT", "ETHUSDT", "XRPUSDT"],
            ),
            (
                Venue::BybitLinear,
                "bybit_linear_generated.cap",
                ["BTCUSDT", "ETHUSDT", "SOLUSDT"],
            ),
        ] {
            let mut registry = InstrumentRegistry::new();
            for symbol in symbols {
                let _ = registry.add(venue, symbol, 8, 8, Px(1), Qty(1));
            }
            let mut codec = BybitCodec::new(venue);
            let mut levels = Vec::with_capacity(MAX_LEVELS_PER_MESSAGE);
            let book = |f: &[u8]| {
                f.starts_with(br#"{"topic":"orderbook."#) || f.starts_with(br#"{"topic":"tickers."#)
            };
            let mut tickers = 0;
            let tally = scan_capture(file, book, 10, 1, |f| {
                let scanned = scan_orderbook(venue, &registry, f, &mut levels)
                    .or_else(|| scan_tickers(venue, &registry, f));
                let Some(scanned) = scanned else {
                    return false;
                };
                if matches!(scanned, Decoded::Ticker { .. }) {
                    tickers += 1;
                    levels.clear();
                }
                let text = String::from_utf8_lossy(f);
                assert_eq!(codec.decode_tape(&registry, f), Ok(scanned), "{text}");
                assert_eq!(codec.levels(), &levels[..], "{text}");
                true
            });
            assert!(tally.wanted > 400, "{file}: {tally:?}");
            assert_eq!(tally.claimed, tally.wanted, "{file}: {tally:?}");
            assert_eq!(tally.claimed_other, 0, "{file}: {tally:?}");
            assert!(tally.variants > 0, "{file}: {tally:?}");
            assert!(tickers >= 8, "{file}: {tickers}");
        }
    }
}
