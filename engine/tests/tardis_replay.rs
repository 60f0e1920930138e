//! Tardis.dev CSV data through the `pulse` binary: `pulse data import --format tardis`, and
//! `pulse replay` reading the CSV files directly (`--verify`, and `--config` through every
//! stage of the demo, journaling its input). The files are the bundled Binance spot capture
//! converted by the independent `scripts/capture_to_tardis.py`; the demo's trading over them
//! equals its trading over the capture (same intents, orders, fills and PnL), and over the
//! journal that Tardis replay wrote.
//!
//! Needs `python3` for the conversion: without it the test says it was skipped and why, and
//! passes; under CI (`CI` set) it fails instead. Refusals need no conversion.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("pulse-tardis-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        Scratch(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    fn arg(&self, name: &str) -> String {
        self.path(name).display().to_string()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn repo(relative: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(relative)
        .display()
        .to_string()
}

fn pulse(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pulse"))
        .args(args)
        .output()
        .expect("the pulse binary runs")
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Converts the bundled capture into `scratch`; `false` (said why) when python3 is missing.
fn convert(scratch: &Scratch, test: &str) -> bool {
    let Ok(out) = Command::new("python3")
        .arg(repo("scripts/capture_to_tardis.py"))
        .arg(repo("data/binance_spot_btcusdt_2024-08-08.cap.gz"))
        .arg(&scratch.0)
        .output()
    else {
        assert!(
            std::env::var_os("CI").is_none(),
            "{test}: python3 is missing, and CI is set: the Tardis replay must run there"
        );
        eprintln!(
            "SKIPPED {test}: python3 was not found, and the independent converter \
             scripts/capture_to_tardis.py needs it"
        );
        return false;
    };
    assert!(out.status.success(), "converter: {}", text(&out).1);
    true
}

/// The lines of a run's summary that say what it traded.
fn trading(summary: &str) -> Vec<String> {
    let keep = [
        "strategy ",
        "risk ",
        "orders ",
        "position ",
        "account ",
        "venue ",
    ];
    summary
        .lines()
        .filter(|l| keep.iter().any(|k| l.starts_with(k)))
        .map(str::to_owned)
        .collect()
}

/// A full replay of `input` through the demo config, isolated in `scratch`.
fn full_replay(scratch: &Scratch, input: &str, journal: Option<&str>, n: usize) -> String {
    let name = format!("tardis-{}-{n}", std::process::id());
    let run_dir = scratch.arg(&format!("run-{n}"));
    let config = repo("configs/demo.toml");
    let mut args = vec![
        "replay", "--input", input, "--config", &config, "--name", &name,
    ];
    args.extend(["--run-dir", &run_dir]);
    if let Some(journal) = journal {
        args.extend(["--journal", journal]);
    }
    let out = pulse(&args);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{input}: {stderr}");
    stdout
}

#[test]
fn tardis_csv_imports_replays_verified_and_trades_as_the_capture_does() {
    let test = "tardis_csv_imports_replays_verified_and_trades_as_the_capture_does";
    let s = Scratch::new("full");
    if !convert(&s, test) {
        return;
    }
    let files = ["incremental_book_L2.csv.gz", "trades.csv.gz", "quotes.csv"].map(|f| s.arg(f));
    let imported = s.arg("imported.cap.gz");
    let mut args = vec!["data", "import", "--format", "tardis", "--out", &imported];
    args.extend(files.iter().map(String::as_str));
    let out = pulse(&args);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains("40162 message(s) from 3 Tardis file(s)"),
        "{stdout}"
    );

    let list = files.join(",");
    for input in [list.as_str(), imported.as_str()] {
        let out = pulse(&["replay", "--input", input, "--verify"]);
        let (stdout, stderr) = text(&out);
        assert!(out.status.success(), "{input}: {stdout}{stderr}");
        let row = stdout
            .lines()
            .find(|l| l.starts_with("binance       BTCUSDT"))
            .unwrap_or_else(|| panic!("{stdout}"));
        let numbers: Vec<&str> = row.split_whitespace().skip(2).collect();
        // messages, applied, dropped, gaps, snapshots, resyncs, crossed, tickers, ok, mismatch
        assert_eq!(
            numbers[..10],
            ["40162", "3449", "0", "0", "1", "0", "0", "28040", "0", "0"]
        );
        assert!(
            stdout.contains("bid 1.008700 @ 61685.99  ask 2.293270 @ 61686.00"),
            "{stdout}"
        );
        assert!(stdout.contains("verify    ok"), "{stdout}");
    }

    let capture = full_replay(
        &s,
        &repo("data/binance_spot_btcusdt_2024-08-08.cap.gz"),
        None,
        0,
    );
    let journal = s.arg("journal");
    let tardis = full_replay(&s, &list, Some(&journal), 1);
    let again = full_replay(&s, &journal, None, 2);
    let expected = trading(&capture);
    assert_eq!(expected.len(), 6, "{capture}");
    // Orders went out (how many is the strategy's business, not this test's).
    let sent = expected.iter().find_map(|l| {
        l.split_once(" sent")?
            .0
            .rsplit(' ')
            .next()?
            .parse::<u64>()
            .ok()
    });
    assert!(sent.is_some_and(|n| n > 0), "{capture}");
    assert_eq!(trading(&tardis), expected, "Tardis CSV against the capture");
    assert_eq!(
        trading(&again),
        expected,
        "the journal of the Tardis replay"
    );

    // `pulse run` with a `[source]` naming the files, relative to the config's folder.
    let demo = std::fs::read_to_string(repo("configs/demo.toml")).expect("the demo config");
    let config = demo
        .replace(
            "path = \"../data/binance_spot_btcusdt_2024-08-08.cap.gz\"",
            "path = \"incremental_book_L2.csv.gz,trades.csv.gz,quotes.csv\"",
        )
        .replace("\"../data/", &format!("\"{}/", repo("data")))
        .replace("\"policy/", &format!("\"{}/", repo("configs/policy")));
    assert!(config.contains("trades.csv.gz,quotes.csv"));
    let config_path = s.path("demo-tardis.toml");
    std::fs::write(&config_path, config).expect("write");
    let name = format!("tardis-{}-run", std::process::id());
    let out = pulse(&[
        "run",
        "--config",
        &config_path.display().to_string(),
        "--name",
        &name,
        "--run-dir",
        &s.arg("run-dir"),
    ]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        trading(&stdout),
        expected,
        "pulse run over the Tardis files"
    );
}

