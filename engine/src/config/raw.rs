//! The file's shape as serde reads it: every table denies unknown keys, and every value a later
//! check looks at is `Spanned` so that its error can name the line.

use std::fmt;

use pulse_feeds::instrument::Venue;
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use toml::Spanned;

pub(super) use super::raw_book::{AllocationKind, RawAllocation, RawPortfolio, RawStress};
use super::{IdleKind, StageFailurePolicy, StageKind};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    pub(super) engine: RawEngine,
    pub(super) source: Option<RawSource>,
    /// Several feeds in one process; `[source]` is the one-feed spelling.
    pub(super) sources: Option<Spanned<Vec<RawSource>>>,
    #[serde(default)]
    pub(super) runtime: RawRuntime,
    #[serde(default)]
    pub(super) rings: RawRings,
    pub(super) instruments: Spanned<Vec<RawInstrument>>,
    #[serde(default)]
    pub(super) risk: RawRisk,
    pub(super) strategy: Option<RawStrategy>,
    /// Several strategies in one process, each trading its own instruments; `[strategy]` is
    /// the one-strategy spelling.
    pub(super) strategies: Option<Spanned<Vec<RawStrategy>>>,
    pub(super) gateway: RawGateway,
    pub(super) journal: Option<RawJournal>,
    #[serde(default)]
    pub(super) metrics: RawMetrics,
    /// A backtest's stress scenario (simulated venue only).
    pub(super) scenario: Option<RawScenario>,
    /// Risk across the book: the portfolio stage's model, its limits and stress tests.
    pub(super) portfolio: Option<RawPortfolio>,
    pub(super) events: Option<super::events::RawEvents>,
    pub(super) notify: Option<super::events::RawNotify>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawScenario {
    pub(super) name: Option<Spanned<String>>,
    pub(super) at_s: Option<Spanned<DecimalText>>,
    pub(super) price_shock_pct: Option<Spanned<DecimalText>>,
    pub(super) vol_scale: Option<Spanned<DecimalText>>,
    pub(super) depth_scale: Option<Spanned<DecimalText>>,
    pub(super) outage_s: Option<Spanned<DecimalText>>,
    pub(super) latency_spike_ms: Option<Spanned<DecimalText>>,
    pub(super) spike_s: Option<Spanned<DecimalText>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawJournal {
    pub(super) dir: Spanned<String>,
    pub(super) segment_mb: Option<Spanned<i64>>,
    #[serde(default)]
    pub(super) sync: RawSync,
}

#[derive(Clone, Copy, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(super) enum RawSync {
    #[default]
    None,
    Batch,
    Order,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMetrics {
    pub(super) stats: Option<bool>,
    pub(super) stats_file: Option<Spanned<String>>,
    pub(super) prometheus_listen: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEngine {
    pub(super) name: Spanned<String>,
    pub(super) run_dir: Option<Spanned<String>>,
}

/// `kind` selects the variant. With one variant per table the kind's keys live in the same
/// struct; serde's internally tagged enums would lose the spans every error needs.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSource {
    pub(super) kind: Spanned<SourceKind>,
    /// `[[sources]]` only: the source's name (its metrics' `source` label).
    pub(super) name: Option<Spanned<String>>,
    /// A capture source's venue: a built-in one or one the program added; default every
    /// built-in venue.
    pub(super) venue: Option<Spanned<String>>,
    /// The instruments this source feeds (`SYMBOL` or `venue:SYMBOL`); default every
    /// instrument of its venue no other source names.
    pub(super) instruments: Option<Spanned<Vec<Spanned<String>>>>,
    pub(super) path: Option<Spanned<String>>,
    pub(super) speed: Option<Spanned<DecimalText>>,
    pub(super) ws_url: Option<Spanned<String>>,
    pub(super) rest_url: Option<Spanned<String>>,
    pub(super) ca_file: Option<Spanned<String>>,
    pub(super) depth_stream: Option<Spanned<String>>,
    /// Kraken: the book depth subscribed, levels a side.
    pub(super) depth: Option<Spanned<i64>>,
    pub(super) snapshot_limit: Option<Spanned<i64>>,
    pub(super) connect_timeout_ms: Option<Spanned<i64>>,
    pub(super) no_data_timeout_ms: Option<Spanned<i64>>,
    pub(super) stream_timeout_ms: Option<Spanned<i64>>,
    pub(super) reconnect_min_ms: Option<Spanned<i64>>,
    pub(super) reconnect_max_ms: Option<Spanned<i64>>,
    pub(super) max_session_age_s: Option<Spanned<i64>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(super) enum SourceKind {
    Capture,
    Binance,
    BinanceUsdm,
    Okx,
    Kraken,
    BybitSpot,
    BybitLinear,
    Coinbase,
}

impl SourceKind {
    /// The venue of a live source; `None` for a capture. One arm per venue with a live feed.
    pub(super) fn live_venue(self) -> Option<Venue> {
        match self {
            SourceKind::Capture => None,
            SourceKind::Binance => Some(Venue::Binance),
            SourceKind::BinanceUsdm => Some(Venue::BinanceUsdm),
            SourceKind::Okx => Some(Venue::Okx),
            SourceKind::Kraken => Some(Venue::Kraken),
            SourceKind::BybitSpot => Some(Venue::BybitSpot),
            SourceKind::BybitLinear => Some(Venue::BybitLinear),
            SourceKind::Coinbase => Some(Venue::Coinbase),
        }
    }

    /// What the config calls it (the `kind` value).
    pub(super) fn name(self) -> &'static str {
        match self {
            SourceKind::Capture => "capture",
            SourceKind::Binance => "binance",
            SourceKind::BinanceUsdm => "binance-usdm",
            SourceKind::Okx => "okx",
            SourceKind::Kraken => "kraken",
            SourceKind::BybitSpot => "bybit-spot",
            SourceKind::BybitLinear => "bybit-linear",
            SourceKind::Coinbase => "coinbase",
        }
    }
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRuntime {
    pub(super) idle: Option<IdleKind>,
    pub(super) on_stage_failure: Option<StageFailurePolicy>,
    pub(super) threads: Option<Spanned<Vec<RawThread>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawThread {
    pub(super) name: Spanned<String>,
    pub(super) stages: Spanned<Vec<Spanned<StageKind>>>,
    pub(super) core: Option<Spanned<i64>>,
    pub(super) idle: Option<IdleKind>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRings {
    pub(super) market_data: Option<Spanned<i64>>,
    pub(super) book_events: Option<Spanned<i64>>,
    pub(super) intents: Option<Spanned<i64>>,
    pub(super) orders: Option<Spanned<i64>>,
    pub(super) reports: Option<Spanned<i64>>,
    pub(super) max_memory_mb: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawInstrument {
    pub(super) venue: Spanned<String>,
    pub(super) symbol: Spanned<String>,
    pub(super) price_scale: Spanned<i64>,
    pub(super) qty_scale: Spanned<i64>,
    pub(super) tick_size: Spanned<DecimalText>,
    pub(super) lot_size: Spanned<DecimalText>,
    /// The base and quote assets (`BTC`, `USDT`): required when a live gateway trades the
    /// instrument, which reads balances and fees by asset.
    pub(super) base: Option<Spanned<String>>,
    pub(super) quote: Option<Spanned<String>>,
    pub(super) risk: RawLimits,
    /// `[instruments.margin]`: the instrument trades on margin (a linear perpetual).
    pub(super) margin: Option<RawMargin>,
}

/// `[instruments.margin]`, checked in `check/margin.rs`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMargin {
    pub(super) leverage: Spanned<i64>,
    /// `[notional cap, max leverage, maintenance rate %]` per bracket.
    pub(super) brackets: Spanned<Vec<Spanned<(DecimalText, i64, DecimalText)>>>,
    pub(super) call_pct: Spanned<DecimalText>,
    pub(super) reduce_pct: Spanned<DecimalText>,
    pub(super) margin: Spanned<DecimalText>,
    pub(super) funding_rate_pct: Option<Spanned<DecimalText>>,
    pub(super) funding_interval_h: Option<Spanned<DecimalText>>,
    /// The venue's recorded funding history (`funding_time_ms,rate` lines).
    pub(super) funding_file: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLimits {
    pub(super) max_order_qty: Spanned<DecimalText>,
    pub(super) max_order_notional: Spanned<DecimalText>,
    pub(super) max_position: Spanned<DecimalText>,
    pub(super) price_collar_bps: Spanned<i64>,
    pub(super) max_ref_age_ms: Spanned<i64>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRisk {
    pub(super) kill_switch_file: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) start_killed: bool,
    pub(super) capital: Option<Spanned<DecimalText>>,
    pub(super) max_gross_exposure: Option<Spanned<DecimalText>>,
    pub(super) max_position_share_pct: Option<Spanned<DecimalText>>,
    pub(super) max_open_orders: Option<Spanned<i64>>,
    pub(super) max_messages: Option<Spanned<i64>>,
    pub(super) throttle_window_ms: Option<Spanned<i64>>,
    pub(super) duplicate_window_ms: Option<Spanned<i64>>,
    pub(super) max_auto_fills: Option<Spanned<i64>>,
    pub(super) daily_loss_limit: Option<Spanned<DecimalText>>,
    pub(super) drawdown_halve_pct: Option<Spanned<DecimalText>>,
    pub(super) drawdown_restrict_pct: Option<Spanned<DecimalText>>,
    pub(super) drawdown_stop_pct: Option<Spanned<DecimalText>>,
    pub(super) min_confidence: Option<Spanned<DecimalText>>,
    pub(super) sizing: Option<RawSizing>,
    /// What an engaged kill switch does with positions: "cancel" (keep them) or "flatten".
    pub(super) kill_mode: Option<Spanned<String>>,
    pub(super) exits: Option<RawExitSettings>,
    /// The currency every amount is valued in (default USDT).
    pub(super) account_currency: Option<Spanned<String>>,
    /// Quote assets converted at a fixed rate into the account currency.
    pub(super) fixed_rates: Option<AssetAmounts>,
    /// The venue's balances per asset at start; none: no balance check.
    pub(super) balances: Option<AssetAmounts>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSizing {
    pub(super) mode: Spanned<SizingMode>,
    pub(super) kelly_payoff: Option<Spanned<DecimalText>>,
    pub(super) kelly_cap: Option<Spanned<DecimalText>>,
    pub(super) fraction: Option<Spanned<DecimalText>>,
    pub(super) stop_vols: Option<Spanned<DecimalText>>,
    pub(super) min_vol_bps: Option<Spanned<DecimalText>>,
}

#[derive(Clone, Copy, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(super) enum SizingMode {
    Strategy,
    Kelly,
    FixedFractional,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStrategy {
    pub(super) kind: Spanned<StrategyKind>,
    pub(super) instrument: Spanned<String>,
    pub(super) depth_levels: Option<Spanned<i64>>,
    pub(super) threshold_bps: Option<Spanned<i64>>,
    pub(super) order_qty: Spanned<DecimalText>,
    pub(super) max_position: Spanned<DecimalText>,
    pub(super) cooldown_ms: Spanned<i64>,
    pub(super) slippage_ticks: Option<Spanned<i64>>,
    pub(super) min_confidence: Option<Spanned<DecimalText>>,
    pub(super) policy_file: Option<Spanned<String>>,
    pub(super) signal_file: Option<Spanned<String>>,
    pub(super) indicators: Option<Spanned<Knobs>>,
    pub(super) regime: Option<Spanned<Knobs>>,
    pub(super) meta: Option<Spanned<Knobs>>,
    pub(super) agents: Option<RawAgents>,
    /// The market maker's knobs.
    pub(super) quotes: Option<Spanned<Knobs>>,
    /// A user strategy's declared parameters.
    pub(super) params: Option<Spanned<Knobs>>,
    /// The exits the engine owns for this strategy's positions.
    pub(super) exits: Option<RawExits>,
}

/// Each exit at most one way: a fixed distance in bps, or a multiple of realized volatility
/// (`_vol`) or of the average true range (`_atr`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawExits {
    pub(super) stop_loss_bps: Option<Spanned<i64>>,
    pub(super) stop_loss_vol: Option<Spanned<DecimalText>>,
    pub(super) stop_loss_atr: Option<Spanned<DecimalText>>,
    pub(super) take_profit_bps: Option<Spanned<i64>>,
    pub(super) take_profit_vol: Option<Spanned<DecimalText>>,
    pub(super) take_profit_atr: Option<Spanned<DecimalText>>,
    pub(super) trailing_bps: Option<Spanned<i64>>,
    pub(super) trailing_vol: Option<Spanned<DecimalText>>,
    pub(super) trailing_atr: Option<Spanned<DecimalText>>,
}

/// `[risk.exits]`: how exits measure volatility and retry.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawExitSettings {
    pub(super) bar_ms: Option<Spanned<i64>>,
    pub(super) bars: Option<Spanned<i64>>,
    pub(super) retry_ms: Option<Spanned<i64>>,
}

/// A table of named numbers, each a decimal string: a strategy's knobs. Which names a table
/// takes is checked against the strategy's declaration, so an unknown key is still an error.
pub(super) type Knobs = std::collections::BTreeMap<String, Spanned<DecimalText>>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAgents {
    pub(super) conservative: Option<Spanned<Knobs>>,
    pub(super) aggressive: Option<Spanned<Knobs>>,
    pub(super) balanced: Option<Spanned<Knobs>>,
    pub(super) contrarian: Option<Spanned<Knobs>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(super) enum StrategyKind {
    BookImbalance,
    Ensemble,
    MarketMaker,
    User,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGateway {
    pub(super) kind: Spanned<GatewayKind>,
    pub(super) taker_fee_bps: Option<Spanned<DecimalText>>,
    pub(super) maker_fee_bps: Option<Spanned<DecimalText>>,
    pub(super) lose_response_every: Option<Spanned<i64>>,
    pub(super) market_data_latency_us: Option<Spanned<DecimalText>>,
    pub(super) market_data_latency_file: Option<Spanned<String>>,
    pub(super) order_latency_us: Option<Spanned<DecimalText>>,
    pub(super) order_latency_file: Option<Spanned<String>>,
    pub(super) cancel_latency_us: Option<Spanned<DecimalText>>,
    pub(super) cancel_latency_file: Option<Spanned<String>>,
    pub(super) latency_seed: Option<Spanned<i64>>,
    pub(super) ws_api_url: Option<Spanned<String>>,
    pub(super) rest_url: Option<Spanned<String>>,
    pub(super) ca_file: Option<Spanned<String>>,
    pub(super) api_key_env: Option<Spanned<String>>,
    pub(super) api_key_file: Option<Spanned<String>>,
    pub(super) secret_env: Option<Spanned<String>>,
    pub(super) secret_file: Option<Spanned<String>>,
    pub(super) ed25519_key_file: Option<Spanned<String>>,
    pub(super) recv_window_ms: Option<Spanned<i64>>,
    pub(super) response_timeout_ms: Option<Spanned<i64>>,
    pub(super) weight_per_minute: Option<Spanned<i64>>,
    pub(super) orders_per_10s: Option<Spanned<i64>>,
    pub(super) orders_per_day: Option<Spanned<i64>>,
}

#[derive(Clone, Copy, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(super) enum GatewayKind {
    Sim,
    Binance,
}

/// A decimal as the operator wrote it: a TOML string or integer. A TOML float is refused
/// because it is already binary by the time serde sees it (`0.1` is not 0.1).
pub(super) struct DecimalText(pub(super) String);

impl<'de> Deserialize<'de> for DecimalText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DecimalVisitor;

        impl Visitor<'_> for DecimalVisitor {
            type Value = DecimalText;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a decimal written as a string, e.g. \"0.01\"")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<DecimalText, E> {
                Ok(DecimalText(v.to_owned()))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<DecimalText, E> {
                Ok(DecimalText(v.to_string()))
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<DecimalText, E> {
                Ok(DecimalText(v.to_string()))
            }

            fn visit_f64<E: de::Error>(self, v: f64) -> Result<DecimalText, E> {
                Err(E::custom(format!(
                    "write decimals as strings to keep them exact: \"{v}\", not {v}"
                )))
            }
        }

        deserializer.deserialize_any(DecimalVisitor)
    }
}

/// An asset-to-decimal table (`{ USDT = "10000", BTC = "0.5" }`).
pub(super) type AssetAmounts = Spanned<std::collections::BTreeMap<String, Spanned<DecimalText>>>;
