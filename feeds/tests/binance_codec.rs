//! The codec against Binance's own documented examples (`data/binance_spot_doc_examples.json`,
//! from binance-spot-api-docs) and real USD-M futures frames: exact integers out.

use std::path::Path;

use pulse_feeds::binance::codec::{BinanceCodec, DecodeError, Decoded, LevelUpdate};
use pulse_feeds::binance::BinanceMarket;
use pulse_feeds::book::Level;
use pulse_feeds::instrument::{InstrumentRegistry, Venue};
use pulse_feeds::num::{InstrumentId, Px, Qty, Side};
use simd_json::prelude::*;

/// Binance's wire precision: 8 decimals for prices and quantities.
fn registry() -> InstrumentRegistry {
    let mut reg = InstrumentRegistry::new();
    for (venue, symbol) in [
        (Venue::Binance, "BNBBTC"),
        (Venue::Binance, "BNBUSDT"),
        (Venue::BinanceUsdm, "BTCUSDT"),
    ] {
        reg.add(venue, symbol, 8, 8, Px(1), Qty(1)).unwrap();
    }
    reg
}

const BNBBTC: InstrumentId = InstrumentId(0);
const BNBUSDT: InstrumentId = InstrumentId(1);
const PERP: InstrumentId = InstrumentId(2);

/// One documented example, re-encoded as JSON text.
fn example(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/binance_spot_doc_examples.json");
    let mut bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let doc = simd_json::to_owned_value(&mut bytes).expect("the examples file is JSON");
    let commit = doc.get("commit").and_then(|c| c.as_str());
    assert_eq!(commit, Some("a5e0bc3ddc0fd7e6bb696849323b74423fa3a54d"));
    let value = doc
        .get("examples")
        .and_then(|e| e.get(name))
        .unwrap_or_else(|| panic!("no example {name}"));
    value.encode().into_bytes()
}

fn level(side: Side, px: i64, qty: i64) -> LevelUpdate {
    LevelUpdate {
        side,
        px: Px(px),
        qty: Qty(qty),
    }
}

#[test]
fn documented_depth_update() {
    let (reg, mut codec) = (registry(), BinanceCodec::new());
    let frame = example("ws_depthUpdate");
    let depth = Decoded::Depth {
        instrument: BNBBTC,
        first_id: 157,
        last_id: 160,
        prev_last_id: None,
    };
    // "0.0024" x "10" and "0.0026" x "100" at scale 8.
    let levels = [
        level(Side::Buy, 240_000, 1_000_000_000),
        level(Side::Sell, 260_000, 10_000_000_000),
    ];
    assert_eq!(codec.decode_ws(&reg, &frame), Ok(depth));
    assert_eq!(codec.levels(), levels);
    // The same inside a combined-stream frame.
    let mut combined = br#"{"stream":"bnbbtc@depth","data":"#.to_vec();
    combined.extend_from_slice(&frame);
    combined.push(b'}');
    assert_eq!(codec.decode_ws(&reg, &combined), Ok(depth));
    assert_eq!(codec.levels(), levels);
}

#[test]
fn documented_rest_depth_and_partial_depth() {
    let (reg, mut codec) = (registry(), BinanceCodec::new());
    let body = example("rest_depth");
    assert_eq!(
        codec.decode_rest_depth(&reg, b"BNBBTC", &body),
        Ok(Decoded::Snapshot {
            instrument: BNBBTC,
            last_update_id: 1_027_024
        })
    );
    assert_eq!(
        codec.levels(),
        [
            level(Side::Buy, 400_000_000, 43_100_000_000),
            level(Side::Sell, 400_000_200, 1_200_000_000)
        ]
    );
    // A partial depth payload has the REST body's shape: it decodes the same way.
    let partial = example("ws_partial_depth");
    assert_eq!(
        codec.decode_rest_depth(&reg, b"bnbbtc", &partial),
        Ok(Decoded::Snapshot {
            instrument: BNBBTC,
            last_update_id: 160
        })
    );
    assert_eq!(
        codec.levels(),
        [
            level(Side::Buy, 240_000, 1_000_000_000),
            level(Side::Sell, 260_000, 10_000_000_000)
        ]
    );
    // As a stream frame it names no symbol and no event: refused, not guessed.
    assert_eq!(
        codec.decode_ws(&reg, &partial),
        Err(DecodeError::UnknownEvent)
    );
    assert_eq!(
        codec.decode_rest_depth(&reg, b"ETHBTC", &body),
        Err(DecodeError::UnknownSymbol)
    );
}