#[test]
fn a_csv_that_is_not_tardis_and_a_truncated_gzip_are_refused_with_the_reason() {
    let s = Scratch::new("refused");
    let bad = s.path("not-tardis.csv");
    std::fs::write(&bad, "time,price\n1,2\n").expect("write");
    let out = pulse(&["replay", "--input", &bad.display().to_string()]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr.contains("not a Tardis CSV file"), "{stderr}");
    let out = pulse(&[
        "data",
        "import",
        "--format",
        "tardis",
        "--out",
        &s.arg("out.cap"),
        &bad.display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).1.contains("not a Tardis CSV file"));

    let mut csv = String::from("exchange,symbol,timestamp,local_timestamp,id,side,price,amount\n");
    for i in 0..50_000u64 {
        csv += &format!("binance,BTCUSDT,{i},{i},{i},buy,61000.5,0.001\n");
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, csv.as_bytes()).expect("gzip");
    let bytes = gz.finish().expect("gzip");
    let cut = s.path("trades.csv.gz");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).expect("write");
    let out = pulse(&["replay", "--input", &cut.display().to_string()]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("Tardis file 1 of 1"), "{stderr}");
    let out = pulse(&[
        "data",
        "import",
        "--format",
        "tardis",
        "--out",
        &s.arg("cut.cap"),
        &cut.display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).1.contains("incomplete"));
}
