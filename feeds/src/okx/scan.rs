//! The fast path of [`OkxCodec::decode_ws`](super::codec::OkxCodec::decode_ws): a
//! fixed-layout scanner for the frames that are nearly all of a book stream, `books` (and
//! `books5`, `bbo-tbt`, `books-l2-tbt`..) pushes, as OKX writes them (one serializer: the same
//! keys in the same order, no whitespace):
//!
//! ```text
//! {"arg":{"channel":"books","instId":".."},"action":"update","data":[{"asks":[["px","sz","0","n"],..],
//!  "bids":[..],"ts":"..","checksum":-123(,"prevSeqId":-1,"seqId":456)}]}
//! ```
//!
//! Read once, left to right, straight into integers ([`Cursor`]) beside each level's strings
//! as sent (the checksum hashes those). Anything else (another key order, whitespace, an
//! escape, an unknown instrument, a decimal that does not fit or is no price, a string longer
//! than [`Wire`] holds, too many levels) is `None`, and the tape path decodes the frame and
//! classifies any error, so both paths give the same answer on every frame (`tests` below hold
//! them to it over the bundled capture and its mutations).

use crate::event::Level;
use crate::instrument::{Instrument, InstrumentRegistry, Venue};
use crate::num::{parse_decimal, Px, Qty, Side};
use crate::okx::frame::{BookAction, Decoded, OkxLevel, Wire, MAX_LEVELS_PER_MESSAGE};
use crate::scan_cursor::{Cursor, Picked};

