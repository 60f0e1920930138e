//! The funds keys of a config: `[risk]`'s `account_currency`, `fixed_rates` and `balances`,
//! and `[portfolio.allocation]`: what they become, and each mistake refused with its key and
//! line.

use std::path::Path;

use pulse_engine::config::{self, Config, ConfigError};
use pulse_engine::risk::allocation::{per_interval, AllocationMode};
use pulse_engine::risk::fx::{Conversion, RATE_ONE};
use pulse_feeds::num::{InstrumentId, Nanos};

/// `configs/portfolio.toml` without its own funds keys (balances, the account currency and
/// `[portfolio.allocation]`): each test gives the ones it is about.
fn portfolio() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs/portfolio.toml");
    let text = std::fs::read_to_string(path).unwrap();
    let mut out = String::new();
    let mut allocation = false;
    for l in text.lines() {
        if l.starts_with('[') {
            allocation = l.trim() == "[portfolio.allocation]";
        }
        if allocation || l.starts_with("balances =") || l.starts_with("account_currency =") {
            continue;
        }
        out.push_str(l);
        out.push('\n');
    }
    out
}

/// `configs/portfolio.toml` with `risk` added to `[risk]` and `tail` at the end.
fn with(risk: &str, tail: &str) -> String {
    let text = portfolio();
    assert_eq!(text.matches("\n[risk]\n").count(), 1);
    format!(
        "{}\n{tail}\n",
        text.replacen("\n[risk]\n", &format!("\n[risk]\n{risk}\n"), 1)
    )
}

fn parsed(text: &str) -> Config {
    config::parse(text, Path::new("/etc/pulse/configs")).unwrap()
}

fn refused(text: &str) -> ConfigError {
    match config::parse(text, Path::new("/etc/pulse/configs")) {
        Ok(_) => panic!("config was accepted:\n{text}"),
        Err(e) => e,
    }
}

fn line_of(text: &str, needle: &str) -> usize {
    let at = text.find(needle).unwrap();
    text[..at].lines().count() + 1
}

/// The key and line `text` is refused with, and whether the message has `says`.
fn refusal(text: &str, says: &str) -> (String, Option<usize>) {
    let err = refused(text);
    assert!(err.message.contains(says), "{}: {}", err.key, err.message);
    (err.key, err.line)
}

const ALLOCATION: &str = "[portfolio.allocation]\n";

#[test]
fn the_defaults_value_in_usdt_with_no_balance_or_allocation() {
    let cfg = parsed(&portfolio());
    let f = &cfg.funds;
    assert_eq!(f.account_currency, "USDT");
    assert!(f.balances.is_none() && f.allocation.is_none());
    assert!((0..4).all(|i| f.fx.get(i) == Conversion::Identity));
    // bybit-linear is a derivative, the rest spot.
    assert_eq!(f.spot, [true, true, true, false]);
    assert_eq!(f.strategy_of, [0, 1, 2, 0]);
    assert_eq!(f.strategy_names[1], "book-imbalance okx:BTC-USDT");
    assert!(cfg.portfolio.is_some(), "the portfolio stage still runs");
}

