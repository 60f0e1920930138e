//! A fixed-layout scanner for the frames Binance actually sends: the fast path of
//! `BinanceCodec::decode_ws` (`codec.rs`).
//!
//! Binance writes its market data with one serializer, so every `depthUpdate`, `bookTicker`,
//! `trade` and `aggTrade` frame has the same keys in the same order, no whitespace and no escapes.
//! Reading such a frame once, left to right, straight into integers skips what a general parser
//! spends most of its time on: copying the frame, finding its structure, building a tape and
//! looking keys up in it.
//!
//! The scanner only claims a frame it can decode *exactly* as the tape path would. It accepts a
//! strict subset of JSON (the layouts below; strings of printable ASCII without escapes; numbers
//! that are plain unsigned integers within `u64`; `true`/`false`), so whatever it accepts
//! simd-json also accepts, with no duplicate among the keys the tape path reads. Anything else
//! (another key order, whitespace, an escape, a missing or extra field, an unknown event or
//! symbol, a decimal that does not fit, too many levels) returns `None` and the tape path decodes
//! the frame, so every error is still classified there. `feeds/tests/scan_equivalence.rs` and
//! the `binance_scan` fuzz target hold the two paths to the same answers.
//!
//! Layouts, each bare or as `{"stream":"<name>","data":<layout>}`, `(..)` optional:
//!
//! ```text
//! {"e":"depthUpdate","E":n,("T":n,)"s":"..","U":n,"u":n,("pu":n,)"b":[["px","qty"],..],"a":[..]}
//! {"u":n,"s":"..","b":"..","B":"..","a":"..","A":".."}                             spot bookTicker
//! {"e":"bookTicker","u":n,"s":"..","b":"..","B":"..","a":"..","A":".."(,"T":n)(,"E":n)}
//! {"e":"trade","E":n,("T":n,)"s":"..","t":n,"p":"..","q":"..",("T":n,)("X":"..",)"m":b(,"M":b)}
//! {"e":"aggTrade","E":n,("T":n,)"s":"..","a":n,"p":"..","q":"..","f":n,"l":n,("T":n,)"m":b(,"M":b)}
//! ```
//!
//! It never allocates (levels go into the caller's vector, preallocated to
//! [`MAX_LEVELS_PER_MESSAGE`]) and never panics: the frame is consumed through slice methods
//! that check their bounds, never by indexing.

use crate::binance::frame::{Decoded, LevelUpdate, MAX_LEVELS_PER_MESSAGE};
use crate::binance::market::BinanceMarket;
use crate::book::Level;
use crate::instrument::{Instrument, InstrumentRegistry};
use crate::num::{Px, Qty, Side};
use crate::scan_cursor::Cursor;

