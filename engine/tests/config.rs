//! The config loader against the demo config and against broken variants of it: every refusal
//! names the exact key and line.

use std::path::{Path, PathBuf};

use pulse_engine::config::{
    self, ConfigError, GatewayConfig, IdleKind, LiveSync, RingConfig, SourceConfig, StageKind,
    StrategyConfig, ThreadConfig,
};
use pulse_feeds::instrument::Venue;
use pulse_feeds::num::{InstrumentId, Nanos, Px, Qty};

fn demo_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs/imbalance.toml")
}

fn demo() -> String {
    std::fs::read_to_string(demo_path()).expect("configs/imbalance.toml is readable")
}

/// The demo with `from` (which must occur exactly once) replaced by `to`.
fn demo_with(from: &str, to: &str) -> String {
    let text = demo();
    assert_eq!(
        text.matches(from).count(),
        1,
        "{from:?} must occur once in the demo"
    );
    text.replacen(from, to, 1)
}

/// The 1-based numbers of the lines of `text` that start with `start`.
fn lines_starting(text: &str, start: &str) -> Vec<usize> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| l.starts_with(start))
        .map(|(i, _)| i + 1)
        .collect()
}

/// The 1-based number of the only line of `text` that starts with `start`.
fn line_starting(text: &str, start: &str) -> usize {
    let lines = lines_starting(text, start);
    assert_eq!(lines.len(), 1, "{start:?} must start exactly one line");
    lines[0]
}

/// The demo with a `[[runtime.threads]]` layout before its first instrument.
fn with_threads(layout: &str) -> String {
    demo_with("\n[[instruments]]", &format!("\n{layout}[[instruments]]"))
}

fn refuse(text: &str) -> ConfigError {
    match config::parse(text, Path::new("/etc/pulse")) {
        Ok(_) => panic!("config was accepted:\n{text}"),
        Err(e) => e,
    }
}

/// Asserts the error's key and line, and returns its message.
fn assert_refused(text: &str, key: &str, line: Option<usize>) -> String {
    let err = refuse(text);
    assert_eq!((err.key.as_str(), err.line), (key, line), "{err}");
    err.message
}