#[test]
fn every_allocation_key_is_read() {
    let tail = "mode = \"vol-target\"\ntarget_vol_pct = \"20\"\nrebalance_s = 60\nsample_ms = 500\nwindow = 200\nmin_samples = 40\nmin_vol_pct = \"2.5\"";
    let cfg = parsed(&with(
        "balances = { USDT = \"10000\", BTC = \"0.5\" }",
        &format!("{ALLOCATION}{tail}"),
    ));
    let a = cfg.funds.allocation.expect("allocation");
    let every = Nanos::from_millis(500);
    // 20% a year over 500 ms: 0.2 * sqrt(0.5 / 31,536,000) = 0.0000251831...
    let AllocationMode::VolTarget { target_vol } = a.mode else {
        panic!("{:?}", a.mode);
    };
    assert!((target_vol - 0.2 * (0.5f64 / 31_536_000.0).sqrt()).abs() < 1e-15);
    assert_eq!(a.min_vol, per_interval(0.025, every));
    assert_eq!(
        (
            a.strategies,
            a.rebalance_every,
            a.sample_every,
            a.window,
            a.min_samples
        ),
        (3, Nanos::from_millis(60_000), every, 200, 40)
    );
    const UNIT: i128 = 1_000_000_000_000;
    assert_eq!(
        cfg.funds.balances,
        Some(vec![
            ("BTC".to_owned(), UNIT / 2),
            ("USDT".to_owned(), 10_000 * UNIT)
        ])
    );
    let fixed = parsed(&with(
        "",
        &format!("{ALLOCATION}mode = \"fixed\"\nweights = [\"0.5\", \"0.3\", \"0.2\"]"),
    ));
    let a = fixed.funds.allocation.expect("allocation");
    assert_eq!(a.mode, AllocationMode::Fixed(vec![0.5, 0.3, 0.2]));
    // Defaults: 5 min, 1 s, 500 samples, 30 of them.
    assert_eq!(
        (a.rebalance_every, a.sample_every, a.window, a.min_samples),
        (
            Nanos::from_millis(300_000),
            Nanos::from_millis(1_000),
            500,
            30
        )
    );
}

#[test]
fn an_allocation_alone_runs_no_portfolio_stage() {
    // Everything of [portfolio] but the allocation removed.
    let text = portfolio();
    let start = text.find("\n[portfolio]\n").unwrap();
    let end = text.find("\n[[strategies]]\n").unwrap();
    let text = format!(
        "{}\n[portfolio.allocation]\nmode = \"risk-parity\"\n{}",
        &text[..start],
        &text[end..]
    );
    let cfg = parsed(&text);
    assert!(cfg.portfolio.is_none());
    assert_eq!(
        cfg.funds.allocation.map(|a| a.mode),
        Some(AllocationMode::RiskParity)
    );
}

#[test]
fn conversions_come_from_the_instruments_or_fixed_rates() {
    // An ETH/BTC spot pair on OKX is converted through the configured BTC-USDT.
    let ethbtc = "[[instruments]]\nvenue = \"okx\"\nsymbol = \"ETH-BTC\"\nbase = \"ETH\"\nquote = \"BTC\"\nprice_scale = 5\nqty_scale = 6\ntick_size = \"0.00001\"\nlot_size = \"0.000001\"\n[instruments.risk]\nmax_order_qty = \"1\"\nmax_order_notional = \"1\"\nmax_position = \"1\"\nprice_collar_bps = 50\nmax_ref_age_ms = 5000\n\n[risk]\n";
    let text = portfolio().replacen("\n[risk]\n", &format!("\n{ethbtc}"), 1);
    let cfg = parsed(&text);
    assert_eq!(
        cfg.funds.fx.get(4),
        Conversion::Via {
            instrument: InstrumentId(1),
            inverted: false
        }
    );
    // With USD as the account currency, USDT at a fixed rate.
    let cfg = parsed(&with(
        "account_currency = \"USD\"\nfixed_rates = { USDT = \"0.9995\" }",
        "",
    ));
    assert_eq!(
        cfg.funds.fx.get(0),
        Conversion::Fixed(RATE_ONE / 10_000 * 9_995)
    );
}

