//! Coinbase Advanced Trade's fixed-layout scanner against the tape path: for any frame,
//! `decode` (scanner first) and `decode_tape` (the tape alone) give the same result, the same
//! header and the same book events, levels and tickers.
//!
//! Random bytes rarely look like a venue message, so the first input byte can also pick a real
//! one (a snapshot, an update of several levels, a ticker) and splice the rest of the input
//! into it at a chosen offset: the scanner then sees messages that are right but for a few
//! bytes.
#![no_main]

use std::cell::RefCell;

use libfuzzer_sys::fuzz_target;
use pulse_feeds::coinbase_at::codec::CoinbaseAtCodec;
use pulse_feeds::instrument::{InstrumentRegistry, Venue};
use pulse_feeds::num::{Px, Qty};

/// Book and ticker messages in the venue's layout.
const BASES: [&[u8]; 3] = [
    br#"{"channel":"l2_data","client_id":"","timestamp":"2023-02-09T20:32:50.714964855Z","sequence_num":0,"events":[{"type":"snapshot","product_id":"BTC-USD","updates":[{"side":"bid","event_time":"1970-01-01T00:00:00Z","price_level":"21921.73","new_quantity":"0.06317902"},{"side":"bid","event_time":"1970-01-01T00:00:00Z","price_level":"21921.3","new_quantity":"0.02"}]}]}"#,
    br#"{"channel":"l2_data","client_id":"","timestamp":"2024-12-06T09:00:00.150203461Z","sequence_num":41,"events":[{"type":"update","product_id":"SOL-USD","updates":[{"side":"offer","event_time":"2024-12-06T09:00:00.148374092Z","price_level":"23.49","new_quantity":"0"},{"side":"bid","event_time":"2024-12-06T09:00:00.148374092Z","price_level":"23.46","new_quantity":"7.125"}]}]}"#,
    br#"{"channel":"ticker","client_id":"","timestamp":"2023-02-09T20:30:37.167359596Z","sequence_num":0,"events":[{"type":"snapshot","tickers":[{"type":"ticker","product_id":"BTC-USD","price":"21932.98","volume_24_h":"16038.28770938","low_24_h":"21835.29","high_24_h":"23011.18","low_52_w":"15460","high_52_w":"48240","price_percent_chg_24_h":"-4.15775596190603","best_bid":"21931.98","best_bid_quantity":"8000.21000000","best_ask":"21933.98","best_ask_quantity":"8038.07770938"}]}]}"#,
];

fn registry() -> InstrumentRegistry {
    let mut registry = InstrumentRegistry::new();
    let _ = registry.add(Venue::Coinbase, "BTC-USD", 2, 8, Px(1), Qty(1));
    let _ = registry.add(Venue::Coinbase, "SOL-USD", 2, 3, Px(1), Qty(1));
    registry
}

struct State {
    registry: InstrumentRegistry,
    fast: CoinbaseAtCodec,
    tape: CoinbaseAtCodec,
    frame: Vec<u8>,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State {
        registry: registry(),
        fast: CoinbaseAtCodec::new(),
        tape: CoinbaseAtCodec::new(),
        frame: Vec::new(),
    });
}

fuzz_target!(|data: &[u8]| {
    STATE.with_borrow_mut(|s| run(s, data));
});

fn run(s: &mut State, data: &[u8]) {
    s.frame.clear();
    match data.split_first() {
        Some((&pick, rest)) if usize::from(pick) < BASES.len() * 2 && rest.len() >= 2 => {
            let base = BASES[usize::from(pick) % BASES.len()];
            let at = usize::from(u16::from_le_bytes([rest[0], rest[1]])) % (base.len() + 1);
            s.frame.extend_from_slice(&base[..at]);
            s.frame.extend_from_slice(&rest[2..]);
            if usize::from(pick) >= BASES.len() {
                // Replace rather than insert: the tail of the base after what was spliced in.
                let tail = (at + rest.len() - 2).min(base.len());
                s.frame.extend_from_slice(&base[tail..]);
            } else {
                s.frame.extend_from_slice(&base[at..]);
            }
        }
        _ => s.frame.extend_from_slice(data),
    }
    let fast = s.fast.decode(&s.registry, &s.frame);
    let tape = s.tape.decode_tape(&s.registry, &s.frame);
    assert_eq!(fast, tape);
    assert_eq!(s.fast.header(), s.tape.header());
    assert_eq!(s.fast.books(), s.tape.books());
    assert_eq!(s.fast.levels(), s.tape.levels());
    assert_eq!(s.fast.tickers(), s.tape.tickers());
}