#[test]
fn documented_trade_and_book_ticker() {
    let (reg, mut codec) = (registry(), BinanceCodec::new());
    // "m": true, the buyer was the maker: the taker sold.
    assert_eq!(
        codec.decode_ws(&reg, &example("ws_trade")),
        Ok(Decoded::Trade {
            instrument: BNBBTC,
            trade_id: 12_345,
            px: Px(100_000),
            qty: Qty(10_000_000_000),
            aggressor: Side::Sell,
        })
    );
    assert_eq!(
        codec.decode_ws(&reg, &example("ws_bookTicker")),
        Ok(Decoded::Ticker {
            instrument: BNBUSDT,
            update_id: 400_900_217,
            bid: Level {
                px: Px(2_535_190_000),
                qty: Qty(3_121_000_000)
            },
            ask: Level {
                px: Px(2_536_520_000),
                qty: Qty(4_066_000_000)
            },
        })
    );
}

/// Real frames from `data/binance_usdm_btcusdt_2024-08-08.cap.gz` (the depth one shortened).
const USDM_DEPTH: &[u8] = br#"{"stream":"btcusdt@depth@0ms","data":{"e":"depthUpdate","E":1723161256299,"T":1723161256298,"s":"BTCUSDT","U":5123107832006,"u":5123107837557,"pu":5123107831937,"b":[["58710.20","0.014"],["61510.90","0.000"]],"a":[["61800.30","3.330"]]}}"#;
const USDM_TICKER: &[u8] = br#"{"stream":"btcusdt@bookTicker","data":{"e":"bookTicker","u":5123107839020,"s":"BTCUSDT","b":"61800.20","B":"2.507","a":"61800.30","A":"2.510","T":1723161256313,"E":1723161256313}}"#;
const USDM_TRADE: &[u8] = br#"{"stream":"btcusdt@trade","data":{"e":"trade","E":1723161256322,"T":1723161256322,"s":"BTCUSDT","t":5266583935,"p":"61800.30","q":"0.006","X":"MARKET","m":false}}"#;

#[test]
fn usdm_frames_decode_under_the_futures_venue() {
    let reg = registry();
    let mut codec = BinanceCodec::for_market(BinanceMarket::UsdmFutures);
    assert_eq!(
        codec.decode_ws(&reg, USDM_DEPTH),
        Ok(Decoded::Depth {
            instrument: PERP,
            first_id: 5_123_107_832_006,
            last_id: 5_123_107_837_557,
            prev_last_id: Some(5_123_107_831_937),
        })
    );
    assert_eq!(
        codec.levels(),
        [
            level(Side::Buy, 5_871_020_000_000, 1_400_000),
            level(Side::Buy, 6_151_090_000_000, 0),
            level(Side::Sell, 6_180_030_000_000, 333_000_000)
        ]
    );
    assert_eq!(
        codec.decode_ws(&reg, USDM_TICKER),
        Ok(Decoded::Ticker {
            instrument: PERP,
            update_id: 5_123_107_839_020,
            bid: Level {
                px: Px(6_180_020_000_000),
                qty: Qty(250_700_000)
            },
            ask: Level {
                px: Px(6_180_030_000_000),
                qty: Qty(251_000_000)
            },
        })
    );
    assert_eq!(
        codec.decode_ws(&reg, USDM_TRADE),
        Ok(Decoded::Trade {
            instrument: PERP,
            trade_id: 5_266_583_935,
            px: Px(6_180_030_000_000),
            qty: Qty(600_000),
            aggressor: Side::Buy,
        })
    );
}

#[test]
fn markets_do_not_share_symbols_and_futures_diffs_need_pu() {
    let reg = registry();
    // BTCUSDT is configured for futures only: the spot codec does not know it.
    let mut spot = BinanceCodec::new();
    assert_eq!(
        spot.decode_ws(&reg, USDM_TICKER),
        Err(DecodeError::UnknownSymbol)
    );
    let mut futures = BinanceCodec::for_market(BinanceMarket::UsdmFutures);
    assert_eq!(
        futures.decode_ws(&reg, &example("ws_bookTicker")),
        Err(DecodeError::UnknownSymbol)
    );
    let without_pu = String::from_utf8(USDM_DEPTH.to_vec())
        .unwrap()
        .replace(r#""pu":5123107831937,"#, "");
    assert_eq!(
        futures.decode_ws(&reg, without_pu.as_bytes()),
        Err(DecodeError::MissingField("pu"))
    );
}
