//! Coinbase Advanced Trade WebSocket frames -> exact integers.
//!
//! simd-json in its allocation-free mode ([`TapeDecoder`], as every venue's codec): the tape is
//! walked straight into [`Px`]/[`Qty`] mantissas at the instrument's scales. After the largest
//! frame has been seen, decoding allocates nothing. Every channel's message has one envelope,
//! `{"channel":..,"client_id":"","timestamp":..,"sequence_num":N,"events":[..]}`:
//! - `l2_data`: `{"type":"snapshot"|"update","product_id":..,"updates":[{"side":"bid"|"offer",
//!   "event_time":..,"price_level":..,"new_quantity":..},..]}`, the quantity absolute, `"0"`
//!   deleting;
//! - `market_trades`: `{"type":..,"trades":[{"trade_id":..,"product_id":..,"price":..,
//!   "size":..,"side":"BUY"|"SELL","time":..},..]}`;
//! - `ticker` (and `ticker_batch`, the same shape): `{"type":..,"tickers":[{"type":"ticker",
//!   "product_id":..,"price":..,"best_bid":..,"best_bid_quantity":..,"best_ask":..,
//!   "best_ask_quantity":..,..},..]}`;
//! - `heartbeats` and `subscriptions`, and any other channel: no market data, but their
//!   `sequence_num` counts in the connection's sequence all the same.
//!
//! A refusal comes without the envelope: `{"type":"error","message":..}`.
//!
//! The envelope is read first and kept ([`CoinbaseAtCodec::header`]) even when the events
//! then fail to decode, so that the adapter keeps the connection's sequence whatever a frame
//! carried. Events of products the registry does not hold are skipped (a frame of nothing else
//! is [`DecodeError::UnknownSymbol`], counted as every venue counts one).

use simd_json::prelude::*;
use simd_json::tape::Value;

pub use crate::decode_error::DecodeError;
use crate::event::Level;
use crate::instrument::{Instrument, InstrumentRegistry, Venue};
use crate::json_tape::{array, decimal, decimal_field, str_field, TapeDecoder};
use crate::levels::LevelUpdate;
use crate::num::{InstrumentId, Px, Qty, Side};

/// Prices a book side holds at most: a `level2` snapshot is the whole book, tens of thousands
/// of levels a side on BTC-USD ([`Venue::whole_book_levels`]).
pub const SIDE_CAPACITY: usize = 65_536;
/// The most price levels one frame may carry, every event and both sides together: a whole
/// book at [`SIDE_CAPACITY`] a side. Anything above is refused as hostile.
pub const MAX_LEVELS_PER_MESSAGE: usize = 2 * SIDE_CAPACITY;
/// The most `l2_data` events one frame may carry (one per product: the venue sends one).
pub const MAX_BOOK_EVENTS: usize = 16;
/// The most trades one frame may carry (the `market_trades` snapshot sends the last 50).
pub const MAX_TRADES_PER_MESSAGE: usize = 1_024;
/// The most tickers one frame may carry (`ticker_batch`: one per product).
pub const MAX_TICKERS_PER_MESSAGE: usize = 64;
/// A `sequence_num` further ahead of the last than this is no gap but a corrupt number: no
/// connection loses four billion messages. Refused, so that it cannot push the sequence out of
/// reach of every genuine message after it.
pub const MAX_SEQUENCE_JUMP: u64 = 1 << 32;

/// Which channel a frame is of (`"channel"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    /// `l2_data`, the `level2` subscription's messages.
    Level2,
    MarketTrades,
    /// `ticker` and `ticker_batch`.
    Ticker,
    Heartbeats,
    Subscriptions,
    /// A channel Pulse does not subscribe to (`status`, `candles`, ...): only its number counts.
    Other,
}

/// The envelope of a channel message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub channel: Channel,
    /// One counter per connection across every channel.
    pub sequence_num: u64,
}

/// How an `l2_data` event relates to the book (`"type"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BookKind {
    /// The whole book: replaces the local one.
    Snapshot,
    /// Levels to set, `"0"` deleting.
    Update,
}

