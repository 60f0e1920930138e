//! The fixed-layout scanner (`binance::scan`) against the tape path it short-cuts: every frame
//! of the three bundled captures, and mutations of real frames, must decode to the same result
//! (the same `Decoded` and levels, or the same `DecodeError`) through `decode_ws` as through
//! `decode_ws_tape`. The scanner must also actually be the path taken: at least 99% of the
//! market data frames (depth diffs, tickers, trades) go through it.

use std::path::Path;
use std::sync::OnceLock;

use proptest::prelude::*;
use pulse_feeds::binance::codec::{BinanceCodec, DecodeError, Decoded, LevelUpdate};
use pulse_feeds::binance::{scan, BinanceMarket};
use pulse_feeds::capture::{CaptureReader, SourceKind};
use pulse_feeds::instrument::{InstrumentRegistry, Venue};
use pulse_feeds::num::{Px, Qty};

/// Every symbol of the captures at scales that hold their decimals, under both Binance venues.
fn registry() -> InstrumentRegistry {
    let mut registry = InstrumentRegistry::new();
    for (venue, symbol, price_scale, qty_scale) in [
        (Venue::Binance, "BTCUSDT", 2, 8),
        (Venue::BinanceUsdm, "BTCUSDT", 2, 3),
        (Venue::Binance, "NKNUSDT", 8, 8),
        (Venue::Binance, "BLZETH", 8, 8),
        (Venue::Binance, "LRCBTC", 8, 8),
        (Venue::Binance, "RUNEEUR", 8, 8),
    ] {
        registry
            .add(venue, symbol, price_scale, qty_scale, Px(1), Qty(1))
            .expect("distinct instruments");
    }
    registry
}

/// Scales too narrow for most prices and quantities, and a symbol missing: the frames decode
/// to errors, which the two paths must classify alike.
fn narrow_registry() -> InstrumentRegistry {
    let mut registry = InstrumentRegistry::new();
    for (venue, symbol) in [
        (Venue::Binance, "BTCUSDT"),
        (Venue::BinanceUsdm, "BTCUSDT"),
        (Venue::Binance, "NKNUSDT"),
    ] {
        registry
            .add(venue, symbol, 1, 2, Px(1), Qty(1))
            .expect("distinct instruments");
    }
    registry
}

/// A codec per path, for one market.
struct Paths {
    market: BinanceMarket,
    fast: BinanceCodec,
    tape: BinanceCodec,
    /// Where the direct scanner calls that count the fast path put their levels.
    scratch: Vec<LevelUpdate>,
}

impl Paths {
    fn new(market: BinanceMarket) -> Paths {
        Paths {
            market,
            fast: BinanceCodec::for_market(market),
            tape: BinanceCodec::for_market(market),
            scratch: Vec::with_capacity(pulse_feeds::binance::codec::MAX_LEVELS_PER_MESSAGE),
        }
    }

