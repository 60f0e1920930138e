//! The Coinbase Advanced Trade baseline: every message through the general parser (the
//! connection's `sequence_num` spans every channel, so heartbeats and trades count too), the
//! sequence checked as Pulse checks it (a gap stales every book until its next snapshot, a
//! number at or below the last is dropped), `l2_data` snapshots and updates into the
//! `BTreeMap` book, tickers decoded.

use pulse_feeds::num::parse_decimal;
use serde::Deserialize;

use super::{Entry, TreeBaseline, TreeBook};

impl TreeBaseline {
    pub(super) fn coinbase_at(&mut self, frame: &[u8]) -> Option<()> {
        let msg: AtMsg<'_> = self.lib.parse(frame)?;
        let seq = msg.sequence_num;
        match self.sequence {
            Some(last) if seq <= last => return Some(()),
            Some(last) if seq != last + 1 => self.books.iter_mut().for_each(|b| b.stale = true),
            _ => {}
        }
        self.sequence = Some(seq);
        match msg.channel {
            "l2_data" => {
                for e in &msg.events {
                    let Some((n, ps, qs)) = e.product_id.and_then(|p| self.scales(p)) else {
                        continue;
                    };
                    match e.kind {
                        Some("snapshot") => self.books[n] = TreeBook::default(),
                        _ if self.books[n].stale => continue,
                        _ => {}
                    }
                    for u in &e.updates {
                        let px = parse_decimal(u.price_level.as_bytes(), ps).ok()?;
                        let qty = parse_decimal(u.new_quantity.as_bytes(), qs).ok()?;
                        self.books[n].apply(u.side == "bid", px, Entry { qty, wire: None });
                    }
                    self.observe(n);
                }
            }
            "ticker" | "ticker_batch" => {
                for t in msg.events.iter().flat_map(|e| &e.tickers) {
                    let Some((_, ps, qs)) = self.scales(t.product_id) else {
                        continue;
                    };
                    let bid = parse_decimal(t.best_bid.as_bytes(), ps).ok()?;
                    let bid_qty = parse_decimal(t.best_bid_quantity.as_bytes(), qs).ok()?;
                    let ask = parse_decimal(t.best_ask.as_bytes(), ps).ok()?;
                    let ask_qty = parse_decimal(t.best_ask_quantity.as_bytes(), qs).ok()?;
                    self.touches = self.touches.wrapping_add(bid ^ bid_qty ^ ask ^ ask_qty);
                }
            }
            _ => {}
        }
        Some(())
    }
}

#[derive(Deserialize)]
struct AtMsg<'a> {
    channel: &'a str,
    sequence_num: u64,
    #[serde(borrow)]
    events: Vec<AtEvent<'a>>,
}

#[derive(Deserialize)]
struct AtEvent<'a> {
    #[serde(rename = "type")]
    kind: Option<&'a str>,
    product_id: Option<&'a str>,
    #[serde(borrow, default)]
    updates: Vec<AtUpdate<'a>>,
    #[serde(borrow, default)]
    tickers: Vec<AtTicker<'a>>,
}

#[derive(Deserialize)]
struct AtUpdate<'a> {
    side: &'a str,
    price_level: &'a str,
    new_quantity: &'a str,
}

#[derive(Deserialize)]
struct AtTicker<'a> {
    product_id: &'a str,
    best_bid: &'a str,
    best_bid_quantity: &'a str,
    best_ask: &'a str,
    best_ask_quantity: &'a str,
}
