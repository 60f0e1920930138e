//! The venue's true book per symbol: the capture's REST snapshot, then every depth diff of the
//! timeline applied in order. Written independently of `pulse_feeds::book` on purpose: it is
//! the cross-check of the book Pulse rebuilds from the same frames.
//!
//! Levels are keyed by the exact price (a decimal mantissa at 18 places) and keep the
//! capture's own strings, so what the venue serves is byte-for-byte what Binance sent.

use std::collections::BTreeMap;

use serde_json::Value;

/// Decimal places of a [`PriceKey`]: more than any venue sends.
const KEY_SCALE: u32 = 18;

/// An exact non-negative decimal as a mantissa at [`KEY_SCALE`] places, so that
/// `"61837.63000000"` and `"61837.63"` are the same level and order numerically.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct PriceKey(i128);

impl PriceKey {
    /// Plain decimal text only (`digits[.digits]`): no sign, no exponent, at most 18 places.
    pub fn parse(text: &str) -> Option<PriceKey> {
        let (int, frac) = text.split_once('.').unwrap_or((text, ""));
        if int.is_empty() && frac.is_empty() || frac.len() > KEY_SCALE as usize {
            return None;
        }
        if !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
            return None;
        }
        let mut acc: i128 = 0;
        for b in int.bytes().chain(frac.bytes()) {
            acc = acc.checked_mul(10)?.checked_add(i128::from(b - b'0'))?;
        }
        let missing = KEY_SCALE - frac.len() as u32;
        acc.checked_mul(10i128.pow(missing)).map(PriceKey)
    }

    pub fn is_zero(self) -> bool {
        self.0 == 0
    }
}

/// `(price, qty)` strings of one side, best first.
pub(crate) type Levels<'a> = Vec<(&'a str, &'a str)>;

/// One level as the venue received it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Level {
    pub price: String,
    pub qty: String,
    /// The level's further fields as they render after the quantity (OKX's
    /// `,"0","4"`: deprecated liquidations and the order count); empty for Binance and Kraken.
    pub tail: String,
}

/// A level keyed for the book: its price and quantity as exact decimals, and its strings.
pub(crate) type KeyedLevel = (PriceKey, PriceKey, Level);

/// A diff-depth event (`depthUpdate`), levels validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DepthDiff {
    /// `U`: first update id in the event.
    pub first: u64,
    /// `u`: final update id in the event.
    pub last: u64,
    bids: Vec<KeyedLevel>,
    asks: Vec<KeyedLevel>,
}

impl DepthDiff {
    /// Parses the raw payload of a diff-depth frame: `Ok(None)` if it is another event.
    pub fn parse(data: &[u8]) -> Result<Option<DepthDiff>, String> {
        let value: Value = serde_json::from_slice(data).map_err(|e| e.to_string())?;
        if value.get("e").and_then(Value::as_str) != Some("depthUpdate") {
            return Ok(None);
        }
        let id = |key: &str| {
            value
                .get(key)
                .and_then(Value::as_u64)
                .ok_or_else(|| format!("depthUpdate without a numeric `{key}`"))
        };
        let (first, last) = (id("U")?, id("u")?);
        if first > last {
            return Err(format!("depthUpdate with U {first} > u {last}"));
        }
        Ok(Some(DepthDiff {
            first,
            last,
            bids: levels(value.get("b"), "b")?,
            asks: levels(value.get("a"), "a")?,
        }))
    }
}

/// What applying a diff did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Applied {
    /// `U` follows the book's update id (or the diff straddles it): the normal case.
    InOrder,
    /// `u` is not above the book's update id: already in the book, ignored.
    Stale,
    /// `U` skips ids: the capture itself has a gap. Applied anyway, since the venue's truth is
    /// what it streams.
    AfterGap,
}

/// A symbol's full book, best levels first when read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TrueBook {
    last_update_id: u64,
    /// The last timeline frame applied to it (in-band venues: a snapshot rendered now already
    /// holds every frame up to this one).
    last_frame: Option<u64>,
    bids: BTreeMap<PriceKey, Level>,
    asks: BTreeMap<PriceKey, Level>,
}

