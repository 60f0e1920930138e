//! Strict start-up configuration: a TOML file becomes typed, validated values, or one error that
//! names the key and the line, and nothing starts.
//!
//! Strict because a trading engine that guesses is worse than one that refuses: an unknown key
//! is usually a typo of a known one, and a limit rounded to fit a scale is not the limit the
//! operator wrote. So every table denies unknown keys, decimals are parsed exactly at their
//! instrument's scale (never through a float), and every instrument must carry risk limits.
//! `configs/demo.toml` is the commented reference.

mod book;
mod check;
mod error;
mod events;
mod funds;
pub mod overrides;
mod private_paths;
mod raw;
mod raw_book;
mod runtime;

use std::path::{Path, PathBuf};

use pulse_feeds::instrument::{InstrumentRegistry, Venue};
use pulse_feeds::num::{InstrumentId, Nanos};
pub use pulse_feeds::venues::Venues;
use pulse_journal::SyncMode;

use crate::user_strategy::UserSpec;
pub use book::{MarginConfig, PortfolioRiskConfig, StressConfig, StressKind};
pub use error::ConfigError;
pub use events::{EventsConfig, NotifyConfig};
pub use funds::FundsConfig;
pub use pulse_risk::limits::{InstrumentLimits, PortfolioLimits};
pub use pulse_strategy::imbalance::ImbalanceConfig;
pub use runtime::{
    IdleKind, RingConfig, RuntimeConfig, StageFailurePolicy, StageKind, ThreadConfig,
};

/// Reads and validates the config file at `path`; relative paths inside it resolve against the
/// file's directory, so a config works from any working directory.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    load_with(path, None)
}

/// [`load`] for a command line built with a user strategy: `kind = "user"` selects it, and its
/// declared parameters check `[strategy.params]`.
pub fn load_with(path: &Path, user: Option<UserSpec>) -> Result<Config, ConfigError> {
    load_with_venues(path, user, &Venues::builtin())
}

/// [`load_with`] for a program that adds venues: a capture source's `venue` may name them.
pub fn load_with_venues(
    path: &Path,
    user: Option<UserSpec>,
    venues: &Venues,
) -> Result<Config, ConfigError> {
    overrides::load(path, &[], user, venues)
}

/// Validates config text; relative paths inside it resolve against `base_dir`.
///
/// ```
/// use std::path::Path;
/// let text = "[engine]\nname = \"demo\"\ncolour = \"red\"\n";
/// let err = pulse_engine::config::parse(text, Path::new(".")).unwrap_err();
/// assert_eq!((err.key.as_str(), err.line), ("engine.colour", Some(3)));
/// assert_eq!(
///     err.to_string(),
///     "line 3: engine.colour: unknown key, expected `name` or `run_dir`"
/// );
/// ```
pub fn parse(text: &str, base_dir: &Path) -> Result<Config, ConfigError> {
    parse_with(text, base_dir, None)
}

/// [`parse`] with the user strategy `kind = "user"` selects, if any.
pub fn parse_with(
    text: &str,
    base_dir: &Path,
    user: Option<UserSpec>,
) -> Result<Config, ConfigError> {
    parse_with_venues(text, base_dir, user, &Venues::builtin())
}

/// [`parse_with`] for a program that adds venues.
pub fn parse_with_venues(
    text: &str,
    base_dir: &Path,
    user: Option<UserSpec>,
    venues: &Venues,
) -> Result<Config, ConfigError> {
    let raw: raw::RawConfig = toml::from_str(text).map_err(|e| {
        let mut err = error::toml_error(text, &e);
        // `[source]` or `[[sources]]`: neither is required alone, so serde cannot name the
        // missing one; it is the first table after `[engine]`, missed before any later one.
        let top = toml::from_str::<toml::Table>(text);
        let sourceless = top.is_ok_and(|t| !t.contains_key("source") && !t.contains_key("sources"));
        let after = matches!(err.key.as_str(), "instruments" | "strategy" | "gateway");
        if after && err.line.is_none() && err.message == "required key is missing" && sourceless {
            err.key = "source".into();
        }
        err
    })?;
    check::config(text, base_dir, raw, user, venues)
}