    /// Decodes `frame` both ways, asserts they agree, and says whether the scanner took it.
    fn check(&mut self, registry: &InstrumentRegistry, frame: &[u8]) -> (Outcome, bool) {
        let fast = self.fast.decode_ws(registry, frame);
        let tape = self.tape.decode_ws_tape(registry, frame);
        assert_eq!(fast, tape, "{}", String::from_utf8_lossy(frame));
        assert_eq!(
            self.fast.levels(),
            self.tape.levels(),
            "{}",
            String::from_utf8_lossy(frame)
        );
        let scanned = scan::scan_ws(registry, self.market, frame, &mut self.scratch);
        if let Some(decoded) = scanned {
            assert_eq!(Ok(decoded), tape);
            assert_eq!(self.scratch, self.tape.levels());
        }
        (Outcome::of(tape), scanned.is_some())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    MarketData,
    Other,
}

impl Outcome {
    fn of(result: Result<Decoded, DecodeError>) -> Outcome {
        match result {
            Ok(Decoded::Depth { .. } | Decoded::Ticker { .. } | Decoded::Trade { .. }) => {
                Outcome::MarketData
            }
            _ => Outcome::Other,
        }
    }
}

#[derive(Debug, Default)]
struct Counts {
    frames: u64,
    market_data: u64,
    market_data_scanned: u64,
    other_scanned: u64,
}

/// Every record of the capture through both paths of the market it was recorded from (and, for
/// equivalence only, of the other market).
fn run_capture(file: &str, registry: &InstrumentRegistry) -> Counts {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../data")
        .join(file);
    let mut reader = CaptureReader::open(&path).expect("the bundled capture opens");
    let mut spot = Paths::new(BinanceMarket::Spot);
    let mut usdm = Paths::new(BinanceMarket::UsdmFutures);
    let mut counts = Counts::default();
    while let Some(record) = reader.next_record() {
        let record = record.expect("the capture is well-formed");
        let (own, other) = if record.venue == b"binance-usdm" {
            (&mut usdm, &mut spot)
        } else {
            (&mut spot, &mut usdm)
        };
        other.check(registry, record.payload);
        if !matches!(record.kind, SourceKind::Ws) {
            own.check(registry, record.payload);
            continue;
        }
        counts.frames += 1;
        match own.check(registry, record.payload) {
            (Outcome::MarketData, scanned) => {
                counts.market_data += 1;
                counts.market_data_scanned += u64::from(scanned);
            }
            (Outcome::Other, scanned) => counts.other_scanned += u64::from(scanned),
        }
    }
    counts
}

fn assert_mostly_scanned(file: &str, counts: &Counts) {
    println!("{file}: {counts:?}");
    assert!(counts.market_data > 0, "{file}: {counts:?}");
    assert!(
        counts.market_data_scanned * 100 >= counts.market_data * 99,
        "{file}: {counts:?}"
    );
    assert_eq!(counts.other_scanned, 0, "{file}: {counts:?}");
}

#[test]
fn spot_btcusdt_capture_decodes_the_same_on_both_paths() {
    let file = "binance_spot_btcusdt_2024-08-08.cap.gz";
    let counts = run_capture(file, &registry());
    assert_eq!(counts.frames, 41_248);
    assert_mostly_scanned(file, &counts);
    run_capture(file, &narrow_registry());
}

#[test]
fn usdm_btcusdt_capture_decodes_the_same_on_both_paths() {
    let file = "binance_usdm_btcusdt_2024-08-08.cap.gz";
    let counts = run_capture(file, &registry());
    assert_eq!(counts.frames, 93_953);
    assert_mostly_scanned(file, &counts);
    run_capture(file, &narrow_registry());
}

#[test]
fn spot_4symbols_capture_decodes_the_same_on_both_paths() {
    let file = "binance_spot_4symbols_2021-10-12.cap";
    let counts = run_capture(file, &registry());
    assert_eq!(counts.frames, 265);
    assert_mostly_scanned(file, &counts);
    run_capture(file, &narrow_registry());
}

/// One frame of each layout, from the captures: the seeds of the mutation test.
fn seeds() -> &'static [(BinanceMarket, Vec<u8>)] {
    static SEEDS: OnceLock<Vec<(BinanceMarket, Vec<u8>)>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let mut seeds = Vec::new();
        for (file, market, streams) in [
            (
                "binance_spot_btcusdt_2024-08-08.cap.gz",
                BinanceMarket::Spot,
                &["@depth@100ms", "@bookTicker", "@trade"][..],
            ),
            (
                "binance_usdm_btcusdt_2024-08-08.cap.gz",
                BinanceMarket::UsdmFutures,
                &["@depth@0ms", "@bookTicker", "@trade"][..],
            ),
            (
                "binance_spot_4symbols_2021-10-12.cap",
                BinanceMarket::Spot,
                &["@aggTrade", "@kline_1m"][..],
            ),
        ] {
            let path = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../data")
                .join(file);
            let mut reader = CaptureReader::open(&path).expect("the bundled capture opens");
            let mut wanted: Vec<&str> = streams.to_vec();
            while !wanted.is_empty() {
                let record = reader
                    .next_record()
                    .expect("every stream is in the capture")
                    .expect("the capture is well-formed");
                if let Some(i) = wanted.iter().position(|s| {
                    let needle = format!("{s}\",");
                    contains(record.payload, needle.as_bytes())
                }) {
                    wanted.swap_remove(i);
                    seeds.push((market, record.payload.to_vec()));
                }
            }
        }
        seeds
    })
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[derive(Clone, Debug)]
enum Mutation {
    Flip {
        at: usize,
        bit: u8,
    },
    Truncate {
        to: usize,
    },
    Insert {
        at: usize,
        byte: u8,
    },
    Delete {
        at: usize,
    },
    /// A digit replaced by another: the layout stays, the values change (leading zeros,
    /// overflow, places past the scale).
    Digit {
        at: usize,
        digit: u8,
    },
    /// A token spliced in that the scanner must notice: whitespace, escapes, signs, exponents.
    Splice {
        at: usize,
        token: usize,
    },
}

