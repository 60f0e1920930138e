use super::*;
use std::io::Cursor;

fn timeline(text: &str) -> Timeline {
    Timeline::from_reader(
        CaptureReader::from_reader(Box::new(Cursor::new(text.as_bytes().to_vec()))),
        Protocol::Binance,
    )
}

fn depth(symbol: &str, first: u64, last: u64, bid: &str) -> String {
    format!(
        "{{\"stream\":\"{}@depth@100ms\",\"data\":{{\"e\":\"depthUpdate\",\"E\":1,\
         \"s\":\"{symbol}\",\"U\":{first},\"u\":{last},\"b\":[[\"{bid}\",\"1.0\"]],\"a\":[]}}}}",
        symbol.to_lowercase()
    )
}

#[test]
fn envelopes_split_exactly() {
    let frame = r#"{"stream":"btcusdt@trade","data":{"e":"trade","p":"1"}}"#;
    let (stream, data) = split_envelope(frame).unwrap();
    assert_eq!(stream, "btcusdt@trade");
    assert_eq!(&frame[data], r#"{"e":"trade","p":"1"}"#);
    for bad in [
        r#"{"e":"trade"}"#,
        r#"{"stream":"","data":{}}"#,
        r#"{"data":{},"stream":"x"}"#,
        r#"{"stream":"x","data":}"#,
        r#"{"result":null,"id":1}"#,
    ] {
        assert_eq!(split_envelope(bad), None, "{bad}");
    }
    assert_eq!(
        stream_symbol("nknusdt@kline_1m").as_deref(),
        Some("NKNUSDT")
    );
    assert_eq!(stream_symbol("!ticker@arr"), None);
}

#[test]
fn each_symbol_streams_from_its_snapshot_and_the_book_bridges_it() {
    let trade = r#"{"stream":"aaa@trade","data":{"e":"trade","s":"AAA"}}"#;
    let capture = [
        format!("1\tbinance:ws\t{}", depth("AAA", 1, 4, "1.0")),
        format!("2\tbinance:ws\t{}", depth("AAA", 5, 9, "2.0")),
        format!("3\tbinance:ws\t{trade}"),
        "4\tbinance:rest:/api/v3/depth?symbol=AAA&limit=10\t\
         {\"lastUpdateId\":6,\"bids\":[[\"0.5\",\"3.0\"]],\"asks\":[]}"
            .to_string(),
        format!("5\tbinance:ws\t{}", depth("BBB", 1, 2, "7.0")),
        format!("6\tbinance:ws\t{}", depth("AAA", 10, 11, "3.0")),
        format!("7\tbinance:ws\t{trade}"),
        "8\tbinance:send\t{\"method\":\"SUBSCRIBE\"}".to_string(),
        "9\tkraken:ws\t{}".to_string(),
        "10\tbinance:ws\t{\"result\":null,\"id\":1}".to_string(),
        "11\tbinance:rest:/api/v3/depth?symbol=BBB&limit=10\t\
         {\"lastUpdateId\":2,\"bids\":[],\"asks\":[]}"
            .to_string(),
        "12\tbinance:rest:/api/v3/depth?symbol=AAA&limit=10\t\
         {\"lastUpdateId\":11,\"bids\":[],\"asks\":[]}"
            .to_string(),
        format!("13\tbinance:ws\t{}", depth("BBB", 3, 3, "8.0")),
    ]
    .join("\n");
    let mut t = timeline(&capture);
    let mut seen = Vec::new();
    while let Some(step) = t.next_step().unwrap() {
        match step {
            Step::Snapshot { symbol, book, .. } => {
                let (bids, _) = book.top(10);
                let bids: Vec<String> = bids.iter().map(|(p, _)| p.to_string()).collect();
                seen.push(format!("{symbol} {} {bids:?}", book.last_update_id()));
            }
            Step::Frame { frame, change } => seen.push(format!(
                "#{} {} at {} diff {:?}",
                frame.index,
                frame.stream,
                frame.recv_ts,
                change.and_then(|c| match c {
                    Change::Depth(d) => Some(d.last),
                    Change::Push(_) => None,
                })
            )),
            Step::Instruments { .. } => seen.push("instruments".into()),
        }
    }
    assert_eq!(
        seen,
        [
            // The 5..9 diff straddles lastUpdateId 6 and bridges; 1..4 is covered.
            "AAA 9 [\"2.0\", \"0.5\"]",
            "#0 aaa@depth@100ms at 6 diff Some(11)",
            "#1 aaa@trade at 7 diff None",
            "BBB 2 []",
            "#2 bbb@depth@100ms at 13 diff Some(3)",
        ]
    );
    assert_eq!(
        t.stats,
        TimelineStats {
            skipped_before_snapshot: 4,
            unusable_lines: 2,
            bad_diffs: 0,
            later_snapshots: 1,
        }
    );
}
