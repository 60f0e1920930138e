//! The cursor of the fixed-layout scanners (Binance's `binance/scan.rs`, and the other
//! venues' fast paths): a frame read once, left to right, literal by literal, its numbers
//! converted to exact integers as they are read. It accepts a strict subset of JSON (strings of
//! printable ASCII without escapes, unsigned integers, `true`/`false`, decimals in strings), so
//! whatever a scanner built on it accepts, simd-json accepts and decodes to the same values;
//! anything else makes the scanner return `None` and the venue's tape path decode the frame.
//! It never allocates and never panics: the frame is consumed through slice methods that check
//! their bounds.

use crate::instrument::Instrument;
use crate::levels::LevelUpdate;
use crate::num::{parse_decimal, pow10, Px, Qty, Side, MAX_SCALE};

/// The unread rest of a frame.
pub(crate) struct Cursor<'f> {
    pub(crate) rest: &'f [u8],
}

impl<'f> Cursor<'f> {
    /// Consumes `literal` if the rest starts with it.
    #[inline]
    pub(crate) fn eat(&mut self, literal: &[u8]) -> bool {
        match self.rest.strip_prefix(literal) {
            Some(rest) => {
                self.rest = rest;
                true
            }
            None => false,
        }
    }

    #[inline]
    pub(crate) fn expect(&mut self, literal: &[u8]) -> Option<()> {
        self.eat(literal).then_some(())
    }

    /// The items of an array, from just past its `[` to just past its `]`, each read by `item`.
    #[inline]
    pub(crate) fn items(&mut self, mut item: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        if self.eat(b"]") {
            return Some(());
        }
        loop {
            item(self)?;
            if self.eat(b"]") {
                return Some(());
            }
            self.expect(b",")?;
        }
    }

