//! The ensemble strategy over the real binary and the bundled capture: it trades, two runs
//! decide identically (byte-identical output journals), a replay of a run's input journal
//! decides the same, and its config is strict.

mod common;

use common::{check_config, line, pulse, repo_root, run_twice_and_replay};

#[test]
fn the_ensemble_trades_and_decides_the_same_every_time() {
    let dir = std::env::temp_dir().join(format!("pulse-ensemble-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (a, first) = run_twice_and_replay(
        &repo_root().join("configs/demo.toml"),
        &dir,
        "ensemble",
        &[
            "strategy ",
            "agents ",
            "regime ",
            "risk ",
            "orders ",
            "position ",
        ],
    );
    let a = &a;
    let strategy = line(a, "strategy ");
    assert!(
        strategy.starts_with("strategy  ensemble: 3450 book events, 9757 trades;"),
        "{a}"
    );
    let agents = line(a, "agents ");
    for agent in [
        "conservative",
        "aggressive",
        "balanced",
        "contrarian",
        "policy",
    ] {
        let n: u64 = agents
            .split(&format!("{agent} "))
            .nth(1)
            .and_then(|r| r.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        assert!(n > 0, "{agent} never signalled: {agents}");
    }
    let orders: u64 = line(a, "orders ")
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(orders > 50, "the ensemble must trade on the capture: {a}");
    assert!(!first.is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn ensemble_config_errors_name_the_key_and_line() {
    let dir = std::env::temp_dir().join(format!("pulse-ensemble-cfg-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let text = std::fs::read_to_string(repo_root().join("configs/demo.toml"))
        .unwrap()
        .replace("../data/", &format!("{}/data/", repo_root().display()))
        .replace(
            "policy/example.policy",
            &format!("{}/configs/policy/example.policy", repo_root().display()),
        );
    let check = |name: &str, text: &str| check_config(&dir, name, text);
    assert_eq!(check("ok.toml", &text).0, Some(0));
    let line_of = |needle: &str| text.lines().position(|l| l.starts_with(needle)).unwrap() + 1;

    let typo = text.replace("min_flow = \"0.3\"", "min_flwo = \"0.3\"");
    let (code, err) = check("typo.toml", &typo);
    assert_eq!(code, Some(1));
    assert!(
        err.contains(&format!(
            "line {}: strategy.agents.aggressive.min_flwo: unknown key, expected one of: min_macd_bps, min_flow",
            line_of("min_flow")
        )),
        "{err}"
    );
    let range = text.replace("min_confidence = \"0.6\"", "min_confidence = \"1.5\"");
    let (code, err) = check("range.toml", &range);
    assert_eq!(code, Some(1));
    assert!(
        err.contains(&format!(
            "line {}: strategy.min_confidence: must be from 0 to 1",
            line_of("min_confidence")
        )),
        "{err}"
    );
    let float = text.replace("score_alpha = \"0.1\"", "score_alpha = 0.1");
    assert_eq!(check("float.toml", &float).0, Some(1));
    let mixed = text.replace(
        "min_confidence = \"0.6\"",
        "min_confidence = \"0.6\"\ndepth_levels = 5",
    );
    let (code, err) = check("mixed.toml", &mixed);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("strategy.depth_levels: applies to kind = \"book-imbalance\" only"),
        "{err}"
    );

    // A missing weights file is found when the engine starts, and named.
    let missing = text.replace(
        &format!("{}/configs/policy/example.policy", repo_root().display()),
        "/nonexistent/x.policy",
    );
    let path = dir.join("missing.toml");
    std::fs::write(&path, missing).unwrap();
    let out = pulse(&[
        "run",
        "--config",
        path.to_str().unwrap(),
        "--name",
        &format!("ens-missing-{}", std::process::id()),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("cannot load the policy network /nonexistent/x.policy"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