impl TrueBook {
    /// From a REST depth body: `{"lastUpdateId":N,"bids":[["px","qty"],...],"asks":[...]}`.
    pub fn from_snapshot(body: &[u8]) -> Result<TrueBook, String> {
        let value: Value = serde_json::from_slice(body).map_err(|e| e.to_string())?;
        let last_update_id = value
            .get("lastUpdateId")
            .and_then(Value::as_u64)
            .ok_or("depth snapshot without a numeric `lastUpdateId`")?;
        let mut book = TrueBook {
            last_update_id,
            last_frame: None,
            bids: BTreeMap::new(),
            asks: BTreeMap::new(),
        };
        for (px, qty, level) in levels(value.get("bids"), "bids")? {
            set(&mut book.bids, px, qty, level);
        }
        for (px, qty, level) in levels(value.get("asks"), "asks")? {
            set(&mut book.asks, px, qty, level);
        }
        Ok(book)
    }

    pub fn last_update_id(&self) -> u64 {
        self.last_update_id
    }

    /// A book of an in-band venue from its snapshot's levels; `id` is what the venue numbers
    /// its pushes by (OKX's `seqId`; 0 where there is none).
    pub fn from_levels(id: u64, bids: Vec<KeyedLevel>, asks: Vec<KeyedLevel>) -> TrueBook {
        let mut book = TrueBook {
            last_update_id: id,
            last_frame: None,
            bids: BTreeMap::new(),
            asks: BTreeMap::new(),
        };
        book.set_levels(id, bids, asks);
        book
    }

    /// An in-band venue's update: each level set (a zero quantity removes it), numbered `id`.
    pub fn set_levels(&mut self, id: u64, bids: Vec<KeyedLevel>, asks: Vec<KeyedLevel>) {
        for (px, qty, level) in bids {
            set(&mut self.bids, px, qty, level);
        }
        for (px, qty, level) in asks {
            set(&mut self.asks, px, qty, level);
        }
        self.last_update_id = id;
    }

    pub fn mark_frame(&mut self, index: u64) {
        self.last_frame = Some(index);
    }

    pub fn last_frame(&self) -> Option<u64> {
        self.last_frame
    }

    /// Keeps the best `depth` levels a side (Kraken: a level pushed out of the subscribed
    /// depth leaves the book without a message).
    pub fn truncate(&mut self, depth: usize) {
        while self.bids.len() > depth {
            self.bids.pop_first();
        }
        while self.asks.len() > depth {
            self.asks.pop_last();
        }
    }

    /// The top `depth` levels a side, best first, whole.
    pub fn top_levels(&self, depth: usize) -> (Vec<&Level>, Vec<&Level>) {
        let bids = self.bids.values().rev().take(depth).collect();
        let asks = self.asks.values().take(depth).collect();
        (bids, asks)
    }

    /// Binance's update procedure, except that a gap does not stop the venue (see
    /// [`Applied::AfterGap`]).
    pub fn apply(&mut self, diff: &DepthDiff) -> Applied {
        if diff.last <= self.last_update_id {
            return Applied::Stale;
        }
        let outcome = if diff.first > self.last_update_id + 1 {
            Applied::AfterGap
        } else {
            Applied::InOrder
        };
        for (px, qty, level) in &diff.bids {
            set(&mut self.bids, *px, *qty, level.clone());
        }
        for (px, qty, level) in &diff.asks {
            set(&mut self.asks, *px, *qty, level.clone());
        }
        self.last_update_id = diff.last;
        outcome
    }

    /// The top `depth` levels a side, best first, as `(price, qty)` strings.
    pub fn top(&self, depth: usize) -> (Levels<'_>, Levels<'_>) {
        fn pair(l: &Level) -> (&str, &str) {
            (l.price.as_str(), l.qty.as_str())
        }
        let bids = self.bids.values().rev().take(depth).map(pair).collect();
        let asks = self.asks.values().take(depth).map(pair).collect();
        (bids, asks)
    }

    /// The REST depth body for the top `limit` levels, in Binance's layout.
    pub fn depth_json(&self, limit: usize) -> String {
        let (bids, asks) = self.top(limit);
        let mut out = String::with_capacity(64 + 40 * (bids.len() + asks.len()));
        out.push_str("{\"lastUpdateId\":");
        out.push_str(&self.last_update_id.to_string());
        out.push_str(",\"bids\":[");
        push_levels(&mut out, &bids);
        out.push_str("],\"asks\":[");
        push_levels(&mut out, &asks);
        out.push_str("]}");
        out
    }
}

fn push_levels(out: &mut String, side: &[(&str, &str)]) {
    for (i, (px, qty)) in side.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        // Both strings passed `PriceKey::parse`: digits and a point, nothing to escape.
        out.push_str("[\"");
        out.push_str(px);
        out.push_str("\",\"");
        out.push_str(qty);
        out.push_str("\"]");
    }
}

