//! Binance's live session details: every stream of a market in one combined-stream URL (no
//! subscription frames, no client pings: the server pings and the WebSocket layer answers), and
//! the REST depth snapshot path of Binance's book procedure.

use crate::instrument::{InstrumentRegistry, Venue};

/// The combined-stream path for every instrument of `venue`: depth diffs, bookTicker, trades.
pub fn stream_path(registry: &InstrumentRegistry, venue: Venue, depth_stream: &str) -> String {
    let streams: Vec<String> = registry
        .iter()
        .filter(|i| i.venue == venue)
        .flat_map(|i| {
            let s = i.symbol.to_ascii_lowercase();
            [
                format!("{s}@{depth_stream}"),
                format!("{s}@bookTicker"),
                format!("{s}@trade"),
            ]
        })
        .collect();
    format!("/stream?streams={}", streams.join("/"))
}

/// The REST depth path of one symbol: spot `/api/v3/depth`, USD-M `/fapi/v1/depth`.
pub fn depth_path(venue: Venue, symbol: &str, limit: u32) -> String {
    let base = match venue {
        Venue::BinanceUsdm => "/fapi/v1/depth",
        _ => "/api/v3/depth",
    };
    format!(
        "{base}?symbol={}&limit={limit}",
        symbol.to_ascii_uppercase()
    )
}