/// One `l2_data` event: its levels are `levels()[start..end]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BookEvent {
    pub instrument: InstrumentId,
    pub kind: BookKind,
    pub start: u32,
    pub end: u32,
}

/// One trade of a `market_trades` event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AtTrade {
    pub instrument: InstrumentId,
    pub trade_id: u64,
    pub px: Px,
    pub qty: Qty,
    /// The taker's side: the opposite of `"side"`, which Coinbase Advanced Trade gives as the
    /// maker order's side (as NautilusTrader's Coinbase integration documents it): `"BUY"` is a
    /// resting buy order hit by a seller.
    pub aggressor: Side,
}

/// The best bid and ask of one ticker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AtTicker {
    pub instrument: InstrumentId,
    pub bid: Level,
    pub ask: Level,
}

/// What a frame was. Its events are in [`CoinbaseAtCodec::books`] (with
/// [`CoinbaseAtCodec::levels`]), [`CoinbaseAtCodec::trades`] and [`CoinbaseAtCodec::tickers`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decoded {
    Message(Header),
    /// `{"type":"error",..}`: the venue refused a request (a subscription, say).
    VenueError,
}

pub struct CoinbaseAtCodec {
    tape: TapeDecoder,
    pub(super) out: Events,
    /// Frames the fixed-layout scanner decoded (the rest went to the tape).
    pub scanned: u64,
}

/// What the decoding of one frame fills (the scanner's or the tape's).
pub(crate) struct Events {
    pub(crate) header: Option<Header>,
    pub(crate) books: Vec<BookEvent>,
    pub(crate) levels: Vec<LevelUpdate>,
    trades: Vec<AtTrade>,
    pub(crate) tickers: Vec<AtTicker>,
    /// Events, trades and tickers of products the registry does not hold.
    skipped: usize,
}

impl Events {
    pub(super) fn clear(&mut self) {
        self.header = None;
        self.books.clear();
        self.levels.clear();
        self.trades.clear();
        self.tickers.clear();
        self.skipped = 0;
    }
}

impl Default for CoinbaseAtCodec {
    fn default() -> Self {
        CoinbaseAtCodec::new()
    }
}

impl CoinbaseAtCodec {
    pub fn new() -> CoinbaseAtCodec {
        CoinbaseAtCodec {
            // A whole-book snapshot is several MB: the tape grows to it once.
            tape: TapeDecoder::new(1 << 16),
            out: Events {
                header: None,
                books: Vec::with_capacity(MAX_BOOK_EVENTS),
                levels: Vec::with_capacity(MAX_LEVELS_PER_MESSAGE),
                trades: Vec::with_capacity(MAX_TRADES_PER_MESSAGE),
                tickers: Vec::with_capacity(MAX_TICKERS_PER_MESSAGE),
                skipped: 0,
            },
            scanned: 0,
        }
    }

    /// The envelope of the last frame, if it got that far: set even when its events failed.
    pub fn header(&self) -> Option<Header> {
        self.out.header
    }

    pub fn books(&self) -> &[BookEvent] {
        &self.out.books
    }

    /// Every level of the last frame's `l2_data` events, in message order.
    pub fn levels(&self) -> &[LevelUpdate] {
        &self.out.levels
    }

    /// The levels of one of [`CoinbaseAtCodec::books`].
    pub fn levels_of(&self, book: &BookEvent) -> &[LevelUpdate] {
        self.out
            .levels
            .get(book.start as usize..book.end as usize)
            .unwrap_or_default()
    }

    pub fn trades(&self) -> &[AtTrade] {
        &self.out.trades
    }

    pub fn tickers(&self) -> &[AtTicker] {
        &self.out.tickers
    }

    /// [`CoinbaseAtCodec::decode`] by the tape alone: the general path, which the scanner must
    /// agree with wherever it claims a frame (tests and fuzzing compare the two).
    pub fn decode_tape(
        &mut self,
        registry: &InstrumentRegistry,
        frame: &[u8],
    ) -> Result<Decoded, DecodeError> {
        let out = &mut self.out;
        out.clear();
        self.tape.decode(frame, |root| walk(registry, root, out))
    }
}

