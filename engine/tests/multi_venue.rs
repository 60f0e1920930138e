//! `configs/multi-venue.toml` end to end through the real binary: seven venue markets'
//! recordings in one capture, one feed per venue into one book stage, four strategies trading
//! on four venues against the simulated venue under one risk stage. Each feed decodes its own venue's
//! lines only; every book stays uncrossed; orders fill on every traded venue; two runs and the
//! journal's replay decide identically; and the result per instrument is the same as with one
//! feed reading everything (feeds of different venues cannot change each other's books).

use std::path::{Path, PathBuf};
use std::process::Command;

mod common;

use common::{line, repo_root, run_twice_and_replay, succeeded, TempDir};

const CAPTURE: &str = "data/multi_venue_30s.cap.gz";

/// `configs/multi-venue.toml` with its data paths absolute, then each of `extra` applied.
fn config(dir: &Path, name: &str, edit: impl Fn(String) -> String) -> PathBuf {
    let text = std::fs::read_to_string(repo_root().join("configs/multi-venue.toml")).unwrap();
    let data = repo_root().join("data");
    let text = edit(text.replace("\"../data/", &format!("\"{}/", data.display())));
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// The fill count of `symbol`'s `position` line.
fn fills(summary: &str, symbol: &str) -> u64 {
    let l = line(summary, &format!("position  {symbol}: "));
    let n = l
        .split(": ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .unwrap_or_else(|| panic!("no position line for {symbol}:\n{summary}"));
    n.parse().unwrap()
}

fn run(config: &Path, name: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_pulse"))
        .args(["run", "--config", config.to_str().unwrap(), "--name"])
        .arg(format!("{name}-{}", std::process::id()))
        .output()
        .unwrap();
    succeeded(&out)
}

#[test]
fn seven_feeds_one_book_stage_four_strategies_on_four_venues() {
    let dir = TempDir::new("multi-venue");
    let cfg = config(&dir, "multi-venue.toml", |t| t);
    let (summary, records) = run_twice_and_replay(&cfg, &dir, "multi-venue", &["position"]);
    assert!(
        !records.is_empty(),
        "the output journal holds the decisions"
    );
    // One feed per venue, each decoding its own venue's lines and passing over the others'.
    // Every instrument is named with its venue: the process spans several.
    // Bybit linear's generated stream has a gap its recording recovers from.
    for (source, symbol, faults) in [
        ("binance", "binance:BTCUSDT", " 0 gaps, 0 resyncs"),
        ("okx", "okx:BTC-USDT", " 0 gaps, 0 resyncs"),
        ("kraken", "kraken:ETH/USD", " 0 gaps, 0 resyncs"),
        ("kraken-v1", "kraken-v1:XMR/USD", " 0 gaps, 0 resyncs"),
        (
            "coinbase",
            "coinbase-exchange:SKL-USD",
            " 0 gaps, 0 resyncs",
        ),
        ("bybit-spot", "bybit-spot:ETHUSDT", " 0 gaps, 0 resyncs"),
        ("bybit-linear", "bybit-linear:BTCUSDT", " 1 gaps, 1 resyncs"),
    ] {
        let at = summary
            .find(&format!("\nsource    {source}\n"))
            .unwrap_or_else(|| panic!("no source {source}:\n{summary}"));
        let block = &summary[at + 1..];
        let block = &block[..block[1..].find("\nsource ").map_or(block.len(), |n| n + 1)];
        assert!(
            block.contains("lines of venues other sources keep, passed over"),
            "{block}"
        );
        assert!(block.contains(&format!("sync      {symbol}: ")), "{block}");
        assert!(block.contains(faults), "{block}");
        let book = line(&summary, &format!("book      {symbol}: "));
        assert!(book.contains("crossed 0"), "{book}");
    }
    // The traded instruments filled on three venues; the others were only read.
    for symbol in [
        "binance:BTCUSDT",
        "okx:BTC-USDT",
        "kraken-v1:XMR/USD",
        "bybit-linear:BTCUSDT",
    ] {
        assert!(fills(&summary, symbol) > 0, "{symbol}:\n{summary}");
    }
    for symbol in [
        "kraken:ETH/USD",
        "coinbase-exchange:SKL-USD",
        "bybit-spot:ETHUSDT",
    ] {
        assert_eq!(fills(&summary, symbol), 0, "{symbol}");
    }
    assert!(
        summary.contains("strategy  4 strategies in one stage"),
        "{summary}"
    );
    for on in [
        "binance:BTCUSDT",
        "okx:BTC-USDT",
        "kraken-v1:XMR/USD",
        "bybit-linear:BTCUSDT",
    ] {
        let l = line(&summary, &format!("strategy  book-imbalance on {on}: "));
        assert!(l.contains(" intents"), "{on}:\n{summary}");
    }

    // One feed reading every venue's lines builds the same books and makes the same trades.
    let one = config(&dir, "one-feed.toml", |t| {
        let first = t.find("\n[[sources]]\n").unwrap() + 1;
        let end = t.find("\n[runtime]\n").unwrap() + 1;
        let data = repo_root().join(CAPTURE);
        format!(
            "{}[source]\nkind = \"capture\"\npath = {:?}\n\n{}",
            &t[..first],
            data.display().to_string(),
            &t[end..]
        )
    });
    let single = run(&one, "multi-venue-one");
    for symbol in [
        "binance:BTCUSDT",
        "okx:BTC-USDT",
        "kraken:ETH/USD",
        "kraken-v1:XMR/USD",
        "coinbase-exchange:SKL-USD",
        "bybit-spot:ETHUSDT",
        "bybit-linear:BTCUSDT",
    ] {
        let start = format!("position  {symbol}: ");
        assert_eq!(line(&summary, &start), line(&single, &start), "{symbol}");
        let start = format!("book      {symbol}: ");
        assert_eq!(line(&summary, &start), line(&single, &start), "{symbol}");
    }
}

#[test]
fn the_multi_venue_capture_is_what_its_script_makes() {
    let dir = TempDir::new("multi-venue-capture");
    let out = dir.join("again.cap.gz");
    let status = Command::new("python3")
        .arg(repo_root().join("scripts/multi_venue_capture.py"))
        .arg(&out)
        .status()
        .expect("python3 runs the script (install Python 3)");
    assert!(status.success());
    let bundled = std::fs::read(repo_root().join(CAPTURE)).unwrap();
    assert!(
        std::fs::read(&out).unwrap() == bundled,
        "data/multi_venue_30s.cap.gz differs from what scripts/multi_venue_capture.py makes now"
    );
}