/// The whole validated configuration.
#[derive(Clone, Debug)]
pub struct Config {
    pub engine: EngineConfig,
    /// Where market data comes from: `[source]`, or the first of `[[sources]]`.
    pub source: SourceConfig,
    /// The second and later `[[sources]]`, each a feed of its own (none with `[source]`).
    pub more_sources: Vec<SourceConfig>,
    /// By source (`source` first, then `more_sources`): its name and the instruments it
    /// feeds. Empty with `[source]`: its one feed keeps every book.
    pub feeds: Vec<FeedSpec>,
    /// The venues the program added beyond the built-in ones ([`load_with_venues`]).
    pub venues: Venues,
    pub runtime: RuntimeConfig,
    pub rings: RingConfig,
    pub instruments: InstrumentRegistry,
    /// Risk limits of each instrument, indexed by `InstrumentId.0`.
    pub limits: Vec<InstrumentLimits>,
    pub risk: RiskConfig,
    /// `[strategy]`, or the first of `[[strategies]]`.
    pub strategy: StrategyConfig,
    /// The second and later `[[strategies]]` (none with `[strategy]`): one strategy stage runs
    /// them all, each trading instruments no other strategy trades.
    pub more_strategies: Vec<StrategyConfig>,
    pub gateway: GatewayConfig,
    /// `None`: nothing is journaled.
    pub journal: Option<JournalConfig>,
    pub metrics: MetricsConfig,
    pub events: EventsConfig,
    /// `[notify]`: the webhook; `None` without the table.
    pub notify: Option<NotifyConfig>,
    /// `[scenario]`: a stress test of a backtest (simulated venue only).
    pub scenario: Option<ScenarioConfig>,
    /// `[portfolio]`: the portfolio stage and its limits; `None` runs without it.
    pub portfolio: Option<PortfolioRiskConfig>,
    /// Valuation, balances and capital allocation (`[risk]`, `[portfolio.allocation]`).
    pub funds: FundsConfig,
    /// Per instrument (by `InstrumentId.0`), `[instruments.margin]`: `None` trades cash.
    pub margins: Vec<Option<MarginConfig>>,
}

/// `[scenario]`: the market the strategy, risk and the simulated venue see, changed
/// (`pulse_feeds::scenario`), and a spike of the venue's order latency.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioConfig {
    pub name: String,
    pub market: pulse_feeds::scenario::Scenario,
    /// Orders decided from `at` for `spike_for` reach the venue `spike` later.
    pub spike: pulse_feeds::num::Nanos,
    pub spike_for: pulse_feeds::num::Nanos,
}

impl Config {
    /// Every source, `source` first.
    pub fn all_sources(&self) -> impl Iterator<Item = &SourceConfig> {
        std::iter::once(&self.source).chain(&self.more_sources)
    }

    /// Every strategy, `strategy` first.
    pub fn all_strategies(&self) -> impl Iterator<Item = &StrategyConfig> {
        std::iter::once(&self.strategy).chain(&self.more_strategies)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineConfig {
    /// `[a-z0-9_-]{1,32}`: it names files (stats, journal), so it stays file-name safe.
    pub name: String,
    /// The private directory of the stats, control and default kill files
    /// ([`crate::run_dir`]); `[engine] run_dir`, else [`crate::run_dir::default_dir`].
    pub run_dir: PathBuf,
}

/// Sources a `[[sources]]` list holds at most.
pub const MAX_SOURCES: usize = 8;

/// One feed of several (`[[sources]]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedSpec {
    /// `name`, else the venue's name (`capture` for a capture of every built-in venue): the
    /// `source` label of the feed's metrics.
    pub name: String,
    /// A capture source's added venue (`venue` naming one of [`Config::venues`]).
    pub venue: Option<String>,
    /// The instruments whose books this source feeds, in id order; every configured
    /// instrument is fed by exactly one source.
    pub instruments: Vec<InstrumentId>,
}

/// Where market data comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SourceConfig {
    /// Replay of a capture file; the path is resolved against the config file's directory but
    /// not checked here: the source reports a missing file when it opens it.
    Capture {
        path: PathBuf,
        /// Replay pace in thousandths of recorded time: 1000 = as recorded, 10000 = ten times
        /// faster; 0 = as fast as the engine goes (the default).
        speed_milli: u64,
        /// Further capture files read after `path`, in this order, as one stream (`pulse
        /// backtest` given several days of one source); empty from a config file.
        then: Vec<PathBuf>,
    },
    /// A live venue session (`kind = "binance"`, `"binance-usdm"`, `"okx"`, `"kraken"`).
    Live(LiveSourceConfig),
}