#[test]
fn demo_config_yields_the_expected_values() {
    let cfg = config::load(&demo_path()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(cfg.engine.name, "imbalance");
    let SourceConfig::Capture { path, .. } = &cfg.source else {
        panic!("a capture source")
    };
    assert!(
        path.ends_with("data/binance_spot_btcusdt_2024-08-08.cap.gz"),
        "{path:?}"
    );
    assert!(path.starts_with(demo_path().parent().unwrap()), "{path:?}");
    assert!(
        path.is_file(),
        "the demo replays the bundled capture: {path:?}"
    );
    assert_eq!(
        cfg.runtime.threads,
        vec![ThreadConfig {
            name: "hot".to_owned(),
            stages: vec![
                StageKind::Feed,
                StageKind::Book,
                StageKind::Strategy,
                StageKind::Risk,
                StageKind::Gateway
            ],
            core: None,
            idle: IdleKind::BusySpin,
        }]
    );
    assert_eq!(cfg.rings, RingConfig::default());
    assert_eq!(cfg.rings.market_data, 65_536);
    assert_eq!(cfg.rings.book_events, 4_096);
    assert_eq!(
        (cfg.rings.intents, cfg.rings.orders, cfg.rings.reports),
        (1_024, 1_024, 1_024)
    );

    assert_eq!(cfg.instruments.len(), 1);
    let btc = cfg.instruments.get(InstrumentId(0)).unwrap();
    assert_eq!(
        (btc.venue, btc.symbol.as_str()),
        (Venue::Binance, "BTCUSDT")
    );
    assert_eq!((btc.price_scale, btc.qty_scale), (2, 8));
    assert_eq!((btc.tick, btc.lot), (Px(1), Qty(1_000)));

    assert_eq!(cfg.limits.len(), 1);
    let limits = &cfg.limits[0];
    assert_eq!(limits.max_order_qty, Qty(200_000));
    assert_eq!(limits.max_order_notional, 150 * 10i128.pow(10));
    assert_eq!(limits.max_position, Qty(1_000_000));
    assert_eq!(limits.price_collar_bps, 50);
    assert_eq!(limits.max_ref_age, Nanos(2_000_000_000));

    assert_eq!(cfg.risk.kill_switch_file, None, "the run directory's");
    assert_eq!(cfg.engine.run_dir, pulse_engine::run_dir::default_dir());
    assert!(!cfg.risk.start_killed);

    let StrategyConfig::BookImbalance(s) = &cfg.strategy else {
        panic!("the demo runs the book-imbalance strategy");
    };
    assert_eq!(s.instrument, InstrumentId(0));
    assert_eq!((s.depth_levels, s.threshold_bps), (5, 3_000));
    assert_eq!(
        (s.order_qty, s.max_position),
        (Qty(200_000), Qty(1_200_000))
    );
    assert_eq!(s.cooldown, Nanos(500_000_000));
    assert_eq!(s.slippage_ticks, 2);

    let GatewayConfig::Sim(sim) = &cfg.gateway else {
        panic!("a simulated gateway");
    };
    assert_eq!((sim.taker_fee_ppm, sim.maker_fee_ppm), (1_000, 200));
}

#[test]
fn relative_paths_resolve_against_the_config_directory() {
    let text = demo_with(
        "[risk]\n",
        "[risk]\nkill_switch_file = \"run/pulse.kill\"\n",
    )
    .replacen("[engine]\n", "[engine]\nrun_dir = \"run\"\n", 1);
    let cfg = config::parse(&text, Path::new("/etc/pulse")).unwrap();
    let SourceConfig::Capture { path, .. } = &cfg.source else {
        panic!("a capture source")
    };
    assert_eq!(
        path,
        Path::new("/etc/pulse/../data/binance_spot_btcusdt_2024-08-08.cap.gz")
    );
    assert_eq!(
        cfg.risk.kill_switch_file,
        Some(PathBuf::from("/etc/pulse/run/pulse.kill"))
    );
    assert_eq!(cfg.engine.run_dir, Path::new("/etc/pulse/run"));
}

#[test]
fn explicit_thread_layout_and_overrides() {
    let text = demo_with(
        "idle = \"busy-spin\"",
        "idle = \"backoff\"\n\
         [[runtime.threads]]\nname = \"md\"\nstages = [\"book\", \"feed\"]\ncore = 0\n\
         [[runtime.threads]]\nname = \"trade\"\nstages = [\"strategy\", \"risk\", \"gateway\"]\nidle = \"yield\"\n\
         [rings]\nmarket_data = 2\norders = 16777216",
    );
    let cfg = config::parse(&text, Path::new(".")).unwrap_or_else(|e| panic!("{e}"));
    let threads = &cfg.runtime.threads;
    assert_eq!(threads.len(), 2);
    assert_eq!(threads[0].stages, vec![StageKind::Book, StageKind::Feed]);
    assert_eq!(
        (threads[0].core, threads[0].idle),
        (Some(0), IdleKind::Backoff)
    );
    assert_eq!((threads[1].core, threads[1].idle), (None, IdleKind::Yield));
    assert_eq!((cfg.rings.market_data, cfg.rings.orders), (2, 1 << 24));
    assert_eq!(cfg.rings.intents, 1_024);
}

#[test]
fn decimals_may_be_integers_and_fees_take_two_decimals() {
    let text = demo_with("max_order_notional = \"150\"", "max_order_notional = 150")
        .replacen("taker_fee_bps = \"10\"", "taker_fee_bps = \"7.5\"", 1)
        .replacen("maker_fee_bps = \"2\"", "maker_fee_bps = \"0.25\"", 1);
    let cfg = config::parse(&text, Path::new(".")).unwrap();
    assert_eq!(cfg.limits[0].max_order_notional, 150 * 10i128.pow(10));
    let GatewayConfig::Sim(sim) = &cfg.gateway else {
        panic!("a simulated gateway");
    };
    assert_eq!((sim.taker_fee_ppm, sim.maker_fee_ppm), (750, 25));
}

#[test]
fn error_display_names_line_key_and_message() {
    let err = ConfigError {
        key: "instruments[0].risk.max_order_qty".to_owned(),
        line: Some(12),
        message: "must be greater than zero".to_owned(),
    };
    assert_eq!(
        err.to_string(),
        "line 12: instruments[0].risk.max_order_qty: must be greater than zero"
    );
    let err = ConfigError {
        key: String::new(),
        line: None,
        message: "oops".to_owned(),
    };
    assert_eq!(err.to_string(), "oops");
}

#[test]
fn unknown_top_level_table() {
    let text = format!("{}\n[telemetry]\nport = 9000\n", demo());
    let message = assert_refused(
        &text,
        "telemetry",
        Some(line_starting(&text, "[telemetry]")),
    );
    assert!(message.starts_with("unknown key, expected "), "{message}");
}

#[test]
fn unknown_key_inside_an_instrument() {
    let text = demo_with(
        "symbol = \"BTCUSDT\"",
        "symbol = \"BTCUSDT\"\ncolour = \"red\"",
    );
    let message = assert_refused(
        &text,
        "instruments[0].colour",
        Some(line_starting(&text, "colour")),
    );
    assert!(message.contains("`venue`"), "{message}");
}

#[test]
fn unknown_key_inside_instrument_risk() {
    let text = demo_with(
        "price_collar_bps = 50",
        "price_collar_bps = 50\nmax_daily_loss = \"100\"",
    );
    let line = line_starting(&text, "max_daily_loss");
    assert_refused(&text, "instruments[0].risk.max_daily_loss", Some(line));
}

#[test]
fn unknown_key_inside_the_risk_table() {
    let text = demo_with(
        "start_killed = false",
        "start_killed = false\nkill_on_start = true",
    );
    assert_refused(
        &text,
        "risk.kill_on_start",
        Some(line_starting(&text, "kill_on_start")),
    );
}

#[test]
fn missing_limit() {
    let text = demo_with("max_position = \"0.01\"", "");
    let line = line_starting(&text, "[instruments.risk]");
    let message = assert_refused(&text, "instruments[0].risk.max_position", Some(line));
    assert_eq!(message, "required key is missing");
}

#[test]
fn instrument_without_risk_table() {
    let demo = demo();
    let start = demo.find("[instruments.risk]").unwrap();
    let end = demo.find("[risk]").unwrap();
    let text = format!("{}{}", &demo[..start], &demo[end..]);
    let line = line_starting(&text, "[[instruments]]");
    assert_refused(&text, "instruments[0].risk", Some(line));
    let err = refuse(&text);
    assert_eq!(
        err.to_string(),
        format!("line {line}: instruments[0].risk: required key is missing")
    );
}

#[test]
fn missing_top_level_table_has_no_line() {
    let demo = demo();
    let text = &demo[..demo.find("[gateway]").unwrap()];
    assert_refused(text, "gateway", None);
}

#[test]
fn negative_limit() {
    let text = demo_with("max_order_qty = \"0.002\"", "max_order_qty = \"-0.002\"");
    let line = line_starting(&text, "max_order_qty");
    let message = assert_refused(&text, "instruments[0].risk.max_order_qty", Some(line));
    assert_eq!(message, "must be greater than zero");
}

#[test]
fn zero_limits() {
    let text = demo_with(
        "max_order_notional = \"150\"",
        "max_order_notional = \"0.00\"",
    );
    let line = line_starting(&text, "max_order_notional");
    let message = assert_refused(&text, "instruments[0].risk.max_order_notional", Some(line));
    assert_eq!(message, "must be greater than zero");

    let text = demo_with("price_collar_bps = 50", "price_collar_bps = 0");
    let line = line_starting(&text, "price_collar_bps");
    let message = assert_refused(&text, "instruments[0].risk.price_collar_bps", Some(line));
    assert_eq!(message, "must be greater than zero");
}

#[test]
fn float_decimal_is_refused() {
    let text = demo_with("max_order_qty = \"0.002\"", "max_order_qty = 0.002");
    let line = line_starting(&text, "max_order_qty");
    let message = assert_refused(&text, "instruments[0].risk.max_order_qty", Some(line));
    assert!(message.contains("\"0.002\""), "{message}");

    let text = demo_with("tick_size = \"0.01\"", "tick_size = 0.01");
    assert_refused(
        &text,
        "instruments[0].tick_size",
        Some(line_starting(&text, "tick_size")),
    );
}

#[test]
fn value_finer_than_the_scale() {
    let text = demo_with("max_position = \"0.01\"", "max_position = \"0.000000001\"");
    let line = line_starting(&text, "max_position = \"0.000000001\"");
    let message = assert_refused(&text, "instruments[0].risk.max_position", Some(line));
    assert!(
        message.contains("finer than the quantity scale"),
        "{message}"
    );

    let text = demo_with("tick_size = \"0.01\"", "tick_size = \"0.001\"");
    let message = assert_refused(
        &text,
        "instruments[0].tick_size",
        Some(line_starting(&text, "tick_size")),
    );
    assert!(message.contains("finer than the price scale"), "{message}");

    let text = demo_with("qty_scale = 8 ", "qty_scale = 19 ");
    assert_refused(
        &text,
        "instruments[0].qty_scale",
        Some(line_starting(&text, "qty_scale")),
    );

    let text = demo_with("\norder_qty = \"0.002\"", "\norder_qty = \"0.0020001\"");
    assert_refused(
        &text,
        "strategy.order_qty",
        Some(line_starting(&text, "order_qty")),
    );

    let text = demo_with(
        "max_order_notional = \"150\"",
        "max_order_notional = \"150.00000000001\"",
    );
    let line = line_starting(&text, "max_order_notional");
    assert_refused(&text, "instruments[0].risk.max_order_notional", Some(line));

    let text = demo_with("taker_fee_bps = \"10\"", "taker_fee_bps = \"7.525\"");
    assert_refused(
        &text,
        "gateway.taker_fee_bps",
        Some(line_starting(&text, "taker_fee_bps")),
    );
}

#[test]
fn strategy_order_qty_is_whole_lots() {
    let text = demo_with("lot_size = \"0.00001\"", "lot_size = \"0.00002\"").replacen(
        "\norder_qty = \"0.002\"",
        "\norder_qty = \"0.00201\"",
        1,
    );
    let message = assert_refused(
        &text,
        "strategy.order_qty",
        Some(line_starting(&text, "order_qty")),
    );
    assert!(message.contains("0.00002"), "{message}");
}

#[test]
fn unknown_strategy_instrument() {
    let text = demo_with("instrument = \"BTCUSDT\"", "instrument = \"ETHUSDT\"");
    let message = assert_refused(
        &text,
        "strategy.instrument",
        Some(line_starting(&text, "instrument =")),
    );
    assert!(message.contains("ETHUSDT"), "{message}");
}

#[test]
fn ring_size_not_a_power_of_two() {
    let text = format!("{}\n[rings]\nintents = 1000\n", demo());
    let line = line_starting(&text, "intents");
    let message = assert_refused(&text, "rings.intents", Some(line));
    assert_eq!(message, "must be a power of two from 2 to 16777216");

    let text = format!("{}\n[rings]\norders = 33554432\n", demo());
    assert_refused(&text, "rings.orders", Some(line_starting(&text, "orders")));

    let text = format!("{}\n[rings]\nreports = 32\n", demo());
    let message = assert_refused(
        &text,
        "rings.reports",
        Some(line_starting(&text, "reports")),
    );
    assert_eq!(
        message,
        "must hold what one market event can fill on the simulated venue: at least 66"
    );
}

const TWO_THREADS: &str = "[[runtime.threads]]\nname = \"md\"\nstages = [\"feed\", \"book\"]\n\
                           [[runtime.threads]]\nname = \"trade\"\nstages = [\"strategy\", \"risk\", \"gateway\"]\n";

#[test]
fn stage_missing_from_the_thread_layout() {
    let layout = TWO_THREADS.replace("\"risk\", ", "");
    let text = with_threads(&layout);
    // The line of the first [[runtime.threads]] header.
    let line = lines_starting(&text, "[[runtime.threads]]")[0];
    let message = assert_refused(&text, "runtime.threads", Some(line));
    assert_eq!(message, "stage `risk` is not run by any thread");
}

#[test]
fn duplicated_stage() {
    let layout = TWO_THREADS.replace("[\"strategy\"", "[\"book\", \"strategy\"");
    let text = with_threads(&layout);
    let line = line_starting(&text, "stages = [\"book\"");
    let message = assert_refused(&text, "runtime.threads[1].stages", Some(line));
    assert_eq!(message, "stage `book` is already run by thread `md`");
}

#[test]
fn thread_layout_details() {
    let dup_name = TWO_THREADS.replace("\"trade\"", "\"md\"");
    let text = with_threads(&dup_name);
    let line = lines_starting(&text, "name = \"md\"")[1];
    assert_refused(&text, "runtime.threads[1].name", Some(line));

    let far_core = TWO_THREADS.replace("name = \"trade\"", "name = \"trade\"\ncore = 100000");
    let text = with_threads(&far_core);
    assert_refused(
        &text,
        "runtime.threads[1].core",
        Some(line_starting(&text, "core")),
    );
}

#[test]
fn unknown_venue() {
    let text = demo_with("venue = \"binance\"", "venue = \"mtgox\"");
    let message = assert_refused(
        &text,
        "instruments[0].venue",
        Some(line_starting(&text, "venue")),
    );
    assert_eq!(message, "unknown venue `mtgox`");
}

#[test]
fn unknown_idle_kind() {
    let text = demo_with("idle = \"busy-spin\"", "idle = \"spin\"");
    let message = assert_refused(&text, "runtime.idle", Some(line_starting(&text, "idle")));
    assert!(message.contains("`busy-spin`"), "{message}");

    let layout = TWO_THREADS.replace("name = \"md\"", "name = \"md\"\nidle = \"sleep\"");
    let text = with_threads(&layout);
    let line = line_starting(&text, "idle = \"sleep\"");
    assert_refused(&text, "runtime.threads[0].idle", Some(line));
}

#[test]
fn duplicate_instrument() {
    let demo = demo();
    let start = demo.find("[[instruments]]").unwrap();
    let end = demo.find("[risk]").unwrap();
    let text = format!("{}{}", &demo[..end], &demo[start..]);
    let line = lines_starting(&text, "symbol")[1];
    let message = assert_refused(&text, "instruments[1].symbol", Some(line));
    assert_eq!(
        message,
        "binance:BTCUSDT is already configured as instruments[0]"
    );
}

#[test]
fn small_documents() {
    assert_refused("[engine]\nname = \"demo\"\n", "source", None);
    assert_refused("[engine]\nname = 'demo\n", "", Some(2));
    assert_refused("[engine]\nname = 7\n", "engine.name", Some(2));
    assert_refused(
        "[engine]\n[source]\nkind = \"capture\"\n",
        "engine.name",
        Some(1),
    );
    assert_refused(
        "[engine]\nname = \"x\"\n[source]\nkind = \"pcap\"\n",
        "source.kind",
        Some(4),
    );
}

#[test]
fn engine_name_is_file_name_safe() {
    let text = demo_with("name = \"imbalance\"", "name = \"Demo!\"");
    assert_refused(
        &text,
        "engine.name",
        Some(line_starting(&text, "name = \"Demo!\"")),
    );
}

#[test]
fn missing_file_is_an_error_without_key() {
    let err = config::load(Path::new("/nonexistent/pulse.toml")).unwrap_err();
    assert_eq!((err.key.as_str(), err.line), ("", None));
    assert!(
        err.message.contains("/nonexistent/pulse.toml"),
        "{}",
        err.message
    );
}

/// The demo with its `[source]` replaced by a live Binance source with `extra` keys.
fn live_demo(extra: &str) -> String {
    let capture = "kind = \"capture\"                # replay a capture file (the only kind for now)\npath = \"../data/binance_spot_btcusdt_2024-08-08.cap.gz\"\n";
    let text = demo();
    assert!(text.contains(capture), "the demo's [source] changed");
    text.replace(
        capture,
        &format!("kind = \"binance\"\nws_url = \"wss://stream.binance.com:9443\"\nrest_url = \"https://api.binance.com\"\n{extra}"),
    )
}

#[test]
fn a_live_binance_source_with_defaults_and_overrides() {
    let cfg = config::parse(&live_demo(""), Path::new("/etc/pulse")).unwrap();
    let SourceConfig::Live(live) = &cfg.source else {
        panic!("a live source")
    };
    assert_eq!(live.venue, Venue::Binance);
    assert_eq!(live.ws_url, "wss://stream.binance.com:9443");
    assert_eq!(
        live.sync,
        LiveSync::Rest {
            rest_url: "https://api.binance.com".into(),
            depth_stream: "depth@100ms".into(),
            snapshot_limit: 1000
        }
    );
    assert_eq!(
        (live.no_data_timeout, live.reconnect_min, live.reconnect_max),
        (
            Nanos::from_millis(15_000),
            Nanos::from_millis(100),
            Nanos::from_millis(30_000)
        )
    );
    assert_eq!(live.max_session_age, Nanos(84_600_000_000_000));
    assert_eq!(live.ca_file, None);
    let cfg = config::parse(
        &live_demo("ca_file = \"ca.pem\"\nsnapshot_limit = 5000\nno_data_timeout_ms = 2000\nmax_session_age_s = 3600\n"),
        Path::new("/etc/pulse"),
    )
    .unwrap();
    let SourceConfig::Live(live) = &cfg.source else {
        panic!("a live source")
    };
    assert_eq!(live.ca_file, Some(PathBuf::from("/etc/pulse/ca.pem")));
    assert_eq!(
        (
            live.sync.snapshot_levels(),
            live.no_data_timeout,
            live.max_session_age
        ),
        (5000, Nanos::from_millis(2000), Nanos(3_600_000_000_000))
    );
}

/// The demo with its `[source]` replaced by a live source of `kind` with `extra` keys.
fn live_kind(kind: &str, extra: &str) -> String {
    live_demo(extra).replace(
        "kind = \"binance\"\nws_url = \"wss://stream.binance.com:9443\"\nrest_url = \"https://api.binance.com\"\n",
        &format!("kind = \"{kind}\"\n"),
    )
}

/// OKX and Kraken v2 send each book's snapshot on the stream: no REST endpoint, the public
/// endpoint by default, Kraken's subscribed depth as a key.
#[test]
fn live_okx_and_kraken_sources_sync_in_band() {
    let parse =
        |text: &str| config::parse(text, Path::new("/etc/pulse")).unwrap_or_else(|e| panic!("{e}"));
    let cfg = parse(&live_kind("okx", ""));
    let SourceConfig::Live(live) = &cfg.source else {
        panic!("a live source")
    };
    assert_eq!(live.venue, Venue::Okx);
    assert_eq!(live.ws_url, "wss://ws.okx.com:8443/ws/v5/public");
    assert_eq!(live.sync, LiveSync::InBand { depth: 400 });
    let cfg = parse(&live_kind("kraken", "ws_url = \"ws://127.0.0.1:9000/\"\n"));
    let SourceConfig::Live(live) = &cfg.source else {
        panic!("a live source")
    };
    assert_eq!(live.venue, Venue::Kraken);
    assert_eq!(live.ws_url, "ws://127.0.0.1:9000");
    assert_eq!(live.sync, LiveSync::InBand { depth: 10 });
    let cfg = parse(&live_kind("kraken", "depth = 100\n"));
    let SourceConfig::Live(live) = &cfg.source else {
        panic!("a live source")
    };
    assert_eq!(live.ws_url, "wss://ws.kraken.com/v2");
    assert_eq!(live.sync, LiveSync::InBand { depth: 100 });

    for (kind, key) in [
        ("okx", "rest_url = \"https://www.okx.com\""),
        ("okx", "snapshot_limit = 400"),
        ("okx", "depth = 10"),
        ("kraken", "depth_stream = \"depth@100ms\""),
        ("kraken", "path = \"x.cap\""),
    ] {
        let text = live_kind(kind, &format!("{key}\n"));
        let name = key.split(' ').next().unwrap();
        let message = assert_refused(
            &text,
            &format!("source.{name}"),
            Some(line_starting(&text, key)),
        );
        assert_eq!(message, format!("not a key of a `{kind}` source"));
    }
    let text = live_kind("kraken", "depth = 20\n");
    let message = assert_refused(
        &text,
        "source.depth",
        Some(line_starting(&text, "depth = 20")),
    );
    assert_eq!(message, "must be one of 10, 25, 100, 500, 1000");
    let text = live_kind("okx", "ws_url = \"https://ws.okx.com\"\n");
    assert_refused(&text, "source.ws_url", Some(line_starting(&text, "ws_url")));
    // A Kraken book of 1000 levels a side is one batch the market-data ring must hold.
    let text = live_kind("kraken", "depth = 1000\n") + "[rings]\nmarket_data = 1024\n";
    let message = assert_refused(
        &text,
        "rings.market_data",
        Some(line_starting(&text, "market_data")),
    );
    assert_eq!(
        message,
        "must hold a whole snapshot of 1000 levels a side: at least 2016"
    );
}

/// Bybit's two markets are two live kinds, each with its public endpoint and its subscribed
/// depth (1, 50, 200, 500 or 1000; 50 by default), the snapshot on the stream.
#[test]
fn live_bybit_sources_sync_in_band() {
    let parse =
        |text: &str| config::parse(text, Path::new("/etc/pulse")).unwrap_or_else(|e| panic!("{e}"));
    for (kind, venue, url) in [
        (
            "bybit-spot",
            Venue::BybitSpot,
            "wss://stream.bybit.com/v5/public/spot",
        ),
        (
            "bybit-linear",
            Venue::BybitLinear,
            "wss://stream.bybit.com/v5/public/linear",
        ),
    ] {
        let cfg = parse(&live_kind(kind, ""));
        let SourceConfig::Live(live) = &cfg.source else {
            panic!("a live source")
        };
        assert_eq!((live.venue, live.ws_url.as_str()), (venue, url));
        assert_eq!(live.sync, LiveSync::InBand { depth: 50 });
        let cfg = parse(&live_kind(kind, "depth = 200\n"));
        let SourceConfig::Live(live) = &cfg.source else {
            panic!("a live source")
        };
        assert_eq!(live.sync, LiveSync::InBand { depth: 200 });
        let text = live_kind(kind, "depth = 25\n");
        let message = assert_refused(
            &text,
            "source.depth",
            Some(line_starting(&text, "depth = 25")),
        );
        assert_eq!(message, "must be one of 1, 50, 200, 500, 1000");
        let text = live_kind(kind, "rest_url = \"https://api.bybit.com\"\n");
        let message = assert_refused(
            &text,
            "source.rest_url",
            Some(line_starting(&text, "rest_url")),
        );
        assert_eq!(message, format!("not a key of a `{kind}` source"));
    }
}

/// Coinbase Advanced Trade: the public endpoint by default, no depth to choose (the snapshot
/// is the whole book, up to 65,536 levels a side), and a market-data ring that takes one.
#[test]
fn a_live_coinbase_source_takes_a_whole_book() {
    let text = live_kind("coinbase", "") + "[rings]\nmarket_data = 262144\n";
    let cfg = config::parse(&text, Path::new("/etc/pulse")).unwrap_or_else(|e| panic!("{e}"));
    let SourceConfig::Live(live) = &cfg.source else {
        panic!("a live source")
    };
    assert_eq!(live.venue, Venue::Coinbase);
    assert_eq!(live.ws_url, "wss://advanced-trade-ws.coinbase.com");
    assert_eq!(live.sync, LiveSync::InBand { depth: 65_536 });
    let text = live_kind("coinbase", "");
    let message = assert_refused(
        &text,
        "rings.market_data",
        Some(line_starting(&text, "kind = \"coinbase\"")),
    );
    assert_eq!(
        message,
        "must hold a whole snapshot of 65536 levels a side: at least 131088"
    );
    let text = live_kind("coinbase", "depth = 50\n");
    let message = assert_refused(
        &text,
        "source.depth",
        Some(line_starting(&text, "depth = 50")),
    );
    assert_eq!(message, "not a key of a `coinbase` source");
}

#[test]
fn live_source_refusals_name_key_and_line() {
    let text = live_demo("path = \"x.cap\"\n");
    assert_refused(
        &text,
        "source.path",
        Some(line_starting(&text, "path = \"x.cap\"")),
    );
    let text = live_demo("").replace("ws_url = \"wss://stream.binance.com:9443\"\n", "");
    let message = assert_refused(
        &text,
        "source.ws_url",
        Some(line_starting(&text, "kind = \"binance\"")),
    );
    assert!(message.contains("required"), "{message}");
    let text = live_demo("").replace(
        "wss://stream.binance.com:9443",
        "https://stream.binance.com:9443",
    );
    assert_refused(&text, "source.ws_url", Some(line_starting(&text, "ws_url")));
    let text = live_demo("").replace(
        "https://api.binance.com",
        "https://api.binance.com/api/v3/depth",
    );
    assert_refused(
        &text,
        "source.rest_url",
        Some(line_starting(&text, "rest_url")),
    );
    let text = live_demo("snapshot_limit = 0\n");
    assert_refused(
        &text,
        "source.snapshot_limit",
        Some(line_starting(&text, "snapshot_limit")),
    );
    let text = live_demo("depth_stream = \"depth@1ms\"\n");
    assert_refused(
        &text,
        "source.depth_stream",
        Some(line_starting(&text, "depth_stream")),
    );
    let text = live_demo("reconnect_min_ms = 5000\nreconnect_max_ms = 1000\n");
    assert_refused(
        &text,
        "source.reconnect_min_ms",
        Some(line_starting(&text, "reconnect_min_ms")),
    );
    let capture = demo_with(
        "path = \"../data/",
        "ws_url = \"ws://x\"\npath = \"../data/",
    );
    assert_refused(
        &capture,
        "source.ws_url",
        Some(line_starting(&capture, "ws_url")),
    );
}

#[test]
fn the_ensemble_config_sets_every_knob() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs/demo.toml");
    let cfg = config::load(&path).expect("configs/demo.toml is valid");
    let StrategyConfig::Ensemble(e) = &cfg.strategy else {
        panic!("configs/demo.toml runs the ensemble");
    };
    let s = &e.strategy;
    assert_eq!(s.min_confidence, 0.6);
    assert_eq!(
        (s.taker.order_qty, s.taker.max_position),
        (Qty(200_000), Qty(1_200_000))
    );
    assert_eq!((s.indicators.ema_period, s.indicators.macd.slow), (20, 26));
    assert_eq!(s.indicators.profile.bucket_ticks, 100);
    assert_eq!((s.regime.trend_bps, s.regime.vol_factor), (0.1, 0.1));
    assert_eq!(s.meta.horizon, 50);
    assert_eq!(s.meta.weights[2], [0.5, 0.6, 1.0, 1.5, 1.0], "sideways row");
    assert_eq!(s.agents.aggressive.min_flow, 0.3);
    assert_eq!(s.agents.contrarian.rsi_extreme, 70.0);
    assert!(e
        .policy_file
        .as_ref()
        .unwrap()
        .ends_with("policy/example.policy"));
    assert!(e
        .signal_file
        .as_ref()
        .unwrap()
        .ends_with("signals/btcusdt-sentiment.tsv"));
    // Leaving a table out keeps its defaults.
    let text = std::fs::read_to_string(&path).unwrap();
    let start = text.find("[strategy.meta]").unwrap();
    let end = text.find("[strategy.agents.conservative]").unwrap();
    let trimmed = format!("{}{}", &text[..start], &text[end..]);
    let cfg = config::parse(&trimmed, path.parent().unwrap()).expect("defaults fill in");
    let StrategyConfig::Ensemble(e) = &cfg.strategy else {
        unreachable!()
    };
    assert_eq!(
        e.strategy.meta.weights,
        pulse_engine::agents::meta::MetaParams::default().weights
    );
}

