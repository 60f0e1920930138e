//! The fixed-layout scanner against the tape path: for any frame, `decode_ws` (scanner first)
//! and `decode_ws_tape` (the tape alone) give the same result and the same levels, for spot and
//! futures codecs alike, and whatever the scanner claims on its own is what the tape decodes.
//!
//! Random bytes rarely look like a Binance frame, so the first input byte can also pick a real
//! frame (one per layout) and splice the rest of the input into it at a chosen offset: the
//! scanner then sees frames that are right but for a few bytes.
#![no_main]

use std::cell::RefCell;

use libfuzzer_sys::fuzz_target;
use pulse_feeds::binance::codec::{BinanceCodec, LevelUpdate, MAX_LEVELS_PER_MESSAGE};
use pulse_feeds::binance::{scan, BinanceMarket};
use pulse_feeds::instrument::{InstrumentRegistry, Venue};
use pulse_feeds::num::{Px, Qty};

/// Real frames from the bundled captures, one per layout the scanner reads.
const BASES: [&[u8]; 7] = [
    br#"{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1723161255308,"s":"BTCUSDT","U":50093239203,"u":50093239207,"b":[["55653.87000000","0.00000000"]],"a":[["61838.04000000","0.32332000"],["61844.30000000","0.40163000"]]}}"#,
    br#"{"stream":"btcusdt@bookTicker","data":{"u":50093239212,"s":"BTCUSDT","b":"61837.63000000","B":"3.78826000","a":"61837.64000000","A":"1.54698000"}}"#,
    br#"{"stream":"btcusdt@trade","data":{"e":"trade","E":1723161255343,"s":"BTCUSDT","t":3735683259,"p":"61837.63000000","q":"0.02000000","T":1723161255342,"m":true,"M":true}}"#,
    br#"{"stream":"btcusdt@depth@0ms","data":{"e":"depthUpdate","E":1723161256299,"T":1723161256298,"s":"BTCUSDT","U":5123107832006,"u":5123107837557,"pu":5123107831937,"b":[["58710.20","0.014"],["61510.90","0.000"]],"a":[["61800.30","3.330"]]}}"#,
    br#"{"stream":"btcusdt@bookTicker","data":{"e":"bookTicker","u":5123107839020,"s":"BTCUSDT","b":"61800.20","B":"2.507","a":"61800.30","A":"2.510","T":1723161256313,"E":1723161256313}}"#,
    br#"{"stream":"btcusdt@trade","data":{"e":"trade","E":1723161256322,"T":1723161256322,"s":"BTCUSDT","t":5266583935,"p":"61800.30","q":"0.006","X":"MARKET","m":false}}"#,
    br#"{"stream":"nknusdt@aggTrade","data":{"e":"aggTrade","E":1633998523963,"s":"NKNUSDT","a":15683430,"p":"0.35280000","q":"58.00000000","f":19862790,"l":19862790,"T":1633998523963,"m":false,"M":true}}"#,
];

fn registry() -> InstrumentRegistry {
    let mut registry = InstrumentRegistry::new();
    let _ = registry.add(Venue::Binance, "BTCUSDT", 2, 8, Px(1), Qty(1));
    let _ = registry.add(Venue::BinanceUsdm, "BTCUSDT", 2, 3, Px(1), Qty(1));
    let _ = registry.add(Venue::Binance, "NKNUSDT", 4, 2, Px(1), Qty(1));
    registry
}

struct State {
    registry: InstrumentRegistry,
    /// Per market: the codec under test, the tape-only codec, levels for the bare scanner.
    codecs: Vec<(BinanceMarket, BinanceCodec, BinanceCodec, Vec<LevelUpdate>)>,
    frame: Vec<u8>,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State {
        registry: registry(),
        codecs: [BinanceMarket::Spot, BinanceMarket::UsdmFutures]
            .into_iter()
            .map(|m| {
                let levels = Vec::with_capacity(MAX_LEVELS_PER_MESSAGE);
                (m, BinanceCodec::for_market(m), BinanceCodec::for_market(m), levels)
            })
            .collect(),
        frame: Vec::new(),
    });
}

fuzz_target!(|data: &[u8]| {
    STATE.with_borrow_mut(|state| run(state, data));
});

fn run(state: &mut State, data: &[u8]) {
    let State {
        registry,
        codecs,
        frame,
    } = state;
    frame.clear();
    match data {
        // A real frame with the rest of the input spliced in: byte 1 picks the offset (as a
        // fraction of the frame), byte 2 how many of the frame's bytes the splice replaces.
        [selector @ 0..=127, at, replaced, splice @ ..] => {
            let base = BASES[usize::from(*selector) % BASES.len()];
            let at = usize::from(*at) * base.len() / 256;
            let end = (at + usize::from(*replaced) % 8).min(base.len());
            frame.extend_from_slice(&base[..at]);
            frame.extend_from_slice(splice);
            frame.extend_from_slice(&base[end..]);
        }
        [_, rest @ ..] => frame.extend_from_slice(rest),
        [] => return,
    }
    for (market, fast, tape, levels) in codecs.iter_mut() {
        let expected = tape.decode_ws_tape(registry, frame);
        assert_eq!(fast.decode_ws(registry, frame), expected);
        assert_eq!(fast.levels(), tape.levels());
        if let Some(decoded) = scan::scan_ws(registry, *market, frame, levels) {
            assert_eq!(Ok(decoded), expected);
            assert_eq!(levels.as_slice(), tape.levels());
        }
    }
}
