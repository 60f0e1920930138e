//! What a scan of a capture takes from a Coinbase Advanced Trade line: the products of its
//! `l2_data`, `market_trades` and `ticker` events, each with every price and size string it
//! carries (one frame may name several products). The scan derives each product's scales from
//! them as it does OKX's ([`Scales`](super::okx_scan::Scales)): the most decimals any price or
//! size was sent with, and the tick the GCD of the prices at that scale.

use super::okx_scan::WireStrings;

/// The strings of a Coinbase Advanced Trade market-data frame, one entry per product in order
/// of first appearance; empty for anything else (heartbeats, subscriptions, errors, frames
/// that do not parse: the replay counts those).
pub(super) fn coinbase_at_strings(payload: &[u8]) -> Vec<WireStrings> {
    let mut found: Vec<WireStrings> = Vec::new();
    let Ok(root) = serde_json::from_slice::<serde_json::Value>(payload) else {
        return found;
    };
    let Some(events) = root.get("events").and_then(|e| e.as_array()) else {
        return found;
    };
    let channel = root.get("channel").and_then(|c| c.as_str()).unwrap_or("");
    // Each (item, price keys, size keys) names the strings of one product.
    let mut items: Vec<(&serde_json::Value, &[&str], &[&str])> = Vec::new();
    for event in events {
        match channel {
            "l2_data" => {
                for update in event
                    .get("updates")
                    .and_then(|u| u.as_array())
                    .into_iter()
                    .flatten()
                {
                    items.push((update, &["price_level"], &["new_quantity"]));
                }
            }
            "market_trades" => {
                for trade in event
                    .get("trades")
                    .and_then(|u| u.as_array())
                    .into_iter()
                    .flatten()
                {
                    items.push((trade, &["price"], &["size"]));
                }
            }
            "ticker" | "ticker_batch" => {
                for t in event
                    .get("tickers")
                    .and_then(|u| u.as_array())
                    .into_iter()
                    .flatten()
                {
                    items.push((
                        t,
                        &["price", "best_bid", "best_ask"],
                        &["best_bid_quantity", "best_ask_quantity"],
                    ));
                }
            }
            _ => return found,
        }
        for (item, prices, sizes) in items.drain(..) {
            // A book update names its product on the event, a trade or ticker on itself.
            let Some(owner) = product(item).or_else(|| product(event)) else {
                continue;
            };
            let strings = of(&mut found, owner);
            for key in prices {
                strings
                    .prices
                    .extend(text(item.get(*key)).filter(|s| !s.is_empty()));
            }
            for key in sizes {
                strings
                    .sizes
                    .extend(text(item.get(*key)).filter(|s| !s.is_empty()));
            }
        }
    }
    found
}

fn product(v: &serde_json::Value) -> Option<&str> {
    v.get("product_id")?.as_str()
}

fn text(v: Option<&serde_json::Value>) -> Option<String> {
    v.and_then(|v| v.as_str()).map(str::to_owned)
}

/// The strings of `product` in `found`, added if new.
fn of<'f>(found: &'f mut Vec<WireStrings>, product: &str) -> &'f mut WireStrings {
    let i = match found.iter().position(|s| s.symbol == product) {
        Some(i) => i,
        None => {
            found.push(WireStrings {
                symbol: product.to_owned(),
                prices: Vec::new(),
                sizes: Vec::new(),
            });
            found.len() - 1
        }
    };
    &mut found[i]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay_cmd::okx_scan::Scales;

    #[test]
    fn products_and_their_strings() {
        let frame = br#"{"channel":"l2_data","client_id":"","timestamp":"2023-02-09T20:32:50.714964855Z","sequence_num":0,"events":[{"type":"snapshot","product_id":"BTC-USD","updates":[{"side":"bid","event_time":"1970-01-01T00:00:00Z","price_level":"21921.73","new_quantity":"0.06317902"},{"side":"offer","event_time":"1970-01-01T00:00:00Z","price_level":"21921.8","new_quantity":"0.1"}]}]}"#;
        let found = coinbase_at_strings(frame);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].symbol, "BTC-USD");
        let mut scales = Scales::default();
        scales.add(&found[0]);
        // 2192173 and 2192180 at scale 2 (coprime: a tick of 0.01); sizes to 8 decimals.
        assert_eq!((scales.price, scales.qty, scales.gcd), (2, 8, 1));
        let trades = br#"{"channel":"market_trades","sequence_num":3,"events":[{"type":"update","trades":[{"trade_id":"1","product_id":"ETH-USD","price":"1600.5","size":"2","side":"BUY","time":""},{"trade_id":"2","product_id":"BTC-USD","price":"20000","size":"0.5","side":"SELL","time":""}]}]}"#;
        let found = coinbase_at_strings(trades);
        let names: Vec<&str> = found.iter().map(|s| s.symbol.as_str()).collect();
        assert_eq!(names, ["ETH-USD", "BTC-USD"]);
        assert_eq!(found[1].prices, ["20000"]);
        let beat = br#"{"channel":"heartbeats","sequence_num":4,"events":[{"current_time":"","heartbeat_counter":"3049"}]}"#;
        assert!(coinbase_at_strings(beat).is_empty());
    }
}