/// Base and quote assets: named in config, never guessed from the symbol. A live gateway
/// reads balances and fees by asset, so it needs them; the simulated venue does not.
#[test]
fn instrument_assets_are_configured_and_required_by_a_live_gateway() {
    let live = std::fs::read_to_string(repo_root_path().join("configs/paper.toml"))
        .expect("configs/paper.toml is readable");
    let cfg = config::parse(&live, Path::new("/etc/pulse")).expect("the live config parses");
    let spec = cfg.instruments.get(InstrumentId(0)).unwrap();
    assert_eq!((spec.base.as_str(), spec.quote.as_str()), ("BTC", "USDT"));

    let without = live.replacen("base = \"BTC\"\nquote = \"USDT\"\n", "", 1);
    let line = line_starting(&without, "symbol = ");
    let message = assert_refused(&without, "instruments[0].base", Some(line));
    assert!(
        message.starts_with("required with a live gateway"),
        "{message}"
    );
    let no_quote = live.replacen("quote = \"USDT\"\n", "", 1);
    let line = line_starting(&no_quote, "base = ");
    assert_refused(&no_quote, "instruments[0].quote", Some(line));
    let lower = live.replacen("base = \"BTC\"", "base = \"btc\"", 1);
    let line = line_starting(&lower, "base = ");
    assert_refused(&lower, "instruments[0].base", Some(line));

    // The simulated venue trades without them.
    let sim = demo_with("base = \"BTC\"\nquote = \"USDT\"\n", "");
    let cfg = config::parse(&sim, Path::new("/etc/pulse")).expect("the demo parses");
    assert_eq!(cfg.instruments.get(InstrumentId(0)).unwrap().base, "");
}

