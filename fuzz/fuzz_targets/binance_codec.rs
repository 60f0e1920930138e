//! The Binance codec over arbitrary bytes. The input is split at newlines into frames, each
//! decoded as a WebSocket frame and as a REST depth body. One codec serves every input, as one
//! serves a whole session in the engine: after each input a known frame must still decode
//! exactly as it does on a fresh codec, so no input poisons the reused buffers. Every accepted
//! frame is checked for shape.
#![no_main]

use std::cell::RefCell;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use pulse_feeds::binance::codec::{
    BinanceCodec, DecodeError, Decoded, LevelUpdate, MAX_LEVELS_PER_MESSAGE,
};
use pulse_feeds::instrument::{InstrumentRegistry, Venue};
use pulse_feeds::num::{Px, Qty, Side};

const KNOWN: &[u8] = br#"{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1723161255308,"s":"BTCUSDT","U":50093239203,"u":50093239207,"b":[["55653.87000000","0.00000000"]],"a":[["61838.04000000","0.32332000"],["61844.30000000","0.40163000"]]}}"#;

fn registry() -> InstrumentRegistry {
    let mut registry = InstrumentRegistry::new();
    let _ = registry.add(Venue::Binance, "BTCUSDT", 2, 8, Px(1), Qty(1));
    let _ = registry.add(Venue::Binance, "ETHUSDT", 2, 4, Px(1), Qty(1));
    registry
}

/// What a fresh codec makes of [`KNOWN`].
fn known(
    registry: &InstrumentRegistry,
) -> &'static (Result<Decoded, DecodeError>, Vec<LevelUpdate>) {
    static KNOWN_DECODED: OnceLock<(Result<Decoded, DecodeError>, Vec<LevelUpdate>)> =
        OnceLock::new();
    KNOWN_DECODED.get_or_init(|| {
        let mut fresh = BinanceCodec::new();
        let decoded = fresh.decode_ws(registry, KNOWN);
        assert!(decoded.is_ok(), "{decoded:?}");
        (decoded, fresh.levels().to_vec())
    })
}

fn check(registry: &InstrumentRegistry, codec: &BinanceCodec, decoded: Decoded) {
    let levels = codec.levels();
    assert!(levels.len() <= MAX_LEVELS_PER_MESSAGE);
    let instrument = match decoded {
        Decoded::Depth { instrument, .. } | Decoded::Snapshot { instrument, .. } => {
            // Bids, then asks.
            assert!(levels
                .windows(2)
                .all(|w| w[0].side == w[1].side || w[0].side == Side::Buy));
            Some(instrument)
        }
        Decoded::Trade { instrument, .. } | Decoded::Ticker { instrument, .. } => {
            assert!(levels.is_empty());
            Some(instrument)
        }
        Decoded::Control => {
            assert!(levels.is_empty());
            None
        }
    };
    if let Some(instrument) = instrument {
        assert!(registry.get(instrument).is_some());
    }
}

thread_local! {
    static CODEC: RefCell<(InstrumentRegistry, BinanceCodec)> =
        RefCell::new((registry(), BinanceCodec::new()));
}

fuzz_target!(|data: &[u8]| {
    CODEC.with_borrow_mut(|(registry, codec)| run(registry, codec, data));
});

fn run(registry: &InstrumentRegistry, codec: &mut BinanceCodec, data: &[u8]) {
    for frame in data.split(|&b| b == b'\n') {
        if let Ok(decoded) = codec.decode_ws(registry, frame) {
            check(registry, codec, decoded);
        }
        if let Ok(decoded) = codec.decode_rest_depth(registry, b"BTCUSDT", frame) {
            assert!(matches!(decoded, Decoded::Snapshot { .. }));
            check(registry, codec, decoded);
        }
    }
    let (expected, expected_levels) = known(registry);
    assert_eq!(codec.decode_ws(registry, KNOWN), *expected);
    assert_eq!(codec.levels(), expected_levels.as_slice());
}