    /// The levels of one side written `[["price","quantity"],..]`, from just past its opening
    /// bracket to just past its closing one.
    #[inline]
    pub(crate) fn levels(
        &mut self,
        inst: &Instrument,
        side: Side,
        levels: &mut Vec<LevelUpdate>,
        max: usize,
    ) -> Option<()> {
        // The loop of `items`, written out: this is Binance's depth path, and the closure
        // cost it some 150 instructions a message (scripts/instructions.sh, decode_depth).
        if self.eat(b"]") {
            return Some(());
        }
        loop {
            self.expect(br#"[""#)?;
            self.level(inst, side, levels, max)?;
            if self.eat(b"]") {
                return Some(());
            }
            self.expect(b",")?;
        }
    }

    /// The rest of a level written `"price","quantity"]` (its opening already read), pushed
    /// onto `levels` at the instrument's scales. `None` past `max` levels: the tape path
    /// refuses such a frame (`TooManyLevels`), and the check keeps `push` from growing the
    /// preallocated vector.
    #[inline]
    pub(crate) fn level(
        &mut self,
        inst: &Instrument,
        side: Side,
        levels: &mut Vec<LevelUpdate>,
        max: usize,
    ) -> Option<()> {
        let px = self.decimal(inst.price_scale)?;
        self.expect(br#",""#)?;
        let qty = self.decimal(inst.qty_scale)?;
        self.expect(b"]")?;
        if levels.len() >= max {
            return None;
        }
        levels.push(LevelUpdate {
            side,
            px: Px(px),
            qty: Qty(qty),
        });
        Some(())
    }

    /// A JSON number that simd-json reads as an unsigned integer: `0` or digits without a
    /// leading zero, within `u64`. A fraction or exponent is left unread, so the literal
    /// expected next does not match.
    #[inline]
    pub(crate) fn uint(&mut self) -> Option<u64> {
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

    /// A JSON integer that simd-json reads as an `i64`: [`Cursor::uint`], perhaps negative.
    #[inline]
    pub(crate) fn int(&mut self) -> Option<i64> {
        if self.eat(b"-") {
            let magnitude = self.uint()?;
            0i64.checked_sub_unsigned(magnitude)
        } else {
            i64::try_from(self.uint()?).ok()
        }
    }

    /// A member's value as the scanners take it: a plain string or an integer.
    #[inline]
    pub(crate) fn scalar(&mut self) -> Option<Scalar<'f>> {
        if self.eat(b"\"") {
            self.plain_string().map(Scalar::Str)
        } else {
            self.int().map(|_| Scalar::Int)
        }
    }

    /// The members of a flat object, from just past its `{` to just past its `}`: each key
    /// with its value (a plain string or an integer: anything else is `None`) handed to
    /// `member`, which returns `None` to refuse the frame.
    #[inline]
    pub(crate) fn members(
        &mut self,
        mut member: impl FnMut(&'f [u8], Scalar<'f>) -> Option<()>,
    ) -> Option<()> {
        if self.eat(b"}") {
            return Some(());
        }
        loop {
            self.expect(b"\"")?;
            let key = self.plain_string()?;
            self.expect(b":")?;
            member(key, self.scalar()?)?;
            if self.eat(b"}") {
                return Some(());
            }
            self.expect(b",")?;
        }
    }

    #[inline]
    pub(crate) fn bool(&mut self) -> Option<bool> {
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
    #[inline]
    pub(crate) fn plain_string(&mut self) -> Option<&'f [u8]> {
        let end = self
            .rest
            .iter()
            .position(|&b| b == b'"' || b == b'\\' || !(0x20..=0x7e).contains(&b))?;
        let (text, rest) = self.rest.split_at_checked(end)?;
        self.rest = rest.strip_prefix(b"\"")?;
        Some(text)
    }

    /// A whole string, opening quote included: its content, printable ASCII without escapes.
    #[inline]
    pub(crate) fn string(&mut self) -> Option<&'f [u8]> {
        self.expect(b"\"")?;
        self.plain_string()
    }

    /// The rest of a string holding a decimal, parsed at `scale` exactly as [`parse_decimal`]
    /// would. The plain decimals Binance sends are converted while the closing quote is found
    /// ([`plain_decimal`]); anything else is delimited first and handed to `parse_decimal`.
    /// Only the closing quote is searched for: a decimal that parses is made of digits, signs,
    /// a point and `e`/`E`, so the string was plain.
    #[inline]
    pub(crate) fn decimal(&mut self, scale: u32) -> Option<i64> {
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

/// A member's value: a string's content (plain: no escapes) or an integer (not kept).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scalar<'f> {
    Str(&'f [u8]),
    Int,
}

/// Wanted fields of a flat object, each taken once: a second occurrence refuses the frame
/// (the tape path then says which one it reads).
pub(crate) struct Picked<'f, const N: usize> {
    pub(crate) values: [Option<&'f [u8]>; N],
}

impl<'f, const N: usize> Picked<'f, N> {
    pub(crate) fn new() -> Self {
        Picked { values: [None; N] }
    }

    /// Keeps `value` if `key` is one of `keys`; `None` if it came before or is no string.
    #[inline]
    pub(crate) fn take(&mut self, keys: &[&[u8]; N], key: &[u8], value: Scalar<'f>) -> Option<()> {
        let Some(i) = keys.iter().position(|k| *k == key) else {
            return Some(());
        };
        let (slot, Scalar::Str(text)) = (self.values.get_mut(i)?, value) else {
            return None;
        };
        if slot.is_some() {
            return None;
        }
        *slot = Some(text);
        Some(())
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

/// What [`scan_capture`] saw: the frames `wanted` picks, how many of them the scanner
/// claimed, how many other frames it claimed, and how many mutated variants it claimed.
#[cfg(test)]
#[derive(Debug, Default)]
pub(crate) struct ScanTally {
    pub wanted: usize,
    pub claimed: usize,
    pub claimed_other: usize,
    pub variants: usize,
}

/// Test support for the scanners: every WebSocket frame of the bundled capture `file` through
/// `check` (which holds the scanner to the tape path and says whether the scanner claimed the
/// frame), and every `every`-th frame `wanted` picks also through [`scan_variants`].
#[cfg(test)]
pub(crate) fn scan_capture(
    file: &str,
    wanted: impl Fn(&[u8]) -> bool,
    every: usize,
    step: usize,
    mut check: impl FnMut(&[u8]) -> bool,
) -> ScanTally {
    use crate::capture::{CaptureReader, SourceKind};
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../data")
        .join(file);
    let mut reader = CaptureReader::open(&path).unwrap();
    let mut tally = ScanTally::default();
    while let Some(record) = reader.next_record() {
        let record = record.unwrap();
        if record.kind != SourceKind::Ws {
            continue;
        }
        let frame = record.payload;
        let claimed = check(frame);
        if !wanted(frame) {
            tally.claimed_other += usize::from(claimed);
            continue;
        }
        tally.wanted += 1;
        tally.claimed += usize::from(claimed);
        if tally.wanted % every == 1 {
            tally.variants += scan_variants(frame, step, &mut check);
        }
    }
    tally
}

/// Test support for the scanners: each variant of a real frame (cut in half, cut by one byte,
/// a space after its opening brace, one byte changed at every `step`-th place) through
/// `check`, which holds the scanner to the tape path and says whether the scanner claimed
/// it; returns how many were claimed. The spaced frame must never be claimed.
#[cfg(test)]
pub(crate) fn scan_variants(
    frame: &[u8],
    step: usize,
    mut check: impl FnMut(&[u8]) -> bool,
) -> usize {
    let mut claimed = 0;
    for cut in [frame.len() / 2, frame.len().saturating_sub(1)] {
        claimed += usize::from(check(&frame[..cut]));
    }
    let mut spaced = frame.to_vec();
    spaced.insert(1, b' ');
    assert!(!check(&spaced), "{}", String::from_utf8_lossy(&spaced));
    for at in (0..frame.len()).step_by(step) {
        let mut changed = frame.to_vec();
        changed[at] = changed[at].wrapping_add(1);
        claimed += usize::from(check(&changed));
    }
    claimed
}

#[cfg(test)]
mod tests;
