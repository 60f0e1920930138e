//! Every vector of `data/kraken_checksum_vectors.json` (Kraken's documented examples and real
//! frames) reproduces its expected CRC32 through the Kraken adapter: the book built from the
//! vector's levels, formatted the adapter's way, hashed, and compared by the adapter itself
//! with the checksum the frame carries. The checksum input string is compared too, and the
//! documented trap (writing v2 numbers with their raw digits) gives the wrong answer.

use pulse_feeds::capture::SourceKind;
use pulse_feeds::decode_error::DecodeError;
use pulse_feeds::event::EventMeta;
use pulse_feeds::instrument::{InstrumentRegistry, Venue};
use pulse_feeds::kraken::checksum::write_input;
use pulse_feeds::kraken::{KrakenAdapter, KrakenProtocol};
use pulse_feeds::num::{InstrumentId, Px, Qty};
use pulse_feeds::outbox::Outbox;
use pulse_feeds::venue::MarketAdapter;
use serde_json::Value;

const ID: InstrumentId = InstrumentId(0);

fn vectors() -> Vec<Value> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../data/kraken_checksum_vectors.json");
    let text = std::fs::read_to_string(path).expect("the vectors read");
    let all: Value = serde_json::from_str(&text).expect("the vectors parse");
    all["vectors"].as_array().expect("a list").clone()
}

fn vector(id: &str) -> Value {
    vectors()
        .into_iter()
        .find(|v| v["id"] == id)
        .unwrap_or_else(|| panic!("vector {id}"))
}

fn decimals(s: &str) -> u32 {
    s.split_once('.').map_or(0, |(_, f)| f.len() as u32)
}

fn levels(v: &Value, side: &str) -> Vec<(String, String)> {
    v[side]
        .as_array()
        .expect("levels")
        .iter()
        .map(|l| (l[0].as_str().unwrap().into(), l[1].as_str().unwrap().into()))
        .collect()
}

struct Harness {
    adapter: KrakenAdapter,
    out: Outbox,
}

impl Harness {
    fn new(protocol: KrakenProtocol, symbol: &str, scales: (u32, u32)) -> Harness {
        let mut registry = InstrumentRegistry::new();
        registry
            .add(protocol.venue(), symbol, scales.0, scales.1, Px(1), Qty(1))
            .unwrap();
        let adapter = KrakenAdapter::new(protocol, registry);
        let out = Outbox::with_capacity(adapter.outbox_capacity());
        Harness { adapter, out }
    }

    fn frame(&mut self, frame: &str) {
        self.try_frame(frame)
            .unwrap_or_else(|e| panic!("{e:?}: {frame}"));
    }

    fn try_frame(&mut self, frame: &str) -> Result<(), DecodeError> {
        let meta = EventMeta::default();
        let r = self
            .adapter
            .on_frame(SourceKind::Ws, frame.as_bytes(), meta, &mut self.out);
        self.out.discard_pending(|_| false, |_| {});
        r.map(drop)
    }

    /// (checksums matched, mismatched).
    fn sums(&self) -> (u64, u64) {
        let k = self.adapter.sync_counters(ID).expect("the pair's counters");
        (k.checksum_ok, k.checksum_mismatch)
    }

    fn input(&self) -> String {
        let sync = self.adapter.sync(ID).expect("the pair's book");
        let mut s = Vec::new();
        write_input(sync.asks(), sync.bids(), sync.precision(), |d| {
            s.extend_from_slice(d)
        });
        String::from_utf8(s).unwrap()
    }
}