/// A live market data source: one WebSocket for every instrument of the venue, its books
/// synced as the venue's procedure says ([`LiveSync`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveSourceConfig {
    pub venue: Venue,
    /// `ws://` or `wss://` endpoint. Binance: the host (and port), e.g.
    /// `wss://stream.binance.com:9443`, Pulse adds `/stream?streams=...`. A venue whose
    /// snapshot comes in-band: the whole URL (default the venue's public endpoint); a host
    /// alone gets the venue's path.
    pub ws_url: String,
    /// An extra CA certificate (PEM) to trust besides Mozilla's roots, for a local test venue.
    pub ca_file: Option<PathBuf>,
    pub sync: LiveSync,
    pub connect_timeout: Nanos,
    pub no_data_timeout: Nanos,
    /// One symbol's depth stream silent this long, on a connection that carries other data,
    /// reconnects the session (a per-stream watchdog; raise it for illiquid symbols).
    pub stream_timeout: Nanos,
    pub reconnect_min: Nanos,
    pub reconnect_max: Nanos,
    /// Reconnect on purpose after this long (before the venue's 24 h cut-off).
    pub max_session_age: Nanos,
}

/// Where a live source's book snapshots come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LiveSync {
    /// Binance: a REST snapshot bridged to the buffered diff stream.
    Rest {
        /// `http://` or `https://` host of the REST API, e.g. `https://api.binance.com`.
        rest_url: String,
        /// `depth@100ms` (spot default), `depth@0ms` (futures), ...
        depth_stream: String,
        snapshot_limit: u32,
    },
    /// OKX, Kraken: the venue sends a book's snapshot on the stream after its subscription
    /// (and again on a resubscription); no REST worker.
    InBand {
        /// Levels a side of a snapshot: OKX `books` 400; Kraken the subscribed depth.
        depth: u32,
    },
}

impl LiveSync {
    /// Levels a side of one snapshot, which the market-data ring must hold as one batch.
    pub fn snapshot_levels(&self) -> u32 {
        match self {
            LiveSync::Rest { snapshot_limit, .. } => *snapshot_limit,
            LiveSync::InBand { depth } => *depth,
        }
    }
}

