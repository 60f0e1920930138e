//! The market maker over the real binary and the bundled capture: it quotes both sides,
//! cancels and replaces, its resting quotes fill as maker in the simulated venue, the inventory
//! never leaves its cap, two runs decide identically (byte-identical output journals), and a
//! replay of a run's input journal decides the same.

mod common;

use pulse_engine::decisions::i64_at;
use pulse_engine::decisions::kind::{CANCEL, ORDER, REPORT};

use common::{check_config, count_before, line, repo_root, run_twice_and_replay, RecordBytes};

/// Checks the decisions journal of a run: every order post-only, every fill maker, the
/// position within `max` at every fill; returns (orders, cancels, fills).
fn audit(records: &[RecordBytes], max: i64) -> (u64, u64, u64) {
    let (mut orders, mut cancels, mut fills, mut position) = (0, 0, 0, 0i64);
    for (kind, _, _, p) in records {
        match *kind {
            ORDER => {
                orders += 1;
                assert_eq!(p[11], 2, "a quote that is not post-only");
            }
            CANCEL => cancels += 1,
            REPORT if p[11] == 1 => {
                fills += 1;
                assert_eq!(p[12], 0, "a quote took liquidity");
                let sign = if p[10] == 0 { 1 } else { -1 };
                position += sign * i64_at(p, 24);
                assert!(position.abs() <= max, "inventory {position} beyond {max}");
            }
            _ => {}
        }
    }
    (orders, cancels, fills)
}

#[test]
fn the_market_maker_quotes_fills_as_maker_and_decides_the_same_every_time() {
    let dir = std::env::temp_dir().join(format!("pulse-mm-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (a, records) = run_twice_and_replay(
        &repo_root().join("configs/market-maker.toml"),
        &dir,
        "mm",
        &[
            "strategy ",
            "quotes ",
            "risk ",
            "orders ",
            "position ",
            "venue ",
        ],
    );
    let a = &a;
    let strategy = line(a, "strategy ");
    assert!(
        strategy.starts_with("strategy  market-maker: 3450 book events;"),
        "{a}"
    );
    let quotes = count_before(strategy, "quotes");
    let replaces = count_before(strategy, "replaces");
    assert!(quotes > 100, "the market maker must quote: {a}");
    assert!(replaces > 10, "quotes must be cancelled and replaced: {a}");

    let orders = line(a, "orders ");
    assert_eq!(count_before(orders, "sent"), quotes, "{a}");
    assert_eq!(count_before(orders, "illegal"), 0, "{a}");
    assert!(count_before(orders, "cancelled") > 10, "{a}");
    let venue = line(a, "venue ");
    let fills = count_before(venue, "fills");
    assert!(fills > 20, "resting quotes must fill: {a}");
    assert_eq!(
        count_before(venue, "maker"),
        fills,
        "every fill is maker: {a}"
    );
    assert_eq!(count_before(venue, "rejected"), 0, "{a}");
    assert!(line(a, "risk ").ends_with(" 0 rejected"), "{a}");

    // The decisions journal tells the same story, record by record: 0.004 BTC cap.
    let (journaled_orders, cancels, journaled_fills) = audit(&records, 400_000);
    assert_eq!(journaled_orders, quotes);
    assert_eq!(journaled_fills, fills);
    assert_eq!(cancels, count_before(strategy, "cancels"));

    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn market_maker_config_errors_name_the_key_and_line() {
    let dir = std::env::temp_dir().join(format!("pulse-mm-cfg-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let text = std::fs::read_to_string(repo_root().join("configs/market-maker.toml"))
        .unwrap()
        .replace("../data/", &format!("{}/data/", repo_root().display()));
    let check = |name: &str, text: &str| check_config(&dir, name, text);
    assert_eq!(check("ok.toml", &text).0, Some(0));
    let line_of = |needle: &str| text.lines().position(|l| l.starts_with(needle)).unwrap() + 1;

    let typo = text.replace("skew_ticks = \"2\"", "skew_tiks = \"2\"");
    let (code, err) = check("typo.toml", &typo);
    assert_eq!(code, Some(1));
    assert!(
        err.contains(&format!(
            "line {}: strategy.quotes.skew_tiks: unknown key, expected one of: half_spread_ticks, skew_ticks, refresh_ticks",
            line_of("skew_ticks")
        )),
        "{err}"
    );
    let zero = text.replace("refresh_ticks = \"1\"", "refresh_ticks = \"0\"");
    let (code, err) = check("zero.toml", &zero);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("strategy.quotes.refresh_ticks: must be a whole number from 1 to 100000"),
        "{err}"
    );
    let taker_key = text.replace("cooldown_ms = 200", "cooldown_ms = 200\nslippage_ticks = 2");
    let (code, err) = check("slippage.toml", &taker_key);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("strategy.slippage_ticks: does not apply to kind = \"market-maker\""),
        "{err}"
    );
    // The quotes table belongs to the market maker alone.
    let demo = std::fs::read_to_string(repo_root().join("configs/imbalance.toml"))
        .unwrap()
        .replace("../data/", &format!("{}/data/", repo_root().display()));
    let start = text.find("[strategy.quotes]").unwrap();
    let quotes = &text[start..text[start..].find("\n\n").unwrap() + start];
    let with_quotes = demo.replace("[gateway]", &format!("{quotes}\n\n[gateway]"));
    let (code, err) = check("foreign.toml", &with_quotes);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("strategy.quotes: applies to kind = \"market-maker\" only"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