/// Decodes `frame` if it is in one of Binance's layouts and decodes without error; `None`
/// otherwise ("not mine"), leaving the frame to the tape path. The levels of a `Depth` are in
/// `levels`, cleared first; after `None` they are meaningless.
pub fn scan_ws(
    registry: &InstrumentRegistry,
    market: BinanceMarket,
    frame: &[u8],
    levels: &mut Vec<LevelUpdate>,
) -> Option<Decoded> {
    levels.clear();
    let mut scan = Scan {
        registry,
        market,
        c: Cursor { rest: frame },
    };
    let combined = scan.c.eat(br#"{"stream":""#);
    if combined {
        scan.c.plain_string()?;
        scan.c.expect(br#","data":"#)?;
    }
    let decoded = scan.data(levels)?;
    if combined {
        scan.c.expect(b"}")?;
    }
    scan.c.rest.is_empty().then_some(decoded)
}

/// One frame's scan: the cursor and what decoding needs besides the bytes.
struct Scan<'r, 'f> {
    registry: &'r InstrumentRegistry,
    market: BinanceMarket,
    c: Cursor<'f>,
}

impl<'r, 'f> Scan<'r, 'f> {
    /// The data object, told apart by its first key, up to and including its closing brace.
    fn data(&mut self, levels: &mut Vec<LevelUpdate>) -> Option<Decoded> {
        if self.c.eat(br#"{"e":"depthUpdate","E":"#) {
            self.depth(levels)
        } else if self.c.eat(br#"{"e":"trade","E":"#) {
            self.trade(false)
        } else if self.c.eat(br#"{"e":"aggTrade","E":"#) {
            self.trade(true)
        } else if self.c.eat(br#"{"e":"bookTicker","u":"#) || self.c.eat(br#"{"u":"#) {
            self.ticker()
        } else {
            None
        }
    }

    /// The symbol string (its opening quote consumed), looked up under this market's venue.
    fn instrument(&mut self) -> Option<&'r Instrument> {
        let symbol = self.c.plain_string()?;
        let registry = self.registry;
        registry
            .find(self.market.venue(), symbol)
            .and_then(|id| registry.get(id))
    }

    /// The head shared by `depthUpdate`, `trade` and `aggTrade`, from the value of `E` on: the
    /// event time, an optional transaction time `T`, and the symbol.
    fn event_head(&mut self) -> Option<&'r Instrument> {
        self.c.uint()?;
        if self.c.eat(br#","T":"#) {
            self.c.uint()?;
        }
        self.c.expect(br#","s":""#)?;
        self.instrument()
    }

    fn depth(&mut self, levels: &mut Vec<LevelUpdate>) -> Option<Decoded> {
        let inst = self.event_head()?;
        let c = &mut self.c;
        c.expect(br#","U":"#)?;
        let first_id = c.uint()?;
        c.expect(br#","u":"#)?;
        let last_id = c.uint()?;
        let prev_last_id = if c.eat(br#","pu":"#) {
            Some(c.uint()?)
        } else if self.market == BinanceMarket::UsdmFutures {
            // The tape path refuses it (`MissingField("pu")`).
            return None;
        } else {
            None
        };
        c.expect(br#","b":["#)?;
        c.levels(inst, Side::Buy, levels, MAX_LEVELS_PER_MESSAGE)?;
        c.expect(br#","a":["#)?;
        c.levels(inst, Side::Sell, levels, MAX_LEVELS_PER_MESSAGE)?;
        c.expect(b"}")?;
        Some(Decoded::Depth {
            instrument: inst.id,
            first_id,
            last_id,
            prev_last_id,
        })
    }

    /// `trade` (id in `t`) or `aggTrade` (id in `a`, then the first and last trade ids).
    fn trade(&mut self, aggregate: bool) -> Option<Decoded> {
        let inst = self.event_head()?;
        let c = &mut self.c;
        c.expect(if aggregate { br#","a":"# } else { br#","t":"# })?;
        let trade_id = c.uint()?;
        c.expect(br#","p":""#)?;
        let px = c.decimal(inst.price_scale)?;
        c.expect(br#","q":""#)?;
        let qty = c.decimal(inst.qty_scale)?;
        if aggregate {
            c.expect(br#","f":"#)?;
            c.uint()?;
            c.expect(br#","l":"#)?;
            c.uint()?;
        }
        if c.eat(br#","T":"#) {
            c.uint()?;
        }
        if c.eat(br#","X":""#) {
            c.plain_string()?;
        }
        c.expect(br#","m":"#)?;
        let buyer_is_maker = c.bool()?;
        if c.eat(br#","M":"#) {
            c.bool()?;
        }
        c.expect(b"}")?;
        Some(Decoded::Trade {
            instrument: inst.id,
            trade_id,
            px: Px(px),
            qty: Qty(qty),
            aggressor: if buyer_is_maker {
                Side::Sell
            } else {
                Side::Buy
            },
        })
    }

    /// A `bookTicker`, from the value of `u` on.
    fn ticker(&mut self) -> Option<Decoded> {
        let update_id = self.c.uint()?;
        self.c.expect(br#","s":""#)?;
        let inst = self.instrument()?;
        let (ps, qs) = (inst.price_scale, inst.qty_scale);
        let c = &mut self.c;
        c.expect(br#","b":""#)?;
        let bid_px = c.decimal(ps)?;
        c.expect(br#","B":""#)?;
        let bid_qty = c.decimal(qs)?;
        c.expect(br#","a":""#)?;
        let ask_px = c.decimal(ps)?;
        c.expect(br#","A":""#)?;
        let ask_qty = c.decimal(qs)?;
        if c.eat(br#","T":"#) {
            c.uint()?;
        }
        if c.eat(br#","E":"#) {
            c.uint()?;
        }
        c.expect(b"}")?;
        Some(Decoded::Ticker {
            instrument: inst.id,
            update_id,
            bid: Level {
                px: Px(bid_px),
                qty: Qty(bid_qty),
            },
            ask: Level {
                px: Px(ask_px),
                qty: Qty(ask_qty),
            },
        })
    }
}