/// A v2 book frame of `kind` with the vector's levels as JSON numbers, as Kraken writes them.
fn v2_frame(
    symbol: &str,
    kind: &str,
    asks: &[(String, String)],
    bids: &[(String, String)],
    sum: u64,
) -> String {
    let side = |levels: &[(String, String)]| {
        let l: Vec<String> = levels
            .iter()
            .map(|(p, q)| format!(r#"{{"price":{p},"qty":{q}}}"#))
            .collect();
        l.join(",")
    };
    format!(
        r#"{{"channel":"book","type":"{kind}","data":[{{"symbol":"{symbol}","bids":[{}],"asks":[{}],"checksum":{sum},"timestamp":"2023-10-06T17:35:55.440295Z"}}]}}"#,
        side(bids),
        side(asks)
    )
}

fn expected(v: &Value) -> u64 {
    v["expected_checksum"].as_u64().expect("a checksum")
}

#[test]
fn v1_guide_example_through_a_v1_update() {
    let v = vector("kraken_v1_doc_example");
    let (asks, bids) = (levels(&v, "asks"), levels(&v, "bids"));
    let scales = (decimals(&asks[0].0), decimals(&asks[0].1));
    let mut h = Harness::new(KrakenProtocol::V1, "XBT/USD", scales);
    h.frame(r#"[0,{"as":[],"bs":[]},"book-10","XBT/USD"]"#);
    let side = |levels: &[(String, String)]| {
        let l: Vec<String> = levels
            .iter()
            .map(|(p, q)| format!(r#"["{p}","{q}","1618678133.383209"]"#))
            .collect();
        l.join(",")
    };
    h.frame(&format!(
        r#"[0,{{"a":[{}]}},{{"b":[{}],"c":"{}"}},"book-10","XBT/USD"]"#,
        side(&asks),
        side(&bids),
        expected(&v)
    ));
    assert_eq!(h.sums(), (1, 0));
    assert_eq!(h.input(), v["checksum_input"].as_str().unwrap());
}

#[test]
fn v2_documented_snapshots_and_update_formatted_at_the_pair_precision() {
    for id in [
        "kraken_v2_guide_btcusd_snapshot",
        "kraken_v2_apiref_maticusd_snapshot",
    ] {
        let v = vector(id);
        let symbol = v["symbol"].as_str().unwrap();
        let scales = (
            v["price_precision"].as_u64().unwrap() as u32,
            v["qty_precision"].as_u64().unwrap() as u32,
        );
        let (asks, bids) = (levels(&v, "asks"), levels(&v, "bids"));
        let mut h = Harness::new(KrakenProtocol::V2, symbol, scales);
        h.frame(&v2_frame(symbol, "snapshot", &asks, &bids, expected(&v)));
        assert_eq!(h.sums(), (1, 0), "{id}");
        assert_eq!(h.input(), v["checksum_input"].as_str().unwrap(), "{id}");
        if let Some(wrong) = v["wrong_checksum_if_raw_digits"].as_u64() {
            // The raw digits' checksum is not what the book at its precision gives.
            h.frame(&v2_frame(symbol, "snapshot", &asks, &bids, wrong));
            assert_eq!(h.sums(), (1, 1), "{id}: the raw-digits trap");
            let update = vector("kraken_v2_apiref_maticusd_update");
            h.frame(&v2_frame(symbol, "snapshot", &asks, &bids, expected(&v)));
            h.frame(&update["update_message"].to_string());
            assert_eq!(h.sums(), (3, 1), "the reference's update");
            assert_eq!(h.input(), update["checksum_input"].as_str().unwrap());
        }
    }
}

#[test]
fn v2_real_frames_including_exponent_quantities() {
    let snapshot = vector("kraken_v2_real_ethusd_snapshot");
    let update = vector("kraken_v2_real_ethusd_update");
    let mut h = Harness::new(KrakenProtocol::V2, "ETH/USD", (2, 8));
    h.frame(snapshot["raw_message"].as_str().unwrap());
    assert_eq!(h.sums(), (1, 0));
    assert_eq!(h.input(), snapshot["checksum_input"].as_str().unwrap());
    h.frame(update["raw_message"].as_str().unwrap());
    assert_eq!(h.sums(), (2, 0));
    assert_eq!(h.input(), update["checksum_input"].as_str().unwrap());

    let exp = vector("kraken_v2_real_btcusd_snapshot_exponent_qty");
    let mut h = Harness::new(KrakenProtocol::V2, "BTC/USD", (1, 8));
    h.frame(exp["raw_message"].as_str().unwrap());
    assert_eq!(h.sums(), (1, 0), "5.325e-05 is 0.00005325, written 5325");
    assert_eq!(h.input(), exp["checksum_input"].as_str().unwrap());
}

#[test]
fn finer_configured_scales_still_write_the_venue_decimals() {
    // Held at 8 price decimals; the instrument channel says Kraken writes 1.
    let v = vector("kraken_v2_real_btcusd_snapshot_exponent_qty");
    let mut h = Harness::new(KrakenProtocol::V2, "BTC/USD", (8, 10));
    let precisions = h.try_frame(
        r#"{"channel":"instrument","type":"snapshot","data":{"assets":[],"pairs":[{"symbol":"BTC/USD","price_precision":1,"qty_precision":8},{"symbol":"ETH/USD","price_precision":2,"qty_precision":8}]}}"#,
    );
    // Counted and refused (the feed logs it), not a panic; the decimals are taken.
    assert_eq!(precisions, Err(DecodeError::WrongType("price_precision")));
    h.frame(v["raw_message"].as_str().unwrap());
    assert_eq!(h.sums(), (1, 0));
    assert_eq!(h.adapter.counters.precision_mismatches, 1);
    assert_eq!(Venue::Kraken.name(), "kraken");
}

#[test]
fn a_mismatch_asks_for_that_pair_alone_to_be_resubscribed() {
    let v = vector("kraken_v2_real_ethusd_snapshot");
    let mut h = Harness::new(KrakenProtocol::V2, "ETH/USD", (2, 8));
    let mut sent = Vec::new();
    assert_eq!(
        h.adapter.take_sends(&mut |t| {
            sent.push(t.to_string());
            true
        }),
        0
    );
    let raw = v["raw_message"].as_str().unwrap();
    let wrong = raw.replace("2606672715", "2606672716");
    let meta = EventMeta::default();
    let verdict = h
        .adapter
        .on_frame(SourceKind::Ws, wrong.as_bytes(), meta, &mut h.out);
    assert_eq!(verdict, Ok(pulse_feeds::venue::FrameVerdict::Resubscribe));
    assert_eq!(h.sums(), (0, 1));
    assert_eq!(
        h.adapter.take_sends(&mut |t| {
            sent.push(t.to_string());
            true
        }),
        1
    );
    assert_eq!(
        sent,
        [
            r#"{"method":"unsubscribe","params":{"channel":"book","symbol":["ETH/USD"],"depth":10}}"#,
            r#"{"method":"subscribe","params":{"channel":"book","symbol":["ETH/USD"],"depth":10}}"#,
        ]
    );
    assert_eq!(h.adapter.take_sends(&mut |_| true), 0, "sent once");
    h.frame(raw);
    assert_eq!(h.sums(), (1, 1), "the new snapshot resyncs it");
}

#[test]
fn a_crossed_book_request_resyncs_unless_a_snapshot_came_since() {
    let snapshot = vector("kraken_v2_real_ethusd_snapshot");
    let update = vector("kraken_v2_real_ethusd_update");
    let mut h = Harness::new(KrakenProtocol::V2, "ETH/USD", (2, 8));
    h.frame(snapshot["raw_message"].as_str().unwrap());
    h.frame(update["raw_message"].as_str().unwrap());
    let request = |update_id| pulse_feeds::event::ResyncRequest {
        instrument: ID,
        update_id,
    };
    let meta = EventMeta::default();
    assert!(h.adapter.on_resync_request(request(2), meta, &mut h.out));
    assert!(
        !h.adapter.on_resync_request(request(2), meta, &mut h.out),
        "stale already"
    );
    h.frame(snapshot["raw_message"].as_str().unwrap());
    assert!(
        !h.adapter.on_resync_request(request(2), meta, &mut h.out),
        "commit 2 predates the snapshot that rebuilt the book (commit 3)"
    );
    let k = h.adapter.sync_counters(ID).unwrap();
    assert_eq!(
        (k.resync_requests, k.outdated_requests, k.resyncs),
        (1, 2, 1)
    );
    let mut sent = 0;
    assert_eq!(
        h.adapter.take_sends(&mut |_| {
            sent += 1;
            true
        }),
        1,
        "the pair resubscribes"
    );
}
