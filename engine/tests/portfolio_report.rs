//! `configs/portfolio.toml` as a backtest: three strategies under one risk book with the
//! portfolio stage on. Its report carries the portfolio risk the risk stage journaled (VaR,
//! CVaR, correlated exposure, the worst stress scenario, last and largest over the run), the
//! HTML shows it, and the engine's exits and the stress limit are seen at work.

mod common;

use common::{pulse, repo_root, succeeded, TempDir};

#[test]
fn the_portfolio_backtest_reports_its_risk_across_the_book() {
    let dir = TempDir::new(&format!("portfolio-report-{}", std::process::id()));
    let config = repo_root().join("configs/portfolio.toml");
    let data = repo_root().join("data/multi_venue_30s.cap.gz");
    let data = data.to_str().unwrap();
    let report = dir.0.join("report");
    succeeded(&pulse(&[
        "backtest",
        "--config",
        config.to_str().unwrap(),
        "--input",
        data,
        data,
        data,
        data,
        "--report",
        report.to_str().unwrap(),
    ]));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("report.json")).unwrap())
            .unwrap();
    let risk = &json["portfolio_risk"];
    // One publication per 250 ms interval of the 30 s recording.
    let publications = risk["publications"].as_u64().unwrap();
    assert!((100..=125).contains(&publications), "{risk}");
    let last = &risk["last"];
    let max = &risk["max"];
    for key in ["var99_param", "var99_hist", "cvar99_hist", "worst_stress"] {
        let (l, m) = (last[key].as_f64().unwrap(), max[key].as_f64().unwrap());
        assert!(
            l.is_finite() && l >= 0.0 && m >= l,
            "{key}: last {l}, max {m}"
        );
    }
    // CVaR is never below VaR at the same confidence.
    assert!(
        last["cvar99_hist"].as_f64() >= last["var99_hist"].as_f64(),
        "{last}"
    );
    // The ETH position is the book's worst case, and the stress limit (50) held it.
    assert_eq!(max["worst_scenario"], "eth-minus-15", "{max}");
    assert!(
        max["worst_stress"].as_f64().unwrap() <= 50.0 + 1e-9,
        "{max}"
    );
    assert!(
        json["rejections_by_reason"]["stress_loss"]
            .as_u64()
            .unwrap()
            >= 1,
        "{}",
        json["rejections_by_reason"]
    );
    let html = std::fs::read_to_string(report.join("report.html")).unwrap();
    assert!(html.contains("Portfolio risk (one sampling interval)"));
    assert!(html.contains("eth-minus-15"));
    // The engine's own exits are intents of their own origin in the report.
    let origins: Vec<&str> = json["agents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["origin"].as_str().unwrap())
        .collect();
    assert!(
        origins
            .iter()
            .any(|o| ["stop_loss", "take_profit", "trailing"].contains(o)),
        "{origins:?}"
    );
}
