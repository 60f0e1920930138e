//! `configs/leverage-usdm.toml` over the bundled USD-M capture through `pulse backtest`, `pulse
//! run` and `pulse journal dump`: funding (a configured rate and a recorded history) and
//! liquidation reach the journal, the backtest ledger and the summary with the amounts the
//! venue's formulas give.

use pulse_engine::config;

fn pulse(args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pulse"))
        .current_dir(repo())
        .args(args)
        .output()
        .expect("pulse runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "pulse {args:?}: {stderr}");
    String::from_utf8(out.stdout).unwrap()
}

fn repo() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn backtest(dir: &std::path::Path, sets: &[&str]) -> serde_json::Value {
    let _ = std::fs::remove_dir_all(dir);
    let mut args = vec![
        "backtest",
        "--config",
        "configs/leverage-usdm.toml",
        "--input",
        "data/binance_usdm_btcusdt_2024-08-08.cap.gz",
        "--report",
        dir.to_str().unwrap(),
    ];
    for s in sets {
        args.extend(["--set", s]);
    }
    pulse(&args);
    serde_json::from_slice(&std::fs::read(dir.join("report.json")).unwrap()).unwrap()
}

/// `configs/leverage-usdm.toml` charges 0.01% every 36 s. The capture runs from
/// 1723161255.09 to 1723161599.83 s: the funding times 1723161276 + 36k, nine of them, and
/// the first finds the market maker flat, so eight settlements. Each is
/// `position * mark * 0.0001` at the mark of that time (longs pay); the ledger's equity, the
/// account's funding and the venue's count all agree, and a run at rate 0 ends richer by
/// exactly their sum.
#[test]
fn funding_over_the_usdm_capture_reaches_the_journal_the_ledger_and_the_summary() {
    let tmp = std::env::temp_dir().join(format!("pulse-margin-funding-{}", std::process::id()));
    let (a, b) = (tmp.join("funded"), tmp.join("unfunded"));
    let funded = backtest(&a, &[]);
    let unfunded = backtest(&b, &["instruments.0.margin.funding_rate_pct=0"]);
    let dump = pulse(&["journal", "dump", a.join("journal").to_str().unwrap()]);
    let field = |line: &str, key: &str| -> String {
        let at = line.find(&format!(" {key}=")).expect(key) + key.len() + 2;
        line[at..].split(' ').next().unwrap_or("").to_string()
    };
    let fundings: Vec<(u64, i128)> = dump
        .lines()
        .filter(|l| l.contains(" report=funding "))
        .map(|l| {
            (
                field(l, "venue_ts").parse().unwrap(),
                field(l, "amount").parse().unwrap(),
            )
        })
        .collect();
    let times: Vec<u64> = fundings.iter().map(|f| f.0 / 1_000_000_000).collect();
    let expected: Vec<u64> = (1..9).map(|k| 1_723_161_276 + 36 * k).collect();
    assert_eq!(times, expected);
    // Each amount against the position then (fills before it) and the mid on the 1 s grid:
    // 0.001 BTC at ~61,800 pays ~0.00618 USDT (618 at the notional scale 5).
    let fills = std::fs::read_to_string(a.join("fills.csv")).unwrap();
    let equity = std::fs::read_to_string(a.join("equity.csv")).unwrap();
    for &(ts, amount) in &fundings {
        let position: f64 = fills
            .lines()
            .skip(1)
            .map(|l| l.split(',').collect::<Vec<_>>())
            .filter(|r| r[0].parse::<u64>().unwrap() < ts)
            .map(|r| if r[3] == "buy" { 1.0 } else { -1.0 } * r[5].parse::<f64>().unwrap())
            .sum();
        let mid: f64 = equity
            .lines()
            .skip(1)
            .map(|l| l.split(',').collect::<Vec<_>>())
            .take_while(|r| r[0].parse::<u64>().unwrap() <= ts)
            .last()
            .map(|r| r[6].parse().unwrap())
            .unwrap();
        let hand = position * mid * 0.0001 * 1e5;
        assert!(
            (amount as f64 - hand).abs() < 2.0,
            "{ts}: {amount} vs {hand}"
        );
    }
    let total = fundings.iter().map(|f| f.1).sum::<i128>() as f64 / 1e5;
    let end = |r: &serde_json::Value| r["portfolio"]["end_equity"].as_f64().unwrap();
    assert!(
        (end(&unfunded) - end(&funded) - total).abs() < 1e-9,
        "{total}"
    );
    assert!(total.abs() > 0.0);
    // The run's summary: the venue's settlements and the account's funding.
    let summary = pulse(&["run", "--config", "configs/leverage-usdm.toml"]);
    assert!(
        summary.contains("perpetuals: 8 funding settlements, 0 liquidations"),
        "{summary}"
    );
    let paid = format!("BTCUSDT funding paid {}", total);
    assert!(summary.contains(&paid), "{paid} in {summary}");
    let _ = std::fs::remove_dir_all(&tmp);
}

/// 125x on one bracket of 0.70% puts the liquidation price about 0.1% from the entry: over
/// the capture the venue liquidates the market maker twice (no guard: `reduce_pct = "100"`).
/// Each liquidation is a taker fill of the backtest ledger at the venue's price, its fee the
/// margin the venue kept, so the ledger ends at the account's equity as `pulse run` prints it.
#[test]
fn a_liquidation_is_a_fill_of_the_backtest_ledger() {
    let tmp = std::env::temp_dir().join(format!("pulse-margin-liq-{}", std::process::id()));
    let sets = [
        "instruments.0.margin.leverage=125",
        "instruments.0.margin.brackets=[[\"1000000\", 125, \"0.70\"]]",
        "instruments.0.margin.reduce_pct=100",
    ];
    let report = backtest(&tmp.join("bt"), &sets);
    let dump = pulse(&["journal", "dump", tmp.join("bt/journal").to_str().unwrap()]);
    let field = |line: &str, key: &str| -> String {
        let at = line.find(&format!(" {key}=")).expect(key) + key.len() + 2;
        line[at..].split(' ').next().unwrap_or("").to_string()
    };
    let liquidations: Vec<String> = dump
        .lines()
        .filter(|l| l.contains(" report=liquidation "))
        .map(|l| {
            // As fills.csv writes it: ts, side, px, qty, fee at their decimal places.
            let num = |k: &str, scale: i32| field(l, k).parse::<f64>().unwrap() / 10f64.powi(scale);
            format!(
                "{},0,binance-usdm:BTCUSDT,{},{},{},",
                field(l, "venue_ts"),
                field(l, "side"),
                num("px", 2),
                num("qty", 3),
            ) + &format!("{},{},taker", num("px", 2) * num("qty", 3), num("fee", 5))
        })
        .collect();
    assert_eq!(liquidations.len(), 2, "{dump}");
    let fills = std::fs::read_to_string(tmp.join("bt/fills.csv")).unwrap();
    for l in &liquidations {
        assert!(fills.lines().any(|f| f == l), "{l} in fills.csv");
    }
    // `pulse run` of the same config: its account's equity is the ledger's end.
    let text = std::fs::read_to_string(repo().join("configs/leverage-usdm.toml"))
        .unwrap()
        .replace("../data/", &format!("{}/data/", repo().display()))
        .replacen(
            "name = \"leverage-usdm\"",
            "name = \"leverage-liquidated\"",
            1,
        )
        .replacen("leverage = 20  ", "leverage = 125 ", 1)
        .replacen("reduce_pct = \"90\"", "reduce_pct = \"100\"", 1);
    let start = text.find("brackets = [").unwrap();
    let end = start + text[start..].find("\n]\n").unwrap() + 3;
    let text = format!(
        "{}brackets = [[\"1000000\", 125, \"0.70\"]]\n{}",
        &text[..start],
        &text[end..]
    );
    let config = tmp.join("leverage.toml");
    std::fs::write(&config, text).unwrap();
    let summary = pulse(&["run", "--config", config.to_str().unwrap()]);
    assert!(summary.contains(", 2 liquidations"), "{summary}");
    // The account's net on the instrument (realized + unrealized - fees, liquidation fees
    // among them) on the capital of 10,000 is the ledger's end equity.
    let end_equity = report["portfolio"]["end_equity"].as_f64().unwrap();
    let net: f64 = summary
        .lines()
        .find(|l| l.starts_with("position  BTCUSDT:"))
        .and_then(|l| l.split("=> net ").nth(1))
        .and_then(|n| n.trim().parse().ok())
        .expect("the position line");
    assert!(
        (10_000.0 + net - end_equity).abs() < 1e-6,
        "{net} vs {end_equity}"
    );
    let _ = std::fs::remove_dir_all(&tmp);
}

/// A temp config from `configs/leverage-usdm.toml` with data paths made absolute and `changes`.
fn temp_config(dir: &std::path::Path, changes: &[(&str, &str)]) -> std::path::PathBuf {
    let mut text = std::fs::read_to_string(repo().join("configs/leverage-usdm.toml"))
        .unwrap()
        .replace("../data/", &format!("{}/data/", repo().display()));
    for (from, to) in changes {
        assert_eq!(text.matches(from).count(), 1, "{from}");
        text = text.replacen(from, to, 1);
    }
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join("leverage.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// The venue's recorded funding history instead of a rate: a settlement before the capture
/// (not charged: the history starts at the run's first event), 0.01% at 1723161312 s (short
/// 0.001 then, as in the 36 s run: it receives the same 618 at the notional scale, 0.00618
/// USDT) and -0.02% at 1723161348 s (long 0.003, which the 36 s run charged 0.01% as 1,853:
/// twice that, received, `ceil(-2x)` for `x` in (1852, 1853], -3,705 or -3,704).
#[test]
fn a_recorded_funding_history_settles_at_its_times() {
    let tmp = std::env::temp_dir().join(format!("pulse-margin-history-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let history = tmp.join("funding.csv");
    let rows = "funding_time_ms,funding_rate\n1723132800000,0.00010000\n\
                1723161312000,0.00010000\n1723161348000,-0.00020000\n";
    std::fs::write(&history, rows).unwrap();
    let file_line = format!("funding_file = \"{}\"", history.display());
    let changes = [
        ("funding_rate_pct = \"0.01\"", file_line.as_str()),
        ("funding_interval_h = \"0.01\"", ""),
    ];
    let config = temp_config(&tmp, &changes);
    let dir = tmp.join("bt");
    pulse(&[
        "backtest",
        "--config",
        config.to_str().unwrap(),
        "--input",
        "data/binance_usdm_btcusdt_2024-08-08.cap.gz",
        "--report",
        dir.to_str().unwrap(),
    ]);
    let dump = pulse(&["journal", "dump", dir.join("journal").to_str().unwrap()]);
    let fundings: Vec<(u64, i128)> = dump
        .lines()
        .filter(|l| l.contains(" report=funding "))
        .map(|l| {
            let field = |key: &str| {
                let at = l.find(&format!(" {key}=")).unwrap() + key.len() + 2;
                l[at..].split(' ').next().unwrap().to_string()
            };
            let ts: u64 = field("venue_ts").parse().unwrap();
            (ts / 1_000_000_000, field("amount").parse().unwrap())
        })
        .collect();
    assert_eq!(fundings.len(), 2, "{fundings:?}");
    assert_eq!(fundings[0], (1_723_161_312, -618));
    assert_eq!(fundings[1].0, 1_723_161_348);
    assert!((-3_705..=-3_704).contains(&fundings[1].1), "{fundings:?}");

    // Refused: both a rate and a file, and a file with a bad line.
    let both = temp_config(
        &tmp.join("both"),
        &[(
            "funding_rate_pct = \"0.01\"",
            &format!("{file_line}\nfunding_rate_pct = \"0.01\""),
        )],
    );
    let err = config::load(&both).unwrap_err();
    assert_eq!(err.key, "instruments[0].margin.funding_file");
    assert_eq!(
        err.message,
        "give funding_rate_pct or funding_file, not both"
    );
    std::fs::write(
        &history,
        "funding_time_ms,funding_rate\n1723161312000,abc\n",
    )
    .unwrap();
    let err = config::load(&config).unwrap_err();
    assert_eq!(err.key, "instruments[0].margin.funding_file");
    assert!(
        err.message
            .ends_with("line 2: not a rate with at most 8 decimals: `1723161312000,abc`"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&tmp);
}