/// Decodes `frame` if it is a book push in OKX's layout; `None` otherwise. The levels are in
/// `levels`, cleared first, bids then asks as the tape path leaves them; after `None` they are
/// meaningless.
pub fn scan_books(
    registry: &InstrumentRegistry,
    frame: &[u8],
    levels: &mut Vec<OkxLevel>,
) -> Option<Decoded> {
    levels.clear();
    let mut c = Cursor { rest: frame };
    c.expect(br#"{"arg":{"channel":""#)?;
    let channel = c.plain_string()?;
    if !(channel.starts_with(b"books") || channel == b"bbo-tbt") {
        return None;
    }
    c.expect(br#","instId":""#)?;
    let inst = registry.get(registry.find(Venue::Okx, c.plain_string()?)?)?;
    c.expect(b"}")?;
    let action = if c.eat(br#","action":"update""#) {
        BookAction::Update
    } else if c.eat(br#","action":"snapshot""#) {
        BookAction::Snapshot
    } else {
        BookAction::Whole
    };
    c.expect(br#","data":[{"asks":["#)?;
    side(&mut c, inst, Side::Sell, levels)?;
    let asks = levels.len();
    c.expect(br#","bids":["#)?;
    side(&mut c, inst, Side::Buy, levels)?;
    // The tape path gives bids then asks.
    levels.rotate_left(asks);
    c.expect(br#","ts":""#)?;
    let ts = c.uint()?;
    c.expect(br#"""#)?;
    let checksum = if c.eat(br#","checksum":"#) {
        i32::try_from(c.int()?).ok()?
    } else {
        0
    };
    let (mut seq_id, mut prev_seq_id) = (None, None);
    if c.eat(br#","prevSeqId":"#) {
        prev_seq_id = Some(c.int()?);
        c.expect(br#","seqId":"#)?;
        seq_id = Some(c.int()?);
    }
    c.expect(b"}]}")?;
    c.rest.is_empty().then_some(Decoded::Book {
        instrument: inst.id,
        action,
        seq_id,
        prev_seq_id,
        checksum,
        ts,
    })
}

/// Decodes `frame` if it is a `tickers` push in OKX's layout, one ticker whose members are
/// strings or integers, `bidPx`, `bidSz`, `askPx`, `askSz` each once; `None` otherwise.
pub fn scan_tickers(registry: &InstrumentRegistry, frame: &[u8]) -> Option<Decoded> {
    let mut c = Cursor { rest: frame };
    c.expect(br#"{"arg":{"channel":"tickers","instId":""#)?;
    let inst = registry.get(registry.find(Venue::Okx, c.plain_string()?)?)?;
    c.expect(br#"},"data":[{"#)?;
    const KEYS: [&[u8]; 4] = [b"bidPx", b"bidSz", b"askPx", b"askSz"];
    let mut picked = Picked::<4>::new();
    c.members(|key, value| picked.take(&KEYS, key, value))?;
    c.expect(b"]}")?;
    if !c.rest.is_empty() {
        return None;
    }
    let (ps, qs) = (inst.price_scale, inst.qty_scale);
    let at = |i: usize, scale| parse_decimal(picked.values[i]?, scale).ok();
    Some(Decoded::Ticker {
        instrument: inst.id,
        bid: Level {
            px: Px(at(0, ps)?),
            qty: Qty(at(1, qs)?),
        },
        ask: Level {
            px: Px(at(2, ps)?),
            qty: Qty(at(3, qs)?),
        },
    })
}

/// The levels of one side, `["px","sz"(,"liquidated","orders")]` each, from just past its
/// opening bracket to just past its closing one.
fn side(
    c: &mut Cursor<'_>,
    inst: &Instrument,
    side: Side,
    levels: &mut Vec<OkxLevel>,
) -> Option<()> {
    c.items(|c| {
        c.expect(br#"[""#)?;
        let (px, px_text) = decimal(c, inst.price_scale)?;
        c.expect(br#",""#)?;
        let (qty, qty_text) = decimal(c, inst.qty_scale)?;
        // The deprecated liquidated-orders count and the order count: strings, not read.
        for _ in 0..2 {
            if !c.eat(br#",""#) {
                break;
            }
            c.plain_string()?;
        }
        c.expect(b"]")?;
        // A price is positive and a size not negative; the tape path names anything else.
        if levels.len() >= MAX_LEVELS_PER_MESSAGE || px <= 0 || qty < 0 {
            return None;
        }
        levels.push(OkxLevel {
            side,
            px: Px(px),
            qty: Qty(qty),
            px_text,
            qty_text,
        });
        Some(())
    })
}

/// A decimal string's value at `scale` and its text as sent (what the checksum hashes).
#[inline]
fn decimal(c: &mut Cursor<'_>, scale: u32) -> Option<(i64, Wire)> {
    let start = c.rest;
    let value = c.decimal(scale)?;
    // The text is what was read, less its closing quote.
    let text = start.get(..start.len() - c.rest.len() - 1)?;
    Some((value, Wire::new(text)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::okx::codec::OkxCodec;
    use crate::scan_cursor::scan_capture;

    fn registry() -> InstrumentRegistry {
        let mut r = InstrumentRegistry::new();
        for inst in ["BTC-USDT", "BTC-USD-220527", "UNI-USD-SWAP"] {
            let _ = r.add(Venue::Okx, inst, 8, 8, Px(1), Qty(1));
        }
        r
    }

    /// Every frame the scanners claim, they decode exactly as the tape path does (levels and
    /// their strings, tickers); they claim every book and ticker push of the bundled capture; and each frame cut
    /// short, with a byte changed or whitespace added, still agrees (or is left to the tape).
    #[test]
    fn the_scanner_agrees_with_the_tape_path_on_every_frame() {
        let registry = registry();
        let mut codec = OkxCodec::new();
        let mut levels = Vec::with_capacity(MAX_LEVELS_PER_MESSAGE);
        let mut tickers = 0;
        let mut check = |f: &[u8]| -> bool {
            let scanned =
                scan_books(&registry, f, &mut levels).or_else(|| scan_tickers(&registry, f));
            let Some(scanned) = scanned else {
                return false;
            };
            if matches!(scanned, Decoded::Ticker { .. }) {
                tickers += 1;
                levels.clear();
            }
            let text = String::from_utf8_lossy(f);
            assert_eq!(codec.decode_tape(&registry, f), Ok(scanned), "{text}");
            assert_eq!(codec.levels(), &levels[..], "{text}");
            let asks = levels.iter().position(|l| l.side == Side::Sell);
            let bids_first = levels[asks.unwrap_or(levels.len())..]
                .iter()
                .all(|l| l.side == Side::Sell);
            assert!(bids_first, "bids first: {text}");
            true
        };
        let documented: [&[u8]; 2] = [
            br#"{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"snapshot","data":[{"asks":[["8476.98","415","0","13"],["8477","7","0","2"]],"bids":[["8476","256","0","12"]],"ts":"1597026383085","checksum":-855196043,"prevSeqId":-1,"seqId":123456}]}"#,
            br#"{"arg":{"channel":"books5","instId":"BTC-USDT"},"data":[{"asks":[["8476.98","415","0","13"]],"bids":[["8476.1","256","0","12"]],"instId":"BTC-USDT","ts":"1597026383085","seqId":123456}]}"#,
        ];
        assert!(check(documented[0]));
        // books5 names the instrument again inside `data`: not this layout, the tape's.
        assert!(!check(documented[1]));
        let book = |f: &[u8]| {
            f.starts_with(br#"{"arg":{"channel":"books""#)
                || f.starts_with(br#"{"arg":{"channel":"tickers""#)
        };
        let tally = scan_capture("okx_books_2022-05-13.cap", book, 20, 13, check);
        assert!(tally.wanted >= 290 + 25, "{tally:?}");
        assert!(tickers >= 25, "{tickers}");
        assert_eq!(tally.claimed, tally.wanted, "{tally:?}");
        assert_eq!(tally.claimed_other, 0, "{tally:?}");
        assert!(tally.variants > 0, "{tally:?}");
    }
}
