//! Which venue's market data protocol the venue speaks: Binance's (diff depth bridged to a REST
//! snapshot) or one whose snapshot comes in-band, after a subscription (OKX v5 `books`, Kraken
//! WebSocket v2 `book`, Bybit v5 `orderbook` on spot or linear, Coinbase Advanced Trade `level2`).

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
    /// Bybit v5 public spot (`/v5/public/spot`): `op` subscriptions to topics
    /// (`orderbook.{depth}.{symbol}`), snapshot then deltas chained by `u`, no checksum,
    /// `{"op":"ping"}` answered `{"op":"pong",..}`; at most 10 topics a request.
    BybitSpot,
    /// Bybit v5 public linear (`/v5/public/linear`): as spot, its pong
    /// `{"success":true,"ret_msg":"pong","op":"ping",..}`.
    BybitLinear,
    /// Coinbase Advanced Trade (`/`): `{"type":"subscribe","product_ids":[..],"channel":..}`,
    /// `level2` snapshot (the whole book) then updates, no checksum, no book sequence: every
    /// message carries the connection's `sequence_num`, from 0 across all channels.
    Coinbase,
}

impl Protocol {
    /// The capture's source for this venue (`okx` of `okx:ws`).
    pub fn source(self) -> &'static str {
        match self {
            Protocol::Binance => "binance",
            Protocol::Okx => "okx",
            Protocol::Kraken => "kraken",
            Protocol::BybitSpot => "bybit-spot",
            Protocol::BybitLinear => "bybit-linear",
            Protocol::Coinbase => "coinbase",
        }
    }

    /// Bybit's spot or linear market.
    pub fn is_bybit(self) -> bool {
        matches!(self, Protocol::BybitSpot | Protocol::BybitLinear)
    }

    /// The WebSocket path the venue serves, for an in-band protocol.
    pub fn ws_path(self) -> Option<&'static str> {
        match self {
            Protocol::Binance => None,
            Protocol::Okx => Some("/ws/v5/public"),
            Protocol::Kraken => Some("/v2"),
            Protocol::BybitSpot => Some("/v5/public/spot"),
            Protocol::BybitLinear => Some("/v5/public/linear"),
            Protocol::Coinbase => Some("/"),
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
            "bybit-spot" => Ok(Protocol::BybitSpot),
            "bybit-linear" => Ok(Protocol::BybitLinear),
            "coinbase" => Ok(Protocol::Coinbase),
            _ => Err(format!(
                "`{text}`: unknown protocol (expected binance, okx, kraken, bybit-spot, \
                 bybit-linear or coinbase)"
            )),
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.source())
    }
}
