//! Which venue's market data protocol the venue speaks: Binance's (diff depth bridged to a REST
//! snapshot) or one whose snapshot comes in-band, after a subscription (OKX v5 `books`, Kraken
//! WebSocket v2 `book`).

use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Protocol {
    /// Binance spot: `/stream?streams=...`, `/ws`, the REST depth endpoint.
    #[default]
    Binance,
    /// OKX v5 public (`/ws/v5/public`): `op` subscriptions, `books` with `seqId`/`prevSeqId`
    /// and a CRC32 of the top 25, text `ping`.
    Okx,
    /// Kraken WebSocket v2 (`/v2`): `method` subscriptions, `book` at a depth with a CRC32
    /// of the top 10, `{"method":"ping"}`.
    Kraken,
}

impl Protocol {
    /// The capture's source for this venue (`okx` of `okx:ws`).
    pub fn source(self) -> &'static str {
        match self {
            Protocol::Binance => "binance",
            Protocol::Okx => "okx",
            Protocol::Kraken => "kraken",
        }
    }

    /// The WebSocket path the venue serves, for an in-band protocol.
    pub fn ws_path(self) -> Option<&'static str> {
        match self {
            Protocol::Binance => None,
            Protocol::Okx => Some("/ws/v5/public"),
            Protocol::Kraken => Some("/v2"),
        }
    }
}

impl FromStr for Protocol {
    type Err = String;

    fn from_str(text: &str) -> Result<Protocol, String> {
        match text {
            "binance" => Ok(Protocol::Binance),
            "okx" => Ok(Protocol::Okx),
            "kraken" => Ok(Protocol::Kraken),
            _ => Err(format!(
                "`{text}`: unknown protocol (expected binance, okx or kraken)"
            )),
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.source())
    }
}
