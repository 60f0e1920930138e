//! What a scan of a capture takes from a Bybit line (spot or linear): the symbol of an
//! `orderbook`, `publicTrade` or `tickers` push (from its `topic`), with every price and size
//! string it carries. The scan derives each Bybit instrument's scales from them as it does
//! OKX's ([`Scales`](super::okx_scan::Scales)): the most decimals any price or size was sent
//! with, and the tick the GCD of the prices at that scale.

use super::okx_scan::WireStrings;

/// The instrument and strings of a Bybit market-data frame; `None` for anything else (acks,
/// pongs, frames that do not parse: the replay counts those).
pub(super) fn bybit_strings(payload: &[u8]) -> Option<WireStrings> {
    let root: serde_json::Value = serde_json::from_slice(payload).ok()?;
    let topic = root.get("topic")?.as_str()?;
    let (channel, rest) = topic.split_once('.')?;
    let symbol = match channel {
        "orderbook" => rest.split_once('.')?.1,
        "publicTrade" | "tickers" => rest,
        _ => return None,
    };
    let mut strings = WireStrings {
        symbol: symbol.to_owned(),
        prices: Vec::new(),
        sizes: Vec::new(),
    };
    let text = |v: Option<&serde_json::Value>| v.and_then(|v| v.as_str()).map(str::to_owned);
    let data = root.get("data")?;
    match channel {
        "orderbook" => {
            for key in ["b", "a"] {
                for level in data.get(key)?.as_array()? {
                    strings.prices.extend(text(level.get(0)));
                    strings.sizes.extend(text(level.get(1)));
                }
            }
        }
        "publicTrade" => {
            for trade in data.as_array()? {
                strings.prices.extend(text(trade.get("p")));
                strings.sizes.extend(text(trade.get("v")));
            }
        }
        _ => {
            for key in ["bid1Price", "ask1Price", "lastPrice"] {
                strings
                    .prices
                    .extend(text(data.get(key)).filter(|s| !s.is_empty()));
            }
            for key in ["bid1Size", "ask1Size"] {
                strings
                    .sizes
                    .extend(text(data.get(key)).filter(|s| !s.is_empty()));
            }
        }
    }
    Some(strings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay_cmd::okx_scan::Scales;

    #[test]
    fn symbol_from_the_topic_and_scales_from_the_strings() {
        let frame = br#"{"topic":"orderbook.50.BTCUSDT","type":"snapshot","ts":1672304484978,"data":{"s":"BTCUSDT","b":[["16493.50","0.006"],["16493.00","0.100"]],"a":[["16611.00","0.029"]],"u":18521288,"seq":7961638724},"cts":1672304484976}"#;
        let strings = bybit_strings(frame).expect("a book push");
        assert_eq!(strings.symbol, "BTCUSDT");
        let mut scales = Scales::default();
        scales.add(&strings);
        // 16493.5, 16493, 16611 at scale 1; sizes to 3 decimals.
        assert_eq!((scales.price, scales.qty, scales.gcd), (1, 3, 5));
        let ticker = br#"{"topic":"tickers.ETHUSDT","type":"delta","data":{"symbol":"ETHUSDT","bid1Price":"1200.25"},"cs":1,"ts":1}"#;
        assert_eq!(bybit_strings(ticker).expect("a ticker").prices, ["1200.25"]);
        assert!(bybit_strings(br#"{"success":true,"ret_msg":"pong","op":"ping"}"#).is_none());
    }
}