fn set(side: &mut BTreeMap<PriceKey, Level>, px: PriceKey, qty: PriceKey, level: Level) {
    if qty.is_zero() {
        side.remove(&px);
    } else {
        side.insert(px, level);
    }
}

/// `[["px","qty"],...]`, every string an exact decimal.
fn levels(value: Option<&Value>, key: &str) -> Result<Vec<KeyedLevel>, String> {
    let entries = value
        .and_then(Value::as_array)
        .ok_or_else(|| format!("`{key}` is not an array"))?;
    entries
        .iter()
        .map(|entry| {
            let pair = entry.as_array().filter(|p| p.len() >= 2);
            let text = |i: usize| pair.and_then(|p| p[i].as_str());
            let (Some(price), Some(qty)) = (text(0), text(1)) else {
                return Err(format!("`{key}` entry {entry} is not [\"price\",\"qty\"]"));
            };
            let px = PriceKey::parse(price).ok_or_else(|| format!("bad price `{price}`"))?;
            let q = PriceKey::parse(qty).ok_or_else(|| format!("bad quantity `{qty}`"))?;
            let level = Level {
                price: price.to_string(),
                qty: qty.to_string(),
                tail: String::new(),
            };
            Ok((px, q, level))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diff(first: u64, last: u64, bids: &str, asks: &str) -> DepthDiff {
        let text = format!(
            "{{\"e\":\"depthUpdate\",\"E\":1,\"s\":\"X\",\"U\":{first},\"u\":{last},\
             \"b\":{bids},\"a\":{asks}}}"
        );
        DepthDiff::parse(text.as_bytes()).unwrap().unwrap()
    }

    #[test]
    fn price_keys_are_exact_and_ordered() {
        let k = |s| PriceKey::parse(s).unwrap();
        assert_eq!(k("61837.63000000"), k("61837.63"));
        assert!(k("0.00000637") < k("0.00000640"));
        assert!(k("9.9") < k("10"));
        assert!(k("0.00000000").is_zero() && k("0").is_zero());
        for bad in ["", ".", "-1", "1e5", "1.2.3", " 1", "0.0000000000000000001"] {
            assert_eq!(PriceKey::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn diffs_follow_binance_rules_and_keep_the_strings() {
        let mut book = TrueBook::from_snapshot(
            br#"{"lastUpdateId":10,"bids":[["100.0","1.0"],["99.5","2.0"]],"asks":[["101.0","3.0"]]}"#,
        )
        .unwrap();
        assert_eq!(
            book.apply(&diff(5, 10, r#"[["100.0","9"]]"#, "[]")),
            Applied::Stale
        );
        assert_eq!(
            book.apply(&diff(
                8,
                12,
                r#"[["100.00","0.000"],["99.9","0.5"]]"#,
                r#"[["100.5","1.25"]]"#
            )),
            Applied::InOrder
        );
        assert_eq!(book.last_update_id(), 12);
        let (bids, asks) = book.top(10);
        assert_eq!(bids, [("99.9", "0.5"), ("99.5", "2.0")]);
        assert_eq!(asks, [("100.5", "1.25"), ("101.0", "3.0")]);
        assert_eq!(
            book.apply(&diff(20, 21, "[]", r#"[["101.0","4.0"]]"#)),
            Applied::AfterGap
        );
        assert_eq!(
            book.depth_json(1),
            r#"{"lastUpdateId":21,"bids":[["99.9","0.5"]],"asks":[["100.5","1.25"]]}"#
        );
        assert_eq!(
            TrueBook::from_snapshot(br#"{"lastUpdateId":1,"bids":[],"asks":[]}"#)
                .unwrap()
                .depth_json(5),
            r#"{"lastUpdateId":1,"bids":[],"asks":[]}"#
        );
    }

    #[test]
    fn other_events_and_bad_diffs_are_told_apart() {
        assert_eq!(DepthDiff::parse(br#"{"e":"trade","p":"1"}"#), Ok(None));
        assert_eq!(DepthDiff::parse(br#"{"u":5,"b":"1"}"#), Ok(None));
        assert!(DepthDiff::parse(b"{").is_err());
        assert!(DepthDiff::parse(br#"{"e":"depthUpdate","U":2,"u":1,"b":[],"a":[]}"#).is_err());
        assert!(
            DepthDiff::parse(br#"{"e":"depthUpdate","U":1,"u":1,"b":[["x","1"]],"a":[]}"#).is_err()
        );
    }
}
