//! Tardis CSV input that is wrong: a header that is not Tardis's, malformed rows, values that
//! do not fit the instrument, symbols not configured, a truncated gzip, rows too long and
//! runs of one timestamp beyond the bound. Each is a clear error or a counted drop; nothing
//! panics, and a book that missed an update waits for the next snapshot.

use std::io::Write;
use std::path::{Path, PathBuf};

use pulse_feeds::book_stage::{BookCounters, BookStage};
use pulse_feeds::clock::ReplayTime;
use pulse_feeds::event::{BookState, MarketEvent};
use pulse_feeds::instrument::{InstrumentRegistry, Venue};
use pulse_feeds::latency::LatencyProbe;
use pulse_feeds::log::DistinctLog;
use pulse_feeds::num::{InstrumentId, Nanos, Px, Qty};
use pulse_feeds::replay::{CaptureFeed, FeedCounters, RecordedInput};
use pulse_feeds::stage::Stage;
use pulse_feeds::sync_counters::SyncCounters;
use pulse_feeds::tardis::{TardisInput, MAX_MESSAGE_ROWS, MAX_ROW_BYTES};

const L2: &str = "exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount\n";
const TRADES: &str = "exchange,symbol,timestamp,local_timestamp,id,side,price,amount\n";

struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("pulse-tardis-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        Scratch(dir)
    }

    fn file(&self, name: &str, text: &[u8]) -> PathBuf {
        let path = self.0.join(name);
        if name.ends_with(".gz") {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            gz.write_all(text).expect("gzip");
            std::fs::write(&path, gz.finish().expect("gzip")).expect("write");
        } else {
            std::fs::write(&path, text).expect("write");
        }
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct Outcome {
    feed: FeedCounters,
    sync: SyncCounters,
    book: BookCounters,
    state: Option<BookState>,
    trades: u64,
    io_error: Option<String>,
}

fn run(input: RecordedInput) -> Outcome {
    let mut registry = InstrumentRegistry::new();
    registry
        .add(Venue::Binance, "BTCUSDT", 2, 5, Px(1), Qty(1))
        .expect("one instrument");
    let clock = quanta::Clock::new();
    let (md_tx, md_rx) = rtrb::RingBuffer::new(4096);
    let (out_tx, mut out_rx) = rtrb::RingBuffer::new(1024);
    let (control_tx, control_rx) = rtrb::RingBuffer::new(16);
    let mut feed = CaptureFeed::new(
        input,
        registry.clone(),
        md_tx,
        ReplayTime::default(),
        LatencyProbe::detached(clock.clone()),
        DistinctLog::new("feed", None),
    )
    .with_control(control_rx);
    let mut book = BookStage::new(
        &registry,
        1024,
        md_rx,
        vec![out_tx],
        LatencyProbe::detached(clock),
    )
    .with_control(control_tx);
    let mut trades = 0;
    loop {
        let work = feed.do_work(Nanos(0)) + book.do_work(Nanos(0));
        while let Ok(e) = out_rx.pop() {
            trades += u64::from(matches!(e, MarketEvent::Trade(_)));
        }
        if work == 0 && feed.intake_done() {
            break;
        }
    }
    Outcome {
        feed: feed.counters,
        sync: feed
            .sync_counters(InstrumentId(0))
            .copied()
            .unwrap_or_default(),
        book: book.counters(0).copied().unwrap_or_default(),
        state: book.state(0),
        trades,
        io_error: feed.io_error.map(|e| e.to_string()),
    }
}

fn row(local: u64, snapshot: bool, side: &str, px: &str, qty: &str) -> String {
    format!("binance,BTCUSDT,{local},{local},{snapshot},{side},{px},{qty}\n")
}

#[test]
fn a_file_whose_header_is_not_tardis_is_refused_with_the_reason() {
    let s = Scratch::new("header");
    let path = s.file("book.csv.gz", b"ts,symbol,price\n1,BTCUSDT,1\n");
    let err = RecordedInput::open(&path).err().expect("refused");
    assert!(err.to_string().contains("not a Tardis CSV file"), "{err}");
    let err = TardisInput::open_all(&[&path]).err().expect("refused");
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
    let empty = s.file("empty.csv", b"");
    assert!(RecordedInput::open(&empty).is_err());
}

#[test]
fn malformed_rows_and_messages_are_counted_and_a_missed_update_stales_the_book() {
    let s = Scratch::new("rows");
    let mut text = String::from(L2);
    text += &row(10, true, "bid", "100.00", "1");
    text += &row(10, true, "ask", "101", "2");
    text += "binance,BTCUSDT,11,11,false,bid,100\n"; // a column short: refused row
    text += "binance,BTCUSDT,12,x12,false,bid,100,1\n"; // bad local_timestamp
    text += "binance,BTCUSDT,13,13,false,bid,100,1|2\n"; // the separator byte
    text += &row(14, false, "bid", "100", "3"); // applied
    text += &row(15, false, "bid", "99.999", "1"); // too precise: refused, book stale
    text += &row(16, false, "ask", "101", "1"); // dropped: stale
    text += &row(17, false, "middle", "101", "1"); // bad side: refused
    text += "binance,ETHUSDT,18,18,false,bid,1,1\n"; // not configured
    text += "deribit,BTCUSDT,19,19,false,bid,1,1\n"; // no such venue
    text += &format!("{}\n", "9".repeat(MAX_ROW_BYTES + 10)); // too long
    text += &row(20, true, "bid", "100", "5"); // a new snapshot: live again
    text += &row(20, true, "ask", "102", "5");
    text += &row(21, false, "ask", "102", "0");
    text += &row(21, false, "ask", "103", "4");
    let book = s.file("book.csv", text.as_bytes());
    let o = run(RecordedInput::open(&book).expect("opens"));
    assert_eq!(o.io_error, None);
    // Rows: wrong columns, separator (Row), local timestamp, too long.
    assert_eq!(o.feed.bad_lines, [0, 1, 0, 1, 2]);
    // Messages: too precise (decimal), bad side (wrong type), two unknown symbols.
    assert_eq!(o.feed.bad_frames_total(), 4);
    assert_eq!(
        (
            o.sync.snapshots,
            o.sync.resyncs,
            o.sync.applied,
            o.sync.dropped,
            o.sync.gaps
        ),
        (2, 1, 2, 1, 1)
    );
    assert_eq!(o.state, Some(BookState::Live));
    assert_eq!(o.book.crossed, 0);
    assert_eq!(o.book.stale_marks, 1);
}

#[test]
fn a_truncated_gzip_ends_the_replay_with_the_reason() {
    let s = Scratch::new("truncated");
    let mut text = String::from(TRADES);
    for i in 0..20_000u64 {
        text += &format!("binance,BTCUSDT,{i},{i},{i},buy,100.5,0.001\n");
    }
    let whole = s.file("trades.csv.gz", text.as_bytes());
    let bytes = std::fs::read(&whole).expect("read");
    let cut = s.file("cut.csv", b"");
    std::fs::write(&cut, &bytes[..bytes.len() * 2 / 3]).expect("write");
    let o = run(RecordedInput::open(&cut).expect("opens: the header is whole"));
    let err = o.io_error.expect("a read error");
    assert!(err.contains("Tardis file 1 of 1"), "{err}");
    assert!(o.trades > 0 && o.trades < 20_000, "{}", o.trades);
    let o = run(RecordedInput::open(&whole).expect("opens"));
    assert_eq!((o.trades, o.io_error), (20_000, None));
}

#[test]
fn a_run_of_one_timestamp_beyond_the_bound_is_cut_not_refused() {
    let s = Scratch::new("bound");
    let mut text = String::from(L2);
    for i in 0..MAX_MESSAGE_ROWS + 5 {
        text += &row(1, true, "bid", &format!("{}", 1 + i), "1");
    }
    let path = s.file("book.csv.gz", text.as_bytes());
    let mut input = TardisInput::open_all(&[&path]).expect("opens");
    let mut messages = 0;
    while let Some(next) = input.next_record() {
        assert!(next.is_ok());
        messages += 1;
    }
    assert_eq!((messages, input.cut_messages()), (2, 1));
    let o = run(RecordedInput::open(&path).expect("opens"));
    // One snapshot, continued by the cut message (no second reset).
    assert_eq!((o.sync.snapshots, o.book.resets, o.book.commits), (1, 1, 2));
}

#[test]
fn a_book_and_its_trades_merge_in_receive_order_ties_by_file_order() {
    let s = Scratch::new("merge");
    let mut book = String::from(L2);
    book += &row(5, true, "bid", "100", "1");
    book += &row(5, true, "ask", "101", "1");
    book += &row(9, false, "bid", "100", "2");
    let mut trades = String::from(TRADES);
    trades += "binance,BTCUSDT,3,3,1,sell,100,1\n";
    trades += "binance,BTCUSDT,9,9,2,buy,101,1\n";
    trades += "binance,BTCUSDT,9,10,3,unknown,101,1\n";
    let (b, t) = (
        s.file("b.csv", book.as_bytes()),
        s.file("t.csv.gz", trades.as_bytes()),
    );
    let mut input = TardisInput::open_all(&[&t, &b]).expect("opens");
    let mut order = Vec::new();
    while let Some(Ok(record)) = input.next_record() {
        let kind = record
            .payload
            .split(|&c| c == b'|')
            .next()
            .unwrap_or_default();
        order.push((
            record.recv_ts.0 / 1000,
            String::from_utf8_lossy(kind).into_owned(),
        ));
    }
    let expected = [
        (3, "trades"),
        (5, "incremental_book_L2"),
        (9, "trades"),
        (9, "incremental_book_L2"),
        (10, "trades"),
    ];
    let expected: Vec<(u64, String)> = expected.iter().map(|(t, k)| (*t, k.to_string())).collect();
    assert_eq!(order, expected);
    let list = format!("{},{}", t.display(), b.display());
    let o = run(RecordedInput::open(Path::new(&list)).expect("opens"));
    assert_eq!(o.trades, 2, "the unknown-side trade is skipped");
    assert_eq!((o.sync.applied, o.book.commits), (1, 2));
}
