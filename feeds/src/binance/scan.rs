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
use crate::num::{parse_decimal, pow10, Px, Qty, Side, MAX_SCALE};

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

/// The unread rest of a frame.
struct Cursor<'f> {
    rest: &'f [u8],
}

impl<'f> Cursor<'f> {
    /// Consumes `literal` if the rest starts with it.
    fn eat(&mut self, literal: &[u8]) -> bool {
        match self.rest.strip_prefix(literal) {
            Some(rest) => {
                self.rest = rest;
                true
            }
            None => false,
        }
    }

    fn expect(&mut self, literal: &[u8]) -> Option<()> {
        self.eat(literal).then_some(())
    }

    /// A JSON number that simd-json reads as an unsigned integer: `0` or digits without a
    /// leading zero, within `u64`. A fraction or exponent is left unread, so the literal
    /// expected next does not match.
    fn uint(&mut self) -> Option<u64> {
        let end = self
            .rest
            .iter()
            .position(|b| !b.is_ascii_digit())
            .unwrap_or(self.rest.len());
        let (digits, rest) = self.rest.split_at_checked(end)?;
        if let [] | [b'0', _, ..] = digits {
            return None;
        }
        let value = if digits.len() <= MAX_SAFE_DIGITS {
            // Below 10^19, so below u64::MAX: no step can overflow. Binance's ids and times
            // are 11 to 13 digits: eight at a time, then one by one, with no multiply checked.
            let mut value: u64 = 0;
            let mut left = digits;
            while let Some((chunk, tail)) = left.split_first_chunk::<8>() {
                let eight = eight_digit_value(u64::from_le_bytes(*chunk));
                value = value.wrapping_mul(100_000_000).wrapping_add(eight);
                left = tail;
            }
            for &d in left {
                value = value.wrapping_mul(10).wrapping_add(u64::from(d - b'0'));
            }
            value
        } else {
            let mut value: u64 = 0;
            for &d in digits {
                value = value.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
            }
            value
        };
        self.rest = rest;
        Some(value)
    }

    fn bool(&mut self) -> Option<bool> {
        if self.eat(b"true") {
            Some(true)
        } else if self.eat(b"false") {
            Some(false)
        } else {
            None
        }
    }

