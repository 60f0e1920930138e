//! What a scan of a capture takes from an OKX line: the `instId` of a `books*`, `bbo-tbt`,
//! `trades` or `tickers` push, with every price and size string it carries. The scan derives
//! each OKX instrument's scales from these strings (see [`Scales`]); Bybit's the same way
//! ([`bybit_scan`](super::bybit_scan)).

use pulse_feeds::num::{decimal_places, parse_decimal, pow10};

/// The price and size strings of one push (OKX's, Bybit's), and whose they are.
pub(super) struct WireStrings {
    pub(super) symbol: String,
    pub(super) prices: Vec<String>,
    pub(super) sizes: Vec<String>,
}

/// The instrument and strings of an OKX market-data frame; `None` for anything else (replies,
/// `pong`, frames that do not parse: the replay counts those).
pub(super) fn okx_strings(payload: &[u8]) -> Option<WireStrings> {
    let root: serde_json::Value = serde_json::from_slice(payload).ok()?;
    let arg = root.get("arg")?;
    let channel = arg.get("channel")?.as_str()?;
    let symbol = arg.get("instId")?.as_str()?.to_owned();
    let mut strings = WireStrings {
        symbol,
        prices: Vec::new(),
        sizes: Vec::new(),
    };
    let text = |v: Option<&serde_json::Value>| v.and_then(|v| v.as_str()).map(str::to_owned);
    for item in root.get("data")?.as_array()? {
        match channel {
            "trades" => {
                strings.prices.extend(text(item.get("px")));
                strings.sizes.extend(text(item.get("sz")));
            }
            "tickers" => {
                for key in ["bidPx", "askPx", "last"] {
                    strings.prices.extend(text(item.get(key)));
                }
                for key in ["bidSz", "askSz", "lastSz"] {
                    strings.sizes.extend(text(item.get(key)));
                }
            }
            c if c.starts_with("books") || c == "bbo-tbt" => {
                for key in ["bids", "asks"] {
                    for level in item.get(key)?.as_array()? {
                        strings.prices.extend(text(level.get(0)));
                        strings.sizes.extend(text(level.get(1)));
                    }
                }
            }
            _ => return None,
        }
    }
    Some(strings)
}

/// An instrument's scales as its wire strings show them (OKX's, Bybit's): the price scale is the most
/// decimals any price was sent with (`"30238.8"` and `"30244"` give 1), the size scale the
/// most any size was sent with (trailing zeros aside: `"0.5000"` is exact at 1), and the tick
/// the greatest common divisor of every price at that scale. Every string the capture holds is
/// then exact at its instrument's scales, and the checksum hashes the strings as sent anyway.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Scales {
    pub(super) price: u32,
    pub(super) qty: u32,
    /// GCD of the prices so far at `price` scale; 0 before the first.
    pub(super) gcd: i64,
}

impl Scales {
    pub(super) fn add(&mut self, strings: &WireStrings) {
        for size in &strings.sizes {
            self.qty = self.qty.max(decimal_places(size).unwrap_or(0));
        }
        for px in &strings.prices {
            let Some(places) = decimal_places(px) else {
                continue;
            };
            if places > self.price {
                // Every price so far gains the same factor, and so does their GCD.
                let factor = pow10(places - self.price).unwrap_or(1);
                self.gcd = self.gcd.saturating_mul(factor);
                self.price = places;
            }
            if let Ok(m) = parse_decimal(px.as_bytes(), self.price) {
                if m > 0 {
                    self.gcd = euclid(self.gcd, m);
                }
            }
        }
    }
}

/// The greatest common divisor of `a` and `b` (0 when both are).
pub(super) fn euclid(a: i64, b: i64) -> i64 {
    if b == 0 {
        a
    } else {
        euclid(b, a % b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_follow_the_wire_decimals() {
        let frame = br#"{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"snapshot","data":[{"asks":[["30243.5","1.44679","0","6"],["30244","0.08","0","1"]],"bids":[["30243.1","0.5000","0","1"]],"ts":"1","checksum":0}]}"#;
        let strings = okx_strings(frame).expect("a books push");
        assert_eq!(strings.symbol, "BTC-USDT");
        let mut scales = Scales::default();
        scales.add(&strings);
        assert_eq!((scales.price, scales.qty, scales.gcd), (1, 5, 1));
    }

    #[test]
    fn a_finer_price_rescales_the_tick() {
        let frame = |px: &str| {
            format!(
                r#"{{"arg":{{"channel":"trades","instId":"UNI-USD-SWAP"}},"data":[{{"px":"{px}","sz":"100"}}]}}"#
            )
        };
        let mut scales = Scales::default();
        for px in ["5.2", "5.134", "5.142"] {
            scales.add(&okx_strings(frame(px).as_bytes()).expect("a trades push"));
        }
        // 5.2 alone: 52 at scale 1; then 5200, 5134, 5142 at scale 3: a tick of 0.002.
        assert_eq!((scales.price, scales.qty, scales.gcd), (3, 0, 2));
        assert!(okx_strings(br#"{"event":"subscribe"}"#).is_none());
    }
}
