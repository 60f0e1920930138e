//! A fixed-layout scanner for Coinbase Advanced Trade's `l2_data` and `ticker` messages: the
//! fast path of [`CoinbaseAtCodec::decode`](super::codec::CoinbaseAtCodec::decode), as
//! Binance's (`binance/scan.rs`) is of its codec.
//!
//! The venue writes every book message with the same keys in the same order, no whitespace and
//! no escapes. A whole-book snapshot is some 46,000 such levels in one 5 MB message, and a
//! general parser spends most of its time on what the layout makes unnecessary: copying the
//! frame, finding its structure, copying every string (each level's `event_time` among them)
//! and looking keys up. Read once, left to right, straight into integers, it is not needed.
//!
//! The scanner only claims a message it decodes *exactly* as the tape path would. It accepts a
//! strict subset of JSON (the layout below; strings of printable ASCII without escapes; the
//! sequence number a plain unsigned integer within `u64`), so whatever it accepts simd-json
//! accepts too, with no key it reads repeated. Anything else (another key order, whitespace, an escape,
//! a missing or extra field, a product not in the registry, a decimal that does not fit, a
//! price not positive, too many levels or events) returns `None` and the tape path decodes the
//! message, so every error is still classified there. `feeds/tests/coinbase_at_scan.rs` and the
//! `coinbase_at_scan` fuzz target hold the two paths to the same answers.
//!
//! ```text
//! {"channel":"l2_data"(,"client_id":".."),"timestamp":"..","sequence_num":n,"events":[E(,E)*]}
//! E: {"type":"snapshot"|"update","product_id":"..","updates":[(U(,U)*)]}
//! U: {"side":"bid"|"offer","event_time":"..","price_level":"..","new_quantity":".."}
//! {"channel":"ticker"|"ticker_batch",(as above),"events":[{"type":"..","tickers":[T(,T)*]}]}
//! T: {"k":"v"(,"k":"v")*}   string values only, any keys in any order, none of the five
//!                            read (product_id, best_bid, best_ask and their quantities) twice
//! ```
//!
//! It never allocates (levels go into the codec's vectors, preallocated) and never panics: the
//! message is consumed through slice methods that check their bounds, never by indexing.

use crate::coinbase_at::codec::{
    AtTicker, BookEvent, BookKind, Channel, CoinbaseAtCodec, DecodeError, Decoded, Events, Header,
    MAX_BOOK_EVENTS, MAX_LEVELS_PER_MESSAGE, MAX_TICKERS_PER_MESSAGE,
};
use crate::event::Level;
use crate::instrument::{InstrumentRegistry, Venue};
use crate::levels::LevelUpdate;
use crate::num::{parse_decimal, Px, Qty, Side};
use crate::scan_cursor::Cursor;