/// Journal segment size unless `[journal] segment_mb` says otherwise.
pub const DEFAULT_SEGMENT_BYTES: u64 = 64 << 20;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JournalConfig {
    /// Holds one subdirectory per stream: `input`, `output` and `events`.
    pub dir: PathBuf,
    pub segment_bytes: u64,
    /// When an ORDER record of the output stream counts as written (`sync`): in the page
    /// cache (`none`, the default), `msync`ed every 50 ms (`batch`), or `msync`ed before the
    /// order is sent (`order`). See [`SyncMode`] for what each survives.
    pub sync: SyncMode,
    /// Fault drill: the output stream's Nth I/O operation fails (`--journal-fail-io-at`).
    pub fail_io_at: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetricsConfig {
    /// Publish the shared-memory stats file (on by default).
    pub stats: bool,
    /// Where; `None` is `<engine.run_dir>/<engine.name>.stats`. Elsewhere, its directory must
    /// be one no other user can write (checked by [`load`]).
    pub stats_file: Option<PathBuf>,
    /// Serve Prometheus text on `http://<addr>/metrics` from the metrics thread.
    pub prometheus_listen: Option<std::net::SocketAddr>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RiskConfig {
    /// While this file exists, no order goes out; `None` is `<engine.run_dir>/<engine.name>.kill`.
    /// Elsewhere, its directory must be one no other user can write (checked by [`load`]).
    pub kill_switch_file: Option<PathBuf>,
    pub start_killed: bool,
    /// The account and its limits (`capital` and the rest of `[risk]`).
    pub portfolio: PortfolioLimits,
    /// `kill_mode`: whether an engaged kill switch also closes positions.
    pub kill_mode: pulse_risk::KillMode,
    /// The engine's exits, by instrument (from each strategy's `exits`), and `[risk.exits]`.
    pub exits: Vec<pulse_risk::exits::ExitRules>,
    pub exit_settings: pulse_risk::exits::ExitSettings,
}

#[derive(Clone, Debug)]
pub enum StrategyConfig {
    BookImbalance(ImbalanceConfig),
    /// Boxed: its knob tables make it several times the other's size.
    Ensemble(Box<EnsembleSettings>),
    MarketMaker(pulse_strategy::market_maker::MarketMakerConfig),
    /// `kind = "user"`: the strategy the command line was built with.
    User(crate::user_strategy::UserSettings),
}

impl StrategyConfig {
    /// The instrument it trades.
    pub fn instrument(&self) -> InstrumentId {
        match self {
            StrategyConfig::BookImbalance(s) => s.instrument,
            StrategyConfig::Ensemble(s) => s.strategy.taker.instrument,
            StrategyConfig::MarketMaker(s) => s.instrument,
            StrategyConfig::User(s) => s.context.instrument,
        }
    }

    /// Its `kind` as the file writes it.
    pub fn kind(&self) -> &str {
        match self {
            StrategyConfig::BookImbalance(_) => ImbalanceConfig::DECL.kind,
            StrategyConfig::Ensemble(_) => pulse_strategy::ensemble::EnsembleConfig::DECL.kind,
            StrategyConfig::MarketMaker(_) => {
                pulse_strategy::market_maker::MarketMakerConfig::DECL.kind
            }
            StrategyConfig::User(s) => s.spec.kind,
        }
    }
}

/// `kind = "ensemble"`: the strategy's parameters and, optionally, the policy network's
/// weights file (loaded when the pipeline is built).
#[derive(Clone, Debug)]
pub struct EnsembleSettings {
    pub strategy: pulse_strategy::ensemble::EnsembleConfig,
    pub policy_file: Option<PathBuf>,
    /// Outside scores per instrument ([`crate::outside`]).
    pub signal_file: Option<PathBuf>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GatewayConfig {
    Sim(SimConfig),
    /// Binance spot's WebSocket API (or `pulse venue` speaking it).
    Binance(BinanceGatewayConfig),
}

/// Where a secret is read from when the engine starts (never stored in the config).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeySource {
    Env(String),
    /// A file readable by its owner only.
    File(PathBuf),
    /// An environment variable `pulse run` has already read and removed, before any thread
    /// started ([`crate::live_gateway::take_env_secrets`]).
    Taken(crate::secrets::TakenSecret),
}

/// How requests are signed: an HMAC secret, or an Ed25519 private key (PKCS#8 PEM file).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SigningKey {
    Hmac(KeySource),
    Ed25519(PathBuf),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BinanceGatewayConfig {
    /// `wss://ws-api.binance.com:443/ws-api/v3`, or a local venue's `ws://.../ws-api/v3`.
    pub ws_api_url: String,
    /// `https://api.binance.com`: the REST fallback for cancels and queries while the
    /// WebSocket API session is down (none without it).
    pub rest_url: Option<String>,
    pub ca_file: Option<PathBuf>,
    pub api_key: KeySource,
    pub signing: SigningKey,
    pub recv_window_ms: u64,
    /// A request unanswered this long is in doubt (a new order: outcome unknown).
    pub response_timeout: Nanos,
    /// The account's request limits (Binance's defaults unless the account has others).
    pub limits: pulse_gateways::binance::limits::Limits,
}

/// Fees in parts per million of notional (1 bps = 100 ppm).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimConfig {
    pub taker_fee_ppm: i64,
    pub maker_fee_ppm: i64,
    /// Fault drill: the response to every Nth new order is lost (0: never).
    pub lose_response_every: u64,
    /// How long market data, new orders and cancels take (zero by default).
    pub latency: pulse_gateways::latency::VenueLatency,
    /// `pulse backtest` only (never from a file): the venue samples every touch on this grid
    /// of market time and each order's arrival mid for the report.
    pub tape: Option<pulse_feeds::num::Nanos>,
}
