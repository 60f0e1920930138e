//! Coinbase Advanced Trade test helpers: the generated capture's products and text, the
//! documented example messages, and an adapter driven over frames with its staged events
//! collected.
#![allow(dead_code)]

use std::io::Read;
use std::path::PathBuf;

use pulse_feeds::capture::SourceKind;
use pulse_feeds::coinbase_at::CoinbaseAtAdapter;
use pulse_feeds::decode_error::DecodeError;
use pulse_feeds::event::{EventMeta, MdEvent};
use pulse_feeds::instrument::{InstrumentRegistry, Venue};
use pulse_feeds::num::{Px, Qty};
use pulse_feeds::outbox::Outbox;
use pulse_feeds::venue::{FrameVerdict, MarketAdapter};

/// The "WebSocket Channels" page's examples, verbatim but for whitespace (level2, heartbeats,
/// ticker, market_trades; the level2 example's list of updates cut to its two shown).
pub const DOC_L2: &str = r#"{"channel":"l2_data","client_id":"","timestamp":"2023-02-09T20:32:50.714964855Z","sequence_num":0,"events":[{"type":"snapshot","product_id":"BTC-USD","updates":[{"side":"bid","event_time":"1970-01-01T00:00:00Z","price_level":"21921.73","new_quantity":"0.06317902"},{"side":"bid","event_time":"1970-01-01T00:00:00Z","price_level":"21921.3","new_quantity":"0.02"}]}]}"#;
pub const DOC_HEARTBEAT: &str = r#"{"channel":"heartbeats","client_id":"","timestamp":"2023-06-23T20:31:26.122969572Z","sequence_num":0,"events":[{"current_time":"2023-06-23 20:31:56.121961769 +0000 UTC m=+91717.525857105","heartbeat_counter":"3049"}]}"#;
pub const DOC_TICKER: &str = r#"{"channel":"ticker","client_id":"","timestamp":"2023-02-09T20:30:37.167359596Z","sequence_num":0,"events":[{"type":"snapshot","tickers":[{"type":"ticker","product_id":"BTC-USD","price":"21932.98","volume_24_h":"16038.28770938","low_24_h":"21835.29","high_24_h":"23011.18","low_52_w":"15460","high_52_w":"48240","price_percent_chg_24_h":"-4.15775596190603","best_bid":"21931.98","best_bid_quantity":"8000.21000000","best_ask":"21933.98","best_ask_quantity":"8038.07770938"}]}]}"#;
pub const DOC_TRADES: &str = r#"{"channel":"market_trades","client_id":"","timestamp":"2023-02-09T20:19:35.39625135Z","sequence_num":0,"events":[{"type":"snapshot","trades":[{"trade_id":"000000000","product_id":"ETH-USD","price":"1260.01","size":"0.3","side":"BUY","time":"2019-08-14T20:42:27.265Z"}]}]}"#;

/// `frame` with its `sequence_num` set to `seq`.
pub fn numbered(frame: &str, seq: u64) -> String {
    frame.replacen(
        r#""sequence_num":0"#,
        &format!(r#""sequence_num":{seq}"#),
        1,
    )
}

/// One `l2_data` message of `product`: its event `kind` with `levels` as
/// `(side, price, quantity)`.
pub fn l2(seq: u64, kind: &str, product: &str, levels: &[(&str, &str, &str)]) -> String {
    let updates: Vec<String> = levels
        .iter()
        .map(|(side, px, qty)| {
            format!(
                r#"{{"side":"{side}","event_time":"2023-02-09T20:32:50.714964855Z","price_level":"{px}","new_quantity":"{qty}"}}"#
            )
        })
        .collect();
    format!(
        r#"{{"channel":"l2_data","client_id":"","timestamp":"2023-02-09T20:32:50.714964855Z","sequence_num":{seq},"events":[{{"type":"{kind}","product_id":"{product}","updates":[{}]}}]}}"#,
        updates.join(",")
    )
}

/// A heartbeat numbered `seq`.
pub fn heartbeat(seq: u64) -> String {
    numbered(DOC_HEARTBEAT, seq)
}

pub fn capture_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data/coinbase_at_generated.cap.gz")
}

pub fn capture_text() -> String {
    let gz = std::fs::read(capture_path()).expect("the generated Coinbase capture reads");
    let mut text = String::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_string(&mut text)
        .expect("gzip");
    text
}

/// The capture's products: BTC-USD (0), ETH-USD (1), SOL-USD (2), at the decimals their
/// strings show (prices 2; sizes 8, 8 and 3), a tick of one mantissa unit.
pub fn registry() -> InstrumentRegistry {
    let mut registry = InstrumentRegistry::new();
    for (symbol, ps, qs) in [("BTC-USD", 2, 8), ("ETH-USD", 2, 8), ("SOL-USD", 2, 3)] {
        registry
            .add(Venue::Coinbase, symbol, ps, qs, Px(1), Qty(1))
            .expect("distinct products");
    }
    registry
}

/// An adapter over [`registry`] and the outbox it stages into.
pub struct Driver {
    pub adapter: CoinbaseAtAdapter,
    pub out: Outbox,
    ring: (rtrb::Producer<MdEvent>, rtrb::Consumer<MdEvent>),
}

impl Default for Driver {
    fn default() -> Self {
        Driver::new()
    }
}

impl Driver {
    pub fn new() -> Driver {
        let adapter = CoinbaseAtAdapter::new(registry());
        let capacity = adapter.outbox_capacity();
        let (tx, rx) = rtrb::RingBuffer::new(capacity);
        Driver {
            adapter,
            out: Outbox::with_capacity(capacity),
            ring: (tx, rx),
        }
    }

    /// One received frame; its verdict and the events it staged.
    pub fn frame(&mut self, frame: &str) -> (Result<FrameVerdict, DecodeError>, Vec<MdEvent>) {
        let verdict = self.adapter.on_frame(
            SourceKind::Ws,
            frame.as_bytes(),
            EventMeta::default(),
            &mut self.out,
        );
        self.out.drain_into(&mut self.ring.0);
        let mut events = Vec::new();
        while let Ok(e) = self.ring.1.pop() {
            events.push(e);
        }
        (verdict, events)
    }

    /// The frames the adapter asks the live feed to send now.
    pub fn sends(&mut self) -> Vec<String> {
        let mut sent = Vec::new();
        self.adapter.take_sends(&mut |f| {
            sent.push(f.to_owned());
            true
        });
        sent
    }
}
