//! `pulse features` over the bundled spot capture through the real binary: the rows are the
//! engine's own (one per book event the ensemble took, fed to the shipped policy network they
//! give the very calls the full engine made), the mids are the book's, the labels are the signs
//! of the exported mids' changes, CSV and Parquet agree and are the same bytes every time; bad
//! arguments are clear errors; and the shipped policy is what the documented commands write.

mod common;

use std::collections::HashMap;
use std::path::Path;

use arrow_array::Array;
use common::{line, pulse, repo_root, succeeded, TempDir};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use pulse_engine::policy::{Action, PolicyNetwork};

const SPOT: &str = "data/binance_spot_btcusdt_2024-08-08.cap.gz";
const USDM: &str = "data/binance_usdm_btcusdt_2024-08-08.cap.gz";

fn repo(path: &str) -> String {
    repo_root().join(path).display().to_string()
}

/// A CSV's header and its cells, as text.
fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header = lines
        .next()
        .unwrap()
        .split(',')
        .map(str::to_owned)
        .collect();
    let rows = lines
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect();
    (header, rows)
}

fn export(dir: &Path, config: &str, input: &str, out: &str) -> Vec<u8> {
    let path = dir.join(out);
    succeeded(&pulse(&[
        "features",
        "--config",
        &repo(config),
        "--input",
        &repo(input),
        "--out",
        path.to_str().unwrap(),
        "--horizons",
        "10,50",
    ]));
    std::fs::read(&path).unwrap()
}

