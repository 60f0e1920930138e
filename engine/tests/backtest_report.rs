//! `pulse backtest` on the bundled capture: `report.json` byte-identical run to run and
//! consistent with its own tables and journal; every portfolio metric recomputed from the
//! exported tables by empyrical (the Python library) to 1e-9 relative; the HTML rendered by a
//! real headless Chromium with every chart drawn and nothing logged as an error.

mod research_support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use research_support::cdp::Browser;
use research_support::outside_tools::{chromium, have, python, repo};
use research_support::{demo_backtest, fresh_dir};
use serde_json::Value;

fn csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap().split(',').map(String::from).collect();
    let rows = lines
        .map(|l| l.split(',').map(String::from).collect())
        .collect();
    (header, rows)
}

fn column(table: &(Vec<String>, Vec<Vec<String>>), name: &str) -> Vec<f64> {
    let i = table.0.iter().position(|h| h == name).unwrap();
    table
        .1
        .iter()
        .map(|r| r[i].parse().unwrap_or(f64::NAN))
        .collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

#[test]
fn the_report_is_byte_identical_run_to_run_and_agrees_with_its_tables_and_journal() {
    let (a, b) = (fresh_dir("backtest-a"), fresh_dir("backtest-b"));
    let summary = demo_backtest(&a);
    demo_backtest(&b);
    let json_a = std::fs::read(a.join("report.json")).unwrap();
    assert_eq!(json_a, std::fs::read(b.join("report.json")).unwrap());
    for table in ["equity", "orders", "fills", "trades"] {
        for ext in ["csv", "parquet"] {
            let name = format!("{table}.{ext}");
            assert_eq!(
                std::fs::read(a.join(&name)).unwrap(),
                std::fs::read(b.join(&name)).unwrap(),
                "{name}"
            );
            let parquet = std::fs::read(a.join(format!("{table}.parquet"))).unwrap();
            assert!(
                parquet.starts_with(b"PAR1") && parquet.ends_with(b"PAR1"),
                "{table}"
            );
        }
    }
    assert!(summary.contains("backtest demo:"), "{summary}");
    let r: Value = serde_json::from_slice(&json_a).unwrap();
    let n = |v: &Value| v.as_f64().unwrap_or(f64::NAN);

    // The equity table is the curve the metrics were computed on.
    let equity = csv(&a.join("equity.csv"));
    let e = column(&equity, "equity");
    assert_eq!(e.len() as f64, n(&r["portfolio"]["intervals"]) + 1.0);
    assert_eq!(e[0], n(&r["meta"]["capital"]));
    assert_eq!(*e.last().unwrap(), n(&r["portfolio"]["end_equity"]));
    let total = e.last().unwrap() / e[0] - 1.0;
    assert!(close(total, n(&r["portfolio"]["total_return"])));
    // Every fill is in the fills table, every round trip in trades; the PnL adds up.
    let fills = csv(&a.join("fills.csv"));
    assert_eq!(fills.1.len() as f64, n(&r["activity"]["fills"]));
    let fees: f64 = column(&fills, "fee").iter().sum();
    assert!(close(fees, n(&r["activity"]["fees"])));
    let trades = csv(&a.join("trades.csv"));
    let pnl: f64 = column(&trades, "pnl").iter().sum();
    assert!(close(pnl, n(&r["trades"]["total_pnl"])));
    assert_eq!(trades.1.len() as f64, n(&r["trades"]["round_trips"]));
    let by_instrument: f64 = r["instruments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| n(&i["pnl"]))
        .sum();
    let made = n(&r["portfolio"]["end_equity"]) - n(&r["meta"]["capital"]);
    assert!(
        (by_instrument - made).abs() < 1e-6,
        "{by_instrument} vs {made}"
    );
    // Orders by outcome and rejections by reason count what the journal holds.
    let dump = Command::new(env!("CARGO_BIN_EXE_pulse"))
        .args(["journal", "dump", "--json"])
        .arg(a.join("journal"))
        .output()
        .unwrap();
    assert!(dump.status.success());
    let mut kinds: BTreeMap<String, u64> = BTreeMap::new();
    let mut rejected: BTreeMap<String, u64> = BTreeMap::new();
    for line in String::from_utf8(dump.stdout).unwrap().lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        if v["stream"] != "output" {
            continue;
        }
        let kind = v["kind"].as_str().unwrap().to_string();
        if kind == "report" {
            *kinds
                .entry(format!("report:{}", v["report"].as_str().unwrap()))
                .or_default() += 1;
        }
        if v["verdict"] == "rejected" {
            *rejected
                .entry(v["reason"].as_str().unwrap().to_string())
                .or_default() += 1;
        }
        *kinds.entry(kind).or_default() += 1;
    }
    assert_eq!(kinds["intent"] as f64, n(&r["activity"]["intents"]));
    assert_eq!(kinds["order"] as f64, n(&r["activity"]["orders"]));
    assert_eq!(kinds["report:fill"] as f64, n(&r["activity"]["fills"]));
    let reasons: BTreeMap<String, u64> =
        serde_json::from_value(r["rejections_by_reason"].clone()).unwrap();
    assert_eq!(reasons, rejected);
    assert!(
        !reasons.is_empty(),
        "the demo's risk limits refuse some intents"
    );
    let outcomes: u64 = r["orders_by_outcome"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(outcomes, kinds["order"]);
    // Per agent: the signals add up to the intents.
    let signals: f64 = r["agents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| n(&a["signals"]))
        .sum();
    assert_eq!(signals, n(&r["activity"]["intents"]));
}

#[test]
fn every_portfolio_metric_agrees_with_empyrical_to_1e_9() {
    let modules = ["empyrical", "pandas", "pyarrow", "scipy"];
    let py = python(&modules);
    if !have(
        py.is_some(),
        "a Python with empyrical-reloaded, pandas, pyarrow and scipy",
        ".ci/run makes .ci/venv; or set PULSE_PYTHON",
    ) {
        return;
    }
    let dir = fresh_dir("backtest-empyrical");
    demo_backtest(&dir);
    let out = Command::new(py.unwrap())
        .arg(repo().join("scripts/check_backtest_metrics.py"))
        .arg(&dir)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("40 of 40 metrics agree"), "{text}");
    // The check can fail: a report with one figure off by a part in a million is refused.
    let report = dir.join("report.json");
    let mut v: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let sharpe = v["portfolio"]["sharpe"].as_f64().unwrap();
    v["portfolio"]["sharpe"] = (sharpe * (1.0 + 1e-6)).into();
    std::fs::write(&report, v.to_string()).unwrap();
    let out = Command::new(python(&modules).unwrap())
        .arg(repo().join("scripts/check_backtest_metrics.py"))
        .arg(&dir)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("BAD portfolio.sharpe"));
}

#[test]
fn the_html_report_renders_in_chromium_with_every_chart_and_no_error() {
    let browser = chromium();
    if !have(
        browser.is_some(),
        "Debian's chromium",
        ".ci/run installs it: apt-get install chromium",
    ) {
        return;
    }
    let chromium = browser.unwrap();
    let dir = fresh_dir("backtest-html");
    demo_backtest(&dir);
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "nothing fetched"
    );
    let mut b = Browser::start(&chromium, 1280, 4400);
    // The harness sees errors: a page that logs one and loads a missing image is caught.
    let bad = dir.join("bad.html");
    std::fs::write(&bad, "<html><body><script>console.error('planted')</script><img src='missing.png'></body></html>").unwrap();
    b.open(&format!("file://{}", bad.display()));
    assert!(
        b.errors.iter().any(|e| e.contains("planted")),
        "{:?}",
        b.errors
    );
    b.errors.clear();

    b.open(&format!("file://{}", dir.join("report.html").display()));
    assert!(
        b.errors.is_empty(),
        "the report logged errors: {:?}",
        b.errors
    );
    let charts = pulse_research::html::CHARTS;
    let probe = format!(
        "JSON.stringify({:?}.map(id => {{ const e = document.getElementById(id); \
         if (!e) return [id, 0, 0, 0]; const r = e.getBoundingClientRect(); \
         return [id, r.width, r.height, e.querySelectorAll('polyline, rect, circle').length]; }}))",
        charts
    );
    let got: Vec<(String, f64, f64, u64)> =
        serde_json::from_str(b.eval(&probe).as_str().unwrap()).unwrap();
    for (id, w, h, marks) in &got {
        assert!(
            *w > 100.0 && *h > 50.0 && *marks > 0,
            "chart {id}: {w}x{h}, {marks} marks"
        );
    }
    assert_eq!(got.len(), charts.len());
    // The fills chart draws one point per fill of the instrument.
    let points = b
        .eval("document.querySelectorAll('#fills circle.point').length")
        .as_u64()
        .unwrap();
    let fills = std::fs::read_to_string(dir.join("fills.csv"))
        .unwrap()
        .lines()
        .count() as u64
        - 1;
    assert_eq!(points, fills);
    let png = b.screenshot();
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    let artifact = Path::new(env!("CARGO_TARGET_TMPDIR")).join("backtest-report.png");
    std::fs::write(&artifact, png).unwrap();
    eprintln!("screenshot: {}", artifact.display());
}

