//! Kraken WebSocket v2 through the real capture feed and book stage, on the generated capture
//! `data/kraken_v2_book_generated.cap` (`scripts/kraken_v2_generate.py`: Kraken's documented
//! frames, real frames with exponent quantities, and a generated BTC/USD stream with repeated
//! prices, inserts that push levels out of the subscribed depth, one corrupted checksum and the
//! snapshot a resubscription brings). The answers are known by construction; the engine's
//! `kraken_replay` test also holds the whole report to the independent Python rebuild.

#[path = "support/kraken.rs"]
mod kraken;

use kraken::{data, run};
use pulse_feeds::event::BookState;
use pulse_feeds::instrument::{InstrumentRegistry, Venue};
use pulse_feeds::kraken::checksum::{checksum, Precision};
use pulse_feeds::num::{Px, Qty};

fn registry() -> InstrumentRegistry {
    let mut registry = InstrumentRegistry::new();
    for (pair, px, qty) in [("BTC/USD", 1, 8), ("ETH/USD", 2, 8), ("MATIC/USD", 4, 8)] {
        registry
            .add(Venue::Kraken, pair, px, qty, Px(1), Qty(1))
            .unwrap();
    }
    registry
}

fn capture() -> String {
    std::fs::read_to_string(data("kraken_v2_book_generated.cap")).expect("the capture reads")
}

/// The checksum of the last BTC/USD book message.
fn last_btc_checksum(capture: &str) -> u32 {
    let line = capture
        .lines()
        .rfind(|l| l.contains(r#""channel":"book""#) && l.contains("BTC/USD"))
        .expect("BTC/USD book messages");
    let at = line.find(r#""checksum":"#).unwrap() + 11;
    let digits: String = line[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().unwrap()
}

#[test]
fn the_generated_stream_syncs_truncates_and_catches_the_corrupted_checksum() {
    let capture = capture();
    let (runs, feed) = run(capture.clone(), &registry());
    assert_eq!(
        feed.counters.bad_frames_total() + feed.counters.bad_lines_total(),
        0
    );
    let [btc, eth, matic] = [&runs[0], &runs[1], &runs[2]];
    for (name, r) in [("ETH/USD", eth), ("MATIC/USD", matic)] {
        assert_eq!(r.sync.snapshots, 1, "{name}");
        assert_eq!(
            (r.sync.checksum_ok, r.sync.checksum_mismatch),
            (2, 0),
            "{name}"
        );
        assert_eq!(r.state, Some(BookState::Live), "{name}");
    }
    // MATIC/USD's documented update adds an eleventh bid: truncated, and the book stage too.
    assert_eq!(matic.depths, (10, 10));
    assert_eq!(btc.sync.checksum_mismatch, 1, "the corrupted update");
    assert_eq!(btc.sync.snapshots, 2);
    assert_eq!(
        btc.sync.resyncs, 1,
        "recovered at the resubscription's snapshot"
    );
    assert_eq!(btc.book.stale_marks, 1);
    assert!(
        btc.sync.dropped > 0,
        "updates between the mismatch and the snapshot wait"
    );
    assert_eq!(btc.state, Some(BookState::Live));
    assert_eq!(btc.sync.checksum_ok, btc.sync.applied + btc.sync.snapshots);
    for r in &runs {
        assert_eq!((r.book.crossed, r.crossed_tops), (0, 0));
    }
    // Inserts pushed levels out of scope without a delete from Kraken: the adapter staged
    // them, so the book stage holds the subscribed depth exactly, and its top hashes to
    // Kraken's last checksum.
    assert_eq!(btc.depths, (10, 10));
    let p = Precision {
        price_scale: 1,
        qty_scale: 8,
        price_decimals: 1,
        qty_decimals: 8,
    };
    assert_eq!(
        checksum(&btc.asks, &btc.bids, p),
        last_btc_checksum(&capture)
    );
    assert_eq!(btc.book.trades, 27);
    assert_eq!(btc.book.tickers, 42);
    assert_eq!(
        btc.book.ticker_ok + btc.book.ticker_mismatch,
        0,
        "not sequenced: unchecked"
    );
}

#[test]
fn the_capture_is_what_its_script_writes() {
    let Ok(status) = std::process::Command::new("python3")
        .arg("--version")
        .status()
    else {
        eprintln!("python3 not found: the capture's provenance is not rechecked");
        return;
    };
    assert!(status.success());
    let out = std::env::temp_dir().join(format!("kraken-v2-{}.cap", std::process::id()));
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let run = std::process::Command::new("python3")
        .current_dir(&root)
        .arg("scripts/kraken_v2_generate.py")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let written = std::fs::read_to_string(&out).unwrap();
    let _ = std::fs::remove_file(&out);
    assert!(
        written == capture(),
        "data/kraken_v2_book_generated.cap differs from its script's output"
    );
}
