//! Capture lines over arbitrary bytes: `parse_line` on the whole input, and a `CaptureReader`
//! over it line by line. Never a panic; every line is either a record or a classified error,
//! and a held record comes back unchanged.
#![no_main]

use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use pulse_feeds::capture::{self, CaptureReader, SourceKind};

fuzz_target!(|data: &[u8]| {
    if let Ok(record) = capture::parse_line(data) {
        assert!(data.ends_with(record.payload));
        if let SourceKind::Rest { path } = record.kind {
            let _ = capture::query_param(path, b"symbol");
        }
    }
    let _ = capture::parse_u64(data);

    let lines = match data {
        [] => 0,
        _ => data.split(|&b| b == b'\n').count() - usize::from(data.ends_with(b"\n")),
    };
    let mut reader = CaptureReader::from_reader(Box::new(Cursor::new(data.to_vec())));
    let mut hold_next = false;
    loop {
        let record = match reader.next_record() {
            None => break,
            Some(Ok(record)) => Ok((record.recv_ts, record.venue.to_vec(), record.payload.len())),
            Some(Err(Ok(kind))) => Err(kind),
            Some(Err(Err(e))) => panic!("reading from memory cannot fail: {e}"),
        };
        let again = capture::parse_line(reader.current_line())
            .map(|r| (r.recv_ts, r.venue.to_vec(), r.payload.len()));
        assert_eq!(record, again, "line {}", reader.line_no());
        hold_next = !hold_next;
        if hold_next && record.is_ok() {
            reader.hold();
            let held = match reader.next_record() {
                Some(Ok(r)) => Ok((r.recv_ts, r.venue.to_vec(), r.payload.len())),
                other => panic!("a held record must come back, got {other:?}"),
            };
            assert_eq!(record, held);
        }
    }
    assert_eq!(reader.line_no(), lines as u64);
});
