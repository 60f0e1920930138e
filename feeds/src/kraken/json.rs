//! A pull reader over one JSON frame, just enough for Kraken's: it hands out the *text* of
//! numbers and strings as spans of the frame, so that prices and quantities become exact
//! mantissas (`parse_decimal`) with no float in between. Kraken v2 sends prices and
//! quantities as JSON numbers (`0.566`, `5.325e-05`); a general parser would turn them into
//! `f64` first, losing the digits the checksum is computed over.
//!
//! It allocates nothing, never panics on any input (every index is checked), and bounds
//! nesting ([`MAX_DEPTH`]) so that a hostile frame cannot recurse deeply.

use crate::decode_error::DecodeError;

/// Nesting deeper than this is refused: Kraken's frames nest four levels.
pub const MAX_DEPTH: usize = 16;

/// Where a string's content or a number's text lies in the frame.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

pub struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(bytes: &'a [u8]) -> Cursor<'a> {
        Cursor { bytes, at: 0 }
    }

    /// A cursor over the value at `span` (from [`Cursor::value`]) of the same frame.
    pub fn at(bytes: &'a [u8], span: Span) -> Cursor<'a> {
        Cursor {
            bytes: bytes.get(..span.end).unwrap_or(bytes),
            at: span.start,
        }
    }

    pub fn text(&self, span: Span) -> &'a [u8] {
        self.bytes.get(span.start..span.end).unwrap_or(&[])
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.bytes.get(self.at) {
            self.at += 1;
        }
    }

    /// The next significant byte, not consumed.
    pub fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.bytes.get(self.at).copied()
    }

    /// Consumes `byte` if it comes next.
    pub fn eat(&mut self, byte: u8) -> bool {
        if self.peek() == Some(byte) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    pub fn expect(&mut self, byte: u8) -> Result<(), DecodeError> {
        if self.eat(byte) {
            Ok(())
        } else {
            Err(DecodeError::Json)
        }
    }

    /// Only whitespace is left.
    pub fn end(&mut self) -> Result<(), DecodeError> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(DecodeError::Json),
        }
    }

    /// A string's content (escapes left as they are: Kraken's symbols and names have none).
    pub fn string(&mut self) -> Result<Span, DecodeError> {
        self.expect(b'"')?;
        let start = self.at;
        loop {
            match self.bytes.get(self.at) {
                None => return Err(DecodeError::Json),
                Some(b'"') => break,
                Some(b'\\') => self.at += 2,
                Some(_) => self.at += 1,
            }
        }
        let end = self.at;
        self.at += 1;
        Ok(Span { start, end })
    }

    /// A number's text, unparsed (`parse_decimal` checks its syntax).
    pub fn number(&mut self) -> Result<Span, DecodeError> {
        self.skip_ws();
        let start = self.at;
        while let Some(b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') = self.bytes.get(self.at) {
            self.at += 1;
        }
        if self.at == start {
            return Err(DecodeError::Json);
        }
        Ok(Span {
            start,
            end: self.at,
        })
    }

    /// A scalar's text: a string's content or a number's text; `None` for anything else
    /// (which is skipped).
    pub fn scalar(&mut self) -> Result<Option<Span>, DecodeError> {
        match self.peek() {
            Some(b'"') => self.string().map(Some),
            Some(b'-' | b'0'..=b'9') => self.number().map(Some),
            _ => self.skip().map(|()| None),
        }
    }

    /// Skips one value, returning where it lies.
    pub fn value(&mut self) -> Result<Span, DecodeError> {
        self.skip_ws();
        let start = self.at;
        self.skip()?;
        Ok(Span {
            start,
            end: self.at,
        })
    }

    /// Skips one value of any kind.
    pub fn skip(&mut self) -> Result<(), DecodeError> {
        self.skip_nested(0)
    }

    fn skip_nested(&mut self, depth: usize) -> Result<(), DecodeError> {
        if depth > MAX_DEPTH {
            return Err(DecodeError::Json);
        }
        match self.peek() {
            Some(b'"') => self.string().map(drop),
            Some(b'{') => self.object(|c, _| c.skip_nested(depth + 1)),
            Some(b'[') => self.array(|c| c.skip_nested(depth + 1)),
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            _ => self.number().map(drop),
        }
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), DecodeError> {
        if self.bytes.get(self.at..self.at + word.len()) == Some(word) {
            self.at += word.len();
            Ok(())
        } else {
            Err(DecodeError::Json)
        }
    }

    /// Walks an object: `member` is called with each key and must consume its value.
    pub fn object(
        &mut self,
        mut member: impl FnMut(&mut Cursor<'a>, &'a [u8]) -> Result<(), DecodeError>,
    ) -> Result<(), DecodeError> {
        self.expect(b'{')?;
        if self.eat(b'}') {
            return Ok(());
        }
        loop {
            let key = self.string()?;
            self.expect(b':')?;
            let key = self.text(key);
            member(self, key)?;
            if !self.eat(b',') {
                return self.expect(b'}');
            }
        }
    }

    /// Walks an array: `element` is called for each element and must consume it.
    pub fn array(
        &mut self,
        mut element: impl FnMut(&mut Cursor<'a>) -> Result<(), DecodeError>,
    ) -> Result<(), DecodeError> {
        self.expect(b'[')?;
        if self.eat(b']') {
            return Ok(());
        }
        loop {
            element(self)?;
            if !self.eat(b',') {
                return self.expect(b']');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_strings_come_out_as_their_text() {
        let frame = br#" {"a": [1.50, "x\"y", 5.325e-05, true, null, {"b": []}], "c": -2 } "#;
        let mut c = Cursor::new(frame);
        let mut seen = Vec::new();
        c.object(|c, key| {
            seen.push(key.to_vec());
            if key == b"a" {
                c.array(|c| {
                    if let Some(s) = c.scalar()? {
                        seen.push(c.text(s).to_vec());
                    }
                    Ok(())
                })
            } else {
                let s = c.number()?;
                seen.push(c.text(s).to_vec());
                Ok(())
            }
        })
        .unwrap();
        c.end().unwrap();
        let want: [&[u8]; 6] = [b"a", b"1.50", br#"x\"y"#, b"5.325e-05", b"c", b"-2"];
        assert_eq!(seen, want.map(<[u8]>::to_vec));
    }

    #[test]
    fn broken_or_deep_input_is_an_error_never_a_panic() {
        let deep = "[".repeat(100) + &"]".repeat(100);
        for frame in [
            &b"{"[..],
            b"{\"a\"",
            b"{\"a\":}",
            b"[1,]",
            b"\"abc",
            b"tru",
            deep.as_bytes(),
            b"{\"a\":1}x",
        ] {
            let mut c = Cursor::new(frame);
            assert!(c.skip().and_then(|()| c.end()).is_err(), "{frame:?}");
        }
    }
}