/// The bundled capture cut in two (the second half plain, the first gzip), given in the wrong
/// order: read in the order of their first timestamps as one stream, the report is the whole
/// capture's, figure for figure.
#[test]
fn several_captures_of_one_source_are_read_in_time_order() {
    use std::io::{Read, Write};
    let dir = fresh_dir("backtest-days");
    let mut text = String::new();
    flate2::read::GzDecoder::new(
        std::fs::File::open(repo().join("data/binance_spot_btcusdt_2024-08-08.cap.gz")).unwrap(),
    )
    .read_to_string(&mut text)
    .unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let half = lines.len() / 2;
    let (a, b) = (dir.join("day1.cap.gz"), dir.join("day2.cap"));
    let mut gz =
        flate2::write::GzEncoder::new(std::fs::File::create(&a).unwrap(), Default::default());
    for l in &lines[..half] {
        writeln!(gz, "{l}").unwrap();
    }
    gz.finish().unwrap();
    std::fs::write(&b, lines[half..].join("\n") + "\n").unwrap();
    let split = dir.join("split");
    let o = Command::new(env!("CARGO_BIN_EXE_pulse"))
        .arg("backtest")
        .arg("--config")
        .arg(repo().join("configs/demo.toml"))
        .arg("--input")
        .arg(&b)
        .arg(&a)
        .arg("--report")
        .arg(&split)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let whole = dir.join("whole");
    demo_backtest(&whole);
    let read = |d: &Path| -> Value {
        let mut v: Value =
            serde_json::from_slice(&std::fs::read(d.join("report.json")).unwrap()).unwrap();
        v["meta"]["inputs"] = Value::Null;
        v
    };
    assert_eq!(read(&split), read(&whole));
    assert!(read(&whole)["activity"]["fills"].as_u64().unwrap() > 0);
}