/// Decodes `frame` into `out` if it is an `l2_data` message in the venue's layout that decodes
/// without error; `None` otherwise ("not mine"), leaving `out` to be cleared and the frame to
/// the tape path.
pub(super) fn scan_l2(
    registry: &InstrumentRegistry,
    frame: &[u8],
    out: &mut Events,
) -> Option<Header> {
    let mut c = Cursor { rest: frame };
    c.expect(br#"{"channel":"l2_data""#)?;
    message(c, Channel::Level2, out, |c, out| event(registry, c, out))
}

/// The rest of a message once its channel is read: `client_id` (if sent), `timestamp`,
/// `sequence_num`, then each of `events` read by `event`, and nothing after the object; its
/// header, also kept in `out`.
fn message(
    mut c: Cursor<'_>,
    channel: Channel,
    out: &mut Events,
    mut event: impl FnMut(&mut Cursor<'_>, &mut Events) -> Option<()>,
) -> Option<Header> {
    client_id(&mut c)?;
    c.expect(br#","timestamp":"#)?;
    c.string()?;
    c.expect(br#","sequence_num":"#)?;
    let sequence_num = c.uint()?;
    c.expect(br#","events":["#)?;
    c.items(|c| event(c, out))?;
    c.expect(b"}")?;
    if !c.rest.is_empty() {
        return None;
    }
    let header = Header {
        channel,
        sequence_num,
    };
    out.header = Some(header);
    Some(header)
}

impl CoinbaseAtCodec {
    /// Decodes one WebSocket frame of the Advanced Trade market data feed: a book or ticker
    /// message in the venue's layout by the fixed-layout scanners here,
    /// anything else by the tape.
    pub fn decode(
        &mut self,
        registry: &InstrumentRegistry,
        frame: &[u8],
    ) -> Result<Decoded, DecodeError> {
        self.out.clear();
        let scanned = if frame.starts_with(br#"{"channel":"l2_data""#) {
            scan_l2(registry, frame, &mut self.out)
        } else if frame.starts_with(br#"{"channel":"ticker"#) {
            scan_ticker(registry, frame, &mut self.out)
        } else {
            None
        };
        if let Some(header) = scanned {
            self.scanned += 1;
            return Ok(Decoded::Message(header));
        }
        self.decode_tape(registry, frame)
    }
}

/// The `client_id` the documents show after `channel`; the production feed leaves it out
/// (Coinbase's AsyncAPI description: "no `client_id`"), so both layouts are the venue's.
fn client_id(c: &mut Cursor<'_>) -> Option<()> {
    if c.eat(br#","client_id":"#) {
        c.string()?;
    }
    Some(())
}

/// [`scan_l2`] for a `ticker` or `ticker_batch` message.
pub(super) fn scan_ticker(
    registry: &InstrumentRegistry,
    frame: &[u8],
    out: &mut Events,
) -> Option<Header> {
    let mut c = Cursor { rest: frame };
    if !c.eat(br#"{"channel":"ticker""#) {
        c.expect(br#"{"channel":"ticker_batch""#)?;
    }
    message(c, Channel::Ticker, out, |c, out| {
        c.expect(br#"{"type":"#)?;
        c.string()?;
        c.expect(br#","tickers":["#)?;
        c.items(|c| ticker(registry, c, out))?;
        c.expect(b"}")
    })
}

/// One ticker object: its product and best bid and ask, the tape path's way (a side absent or
/// empty gives no ticker; the fields read in its order, so that an error is the tape's to name).
fn ticker(registry: &InstrumentRegistry, c: &mut Cursor<'_>, out: &mut Events) -> Option<()> {
    const KEYS: [&[u8]; 5] = [
        b"product_id",
        b"best_bid",
        b"best_bid_quantity",
        b"best_ask",
        b"best_ask_quantity",
    ];
    let mut found: [Option<&[u8]>; 5] = [None; 5];
    c.expect(b"{")?;
    loop {
        let key = c.string()?;
        c.expect(b":")?;
        let value = c.string()?;
        if let Some(i) = KEYS.iter().position(|k| *k == key) {
            if found.get(i)?.is_some() {
                return None;
            }
            *found.get_mut(i)? = Some(value);
        }
        if c.eat(b"}") {
            break;
        }
        c.expect(b",")?;
    }
    let [product, fields @ ..] = found;
    let inst = registry
        .find(Venue::Coinbase, product?)
        .and_then(|id| registry.get(id))?;
    let scales = [
        inst.price_scale,
        inst.qty_scale,
        inst.price_scale,
        inst.qty_scale,
    ];
    let mut values = [0i64; 4];
    for ((value, text), scale) in values.iter_mut().zip(fields).zip(scales) {
        match text {
            Some(text) if !text.is_empty() => *value = parse_decimal(text, scale).ok()?,
            // No side to hold the book to: no ticker, as the tape path decides.
            _ => return Some(()),
        }
    }
    if out.tickers.len() == MAX_TICKERS_PER_MESSAGE {
        return None;
    }
    let [bid_px, bid_qty, ask_px, ask_qty] = values;
    out.tickers.push(AtTicker {
        instrument: inst.id,
        bid: Level {
            px: Px(bid_px),
            qty: Qty(bid_qty),
        },
        ask: Level {
            px: Px(ask_px),
            qty: Qty(ask_qty),
        },
    });
    Some(())
}

fn event(registry: &InstrumentRegistry, c: &mut Cursor<'_>, out: &mut Events) -> Option<()> {
    c.expect(br#"{"type":"#)?;
    let kind = match c.string()? {
        b"snapshot" => BookKind::Snapshot,
        b"update" => BookKind::Update,
        _ => return None,
    };
    c.expect(br#","product_id":"#)?;
    let product = c.string()?;
    // A product the registry does not hold: the tape path skips it and counts it.
    let inst = registry
        .find(Venue::Coinbase, product)
        .and_then(|id| registry.get(id))?;
    if out.books.len() == MAX_BOOK_EVENTS {
        return None;
    }
    c.expect(br#","updates":["#)?;
    let start = out.levels.len();
    c.items(|c| {
        c.expect(br#"{"side":"#)?;
        let side = match c.string()? {
            b"bid" => Side::Buy,
            b"offer" => Side::Sell,
            _ => return None,
        };
        c.expect(br#","event_time":"#)?;
        c.string()?;
        c.expect(br#","price_level":""#)?;
        let px = c.decimal(inst.price_scale)?;
        c.expect(br#","new_quantity":""#)?;
        let qty = c.decimal(inst.qty_scale)?;
        c.expect(b"}")?;
        if px <= 0 || qty < 0 || out.levels.len() == MAX_LEVELS_PER_MESSAGE {
            return None;
        }
        out.levels.push(LevelUpdate {
            side,
            px: Px(px),
            qty: Qty(qty),
        });
        Some(())
    })?;
    c.expect(b"}")?;
    out.books.push(BookEvent {
        instrument: inst.id,
        kind,
        // Below MAX_LEVELS_PER_MESSAGE: fits.
        start: start as u32,
        end: out.levels.len() as u32,
    });
    Some(())
}
