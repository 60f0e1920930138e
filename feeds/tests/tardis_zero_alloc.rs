//! Reading Tardis CSV files and decoding their messages allocates nothing after warm-up: a
//! gzipped book file (snapshots of 400 rows, diffs, a malformed row, a refused price) and
//! plain trades and quotes files, merged, grouped, decoded and drained, the second half of
//! each file measured under a counting global allocator after the first half warmed up.
//!
//! Its own test binary with one test, so nothing else allocates on the measured thread.

#[path = "../../engine/tests/counting/mod.rs"]
mod counting;

use std::io::Write;

use pulse_feeds::event::{EventMeta, MdEvent};
use pulse_feeds::instrument::{InstrumentRegistry, Venue};
use pulse_feeds::num::{Px, Qty};
use pulse_feeds::outbox::Outbox;
use pulse_feeds::tardis::{TardisAdapter, TardisInput};
use pulse_feeds::venue::MarketAdapter;

#[derive(Debug, Default, PartialEq, Eq)]
struct Counts {
    messages: u64,
    refused: u64,
    bad_rows: u64,
    commits: u64,
    trades: u64,
    tickers: u64,
}

/// One half of the data: a snapshot, then diffs, trades and quotes from `t0` on.
fn half(t0: u64, book: &mut String, trades: &mut String, quotes: &mut String) {
    for i in 0..200u64 {
        let px = |d: u64| format!("{}.{:02}", 60_000 + d / 100, d % 100);
        book.push_str(&format!(
            "binance,BTCUSDT,{t0},{t0},true,bid,{},1.5\n",
            px(10_000 - i)
        ));
        book.push_str(&format!(
            "binance,BTCUSDT,{t0},{t0},true,ask,{},0.25\n",
            px(10_001 + i)
        ));
    }
    for n in 1..2_000u64 {
        let t = t0 + n * 10;
        let (bid, ask) = (9_990 - n % 50, 10_011 + n % 50);
        book.push_str(&format!(
            "binance,BTCUSDT,{t},{t},false,bid,600{:02}.{:02},{}\n",
            bid / 100 % 100,
            bid % 100,
            n % 3
        ));
        book.push_str(&format!(
            "binance,BTCUSDT,{t},{t},false,ask,601{:02}.{:02},0.5\n",
            ask / 100 % 100,
            ask % 100
        ));
        if n == 700 {
            book.push_str("binance,BTCUSDT,1,2,false,bid\n");
        }
        if n == 900 {
            book.push_str(&format!(
                "binance,BTCUSDT,{t},{},false,bid,60000.001,1\n",
                t + 1
            ));
        }
        trades.push_str(&format!(
            "binance,BTCUSDT,{t},{},{n},buy,60100.5,0.01\n",
            t + 3
        ));
        trades.push_str(&format!(
            "binance,BTCUSDT,{t},{},{},sell,60100.5,0.02\n",
            t + 3,
            n + 1
        ));
        quotes.push_str(&format!(
            "binance,BTCUSDT,{t},{},0.5,60100.11,60099.9,1.5\n",
            t + 5
        ));
    }
}

fn run_half(
    input: &mut TardisInput,
    adapter: &mut TardisAdapter,
    out: &mut Outbox,
    ring: &mut (rtrb::Producer<MdEvent>, rtrb::Consumer<MdEvent>),
    until_ns: u64,
) -> Counts {
    let mut c = Counts::default();
    while let Some(next) = input.next_record() {
        let record = match next {
            Ok(record) => record,
            Err(Ok(_)) => {
                c.bad_rows += 1;
                continue;
            }
            Err(Err(e)) => panic!("{e}"),
        };
        if record.recv_ts.0 >= until_ns {
            input.hold();
            break;
        }
        let meta = EventMeta {
            recv_ts: record.recv_ts,
            ..EventMeta::default()
        };
        match adapter.on_frame(record.kind, record.payload, meta, out) {
            Ok(_) => c.messages += 1,
            Err(_) => c.refused += 1,
        }
        out.drain_into(&mut ring.0);
        while let Ok(event) = ring.1.pop() {
            match event {
                MdEvent::BookCommit { .. } => c.commits += 1,
                MdEvent::Trade(_) => c.trades += 1,
                MdEvent::Ticker(_) => c.tickers += 1,
                _ => {}
            }
        }
    }
    c
}

#[test]
fn reading_and_decoding_tardis_csv_allocates_nothing_after_warm_up() {
    let header = |h: &str| String::from(h) + "\n";
    let mut book =
        header("exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount");
    let mut trades = header("exchange,symbol,timestamp,local_timestamp,id,side,price,amount");
    let mut quotes = header(
        "exchange,symbol,timestamp,local_timestamp,ask_amount,ask_price,bid_price,bid_amount",
    );
    half(1_000_000, &mut book, &mut trades, &mut quotes);
    half(2_000_000, &mut book, &mut trades, &mut quotes);
    let dir = std::env::temp_dir().join(format!("pulse-tardis-alloc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(book.as_bytes()).expect("gzip");
    let paths = [
        dir.join("book.csv.gz"),
        dir.join("trades.csv"),
        dir.join("quotes.csv"),
    ];
    std::fs::write(&paths[0], gz.finish().expect("gzip")).expect("write");
    std::fs::write(&paths[1], &trades).expect("write");
    std::fs::write(&paths[2], &quotes).expect("write");

    let mut registry = InstrumentRegistry::new();
    registry
        .add(Venue::Binance, "BTCUSDT", 2, 8, Px(1), Qty(1))
        .expect("one instrument");
    let mut adapter = TardisAdapter::new(registry);
    let mut input = TardisInput::open_all(&paths).expect("opens");
    let capacity = adapter.outbox_capacity();
    let mut out = Outbox::with_capacity(capacity);
    let mut ring = rtrb::RingBuffer::new(capacity);
    let warm = run_half(&mut input, &mut adapter, &mut out, &mut ring, 2_000_000_000);
    let (again, allocations) =
        counting::measure(|| run_half(&mut input, &mut adapter, &mut out, &mut ring, u64::MAX));
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(warm, again, "both halves alike");
    // A snapshot and 1,999 diffs, 3,998 trades in 1,999 messages, 1,999 quotes; the refused
    // price stales the book, so the diffs after it wait for the next half's snapshot.
    let expected = Counts {
        messages: 1 + 1_999 + 1_999 + 1_999,
        refused: 1,
        bad_rows: 1,
        commits: 1 + 900,
        trades: 3_998,
        tickers: 1_999,
    };
    assert_eq!(warm, expected);
    assert_eq!(allocations, 0, "allocations in the measured half");
}