/// The number after `word ` in `text`.
fn count_after(text: &str, word: &str) -> u64 {
    text.split(&format!("{word} "))
        .nth(1)
        .and_then(|r| r.split([' ', ',']).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count after {word:?} in {text}"))
}

#[test]
fn features_are_the_engines_and_labels_follow_the_book_mids() {
    let dir = TempDir::new(&format!("features-{}", std::process::id()));
    let csv = export(&dir, "configs/demo.toml", SPOT, "f.csv");
    assert_eq!(csv, export(&dir, "configs/demo.toml", SPOT, "again.csv"));
    let parquet = export(&dir, "configs/demo.toml", SPOT, "f.parquet");
    assert_eq!(
        parquet,
        export(&dir, "configs/demo.toml", SPOT, "again.parquet")
    );

    let (header, rows) = read_csv(&dir.join("f.csv"));
    let col: HashMap<&str, usize> = header
        .iter()
        .enumerate()
        .map(|(i, h)| (h.as_str(), i))
        .collect();
    let names: Vec<&str> = pulse_engine::indicators::Feature::ALL
        .iter()
        .map(|f| f.name())
        .collect();
    assert_eq!(header[..3], ["segment", "time_ns", "mid"]);
    assert_eq!(header[3..19], names[..]);
    assert_eq!(
        header[19..],
        ["ret_bps_10", "label_10", "ret_bps_50", "label_50"]
    );
    let num = |row: &[String], name: &str| -> f64 { row[col[name]].parse().unwrap() };

    // The full engine over the same capture: its book-event count is the row count, and the
    // shipped network fed the exported vectors makes exactly the calls its policy agent made.
    let summary = succeeded(&pulse(&[
        "replay",
        "--config",
        &repo("configs/demo.toml"),
        "--input",
        &repo(SPOT),
    ]));
    let strategy = line(&summary, "strategy ");
    assert_eq!(count_after(strategy, "ensemble:"), rows.len() as u64);
    let mut network = PolicyNetwork::load(&repo_root().join("configs/policy/example.policy"))
        .expect("the shipped policy loads");
    let mut calls = 0;
    for row in &rows {
        let features: [f64; 16] = std::array::from_fn(|k| row[3 + k].parse().unwrap());
        if features[15] == 1.0 && network.infer(&features).action != Action::Hold {
            calls += 1;
        }
    }
    assert_eq!(
        calls,
        count_after(line(&summary, "agents "), "policy"),
        "{summary}"
    );

    // The last row's mid is the book's at the end, as `pulse replay` rebuilds it.
    let json = dir.join("replay.json");
    succeeded(&pulse(&[
        "replay",
        "--input",
        &repo(SPOT),
        "--instruments-from",
        &repo("configs/demo.toml"),
        "--report-json",
        json.to_str().unwrap(),
    ]));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let top = &report["instruments"][0]["top"];
    let px = |side: &str| -> f64 { top[side][0][0].as_str().unwrap().parse().unwrap() };
    let book_mid = (px("bids") + px("asks")) / 2.0;
    let last_mid = num(rows.last().unwrap(), "mid");
    assert!(
        (last_mid - book_mid).abs() < 1e-9,
        "{last_mid} vs {book_mid}"
    );

    // Labels: the sign of the exported mid's change over h rows, empty past the end.
    for h in [10usize, 50] {
        let (ret, label) = (format!("ret_bps_{h}"), format!("label_{h}"));
        for (i, row) in rows.iter().enumerate() {
            let Some(later) = rows.get(i + h) else {
                assert_eq!((&row[col[&*ret]][..], &row[col[&*label]][..]), ("", ""));
                continue;
            };
            let (now, then) = (num(row, "mid"), num(later, "mid"));
            let sign = (then > now) as i64 - (then < now) as i64;
            assert_eq!(row[col[&*label]], sign.to_string(), "row {i}, h {h}");
            assert_eq!(num(row, &ret), (then / now - 1.0) * 10_000.0);
        }
    }
    let times: Vec<u64> = rows.iter().map(|r| r[1].parse().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "time order");

    // The Parquet file holds the same values.
    let file = std::fs::File::open(dir.join("f.parquet")).unwrap();
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap();
    let mut at = 0;
    for batch in reader {
        let batch = batch.unwrap();
        let schema = batch.schema();
        let fields: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        assert_eq!(
            fields,
            header.iter().map(String::as_str).collect::<Vec<_>>()
        );
        for r in 0..batch.num_rows() {
            let row = &rows[at + r];
            for (c, column) in batch.columns().iter().enumerate() {
                let text = match column.data_type() {
                    arrow_schema::DataType::Float64 => {
                        let a = column
                            .as_any()
                            .downcast_ref::<arrow_array::Float64Array>()
                            .unwrap();
                        (!a.is_null(r)).then(|| a.value(r).to_string())
                    }
                    arrow_schema::DataType::Int8 => {
                        let a = column
                            .as_any()
                            .downcast_ref::<arrow_array::Int8Array>()
                            .unwrap();
                        (!a.is_null(r)).then(|| a.value(r).to_string())
                    }
                    arrow_schema::DataType::Int64 => {
                        let a = column
                            .as_any()
                            .downcast_ref::<arrow_array::Int64Array>()
                            .unwrap();
                        Some(a.value(r).to_string())
                    }
                    _ => {
                        let a = column
                            .as_any()
                            .downcast_ref::<arrow_array::UInt32Array>()
                            .unwrap();
                        Some(a.value(r).to_string())
                    }
                };
                assert_eq!(
                    text.unwrap_or_default(),
                    row[c],
                    "row {}, {}",
                    at + r,
                    fields[c]
                );
            }
        }
        at += batch.num_rows();
    }
    assert_eq!(at, rows.len());
}

#[test]
fn bad_arguments_are_clear_errors() {
    let dir = TempDir::new(&format!("features-bad-{}", std::process::id()));
    let out = dir.join("f.csv");
    let run = |config: &str, input: &str, out: &str, horizons: &str| {
        let o = pulse(&[
            "features",
            "--config",
            &repo(config),
            "--input",
            input,
            "--out",
            out,
            "--horizons",
            horizons,
        ]);
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let out = out.to_str().unwrap();
    let spot = repo(SPOT);
    let cases = [
        (
            "configs/demo.toml",
            &spot[..],
            "f.txt",
            "10",
            "must end in .csv or .parquet",
        ),
        (
            "configs/demo.toml",
            &spot[..],
            out,
            "0",
            "0 is not from 1 to",
        ),
        (
            "configs/demo.toml",
            &spot[..],
            out,
            "5,5",
            "5 is given twice",
        ),
        (
            "configs/imbalance.toml",
            &spot[..],
            out,
            "10",
            "features come from kind = \"ensemble\"",
        ),
        (
            "configs/demo.toml",
            "/nonexistent.cap",
            out,
            "10",
            "reading /nonexistent.cap",
        ),
    ];
    for (config, input, file, horizons, expected) in cases {
        let (code, err) = run(config, input, file, horizons);
        assert_eq!(code, Some(2), "{err}");
        assert!(err.contains(expected), "{expected:?} not in {err}");
    }
}

/// The documented commands (configs/policy/README.md) write the shipped weights file byte for
/// byte, and the scorer prints the same out-of-sample table the trainer did. About half a minute.
#[test]
fn the_shipped_policy_is_reproduced_and_scored() {
    let dir = TempDir::new(&format!("features-train-{}", std::process::id()));
    export(&dir, "configs/demo.toml", SPOT, "spot.csv");
    export(&dir, "configs/policy/features-usdm.toml", USDM, "usdm.csv");
    let csv = |name: &str| dir.join(name).display().to_string();
    let policy = dir.join("example.policy");
    let python = |script: &str, args: &[&str]| -> String {
        let out = std::process::Command::new("python3")
            .arg(repo(script))
            .args(args)
            .output()
            .expect("python3 runs the trainer");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let (spot, usdm) = (csv("spot.csv"), csv("usdm.csv"));
    let trained = python(
        "scripts/train_policy.py",
        &[
            "--csv",
            &spot,
            "--csv",
            &usdm,
            "--label",
            "label_50",
            "--out",
            policy.to_str().unwrap(),
        ],
    );
    let shipped =
        std::fs::read_to_string(repo_root().join("configs/policy/example.policy")).unwrap();
    assert!(
        std::fs::read_to_string(&policy).unwrap() == shipped,
        "configs/policy/example.policy is not what the documented commands write"
    );
    let scored = python(
        "scripts/score_policy.py",
        &[
            policy.to_str().unwrap(),
            "--csv",
            &spot,
            "--csv",
            &usdm,
            "--label",
            "label_50",
        ],
    );
    let policy_row = |table: &str| -> String {
        let row = line(table, "policy");
        row.split_whitespace()
            .rev()
            .take(4)
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert!(trained.starts_with("out of sample: "), "{trained}");
    assert_eq!(policy_row(&trained), policy_row(&scored));
    let rest = |t: &str| {
        t.lines()
            .filter(|l| !l.starts_with("policy"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(rest(&trained), rest(&scored));
}

/// Several inputs: each capture starts afresh (the same capture twice gives the same rows
/// twice, segment 0 then 1), and no label looks across into the next capture.
#[test]
fn each_input_starts_afresh_and_labels_stay_inside_it() {
    let dir = TempDir::new(&format!("features-two-{}", std::process::id()));
    let out = dir.join("two.csv");
    succeeded(&pulse(&[
        "features",
        "--config",
        &repo("configs/demo.toml"),
        "--input",
        &repo(SPOT),
        &repo(SPOT),
        "--out",
        out.to_str().unwrap(),
        "--horizons",
        "50",
    ]));
    let (header, rows) = read_csv(&out);
    assert_eq!(header.last().map(String::as_str), Some("label_50"));
    let half = rows.len() / 2;
    assert_eq!(rows.len(), 2 * half);
    for (a, b) in rows[..half].iter().zip(&rows[half..]) {
        assert_eq!((a[0].as_str(), b[0].as_str()), ("0", "1"));
        assert_eq!(a[1..], b[1..]);
    }
    let labelled = |r: &[Vec<String>]| r.iter().filter(|r| !r[r.len() - 1].is_empty()).count();
    assert_eq!(labelled(&rows[..half]), half - 50);
    assert_eq!(labelled(&rows[half..]), half - 50);
}
