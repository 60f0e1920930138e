//! `[[strategies]]`: several strategies in one process, each trading its own instrument,
//! named `SYMBOL` or `venue:SYMBOL`; and what the file may not say about them.

use std::path::Path;

use pulse_engine::config::{self, ConfigError, StrategyConfig};

fn multi_venue() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs/multi-venue.toml");
    std::fs::read_to_string(path).unwrap()
}

/// `text` with `from` (which must occur exactly once) replaced by `to`.
fn with(text: &str, from: &str, to: &str) -> String {
    assert_eq!(text.matches(from).count(), 1, "{from:?} must occur once");
    text.replacen(from, to, 1)
}

fn refused(text: &str) -> ConfigError {
    match config::parse(text, Path::new("/etc/pulse")) {
        Ok(_) => panic!("config was accepted:\n{text}"),
        Err(e) => e,
    }
}

fn line_of(text: &str, needle: &str) -> usize {
    let at = text.find(needle).unwrap();
    text[..at].lines().count() + 1
}

#[test]
fn the_multi_venue_config_runs_four_strategies_on_four_venues() {
    let cfg = config::parse(&multi_venue(), Path::new("/etc/pulse/configs")).unwrap();
    let traded: Vec<(String, String, &str)> = cfg
        .all_strategies()
        .map(|s| {
            let inst = cfg.instruments.get(s.instrument()).unwrap();
            (inst.venue.name().to_owned(), inst.symbol.clone(), s.kind())
        })
        .collect();
    let expected = [
        ("binance", "BTCUSDT"),
        ("okx", "BTC-USDT"),
        ("kraken-v1", "XMR/USD"),
        ("bybit-linear", "BTCUSDT"),
    ];
    assert_eq!(traded.len(), expected.len());
    for ((venue, symbol, kind), (v, s)) in traded.iter().zip(expected) {
        assert_eq!(
            (venue.as_str(), symbol.as_str(), *kind),
            (v, s, "book-imbalance")
        );
    }
    let StrategyConfig::BookImbalance(kraken) = &cfg.more_strategies[1] else {
        panic!("the third strategy is a book-imbalance taker");
    };
    // Sizes at the instrument's own scale (XMR/USD: 8 decimals).
    assert_eq!(kraken.order_qty.0, 20_000_000);
    assert_eq!(kraken.max_position.0, 60_000_000);
    assert_eq!(cfg.more_sources.len(), 6);
}

#[test]
fn strategy_and_strategies_are_exclusive() {
    let text = format!(
        "{}\n[strategy]\nkind = \"book-imbalance\"\ninstrument = \"BTCUSDT\"\n\
         depth_levels = 5\nthreshold_bps = 3000\norder_qty = \"0.002\"\n\
         max_position = \"0.006\"\ncooldown_ms = 500\n",
        multi_venue()
    );
    let err = refused(&text);
    assert_eq!(
        (err.key.as_str(), err.line),
        ("strategies", Some(line_of(&text, "[strategy]\nkind") + 1)),
        "{err}"
    );
    assert!(err.message.contains("not both"), "{err}");
}

#[test]
fn two_strategies_may_not_trade_one_instrument() {
    let text = with(
        &multi_venue(),
        "instrument = \"okx:BTC-USDT\"",
        "instrument = \"binance:btcusdt\"",
    );
    let err = refused(&text);
    assert_eq!(
        (err.key.as_str(), err.line),
        (
            "strategies.instrument",
            Some(line_of(&text, "instrument = \"binance:btcusdt\""))
        ),
        "{err}"
    );
    assert!(err.message.contains("one strategy per instrument"), "{err}");
}

#[test]
fn a_symbol_on_several_venues_needs_its_venue() {
    // BTCUSDT on Binance USD-M futures beside spot: `BTCUSDT` alone is ambiguous.
    let usdm = "[[instruments]]\nvenue = \"binance-usdm\"\nsymbol = \"BTCUSDT\"\nprice_scale = 1\n\
                qty_scale = 3\ntick_size = \"0.1\"\nlot_size = \"0.001\"\n[instruments.risk]\n\
                max_order_qty = \"0.01\"\nmax_order_notional = \"1000\"\nmax_position = \"0.1\"\n\
                price_collar_bps = 50\nmax_ref_age_ms = 2000\n\n[risk]\n";
    let text = with(&multi_venue(), "\n[risk]\n", &format!("\n{usdm}"));
    let text = with(
        &text,
        "instrument = \"binance:BTCUSDT\"",
        "instrument = \"BTCUSDT\"",
    );
    let text = with(
        &text,
        "[[sources]]\nkind = \"capture\"\nname = \"okx\"",
        "[[sources]]\nkind = \"capture\"\nname = \"usdm\"\nvenue = \"binance-usdm\"\n\
         path = \"x.cap\"\n\n[[sources]]\nkind = \"capture\"\nname = \"okx\"",
    );
    let err = refused(&text);
    assert_eq!(err.key, "strategy.instrument", "{err}");
    assert_eq!(err.line, Some(line_of(&text, "instrument = \"BTCUSDT\"")));
    assert!(err.message.contains("write venue:BTCUSDT"), "{err}");
}

#[test]
fn an_empty_list_of_strategies_is_refused() {
    let text = multi_venue();
    let first = text.find("\n[[strategies]]\n").unwrap();
    let end = text.find("\n[gateway]\n").unwrap();
    let text = format!("{}\nstrategies = []\n{}", &text[..first], &text[end..]);
    // `strategies = []` must sit before any table to be top-level: put it first.
    let text = format!(
        "strategies = []\n{}",
        text.replacen("\nstrategies = []\n", "\n", 1)
    );
    let err = refused(&text);
    assert_eq!(
        (err.key.as_str(), err.line),
        ("strategies", Some(1)),
        "{err}"
    );
    assert!(err.message.contains("at least one"), "{err}");
}

#[test]
fn no_strategy_at_all_is_refused_without_a_line() {
    let text = multi_venue();
    let first = text.find("\n[[strategies]]\n").unwrap();
    let end = text.find("\n[gateway]\n").unwrap();
    let text = format!("{}{}", &text[..first], &text[end..]);
    let err = refused(&text);
    assert_eq!((err.key.as_str(), err.line), ("strategy", None), "{err}");
}