fn walk(
    registry: &InstrumentRegistry,
    root: Value<'_, '_>,
    out: &mut Events,
) -> Result<Decoded, DecodeError> {
    if root.as_object().is_none() {
        return Err(DecodeError::NotAnObject);
    }
    let Some(channel) = root.get("channel") else {
        return match str_field(root, "type")? {
            "error" => Ok(Decoded::VenueError),
            _ => Err(DecodeError::UnknownEvent),
        };
    };
    let channel = match channel.into_string() {
        Some("l2_data") => Channel::Level2,
        Some("market_trades") => Channel::MarketTrades,
        Some("ticker" | "ticker_batch") => Channel::Ticker,
        Some("heartbeats") => Channel::Heartbeats,
        Some("subscriptions") => Channel::Subscriptions,
        Some(_) => Channel::Other,
        None => return Err(DecodeError::WrongType("channel")),
    };
    let sequence_num = root
        .get("sequence_num")
        .ok_or(DecodeError::MissingField("sequence_num"))?
        .as_u64()
        .ok_or(DecodeError::WrongType("sequence_num"))?;
    let header = Header {
        channel,
        sequence_num,
    };
    out.header = Some(header);
    let events = array(root, "events")?;
    for event in events.iter() {
        if event.as_object().is_none() {
            return Err(DecodeError::WrongType("events"));
        }
        match channel {
            Channel::Level2 => book_event(registry, event, out)?,
            Channel::MarketTrades => {
                for trade in array(event, "trades")?.iter() {
                    match instrument(registry, trade)? {
                        Some(inst) => push_trade(inst, trade, &mut out.trades)?,
                        None => out.skipped += 1,
                    }
                }
            }
            Channel::Ticker => {
                for ticker in array(event, "tickers")?.iter() {
                    match instrument(registry, ticker)? {
                        Some(inst) => push_ticker(inst, ticker, &mut out.tickers)?,
                        None => out.skipped += 1,
                    }
                }
            }
            Channel::Heartbeats | Channel::Subscriptions | Channel::Other => {}
        }
    }
    let found = out.books.len() + out.trades.len() + out.tickers.len();
    if found == 0 && out.skipped > 0 {
        return Err(DecodeError::UnknownSymbol);
    }
    Ok(Decoded::Message(header))
}

/// The instrument of the object's `product_id`; `None` when the registry does not hold it.
fn instrument<'r>(
    registry: &'r InstrumentRegistry,
    item: Value<'_, '_>,
) -> Result<Option<&'r Instrument>, DecodeError> {
    if item.as_object().is_none() {
        return Err(DecodeError::WrongType("product_id"));
    }
    let product = str_field(item, "product_id")?;
    Ok(registry
        .find(Venue::Coinbase, product.as_bytes())
        .and_then(|id| registry.get(id)))
}

fn book_event(
    registry: &InstrumentRegistry,
    event: Value<'_, '_>,
    out: &mut Events,
) -> Result<(), DecodeError> {
    let kind = match str_field(event, "type")? {
        "snapshot" => BookKind::Snapshot,
        "update" => BookKind::Update,
        _ => return Err(DecodeError::WrongType("type")),
    };
    let updates = array(event, "updates")?;
    let Some(inst) = instrument(registry, event)? else {
        out.skipped += 1;
        return Ok(());
    };
    if out.books.len() == MAX_BOOK_EVENTS {
        return Err(DecodeError::TooManyLevels);
    }
    let start = out.levels.len();
    for update in updates.iter() {
        if update.as_object().is_none() {
            return Err(DecodeError::WrongType("updates"));
        }
        let side = match str_field(update, "side")? {
            "bid" => Side::Buy,
            "offer" => Side::Sell,
            _ => return Err(DecodeError::WrongType("side")),
        };
        let px = decimal_field(update, "price_level", inst.price_scale)?;
        let qty = decimal_field(update, "new_quantity", inst.qty_scale)?;
        // A price is positive and a quantity not negative: anything else is no book level.
        if px <= 0 {
            return Err(DecodeError::WrongType("price_level"));
        }
        if qty < 0 {
            return Err(DecodeError::WrongType("new_quantity"));
        }
        if out.levels.len() == MAX_LEVELS_PER_MESSAGE {
            return Err(DecodeError::TooManyLevels);
        }
        out.levels.push(LevelUpdate {
            side,
            px: Px(px),
            qty: Qty(qty),
        });
    }
    out.books.push(BookEvent {
        instrument: inst.id,
        kind,
        // Below MAX_LEVELS_PER_MESSAGE: fits.
        start: start as u32,
        end: out.levels.len() as u32,
    });
    Ok(())
}