    /// The rest of a string whose opening quote is consumed, up to and including the closing
    /// one: printable ASCII without escapes, so valid JSON and equal to its decoded value.
    fn plain_string(&mut self) -> Option<&'f [u8]> {
        let end = self
            .rest
            .iter()
            .position(|&b| b == b'"' || b == b'\\' || !(0x20..=0x7e).contains(&b))?;
        let (text, rest) = self.rest.split_at_checked(end)?;
        self.rest = rest.strip_prefix(b"\"")?;
        Some(text)
    }

    /// The rest of a string holding a decimal, parsed at `scale` exactly as [`parse_decimal`]
    /// would. The plain decimals Binance sends are converted while the closing quote is found
    /// ([`plain_decimal`]); anything else is delimited first and handed to `parse_decimal`.
    /// Only the closing quote is searched for: a decimal that parses is made of digits, signs,
    /// a point and `e`/`E`, so the string was plain.
    fn decimal(&mut self, scale: u32) -> Option<i64> {
        if let Some((value, rest)) = plain_decimal(self.rest, scale) {
            self.rest = rest;
            return Some(value);
        }
        let end = self.rest.iter().position(|&b| b == b'"')?;
        let (text, rest) = self.rest.split_at_checked(end)?;
        let value = parse_decimal(text, scale).ok()?;
        self.rest = rest.get(1..)?;
        Some(value)
    }
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
        push_levels(c, inst, Side::Buy, levels)?;
        c.expect(br#","a":["#)?;
        push_levels(c, inst, Side::Sell, levels)?;
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

/// The levels of one side, from just past its opening bracket to just past its closing one.
fn push_levels(
    c: &mut Cursor<'_>,
    inst: &Instrument,
    side: Side,
    levels: &mut Vec<LevelUpdate>,
) -> Option<()> {
    if c.eat(b"]") {
        return Some(());
    }
    loop {
        c.expect(br#"[""#)?;
        let px = c.decimal(inst.price_scale)?;
        c.expect(br#",""#)?;
        let qty = c.decimal(inst.qty_scale)?;
        c.expect(b"]")?;
        // The tape path refuses it (`TooManyLevels`); the check also keeps `push` from growing
        // the preallocated vector.
        if levels.len() >= MAX_LEVELS_PER_MESSAGE {
            return None;
        }
        levels.push(LevelUpdate {
            side,
            px: Px(px),
            qty: Qty(qty),
        });
        if c.eat(b"]") {
            return Some(());
        }
        c.expect(b",")?;
    }
}

/// Digits of an unsigned integer that cannot overflow a `u64` (`10^19 - 1 < 2^64`).
const MAX_SAFE_DIGITS: usize = 19;

/// `"00000000"` read as a little-endian word.
const ASCII_ZEROS: u64 = u64::from_le_bytes(*b"00000000");

/// The rest of a string holding a plain unsigned decimal (`12`, `12.5`, `.5`, `12.`), its
/// value at `scale` converted in the same pass that finds the closing quote, and what follows
/// that quote. A value here is always [`parse_decimal`]'s value; `None` means only "not this
/// shape" (a sign, an exponent, a nonzero place below the scale, more than 18 places kept, a
/// value that does not fit), so the caller asks `parse_decimal`, which also knows the
/// exponent form that can make a place below the scale exact again. At most 18 places kept
/// stay below `10^18`, so the digits cannot overflow before the final scaling, which is
/// checked.
fn plain_decimal(text: &[u8], scale: u32) -> Option<(i64, &[u8])> {
    if scale > MAX_SCALE {
        return None;
    }
    let mut rest = text;
    let mut acc: u64 = 0;
    let mut kept = 0usize;
    let mut digits = 0usize;
    while let [d @ b'0'..=b'9', tail @ ..] = rest {
        acc = acc.wrapping_mul(10).wrapping_add(u64::from(d - b'0'));
        kept += 1;
        rest = tail;
    }
    digits += kept;
    let mut frac_len = 0usize;
    if let [b'.', tail @ ..] = rest {
        rest = tail;
        // Binance writes eight places: take them as one word.
        if let Some((chunk, tail)) = rest.split_first_chunk::<8>() {
            let word = u64::from_le_bytes(*chunk);
            if eight_digits(word) {
                let (value, places) = eight_places_at(word, scale)?;
                acc = acc.wrapping_mul(pow10(places)? as u64).wrapping_add(value);
                kept += places as usize;
                frac_len = 8;
                rest = tail;
            }
        }
        while let [d @ b'0'..=b'9', tail @ ..] = rest {
            frac_len += 1;
            if frac_len <= scale as usize {
                acc = acc.wrapping_mul(10).wrapping_add(u64::from(d - b'0'));
                kept += 1;
            } else if *d != b'0' {
                return None;
            }
            rest = tail;
        }
        digits += frac_len;
    }
    let [b'"', rest @ ..] = rest else {
        return None;
    };
    if digits == 0 || kept > 18 {
        return None;
    }
    let missing = (scale as usize).saturating_sub(frac_len) as u32;
    let value = i64::try_from(acc).ok()?.checked_mul(pow10(missing)?)?;
    Some((value, rest))
}

/// Whether each byte of `word` is an ASCII digit. A byte of `0xfa` or more carries into the
/// next one when `6` is added, but its own high nibble already fails the test.
fn eight_digits(word: u64) -> bool {
    const HIGH: u64 = 0xf0f0_f0f0_f0f0_f0f0;
    (word & HIGH) | ((word.wrapping_add(0x0606_0606_0606_0606) & HIGH) >> 4)
        == 0x3333_3333_3333_3333
}

/// The value of the eight ASCII digits in `word`, the first digit in the lowest byte: digit
/// pairs, then groups of four, then the whole, each step one multiply (simdjson's
/// `parse_eight_digits_unrolled`).
fn eight_digit_value(word: u64) -> u64 {
    const BYTES_0_4: u64 = 0x0000_00ff_0000_00ff;
    let v = word.wrapping_sub(ASCII_ZEROS);
    let pairs = v.wrapping_mul(10).wrapping_add(v >> 8);
    let low = (pairs & BYTES_0_4).wrapping_mul(100 + (1_000_000 << 32));
    let high = ((pairs >> 16) & BYTES_0_4).wrapping_mul(1 + (10_000 << 32));
    low.wrapping_add(high) >> 32
}

/// Eight fraction digits at `scale`: the value of the places kept and how many were kept
/// (all eight, or the first `scale`). `None` if a place below the scale is not zero.
fn eight_places_at(word: u64, scale: u32) -> Option<(u64, u32)> {
    if scale >= 8 {
        return Some((eight_digit_value(word), 8));
    }
    let dropped_bits = 8 * (8 - scale);
    let kept_bits = 64 - dropped_bits;
    // The places past the scale are the high bytes; they must all be `0`.
    if word >> kept_bits != ASCII_ZEROS >> kept_bits {
        return None;
    }
    // The kept places, moved up behind leading `0`s: the same number as eight digits. At
    // scale 0 nothing is kept and the shift is a whole word.
    let padded = word.checked_shl(dropped_bits).unwrap_or(0) | ASCII_ZEROS >> kept_bits;
    Some((eight_digit_value(padded), scale))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::num::DecimalError;
    use proptest::prelude::*;

    /// The decimal conversion before the one-pass one: delimit, then `parse_decimal`.
    fn delimited_decimal(text: &[u8], scale: u32) -> Option<(i64, &[u8])> {
        let end = text.iter().position(|&b| b == b'"')?;
        let (digits, rest) = text.split_at_checked(end)?;
        let value = parse_decimal(digits, scale).ok()?;
        Some((value, rest.get(1..)?))
    }

    fn one_pass(text: &[u8], scale: u32) -> Option<(i64, &[u8])> {
        let mut c = Cursor { rest: text };
        let value = c.decimal(scale)?;
        Some((value, c.rest))
    }

    #[test]
    fn binance_decimals_take_the_one_pass_path() {
        let cases: [(&[u8], u32, i64); 7] = [
            (b"27123.45000000\",", 2, 2_712_345),
            (b"0.00150000\"]", 8, 150_000),
            (b"0.00150000\"]", 5, 150),
            (b"27123.40\"", 2, 2_712_340),
            (b"0.003\"", 3, 3),
            (b"5.00000000\"", 0, 5),
            (b"12.3456789012\"", 10, 123_456_789_012),
        ];
        for (text, scale, value) in cases {
            assert_eq!(plain_decimal(text, scale).map(|(v, _)| v), Some(value));
            assert_eq!(one_pass(text, scale), delimited_decimal(text, scale));
        }
        assert_eq!(plain_decimal(b"27123.45000001\"", 2), None);
        assert_eq!(
            one_pass(b"1.00000001e8\"", 0),
            Some((100_000_001, &b""[..]))
        );
        assert_eq!(
            parse_decimal(b"27123.45000001", 2),
            Err(DecimalError::TooPrecise)
        );
    }

    #[test]
    fn unsigned_integers_of_every_length_up_to_the_overflow() {
        fn uint(text: &str) -> Option<(u64, &[u8])> {
            let mut c = Cursor {
                rest: text.as_bytes(),
            };
            c.uint().map(|v| (v, c.rest))
        }
        for digits in 1..=20 {
            let text: String = "9876543210".chars().cycle().skip(1).take(digits).collect();
            let expected = text.parse::<u64>().ok();
            assert_eq!(
                uint(&format!("{text},")).map(|(v, _)| v),
                expected,
                "{text}"
            );
        }
        assert_eq!(uint("18446744073709551615}"), Some((u64::MAX, &b"}"[..])));
        assert_eq!(uint("18446744073709551616}"), None, "one above u64::MAX");
        assert_eq!(uint("99999999999999999999"), None);
        assert_eq!(uint("1723161253937,"), Some((1_723_161_253_937, &b","[..])));
        assert_eq!(uint("0,"), Some((0, &b","[..])));
        assert_eq!(uint("012,"), None, "a leading zero");
        assert_eq!(uint(","), None);
    }

    #[test]
    fn eight_digit_words() {
        for text in [b"00000000", b"12345678", b"99999999", b"01020304"] {
            let word = u64::from_le_bytes(*text);
            assert!(eight_digits(word));
            let expected = text.iter().fold(0, |a, &d| a * 10 + u64::from(d - b'0'));
            assert_eq!(eight_digit_value(word), expected);
        }
        for text in [b"1234567/", b"1234567:", b"\xff2345678", b"1234 678"] {
            assert!(!eight_digits(u64::from_le_bytes(*text)));
        }
    }

    proptest! {
        /// Digit strings of every length around eight places, at every scale, often with
        /// trailing zeros: the one-pass value is `parse_decimal`'s, and it is taken whenever
        /// the decimal is plain, fits and keeps at most 18 places.
        #[test]
        fn one_pass_is_parse_decimal_on_digit_strings(
            int in "[0-9]{0,20}", point in any::<bool>(), frac in "[0-9]{0,12}",
            zeros in 0usize..10, scale in 0u32..=18,
        ) {
            let body = if point {
                format!("{int}.{frac}{}", "0".repeat(zeros))
            } else {
                int.clone()
            };
            let text = format!("{body}\"tail");
            let expected = parse_decimal(body.as_bytes(), scale);
            let fast = plain_decimal(text.as_bytes(), scale);
            if let Some((value, rest)) = fast {
                prop_assert_eq!(Ok(value), expected);
                prop_assert_eq!(rest, b"tail");
            } else if body.bytes().filter(u8::is_ascii_digit).count() <= 18 {
                prop_assert!(expected.is_err(), "{} at {} fell back", body, scale);
            }
            prop_assert_eq!(one_pass(text.as_bytes(), scale), delimited_decimal(text.as_bytes(), scale));
        }

        /// Bytes from the decimal alphabet and the string's delimiters: the cursor reads
        /// exactly what delimiting and `parse_decimal` read.
        #[test]
        fn one_pass_is_delimited_parse_on_decimal_alphabet(
            bytes in proptest::collection::vec(
                prop::sample::select(&b"01234567890000000000.-+eE\"x"[..]), 0..40),
            scale in 0u32..=20,
        ) {
            prop_assert_eq!(one_pass(&bytes, scale), delimited_decimal(&bytes, scale));
        }
    }
}