/// On a terminal the backtest shows its progress (messages, market time, speed, ETA); piped,
/// it says nothing of it.
#[test]
fn a_progress_bar_on_a_terminal_and_none_when_piped() {
    let script = std::path::Path::new("/usr/bin/script");
    if !have(
        script.exists(),
        "script (util-linux), to give the run a terminal",
        "apt-get install bsdutils",
    ) {
        return;
    }
    let dir = fresh_dir("backtest-progress");
    let command = format!(
        "{} backtest --config {} --input {} --report {}",
        env!("CARGO_BIN_EXE_pulse"),
        repo().join("configs/demo.toml").display(),
        repo()
            .join("data/binance_spot_btcusdt_2024-08-08.cap.gz")
            .display(),
        dir.join("tty").display()
    );
    let o = Command::new(script)
        .args(["-qec", &command, "/dev/null"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let shown = String::from_utf8_lossy(&o.stdout);
    // Messages read so far and the market time they reached, growing towards the input's
    // (41249 messages over 5 min 46 s).
    let parts: Vec<&str> = shown.split(" messages, ").collect();
    let seen: Vec<(u64, String)> = parts
        .windows(2)
        .filter_map(|w| {
            let n = w[0].rsplit(' ').next()?.parse().ok()?;
            Some((n, w[1].get(..8)?.to_string()))
        })
        .collect();
    assert!(
        seen.iter()
            .any(|(n, t)| *n > 1000 && t.as_str() > "00:00:00"),
        "{shown}"
    );
    assert!(
        seen.iter()
            .all(|(n, t)| *n <= 41249 && t.as_str() <= "00:05:46"),
        "{shown}"
    );
    assert!(shown.contains("ETA"));
    let piped = dir.join("piped");
    let stdout = demo_backtest(&piped);
    assert!(!stdout.contains("ETA"));
}

/// `pulse journal export`: every stream of the backtest's journal as tables, one per record
/// kind, with as many rows as the dump has records of that kind; CSV and Parquet.
#[test]
fn the_journal_exports_every_stream_as_tables() {
    let dir = fresh_dir("journal-export");
    demo_backtest(&dir.join("run"));
    let journal = dir.join("run/journal");
    let out = dir.join("tables");
    let o = Command::new(env!("CARGO_BIN_EXE_pulse"))
        .args(["journal", "export"])
        .arg(&journal)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let dump = Command::new(env!("CARGO_BIN_EXE_pulse"))
        .args(["journal", "dump", "--json"])
        .arg(&journal)
        .output()
        .unwrap();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for line in String::from_utf8(dump.stdout).unwrap().lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        let name = format!(
            "{}.{}",
            v["stream"].as_str().unwrap(),
            v["kind"].as_str().unwrap()
        );
        *counts.entry(name).or_default() += 1;
    }
    for (name, n) in &counts {
        let csv = std::fs::read_to_string(out.join(format!("{name}.csv"))).unwrap();
        assert_eq!(csv.lines().count() - 1, *n, "{name}");
        let parquet = std::fs::read(out.join(format!("{name}.parquet"))).unwrap();
        assert!(parquet.starts_with(b"PAR1"), "{name}");
    }
    assert!(
        counts["input.message"] > 40_000 && counts["output.order"] > 0,
        "{counts:?}"
    );
    // The fills in the report table are the backtest's fills.
    let reports = std::fs::read_to_string(out.join("output.report.csv")).unwrap();
    let fills = reports.lines().filter(|l| l.contains(",fill,")).count();
    let backtest = std::fs::read_to_string(dir.join("run/fills.csv"))
        .unwrap()
        .lines()
        .count()
        - 1;
    assert_eq!(fills, backtest);
}

/// The bundled capture converted to Tardis.dev CSV (book, trades, quotes) by the independent
/// script and backtested from those files: the same report as from the capture.
#[test]
fn a_backtest_over_tardis_csv_equals_the_one_over_the_capture() {
    let py = python(&["gzip", "json"]);
    if !have(
        py.is_some(),
        "python3",
        "the capture-to-Tardis converter is plain Python",
    ) {
        return;
    }
    let dir = fresh_dir("backtest-tardis");
    let csv = dir.join("csv");
    let o = Command::new(py.unwrap())
        .arg(repo().join("scripts/capture_to_tardis.py"))
        .arg(repo().join("data/binance_spot_btcusdt_2024-08-08.cap.gz"))
        .arg(&csv)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let tardis = dir.join("tardis");
    let o = Command::new(env!("CARGO_BIN_EXE_pulse"))
        .arg("backtest")
        .arg("--config")
        .arg(repo().join("configs/demo.toml"))
        .arg("--input")
        .arg(csv.join("incremental_book_L2.csv.gz"))
        .arg(csv.join("trades.csv.gz"))
        .arg(csv.join("quotes.csv"))
        .arg("--report")
        .arg(&tardis)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let capture = dir.join("capture");
    demo_backtest(&capture);
    // Tardis keeps microseconds: the run's first and last times (and the drawdown's duration,
    // which ends at the last) lose the capture's nanoseconds; every other figure is the same.
    let read = |d: &Path| -> Value {
        let mut v: Value =
            serde_json::from_slice(&std::fs::read(d.join("report.json")).unwrap()).unwrap();
        v["meta"]["inputs"] = Value::Null;
        for key in ["start_ts", "end_ts"] {
            v["meta"][key] = (v["meta"][key].as_u64().unwrap() / 1000).into();
        }
        let dd = v["portfolio"]["max_drawdown_duration_s"].as_f64().unwrap();
        v["portfolio"]["max_drawdown_duration_s"] = ((dd * 1e6).floor() / 1e6).into();
        v
    };
    assert_eq!(read(&tardis), read(&capture));
}