fn repo_root_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The demo's `[source]` table.
const DEMO_SOURCE: &str = "[source]\nkind = \"capture\"                # replay a capture file (the only kind for now)\npath = \"../data/binance_spot_btcusdt_2024-08-08.cap.gz\"\n";

/// A second instrument, on Binance futures.
const ETHUSDT: &str = "[[instruments]]\nvenue = \"binance-usdm\"\nsymbol = \"ETHUSDT\"\n\
price_scale = 2\nqty_scale = 3\ntick_size = \"0.01\"\nlot_size = \"0.001\"\n\n\
[instruments.risk]\nmax_order_qty = \"1\"\nmax_order_notional = \"5000\"\nmax_position = \"1\"\n\
price_collar_bps = 50\nmax_ref_age_ms = 2000\n\n";

/// A capture source table of `[[sources]]` with `extra` keys.
fn capture(extra: &str) -> String {
    format!("[[sources]]\nkind = \"capture\"\npath = \"spot.cap\"\n{extra}\n")
}

/// The demo with `sources` in place of its `[source]`, and ETHUSDT on Binance futures beside
/// its BTCUSDT on Binance spot.
fn with_sources(sources: &str) -> String {
    let text = demo_with(DEMO_SOURCE, sources);
    assert_eq!(text.matches("\n[risk]\n").count(), 1);
    text.replacen("\n[risk]\n", &format!("\n{ETHUSDT}[risk]\n"), 1)
}

