//! The Bybit v5 baseline: `orderbook.*` pushes into the `BTreeMap` book with `u` continuity
//! checked as Pulse checks it (Bybit sends no checksum), `tickers.*` decoded.

use pulse_feeds::num::parse_decimal;
use serde::Deserialize;

use super::{Entry, TreeBaseline, TreeBook};

impl TreeBaseline {
    /// Bybit v5 `orderbook.*` (a snapshot replaces the book; a delta must carry the last `u`
    /// plus one, else the book waits for the next snapshot) and `tickers.*` (the best bid/ask
    /// fields a message carries).
    pub(super) fn bybit(&mut self, frame: &[u8]) -> Option<()> {
        let msg: BybitPush<'_> = self.lib.parse(frame)?;
        let (Some(topic), Some(data)) = (msg.topic, msg.data) else {
            return Some(()); // acks and pongs
        };
        if topic.starts_with("tickers.") {
            let Some((_, ps, qs)) = data.symbol.and_then(|s| self.scales(s)) else {
                return Some(());
            };
            let fields = [
                (data.bid1_price, ps),
                (data.bid1_size, qs),
                (data.ask1_price, ps),
                (data.ask1_size, qs),
            ];
            for (text, scale) in fields {
                if let Some(text) = text {
                    let v = parse_decimal(text.as_bytes(), scale).ok()?;
                    self.touches = self.touches.wrapping_add(v);
                }
            }
            return Some(());
        }
        if !topic.starts_with("orderbook.") {
            return Some(());
        }
        let Some((n, ps, qs)) = data.s.and_then(|s| self.scales(s)) else {
            return Some(());
        };
        let u = data.u?;
        let book = &mut self.books[n];
        if msg.kind == Some("snapshot") {
            *book = TreeBook::default();
        } else {
            match book.last_u {
                Some(last) if !book.stale && last.checked_add(1) == Some(u) => {}
                Some(_) if !book.stale => {
                    book.stale = true;
                    return Some(());
                }
                _ => return Some(()),
            }
        }
        for (bid, levels) in [(true, &data.b), (false, &data.a)] {
            for (px, qty) in levels {
                let px = parse_decimal(px.as_bytes(), ps).ok()?;
                let qty = parse_decimal(qty.as_bytes(), qs).ok()?;
                book.apply(bid, px, Entry { qty, wire: None });
            }
        }
        book.last_u = Some(u);
        self.observe(n);
        Some(())
    }
}

#[derive(Deserialize)]
struct BybitPush<'a> {
    topic: Option<&'a str>,
    #[serde(rename = "type")]
    kind: Option<&'a str>,
    #[serde(borrow)]
    data: Option<BybitData<'a>>,
}

/// A book push's or a ticker's `data` (the fields either carries).
#[derive(Deserialize)]
struct BybitData<'a> {
    s: Option<&'a str>,
    symbol: Option<&'a str>,
    #[serde(borrow, default)]
    b: Vec<(&'a str, &'a str)>,
    #[serde(borrow, default)]
    a: Vec<(&'a str, &'a str)>,
    u: Option<u64>,
    #[serde(rename = "bid1Price")]
    bid1_price: Option<&'a str>,
    #[serde(rename = "bid1Size")]
    bid1_size: Option<&'a str>,
    #[serde(rename = "ask1Price")]
    ask1_price: Option<&'a str>,
    #[serde(rename = "ask1Size")]
    ask1_size: Option<&'a str>,
}
