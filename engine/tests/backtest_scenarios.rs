//! Stress scenarios in `pulse backtest` (`[scenario]`, or `--set scenario.*`): the strategy,
//! risk and the simulated venue meet the changed market. Each is checked against the same
//! backtest of the market as recorded: a price shock moves every mid by its percentage from
//! its time on, an outage freezes the market for its length, a latency spike delays the fills
//! of the orders decided in it; and a sweep crosses parameters with named scenarios.

mod research_support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use research_support::outside_tools::repo;
use research_support::{demo_backtest, fresh_dir};
use serde_json::Value;

fn backtest(dir: &Path, sets: &[&str]) {
    research_support::demo_backtest_with(dir, sets);
}

/// (ts, mid) of the equity table.
fn mids(dir: &Path) -> Vec<(u64, f64)> {
    let text = std::fs::read_to_string(dir.join("equity.csv")).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    let m = header.iter().position(|h| h.starts_with("mid:")).unwrap();
    text.lines()
        .skip(1)
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            (c[0].parse().unwrap(), c[m].parse().unwrap_or(f64::NAN))
        })
        .collect()
}

fn report(dir: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join("report.json")).unwrap()).unwrap()
}

#[test]
fn a_shock_an_outage_and_a_latency_spike_change_what_the_strategy_meets() {
    let recorded = fresh_dir("scenario-recorded");
    demo_backtest(&recorded);
    let base = mids(&recorded);
    let start = report(&recorded)["meta"]["start_ts"].as_u64().unwrap();
    let s = 1_000_000_000u64;

    // -5% from 120 s on: every grid mid after it is 0.95 of the recorded one (to the cent).
    let crash = fresh_dir("scenario-crash");
    backtest(
        &crash,
        &[
            "scenario.name=crash",
            "scenario.at_s=120",
            "scenario.price_shock_pct=-5",
        ],
    );
    let shocked = mids(&crash);
    assert_eq!(report(&crash)["meta"]["scenario"], "crash");
    let mut after = 0;
    for ((t, a), (t2, b)) in base.iter().zip(&shocked) {
        assert_eq!(t, t2);
        if a.is_nan() {
            continue;
        }
        if *t < start + 120 * s {
            assert_eq!(a, b, "at {t}");
        } else if *t > start + 121 * s {
            assert!((b - a * 0.95).abs() <= 0.011, "at {t}: {b} vs {a}");
            after += 1;
        }
    }
    assert!(after > 200, "{after} grid points after the shock");

    // 30 s without market data from 100 s: the mid is frozen for the whole outage, the venue
    // sees fewer events, and the run's figures differ from the recorded one's.
    let outage = fresh_dir("scenario-outage");
    backtest(&outage, &["scenario.at_s=100", "scenario.outage_s=30"]);
    let frozen: Vec<f64> = mids(&outage)
        .iter()
        .filter(|(t, _)| (start + 101 * s..start + 129 * s).contains(t))
        .map(|(_, m)| *m)
        .collect();
    assert!(
        frozen.len() >= 27 && frozen.iter().all(|m| *m == frozen[0]),
        "{frozen:?}"
    );
    let moved: Vec<f64> = base
        .iter()
        .filter(|(t, _)| (start + 101 * s..start + 129 * s).contains(t))
        .map(|(_, m)| *m)
        .collect();
    assert!(
        moved.iter().any(|m| *m != moved[0]),
        "the recorded market moved then"
    );
    let events = |d: &Path| report(d)["meta"]["market_events"].as_u64().unwrap();
    assert!(events(&outage) < events(&recorded));

    // A 2 s latency spike for orders decided between 60 s and 180 s: each of their fills comes
    // at least 2 s after the order; outside it, fills come at the order's own time.
    let spike = fresh_dir("scenario-spike");
    backtest(
        &spike,
        &[
            "scenario.at_s=60",
            "scenario.spike_s=120",
            "scenario.latency_spike_ms=2000",
        ],
    );
    let table = |d: &Path, name: &str| -> Vec<Vec<String>> {
        std::fs::read_to_string(d.join(name))
            .unwrap()
            .lines()
            .skip(1)
            .map(|l| l.split(',').map(String::from).collect())
            .collect()
    };
    // orders.csv: client_id, intent, ts, ...; fills.csv: ts, client_id, ...
    let decided: BTreeMap<u64, u64> = table(&spike, "orders.csv")
        .iter()
        .map(|r| (r[0].parse().unwrap(), r[2].parse().unwrap()))
        .collect();
    let (mut inside, mut outside) = (0, 0);
    for f in table(&spike, "fills.csv") {
        let (ts, id): (u64, u64) = (f[0].parse().unwrap(), f[1].parse().unwrap());
        let at = decided[&id];
        if (start + 60 * s..start + 180 * s).contains(&at) {
            assert!(
                ts >= at + 2 * s,
                "order {id} decided at {at} filled at {ts}"
            );
            inside += 1;
        } else {
            assert!(ts < at + s, "order {id} decided at {at} filled at {ts}");
            outside += 1;
        }
    }
    assert!(
        inside > 0 && outside > 0,
        "{inside} fills in the spike, {outside} outside"
    );
}

#[test]
fn a_scenario_is_refused_outside_a_backtest_and_its_values_are_checked() {
    let root = repo();
    let cases = [
        ("scenario.price_shock_pct=-100", "scenario.price_shock_pct"),
        ("scenario.depth_scale=0", "scenario.depth_scale"),
        ("scenario.vol_scale=abc", "scenario.vol_scale"),
        ("scenario.colour=1", "scenario.colour"),
    ];
    for (set, key) in cases {
        let o = Command::new(env!("CARGO_BIN_EXE_pulse"))
            .arg("backtest")
            .arg("--config")
            .arg(root.join("configs/demo.toml"))
            .arg("--input")
            .arg(root.join("data/binance_spot_btcusdt_2024-08-08.cap.gz"))
            .arg("--report")
            .arg(fresh_dir("scenario-refused"))
            .args(["--set", set])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success() && err.contains(key), "{set}: {err}");
    }
    let text = std::fs::read_to_string(root.join("configs/paper.toml")).unwrap();
    let dir = fresh_dir("scenario-live");
    let cfg = dir.join("paper.toml");
    std::fs::write(
        &cfg,
        format!("{text}\n[scenario]\nprice_shock_pct = \"-5\"\n"),
    )
    .unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_pulse"))
        .arg("check-config")
        .arg("--config")
        .arg(&cfg)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("scenario") && err.contains("simulated venue"),
        "{err}"
    );
}