/// Each feed's name and instruments.
fn feeds(cfg: &config::Config) -> Vec<(&str, Vec<InstrumentId>)> {
    cfg.feeds
        .iter()
        .map(|f| (f.name.as_str(), f.instruments.clone()))
        .collect()
}

fn no_adapter(
    _: &pulse_feeds::instrument::InstrumentRegistry,
    _: &[InstrumentId],
) -> Box<dyn pulse_feeds::venue::MarketAdapter> {
    unreachable!("the config checker makes no adapter")
}

/// The venues of a program that adds `fake`.
fn with_fake() -> config::Venues {
    config::Venues::builtin().with("fake", no_adapter)
}

fn refuse_with_fake(text: &str) -> ConfigError {
    match config::parse_with_venues(text, Path::new("/etc/pulse"), None, &with_fake()) {
        Ok(_) => panic!("config was accepted:\n{text}"),
        Err(e) => e,
    }
}

#[test]
fn several_sources_each_feed_their_instruments() {
    let spot = capture("name = \"spot\"\nvenue = \"binance\"");
    let usdm = capture("venue = \"binance-usdm\"").replace("spot.cap", "usdm.cap");
    let cfg = config::parse(
        &with_sources(&(spot.clone() + &usdm)),
        Path::new("/etc/pulse"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        feeds(&cfg),
        [
            ("spot", vec![InstrumentId(0)]),
            ("binance-usdm", vec![InstrumentId(1)])
        ]
    );
    let SourceConfig::Capture { path, .. } = &cfg.more_sources[0] else {
        panic!("a capture source")
    };
    assert_eq!(path, Path::new("/etc/pulse/usdm.cap"));
    assert_eq!(cfg.all_sources().count(), 2);

    // A capture of every built-in venue (named `capture`) beside an added venue that names
    // its instrument: the capture takes the others.
    let fake = capture("venue = \"fake\"\ninstruments = [\"ETHUSDT\"]");
    let text = with_sources(&(capture("") + &fake));
    let cfg = config::parse_with_venues(&text, Path::new("/etc/pulse"), None, &with_fake())
        .unwrap_or_else(|e| panic!("{e}"));
    let feeds: Vec<(&str, Option<&str>, Vec<InstrumentId>)> = cfg
        .feeds
        .iter()
        .map(|f| (f.name.as_str(), f.venue.as_deref(), f.instruments.clone()))
        .collect();
    assert_eq!(
        feeds,
        [
            ("capture", None, vec![InstrumentId(0)]),
            ("fake", Some("fake"), vec![InstrumentId(1)])
        ]
    );

    // One `[source]` feeds every instrument and has no feed specs.
    let cfg = config::parse(&demo(), Path::new("/etc/pulse")).unwrap();
    assert!(cfg.feeds.is_empty() && cfg.more_sources.is_empty());
}

#[test]
fn source_and_sources_together() {
    let text = demo_with(DEMO_SOURCE, &format!("{DEMO_SOURCE}\n{}", capture("")));
    let line = line_starting(&text, "kind = \"capture\"                # replay");
    let message = assert_refused(&text, "sources", Some(line));
    assert_eq!(
        message,
        "give either [source] (one feed) or [[sources]] (several), not both"
    );
    // The keys of several feeds belong to `[[sources]]`.
    let text = demo_with(DEMO_SOURCE, &format!("{DEMO_SOURCE}name = \"spot\"\n"));
    let message = assert_refused(
        &text,
        "source.name",
        Some(line_starting(&text, "name = \"spot\"")),
    );
    assert!(message.contains("[[sources]]"), "{message}");
}

#[test]
fn two_sources_claiming_one_instrument() {
    let spot = capture("instruments = [\"BTCUSDT\"]");
    let again = capture("name = \"again\"\ninstruments = [\"ETHUSDT\", \"binance:btcusdt\"]");
    let text = with_sources(&(spot + &again));
    let line = line_starting(&text, "instruments = [\"ETHUSDT\"");
    let message = assert_refused(&text, "sources[1].instruments", Some(line));
    assert_eq!(message, "`binance:btcusdt` is fed by sources[0] already");

    // Two sources without `instruments` that would both take an instrument.
    let text = with_sources(&(capture("name = \"a\"") + &capture("name = \"b\"")));
    let line = lines_starting(&text, "kind = \"capture\"")[1];
    let message = assert_refused(&text, "sources[1]", Some(line));
    assert_eq!(
        message,
        "binance:BTCUSDT is fed by sources[0] too: name each source's `instruments`"
    );
}

#[test]
fn unknown_source_venue() {
    let text =
        with_sources(&(capture("") + &capture("venue = \"nowhere\"\ninstruments = [\"ETHUSDT\"]")));
    let line = line_starting(&text, "venue = \"nowhere\"");
    let message = assert_refused(&text, "sources[1].venue", Some(line));
    assert_eq!(
        message,
        format!("unknown venue, expected one of {}", builtin_venues())
    );
    let err = refuse_with_fake(&text);
    assert_eq!(
        (err.key.as_str(), err.line),
        ("sources[1].venue", Some(line))
    );
    assert_eq!(
        err.message,
        format!("unknown venue, expected one of {}, fake", builtin_venues())
    );

    // An added venue's source names its instruments; an instrument named must exist.
    let text = with_sources(&(capture("") + &capture("venue = \"fake\"")));
    let err = refuse_with_fake(&text);
    let line = line_starting(&text, "venue = \"fake\"");
    assert_eq!(
        (err.key.as_str(), err.line),
        ("sources[1].venue", Some(line))
    );
    assert_eq!(
        err.message,
        "an added venue's source needs `instruments = [...]`"
    );
    let xrp = capture("name = \"xrp\"\ninstruments = [\"XRPUSDT\"]");
    let text = with_sources(&(capture("") + &xrp));
    let line = line_starting(&text, "instruments = [\"XRPUSDT\"]");
    let message = assert_refused(&text, "sources[1].instruments", Some(line));
    assert_eq!(message, "`XRPUSDT` is not a configured instrument");
}

#[test]
fn an_instrument_no_source_feeds() {
    let text = with_sources(&capture("venue = \"binance\""));
    let line = line_starting(&text, "kind = \"capture\"");
    let message = assert_refused(&text, "sources", Some(line));
    assert_eq!(
        message,
        "no source feeds binance-usdm:ETHUSDT; name it in a source's `instruments`"
    );
}

#[test]
fn too_many_sources() {
    let mut sources = capture("");
    for n in 1..=8 {
        sources += &capture(&format!("name = \"s{n}\"\ninstruments = []"));
    }
    let text = with_sources(&sources);
    let first = lines_starting(&text, "[[sources]]")[0];
    let message = assert_refused(&text, "sources", Some(first));
    assert_eq!(message, "at most 8 sources");
}

#[test]
fn source_names() {
    let text = with_sources(&capture("name = \"Spot Feed\""));
    let line = line_starting(&text, "name = \"Spot Feed\"");
    let message = assert_refused(&text, "sources[0].name", Some(line));
    assert_eq!(
        message,
        "must be 1 to 32 characters of a-z, 0-9, `_` or `-`"
    );

    let usdm = capture("name = \"spot\"\ninstruments = [\"ETHUSDT\"]");
    let text = with_sources(&(capture("name = \"spot\"\ninstruments = [\"BTCUSDT\"]") + &usdm));
    let line = lines_starting(&text, "name = \"spot\"")[1];
    let message = assert_refused(&text, "sources[1].name", Some(line));
    assert_eq!(
        message,
        "another source is named `spot`: give each source its own `name`"
    );
}

#[test]
fn a_live_source_per_venue() {
    let live = |kind: &str, extra: &str| {
        format!(
            "[[sources]]\nkind = \"{kind}\"\nws_url = \"wss://example.com\"\n\
             rest_url = \"https://example.com\"\n{extra}\n"
        )
    };
    let text = with_sources(&(live("binance", "") + &live("binance-usdm", "")));
    let cfg = config::parse(&text, Path::new("/etc/pulse")).unwrap_or_else(|e| panic!("{e}"));
    let venues: Vec<Venue> = cfg
        .all_sources()
        .map(|s| match s {
            SourceConfig::Live(live) => live.venue,
            SourceConfig::Capture { .. } => panic!("a live source"),
        })
        .collect();
    assert_eq!(venues, [Venue::Binance, Venue::BinanceUsdm]);
    assert_eq!(
        feeds(&cfg),
        [
            ("binance", vec![InstrumentId(0)]),
            ("binance-usdm", vec![InstrumentId(1)])
        ]
    );

    // A live source's kind is its venue, and it feeds all of that venue's instruments.
    let text = with_sources(&(live("binance", "venue = \"binance\"") + &live("binance-usdm", "")));
    let message = assert_refused(
        &text,
        "sources[0].venue",
        Some(lines_starting(&text, "venue = \"binance\"")[0]),
    );
    assert_eq!(message, "a live source's kind is its venue");
    let only = "instruments = [\"BTCUSDT\"]";
    let text = with_sources(&(live("binance", only) + &live("binance-usdm", "")));
    let message = assert_refused(
        &text,
        "sources[0].instruments",
        Some(line_starting(&text, only)),
    );
    assert_eq!(message, "a live source feeds every instrument of its venue");
}

/// Binance, OKX and Kraken live in one process: one feed each, over its venue's instruments.
#[test]
fn live_sources_of_in_band_venues_beside_binance() {
    let binance = |kind: &str| {
        format!(
            "[[sources]]\nkind = \"{kind}\"\nws_url = \"wss://example.com\"\n\
             rest_url = \"https://example.com\"\n\n"
        )
    };
    let sources = binance("binance")
        + &binance("binance-usdm")
        + "[[sources]]\nkind = \"okx\"\n\n[[sources]]\nkind = \"kraken\"\ndepth = 25\n\n";
    let instrument = |venue: &str, symbol: &str| {
        ETHUSDT
            .replace("binance-usdm", venue)
            .replace("\"ETHUSDT\"", &format!("\"{symbol}\""))
    };
    let text = with_sources(&sources).replacen(
        "\n[risk]\n",
        &format!(
            "\n{}{}[risk]\n",
            instrument("okx", "ETH-USDT"),
            instrument("kraken", "ETH/USD")
        ),
        1,
    );
    let cfg = config::parse(&text, Path::new("/etc/pulse")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        feeds(&cfg),
        [
            ("binance", vec![InstrumentId(0)]),
            ("binance-usdm", vec![InstrumentId(1)]),
            ("okx", vec![InstrumentId(2)]),
            ("kraken", vec![InstrumentId(3)]),
        ]
    );
    let syncs: Vec<LiveSync> = cfg
        .all_sources()
        .filter_map(|s| match s {
            SourceConfig::Live(live) => Some(live.sync.clone()),
            SourceConfig::Capture { .. } => None,
        })
        .skip(2)
        .collect();
    assert_eq!(
        syncs,
        [
            LiveSync::InBand { depth: 400 },
            LiveSync::InBand { depth: 25 }
        ]
    );
    // Every live feed's ring must hold its snapshot, not only the first source's.
    let text = text.replace("depth = 25", "depth = 1000") + "[rings]\nmarket_data = 1024\n";
    let message = assert_refused(
        &text,
        "rings.market_data",
        Some(line_starting(&text, "market_data")),
    );
    assert_eq!(
        message,
        "must hold a whole snapshot of 1000 levels a side: at least 2016"
    );
}

/// Every built-in venue's name, as the config's refusals list them.
fn builtin_venues() -> String {
    pulse_feeds::instrument::Venue::ALL
        .map(|v| v.name())
        .join(", ")
}
