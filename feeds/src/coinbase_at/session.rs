//! Coinbase Advanced Trade's live session details
//! (<https://docs.cdp.coinbase.com/advanced-trade/docs/ws-overview>): one connection to
//! `wss://advanced-trade-ws.coinbase.com`, one `subscribe` message per channel (the venue takes
//! one channel a message) naming the products; the book snapshot arrives in-band after the
//! `level2` subscription (no REST). The `heartbeats` channel keeps the connection open (the
//! venue closes one that has been quiet for a while) and numbers itself in the connection's
//! sequence: no text ping is sent.
//!
//! The market data channels need no authentication; Pulse sends no `jwt`.

use crate::instrument::{InstrumentRegistry, Venue};

/// The channels subscribed on connect, in order: heartbeats first, so that a quiet book does
/// not let the connection lapse.
pub const CHANNELS: [&str; 4] = ["heartbeats", "level2", "market_trades", "ticker"];

/// The `subscribe` messages a new connection sends: one per channel, each naming every product
/// of the registry's Coinbase instruments (`heartbeats` names none). Cold.
pub fn subscriptions(registry: &InstrumentRegistry) -> Vec<String> {
    let products: Vec<String> = registry
        .iter()
        .filter(|i| i.venue == Venue::Coinbase)
        .map(|i| format!("\"{}\"", i.symbol))
        .collect();
    if products.is_empty() {
        return Vec::new();
    }
    let products = products.join(",");
    CHANNELS
        .iter()
        .map(|channel| match *channel {
            "heartbeats" => format!(r#"{{"type":"subscribe","channel":"{channel}"}}"#),
            _ => format!(
                r#"{{"type":"subscribe","product_ids":[{products}],"channel":"{channel}"}}"#
            ),
        })
        .collect()
}

/// The messages that resubscribe one product's book after a gap: the venue sends a new
/// snapshot after a `subscribe`, once the old subscription is gone. Cold.
pub fn resubscribe_frames(product: &str) -> [String; 2] {
    let frame =
        |kind| format!(r#"{{"type":"{kind}","product_ids":["{product}"],"channel":"level2"}}"#);
    [frame("unsubscribe"), frame("subscribe")]
}
