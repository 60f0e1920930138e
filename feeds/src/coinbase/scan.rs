//! The fast path of [`CoinbaseCodec::decode`](super::codec::CoinbaseCodec::decode): a
//! fixed-layout scanner for the message that is nearly all of the feed, `l2update`, as the
//! Exchange writes it (one serializer: the same keys in the same order, no whitespace):
//!
//! ```text
//! {"type":"l2update","product_id":"..","changes":[["buy"|"sell","px","size"],..],"time":".."}
//! ```
//!
//! Read once, left to right, straight into integers ([`Cursor`]). Anything else (another key
//! order, whitespace, an escape, an unknown product, a decimal that does not fit, too many
//! levels) is `None`, and the tape path decodes the frame and classifies any error, so both
//! paths give the same answer on every frame (`tests` below hold them to it over the bundled
//! capture and its mutations).

use crate::book::Level;
use crate::coinbase::codec::{meta, CoinbaseCodec, Decoded, MAX_LEVELS_PER_MESSAGE};
use crate::decode_error::DecodeError;
use crate::event::TickerEvent;
use crate::instrument::{InstrumentRegistry, Venue};
use crate::levels::LevelUpdate;
use crate::num::{parse_decimal, Px, Qty, Side};
use crate::scan_cursor::{Cursor, Picked};

/// Decodes `frame` if it is an `l2update` in the Exchange's layout; `None` otherwise. The
/// levels are in `levels`, cleared first; after `None` they are meaningless.
pub fn scan_l2update(
    registry: &InstrumentRegistry,
    frame: &[u8],
    levels: &mut Vec<LevelUpdate>,
) -> Option<Decoded> {
    levels.clear();
    let mut c = Cursor { rest: frame };
    c.expect(br#"{"type":"l2update","product_id":""#)?;
    let product = c.plain_string()?;
    let id = registry.find(Venue::CoinbaseExchange, product)?;
    let inst = registry.get(id)?;
    c.expect(br#","changes":["#)?;
    if !c.eat(b"]") {
        loop {
            let side = if c.eat(br#"["buy",""#) {
                Side::Buy
            } else if c.eat(br#"["sell",""#) {
                Side::Sell
            } else {
                return None;
            };
            c.level(inst, side, levels, MAX_LEVELS_PER_MESSAGE)?;
            if c.eat(b"]") {
                break;
            }
            c.expect(b",")?;
        }
    }
    c.expect(br#","time":""#)?;
    c.plain_string()?;
    c.expect(b"}")?;
    c.rest
        .is_empty()
        .then_some(Decoded::Update { instrument: id })
}

/// Decodes `frame` if it is a `ticker` in the Exchange's layout: `"type":"ticker"` first, then
/// members that are strings or integers, `product_id`, `best_bid` and `best_ask` among them
/// once each (and `best_bid_size`, `best_ask_size` at most once: older tickers lack them, and
/// the level's size is then 0, unknown); `None` otherwise.
pub fn scan_ticker(registry: &InstrumentRegistry, frame: &[u8]) -> Option<Decoded> {
    let mut c = Cursor { rest: frame };
    c.expect(br#"{"type":"ticker","#)?;
    const KEYS: [&[u8]; 5] = [
        b"product_id",
        b"best_bid",
        b"best_bid_size",
        b"best_ask",
        b"best_ask_size",
    ];
    let mut picked = Picked::<5>::new();
    c.members(|key, value| match key {
        b"type" => None,
        _ => picked.take(&KEYS, key, value),
    })?;
    if !c.rest.is_empty() {
        return None;
    }
    let [product, bid, bid_size, ask, ask_size] = picked.values;
    let inst = registry.get(registry.find(Venue::CoinbaseExchange, product?)?)?;
    let (ps, qs) = (inst.price_scale, inst.qty_scale);
    let size = |text: Option<&[u8]>| text.map_or(Some(0), |t| parse_decimal(t, qs).ok());
    Some(Decoded::Ticker(TickerEvent {
        meta: meta(inst),
        update_id: 0,
        bid: Level {
            px: Px(parse_decimal(bid?, ps).ok()?),
            qty: Qty(size(bid_size)?),
        },
        ask: Level {
            px: Px(parse_decimal(ask?, ps).ok()?),
            qty: Qty(size(ask_size)?),
        },
    }))
}

impl CoinbaseCodec {
    /// `l2update`s and `ticker`s in the Exchange's own layout take the fixed-layout scanners
    /// (this module's); every other frame, and any that departs from it, the tape.
    #[inline]
    pub fn decode(
        &mut self,
        registry: &InstrumentRegistry,
        frame: &[u8],
    ) -> Result<Decoded, DecodeError> {
        let scanned = scan_l2update(registry, frame, &mut self.levels)
            .or_else(|| scan_ticker(registry, frame));
        match scanned {
            Some(decoded) => Ok(decoded),
            None => self.decode_tape(registry, frame),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::num::{Px, Qty};
    use crate::scan_cursor::scan_capture;

    const FINE: [&str; 6] = [
        "SKL-USD", "SKL-BTC", "BAND-GBP", "NMR-EUR", "BAND-BTC", "YFI-BTC",
    ];

    fn registry() -> InstrumentRegistry {
        let mut r = InstrumentRegistry::new();
        for product in FINE {
            let _ = r.add(Venue::CoinbaseExchange, product, 8, 8, Px(1), Qty(1));
        }
        // Scales too coarse for some of the capture's strings: both paths must refuse alike.
        for product in ["DASH-BTC", "NU-GBP", "CRV-EUR", "SKL-GBP"] {
            let _ = r.add(Venue::CoinbaseExchange, product, 2, 1, Px(1), Qty(1));
        }
        r
    }

    /// Every frame the scanner claims, it decodes exactly as the tape path does; and it claims
    /// nearly all the `l2update`s of the bundled capture. Then each frame cut short, with a byte
    /// changed or whitespace added, still agrees (or is left to the tape).
    #[test]
    fn the_scanner_agrees_with_the_tape_path_on_every_frame() {
        let r = registry();
        let mut codec = CoinbaseCodec::new();
        let mut levels = Vec::with_capacity(MAX_LEVELS_PER_MESSAGE);
        let prefix = br#"{"type":"l2update","product_id":""#;
        let fine = |frame: &[u8]| {
            frame.starts_with(prefix)
                && FINE
                    .iter()
                    .any(|p| frame[prefix.len()..].starts_with(p.as_bytes()))
        };
        let mut tickers = 0;
        let tally = scan_capture(
            "coinbase_exchange_level2_2021-04-17.cap",
            fine,
            50,
            7,
            |f| {
                let scanned = scan_l2update(&r, f, &mut levels).or_else(|| scan_ticker(&r, f));
                let Some(scanned) = scanned else {
                    return false;
                };
                if matches!(scanned, Decoded::Ticker(_)) {
                    tickers += 1;
                    levels.clear();
                }
                let text = String::from_utf8_lossy(f);
                assert_eq!(codec.decode_tape(&r, f), Ok(scanned), "{text}");
                assert_eq!(codec.levels(), &levels[..], "{text}");
                true
            },
        );
        // Every update of a product whose scales hold its strings takes the fast path.
        assert!(tally.wanted > 1_000, "{tally:?}");
        assert_eq!(tally.claimed, tally.wanted, "{tally:?}");
        assert!(tally.variants > 0, "{tally:?}");
        // And the tickers of the products it reads.
        assert!(tickers > 50, "{tickers}");
    }
}