const TOKENS: [&str; 16] = [
    " ",
    "\\",
    "\\\"",
    "\"",
    "e",
    "E5",
    ".",
    "-",
    "0",
    "9",
    "99999999999",
    ",",
    "]",
    "[\"1\",\"2\"],",
    "\u{e9}",
    "\u{7f}",
];

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        2 => (any::<usize>(), 0u8..8).prop_map(|(at, bit)| Mutation::Flip { at, bit }),
        1 => any::<usize>().prop_map(|to| Mutation::Truncate { to }),
        1 => (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Insert { at, byte }),
        1 => any::<usize>().prop_map(|at| Mutation::Delete { at }),
        4 => (any::<usize>(), 0u8..10).prop_map(|(at, digit)| Mutation::Digit { at, digit }),
        2 => (any::<usize>(), 0..TOKENS.len()).prop_map(|(at, token)| Mutation::Splice { at, token }),
    ]
}

fn mutate(frame: &[u8], mutations: &[Mutation]) -> Vec<u8> {
    let mut out = frame.to_vec();
    for m in mutations {
        let len = out.len();
        match *m {
            Mutation::Flip { at, bit } if len > 0 => out[at % len] ^= 1 << bit,
            Mutation::Truncate { to } => out.truncate(to % (len + 1)),
            Mutation::Insert { at, byte } => out.insert(at % (len + 1), byte),
            Mutation::Delete { at } if len > 0 => {
                out.remove(at % len);
            }
            Mutation::Digit { at, digit } => {
                // The first digit at or after `at`, wrapping around.
                let digits: Vec<usize> = (0..len).filter(|&i| out[i].is_ascii_digit()).collect();
                if let Some(&i) = digits
                    .iter()
                    .find(|&&i| i >= at % (len + 1))
                    .or(digits.first())
                {
                    out[i] = b'0' + digit;
                }
            }
            Mutation::Splice { at, token } => {
                let at = at % (len + 1);
                out.splice(at..at, TOKENS[token].bytes());
            }
            _ => {}
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    #[test]
    fn mutated_real_frames_decode_the_same_on_both_paths(
        seed in any::<prop::sample::Index>(),
        narrow in any::<bool>(),
        mutations in proptest::collection::vec(mutation(), 0..6),
    ) {
        let (market, original) = seed.get(seeds());
        let frame = mutate(original, &mutations);
        let registry = if narrow { narrow_registry() } else { registry() };
        let mut paths = Paths::new(*market);
        paths.check(&registry, &frame);
    }
}

#[test]
fn every_seed_layout_but_kline_takes_the_fast_path() {
    let registry = registry();
    for (market, frame) in seeds() {
        let mut paths = Paths::new(*market);
        let (outcome, scanned) = paths.check(&registry, frame);
        let kline = contains(frame, b"@kline");
        assert_eq!(scanned, !kline, "{}", String::from_utf8_lossy(frame));
        assert_eq!(
            outcome == Outcome::MarketData,
            !kline,
            "{}",
            String::from_utf8_lossy(frame)
        );
    }
}