#[test]
fn each_funds_mistake_is_refused_with_its_line() {
    let cases: [(&str, &str, &str, &str, &str); 9] = [
        // (risk lines, tail, refused key, the needle of its line, the message says)
        (
            "account_currency = \"US-D\"",
            "",
            "risk.account_currency",
            "account_currency",
            "asset name",
        ),
        (
            "account_currency = \"USD\"",
            "",
            "instruments[0].quote",
            "quote = \"USDT\"",
            "binance:BTCUSDT is quoted in USDT",
        ),
        (
            "fixed_rates = { USDT = \"1\" }",
            "",
            "risk.fixed_rates",
            "fixed_rates",
            "is the account currency",
        ),
        (
            "fixed_rates = { USD = \"one\" }",
            "",
            "risk.fixed_rates.USD",
            "fixed_rates",
            "is not an amount",
        ),
        (
            "balances = { USDT = \"-5\" }",
            "",
            "risk.balances.USDT",
            "balances",
            "",
        ),
        (
            "balances = { \"US DT\" = \"5\" }",
            "",
            "risk.balances.US DT",
            "balances",
            "asset name",
        ),
        (
            "",
            "[portfolio.allocation]\nmode = \"fixed\"\nweights = [\"0.5\", \"0.3\", \"0.3\"]",
            "portfolio.allocation.weights",
            "weights = ",
            "must sum to 1",
        ),
        (
            "",
            "[portfolio.allocation]\nmode = \"fixed\"\nweights = [\"0.5\", \"0.5\"]",
            "portfolio.allocation.weights",
            "weights = ",
            "2 weights for 3 strategies",
        ),
        (
            "",
            "[portfolio.allocation]\nmode = \"fixed\"",
            "portfolio.allocation.mode",
            "mode = \"fixed\"",
            "needs weights",
        ),
    ];
    for (risk, tail, key, needle, says) in cases {
        let text = with(risk, tail);
        let (k, line) = refusal(&text, says);
        assert_eq!(k, key, "{risk} {tail}");
        assert_eq!(line, Some(line_of(&text, needle)), "{key}");
    }
}

#[test]
fn allocation_settings_out_of_place_or_range_are_refused() {
    let cases: [(&str, &str, &str); 6] = [
        (
            "mode = \"risk-parity\"\nweights = [\"0.5\", \"0.3\", \"0.2\"]",
            "portfolio.allocation.weights",
            "only mode = \"fixed\"",
        ),
        (
            "mode = \"equal-risk\"\ntarget_vol_pct = \"20\"",
            "portfolio.allocation.target_vol_pct",
            "only mode = \"vol-target\"",
        ),
        (
            "mode = \"vol-target\"",
            "portfolio.allocation.mode",
            "needs target_vol_pct",
        ),
        (
            "mode = \"risk-parity\"\nwindow = 10\nmin_samples = 11",
            "portfolio.allocation.min_samples",
            "",
        ),
        (
            "mode = \"risk-parity\"\nsample_ms = 0",
            "portfolio.allocation.sample_ms",
            "greater than zero",
        ),
        (
            "mode = \"risk-parity\"\nmin_vol_pct = \"0\"",
            "portfolio.allocation.min_vol_pct",
            "",
        ),
    ];
    for (body, key, says) in cases {
        let text = with("", &format!("{ALLOCATION}{body}"));
        let (k, line) = refusal(&text, says);
        assert_eq!(k, key, "{body}");
        let last = body.lines().last().unwrap();
        let needle = if key.ends_with(".mode") {
            body.lines().next().unwrap()
        } else {
            last
        };
        let at = text.rfind(needle).unwrap();
        assert_eq!(line, Some(text[..at].lines().count() + 1), "{body}");
    }
    // An unknown key, and an allocation across a single strategy.
    let err = refused(&with(
        "",
        &format!("{ALLOCATION}mode = \"risk-parity\"\nrebalance = 5"),
    ));
    assert!(
        err.message.contains("unknown key") && err.message.contains("`rebalance_s`"),
        "{}",
        err.message
    );
    let text = with("", &format!("{ALLOCATION}mode = \"risk-parity\""));
    let one = text.replacen("[[strategies]]", "[[nope]]", 2);
    let one = &one[..one.find("[[nope]]").unwrap()];
    let single = format!("{one}\n{}", &text[text.rfind("[[strategies]]").unwrap()..]);
    let (k, _) = refusal(&single, "across 2 to 8 [[strategies]]; this config has 1");
    assert_eq!(k, "portfolio.allocation.mode");
}