fn push_trade(
    inst: &Instrument,
    item: Value<'_, '_>,
    trades: &mut Vec<AtTrade>,
) -> Result<(), DecodeError> {
    // `side` is the maker's (see [`AtTrade::aggressor`]).
    let aggressor = match str_field(item, "side")? {
        "BUY" => Side::Sell,
        "SELL" => Side::Buy,
        _ => return Err(DecodeError::WrongType("side")),
    };
    let px = decimal_field(item, "price", inst.price_scale)?;
    let qty = decimal_field(item, "size", inst.qty_scale)?;
    if px <= 0 || qty <= 0 {
        return Err(DecodeError::WrongType("price"));
    }
    if trades.len() == MAX_TRADES_PER_MESSAGE {
        return Err(DecodeError::TooManyLevels);
    }
    trades.push(AtTrade {
        instrument: inst.id,
        trade_id: trade_id(str_field(item, "trade_id")?)
            .ok_or(DecodeError::WrongType("trade_id"))?,
        px: Px(px),
        qty: Qty(qty),
        aggressor,
    });
    Ok(())
}

/// A ticker's best bid and ask. A side the ticker leaves empty (`""` or absent, a product
/// with no bid, say) gives no event: there is nothing to hold the book to.
fn push_ticker(
    inst: &Instrument,
    item: Value<'_, '_>,
    tickers: &mut Vec<AtTicker>,
) -> Result<(), DecodeError> {
    let (ps, qs) = (inst.price_scale, inst.qty_scale);
    let fields = [
        ("best_bid", ps),
        ("best_bid_quantity", qs),
        ("best_ask", ps),
        ("best_ask_quantity", qs),
    ];
    let mut values = [0i64; 4];
    for (value, (key, scale)) in values.iter_mut().zip(fields) {
        let text = match item.get(key) {
            None => return Ok(()),
            Some(v) => v.into_string().ok_or(DecodeError::WrongType(key))?,
        };
        if text.is_empty() {
            return Ok(());
        }
        *value = decimal(text, key, scale)?;
    }
    let [bid_px, bid_qty, ask_px, ask_qty] = values;
    if tickers.len() == MAX_TICKERS_PER_MESSAGE {
        return Err(DecodeError::TooManyLevels);
    }
    tickers.push(AtTicker {
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
    Ok(())
}

/// A trade id as a number: Coinbase's decimal ids as they are (leading zeros and all, as the
/// documented `"000000000"`), anything else by its first 16 hex digits (dashes skipped), which
/// tells trades apart in a log.
pub fn trade_id(text: &str) -> Option<u64> {
    if !text.is_empty() && text.len() <= 20 && text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse::<u64>().ok();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trade_ids() {
        assert_eq!(trade_id("000000000"), Some(0));
        assert_eq!(trade_id("572158512"), Some(572_158_512));
        assert_eq!(
            trade_id("20f43950-d8dd-5b31-9112-a178eb6023af"),
            Some(0x20f4_3950_d8dd_5b31)
        );
        assert_eq!(trade_id(""), None);
        assert_eq!(trade_id("99999999999999999999"), None);
        assert_eq!(trade_id("xyz"), None);
    }
}
