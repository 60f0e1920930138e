//! A venue's trade id, held inline: numbers (Binance), strings and UUIDs alike, without
//! allocating.

use std::fmt;

/// One trade's id as its venue names it. Numeric ids (Binance's) are kept as the number;
/// any other id as its bytes, up to [`TradeId::CAPACITY`]. `Copy`, compared and hashed by
/// value, so risk recognises a fill reported twice the same way for every venue.
/// [`TradeId::NONE`] is a fill without an id (one learned from a status answer); the number 0
/// is the same id.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TradeId {
    /// The id when it is a number; 0 for a text id.
    number: u64,
    /// A text id's length (1 to `CAPACITY`); 0 for a numeric id.
    len: u8,
    text: [u8; TradeId::CAPACITY],
}

/// Why a venue's trade id was not taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TradeIdError {
    Empty,
    /// Longer than [`TradeId::CAPACITY`] bytes.
    TooLong,
    /// A byte outside printable ASCII (`!` to `~`).
    NotPrintable,
}

impl TradeId {
    /// The longest text id held: a UUID with its dashes is 36 bytes.
    pub const CAPACITY: usize = 48;

    /// No id.
    pub const NONE: TradeId = TradeId::from_u64(0);

    pub const fn from_u64(number: u64) -> TradeId {
        TradeId {
            number,
            len: 0,
            text: [0; TradeId::CAPACITY],
        }
    }

    /// A venue's id as it came on the wire. Decimal digits in canonical form (no leading
    /// zero) that fit a `u64` become the number, so `"12345"` and `12345` are one id; anything
    /// else printable is kept as text.
    pub fn parse(bytes: &[u8]) -> Result<TradeId, TradeIdError> {
        if bytes.is_empty() {
            return Err(TradeIdError::Empty);
        }
        if let Some(number) = canonical_number(bytes) {
            return Ok(TradeId::from_u64(number));
        }
        if bytes.len() > TradeId::CAPACITY {
            return Err(TradeIdError::TooLong);
        }
        if !bytes.iter().all(|b| (b'!'..=b'~').contains(b)) {
            return Err(TradeIdError::NotPrintable);
        }
        let mut text = [0; TradeId::CAPACITY];
        text[..bytes.len()].copy_from_slice(bytes);
        Ok(TradeId {
            number: 0,
            len: bytes.len() as u8,
            text,
        })
    }

    /// The id as a number, when it is one.
    pub fn number(&self) -> Option<u64> {
        (self.len == 0).then_some(self.number)
    }

    /// A text id's bytes; empty for a numeric id.
    pub fn text(&self) -> &[u8] {
        &self.text[..usize::from(self.len)]
    }

    pub fn is_none(&self) -> bool {
        *self == TradeId::NONE
    }
}

/// `bytes` as a `u64` when they are its canonical decimal form.
fn canonical_number(bytes: &[u8]) -> Option<u64> {
    if !bytes.iter().all(u8::is_ascii_digit) || (bytes.len() > 1 && bytes[0] == b'0') {
        return None;
    }
    bytes.iter().try_fold(0u64, |n, &b| {
        n.checked_mul(10)?.checked_add(u64::from(b - b'0'))
    })
}

impl Default for TradeId {
    fn default() -> Self {
        TradeId::NONE
    }
}

impl From<u64> for TradeId {
    fn from(number: u64) -> Self {
        TradeId::from_u64(number)
    }
}

impl fmt::Display for TradeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.number() {
            Some(n) => write!(f, "{n}"),
            // Printable ASCII only: checked when parsed.
            None => f.write_str(std::str::from_utf8(self.text()).unwrap_or("")),
        }
    }
}

impl fmt::Debug for TradeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.number() {
            Some(n) => write!(f, "TradeId({n})"),
            None => write!(f, "TradeId({:?})", self.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_strings_and_uuids_are_held_inline() {
        assert_eq!(
            TradeId::parse(b"5266583935"),
            Ok(TradeId::from_u64(5_266_583_935))
        );
        let uuid = TradeId::parse(b"3f2b8c1e-9d4a-4e6b-8f0a-1c2d3e4f5a6b").unwrap();
        assert_eq!(uuid.number(), None);
        assert_eq!(uuid.text(), b"3f2b8c1e-9d4a-4e6b-8f0a-1c2d3e4f5a6b");
        assert_eq!(uuid.to_string(), "3f2b8c1e-9d4a-4e6b-8f0a-1c2d3e4f5a6b");
        assert_ne!(uuid, TradeId::NONE);
        // Not canonical, or past u64: text, so that the id reads back exactly as sent.
        assert_eq!(TradeId::parse(b"007").unwrap().text(), b"007");
        assert_eq!(
            TradeId::parse(b"18446744073709551616").unwrap().text(),
            b"18446744073709551616"
        );
        assert_eq!(TradeId::parse(b"0"), Ok(TradeId::NONE));
    }

    #[test]
    fn a_too_long_or_unprintable_id_is_an_error_not_a_panic() {
        let long = [b'x'; TradeId::CAPACITY + 1];
        assert_eq!(TradeId::parse(&long), Err(TradeIdError::TooLong));
        assert!(TradeId::parse(&long[..TradeId::CAPACITY]).is_ok());
        assert_eq!(TradeId::parse(b""), Err(TradeIdError::Empty));
        assert_eq!(TradeId::parse(b"a b"), Err(TradeIdError::NotPrintable));
        // A number of any length is still a number.
        assert!(TradeId::parse(&[b'9'; 19]).unwrap().number().is_some());
    }
}
