//! Kraken WebSocket v1 `book` frames, for recorded data (source `kraken-v1`), per Kraken's
//! "Spot WebSocket v1: book" guide (docs.kraken.com/api/docs/guides/spot-ws-book-v1):
//!
//! - a book frame is an array `[channelID, {..}, "book-<depth>", "<pair>"]`; an update may
//!   carry its asks and its bids in two objects, `[channelID, {"a":..}, {"b":.., "c":..},
//!   "book-10", "XBT/USD"]`;
//! - a snapshot object has `"as"` and `"bs"`, an update object `"a"` and/or `"b"`, plus `"c"`,
//!   the CRC32 of the top ten levels after the update, as a decimal string;
//! - a level is `[price, volume, timestamp]` as decimal strings, with a fourth element `"r"`
//!   when it is a republish (a level re-entering the subscribed depth);
//! - other frames are objects with an `"event"`: `heartbeat`, `systemStatus`,
//!   `subscriptionStatus`, `pong`: control frames.
//!
//! Real data agrees with the guide here; its snapshots carry no `"c"` (the guide's example has
//! none either), so a v1 snapshot is checked at the first update after it.

use crate::decode_error::DecodeError;
use crate::instrument::{InstrumentRegistry, Venue};
use crate::kraken::frame::{checksum, integer, Decoded, MAX_DEPTH};
use crate::kraken::json::{Cursor, Span};
use crate::num::Side;

/// Decodes one v1 frame into `out`.
pub fn decode(
    registry: &InstrumentRegistry,
    frame: &[u8],
    out: &mut Decoded,
) -> Result<(), DecodeError> {
    let mut c = Cursor::new(frame);
    match c.peek() {
        Some(b'{') => event(&mut c),
        Some(b'[') => book(registry, &mut c, out),
        _ => Err(DecodeError::NotAnObject),
    }
}

fn event(c: &mut Cursor<'_>) -> Result<(), DecodeError> {
    let mut name = None;
    c.object(|c, key| {
        if key == b"event" {
            name = Some(c.string()?);
        } else {
            c.skip()?;
        }
        Ok(())
    })?;
    c.end()?;
    let name = name.ok_or(DecodeError::MissingField("event"))?;
    match c.text(name) {
        b"heartbeat" | b"systemStatus" | b"subscriptionStatus" | b"pong" => Ok(()),
        _ => Err(DecodeError::UnknownEvent),
    }
}

#[derive(Default)]
struct BookFrame {
    snapshot: bool,
    objects: usize,
    checksum: Option<Span>,
    channel: Option<Span>,
    pair: Option<Span>,
}

fn book(
    registry: &InstrumentRegistry,
    c: &mut Cursor<'_>,
    out: &mut Decoded,
) -> Result<(), DecodeError> {
    let mut f = BookFrame::default();
    let mut index = 0;
    c.array(|c| {
        index += 1;
        match (index, c.peek()) {
            (1, _) => c.skip(),
            (_, Some(b'{')) if f.channel.is_none() => {
                f.objects += 1;
                book_object(c, &mut f, out)
            }
            (_, Some(b'"')) if f.channel.is_none() => c.string().map(|s| f.channel = Some(s)),
            (_, Some(b'"')) if f.pair.is_none() => c.string().map(|s| f.pair = Some(s)),
            // Another channel's payload (`trade`, `ticker`: arrays): refused by its name below.
            _ => c.skip(),
        }
    })?;
    c.end()?;
    let channel = c.text(f.channel.ok_or(DecodeError::MissingField("channelName"))?);
    let depth = channel
        .strip_prefix(b"book-")
        .ok_or(DecodeError::UnknownEvent)?;
    let depth = integer(depth, "channelName")?;
    if depth == 0 || depth > MAX_DEPTH as u64 || f.objects == 0 {
        return Err(DecodeError::WrongType("channelName"));
    }
    let pair = c.text(f.pair.ok_or(DecodeError::MissingField("pair"))?);
    let inst = registry
        .find(Venue::KrakenV1, pair)
        .and_then(|id| registry.get(id))
        .ok_or(DecodeError::UnknownSymbol)?;
    let sum = match f.checksum {
        Some(span) => Some(checksum(c.text(span))?),
        None => None,
    };
    out.book_entry(c, inst, f.snapshot, sum, Some(depth as u32))
}

/// One object of a book frame: snapshot sides, update sides, checksum.
fn book_object(
    c: &mut Cursor<'_>,
    f: &mut BookFrame,
    out: &mut Decoded,
) -> Result<(), DecodeError> {
    c.object(|c, key| {
        let (side, snapshot) = match key {
            b"as" => (Side::Sell, true),
            b"bs" => (Side::Buy, true),
            b"a" => (Side::Sell, false),
            b"b" => (Side::Buy, false),
            b"c" => return c.string().map(|s| f.checksum = Some(s)),
            _ => return c.skip(),
        };
        f.snapshot |= snapshot;
        c.array(|c| level(c, side, out))
    })
}

/// `[price, volume, timestamp]` or `[price, volume, timestamp, "r"]`.
fn level(c: &mut Cursor<'_>, side: Side, out: &mut Decoded) -> Result<(), DecodeError> {
    let (mut px, mut qty, mut n) = (Span::default(), Span::default(), 0);
    c.array(|c| {
        n += 1;
        match n {
            1 => c.string().map(|s| px = s),
            2 => c.string().map(|s| qty = s),
            3 | 4 => c.string().map(drop),
            _ => Err(DecodeError::WrongType("level")),
        }
    })
    .map_err(|e| match e {
        DecodeError::Json => DecodeError::WrongType("level"),
        e => e,
    })?;
    if n < 3 {
        return Err(DecodeError::WrongType("level"));
    }
    out.push_raw(side, px, qty)
}
