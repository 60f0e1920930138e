//! The operational tables: `[journal]`, `[metrics]`, `[gateway]`'s latencies and a backtest's
//! `[scenario]`.

use std::net::SocketAddr;

use toml::Spanned;

use pulse_feeds::num::Nanos;
use pulse_feeds::ws::endpoint::Endpoint;
use pulse_gateways::latency::{Latency, VenueLatency};
use pulse_journal::SyncMode;

use super::super::raw::{
    DecimalText, GatewayKind, RawGateway, RawJournal, RawMetrics, RawScenario, RawSync,
};
use super::super::{
    BinanceGatewayConfig, ConfigError, GatewayConfig, JournalConfig, KeySource, MetricsConfig,
    ScenarioConfig, SigningKey, SimConfig, DEFAULT_SEGMENT_BYTES,
};
use super::Checker;

/// Segment sizes allowed, in MiB: a segment must hold the largest REST snapshot several times
/// over, and stay small enough to pre-allocate in a moment.
const SEGMENT_MB: std::ops::RangeInclusive<i64> = 4..=1024;

impl Checker<'_> {
    /// `[gateway]`: the simulated venue's fees, faults and latencies, or Binance's order API
    /// with where its keys come from. Keys of the other kind are refused by name.
    pub(super) fn gateway(&self, raw: &RawGateway) -> Result<GatewayConfig, ConfigError> {
        let span = |v: &Option<Spanned<String>>| v.as_ref().map(Spanned::span);
        let sim_keys = [
            (
                "taker_fee_bps",
                raw.taker_fee_bps.as_ref().map(Spanned::span),
            ),
            (
                "maker_fee_bps",
                raw.maker_fee_bps.as_ref().map(Spanned::span),
            ),
            (
                "lose_response_every",
                raw.lose_response_every.as_ref().map(Spanned::span),
            ),
            (
                "market_data_latency_us",
                raw.market_data_latency_us.as_ref().map(Spanned::span),
            ),
            (
                "market_data_latency_file",
                span(&raw.market_data_latency_file),
            ),
            (
                "order_latency_us",
                raw.order_latency_us.as_ref().map(Spanned::span),
            ),
            ("order_latency_file", span(&raw.order_latency_file)),
            (
                "cancel_latency_us",
                raw.cancel_latency_us.as_ref().map(Spanned::span),
            ),
            ("cancel_latency_file", span(&raw.cancel_latency_file)),
            ("latency_seed", raw.latency_seed.as_ref().map(Spanned::span)),
        ];
        let binance_keys = [
            ("ws_api_url", span(&raw.ws_api_url)),
            ("rest_url", span(&raw.rest_url)),
            ("ca_file", span(&raw.ca_file)),
            ("api_key_env", span(&raw.api_key_env)),
            ("api_key_file", span(&raw.api_key_file)),
            ("secret_env", span(&raw.secret_env)),
            ("secret_file", span(&raw.secret_file)),
            ("ed25519_key_file", span(&raw.ed25519_key_file)),
            (
                "recv_window_ms",
                raw.recv_window_ms.as_ref().map(Spanned::span),
            ),
            (
                "response_timeout_ms",
                raw.response_timeout_ms.as_ref().map(Spanned::span),
            ),
            (
                "weight_per_minute",
                raw.weight_per_minute.as_ref().map(Spanned::span),
            ),
            (
                "orders_per_10s",
                raw.orders_per_10s.as_ref().map(Spanned::span),
            ),
            (
                "orders_per_day",
                raw.orders_per_day.as_ref().map(Spanned::span),
            ),
        ];
        let (kind_name, foreign) = match raw.kind.get_ref() {
            GatewayKind::Sim => ("sim", &binance_keys[..]),
            GatewayKind::Binance => ("binance", &sim_keys[..]),
        };
        if let Some((name, Some(span))) = foreign.iter().find(|(_, span)| span.is_some()) {
            return Err(self.err(
                format!("gateway.{name}"),
                span.clone(),
                format!("not a key of a `{kind_name}` gateway"),
            ));
        }
        if matches!(raw.kind.get_ref(), GatewayKind::Sim) {
            let fee = |name: &str, v: &Option<Spanned<DecimalText>>| match v {
                Some(v) => self.fee(&format!("gateway.{name}"), v),
                None => Err(self.err(
                    format!("gateway.{name}"),
                    raw.kind.span(),
                    "required for a `sim` gateway (basis points, e.g. \"10\")",
                )),
            };
            return Ok(GatewayConfig::Sim(SimConfig {
                taker_fee_ppm: fee("taker_fee_bps", &raw.taker_fee_bps)?,
                maker_fee_ppm: fee("maker_fee_bps", &raw.maker_fee_bps)?,
                lose_response_every: match &raw.lose_response_every {
                    Some(v) => self.int("gateway.lose_response_every", v, 0, i64::MAX)? as u64,
                    None => 0,
                },
                latency: self.latency(raw)?,
                tape: None,
            }));
        }
        let Some(url) = &raw.ws_api_url else {
            return Err(self.err(
                "gateway.ws_api_url",
                raw.kind.span(),
                "required for a `binance` gateway (wss://ws-api.binance.com:443/ws-api/v3)",
            ));
        };
        self.order_endpoint("gateway.ws_api_url", url, "wss")?;
        let source = |name: &str,
                      env: &Option<Spanned<String>>,
                      file: &Option<Spanned<String>>|
         -> Result<Option<KeySource>, ConfigError> {
            match (env, file) {
                (Some(_), Some(f)) => Err(self.err(
                    format!("gateway.{name}_file"),
                    f.span(),
                    format!("give {name}_env or {name}_file, not both"),
                )),
                (Some(e), None) if e.get_ref().is_empty() => Err(self.err(
                    format!("gateway.{name}_env"),
                    e.span(),
                    "must name an environment variable",
                )),
                (Some(e), None) => Ok(Some(KeySource::Env(e.get_ref().clone()))),
                (None, Some(f)) => Ok(Some(KeySource::File(
                    self.path(&format!("gateway.{name}_file"), f)?,
                ))),
                (None, None) => Ok(None),
            }
        };
        let api_key = source("api_key", &raw.api_key_env, &raw.api_key_file)?.ok_or_else(|| {
            self.err(
                "gateway.api_key_env",
                raw.kind.span(),
                "a `binance` gateway needs api_key_env or api_key_file",
            )
        })?;
        let hmac = source("secret", &raw.secret_env, &raw.secret_file)?;
        let signing =
            match (hmac, &raw.ed25519_key_file) {
                (Some(_), Some(f)) => return Err(self.err(
                    "gateway.ed25519_key_file",
                    f.span(),
                    "give an HMAC secret (secret_env / secret_file) or ed25519_key_file, not both",
                )),
                (Some(hmac), None) => SigningKey::Hmac(hmac),
                (None, Some(f)) => SigningKey::Ed25519(self.path("gateway.ed25519_key_file", f)?),
                (None, None) => {
                    return Err(self.err(
                        "gateway.secret_env",
                        raw.kind.span(),
                        "a `binance` gateway signs its requests: give secret_env, secret_file or \
                     ed25519_key_file",
                    ))
                }
            };
        let rest_url = match &raw.rest_url {
            Some(rest) => {
                let endpoint = self.order_endpoint("gateway.rest_url", rest, "https")?;
                if !endpoint.path.is_empty() && endpoint.path != "/" {
                    return Err(self.err(
                        "gateway.rest_url",
                        rest.span(),
                        "give the host only (https://api.binance.com): Pulse adds /api/v3/order",
                    ));
                }
                Some(rest.get_ref().trim_end_matches('/').to_owned())
            }
            None => None,
        };
        let mut limits = pulse_gateways::binance::limits::Limits::default();
        let limit = |key: &str, v: &Option<Spanned<i64>>, default: u32| match v {
            Some(v) => Ok(self.int(&format!("gateway.{key}"), v, 1, i64::from(u32::MAX))? as u32),
            None => Ok::<u32, ConfigError>(default),
        };
        limits.weight_per_minute = limit(
            "weight_per_minute",
            &raw.weight_per_minute,
            limits.weight_per_minute,
        )?;
        limits.orders_per_10s =
            limit("orders_per_10s", &raw.orders_per_10s, limits.orders_per_10s)?;
        limits.orders_per_day =
            limit("orders_per_day", &raw.orders_per_day, limits.orders_per_day)?;
        Ok(GatewayConfig::Binance(BinanceGatewayConfig {
            limits,
            ws_api_url: url.get_ref().clone(),
            rest_url,
            ca_file: match &raw.ca_file {
                Some(f) => Some(self.path("gateway.ca_file", f)?),
                None => None,
            },
            api_key,
            signing,
            recv_window_ms: match &raw.recv_window_ms {
                // Binance accepts up to 60,000 ms.
                Some(v) => self.int("gateway.recv_window_ms", v, 1, 60_000)? as u64,
                None => 5_000,
            },
            response_timeout: match &raw.response_timeout_ms {
                Some(v) => {
                    Nanos::from_millis(
                        self.int("gateway.response_timeout_ms", v, 1, 600_000)? as u64
                    )
                }
                None => Nanos::from_millis(5_000),
            },
        }))
    }

    /// An order endpoint: the API key and signed requests go to it, so a plain scheme (`ws://`,
    /// `http://`) is refused unless the host is this machine (a local test venue).
    fn order_endpoint(
        &self,
        key: &str,
        url: &Spanned<String>,
        secure: &str,
    ) -> Result<Endpoint, ConfigError> {
        let endpoint = Endpoint::parse(url.get_ref()).map_err(|e| self.err(key, url.span(), e))?;
        if !endpoint.tls && !endpoint.is_loopback() {
            return Err(self.err(
                key,
                url.span(),
                format!(
                    "a plain scheme would send the API key and signed requests in clear text to \
                     {}: use {secure}:// (plain is allowed for a loopback host only)",
                    endpoint.host
                ),
            ));
        }
        Ok(endpoint)
    }

    /// `[gateway]`'s latencies: each leg fixed (`<leg>_latency_us`, microseconds with up to 3
    /// decimals) or drawn from a file of samples (`<leg>_latency_file`), not both.
    pub(super) fn latency(&self, raw: &RawGateway) -> Result<VenueLatency, ConfigError> {
        let leg = |name: &str,
                   fixed: &Option<Spanned<DecimalText>>,
                   file: &Option<Spanned<String>>|
         -> Result<Latency, ConfigError> {
            match (fixed, file) {
                (Some(_), Some(f)) => Err(self.err(
                    format!("gateway.{name}_latency_file"),
                    f.span(),
                    format!("give {name}_latency_us or {name}_latency_file, not both"),
                )),
                (Some(v), None) => {
                    let key = format!("gateway.{name}_latency_us");
                    let ns = self.non_negative(&key, v, 3, "a latency in microseconds")?;
                    Ok(Latency::Fixed(Nanos(ns as u64)))
                }
                (None, Some(f)) => {
                    let key = format!("gateway.{name}_latency_file");
                    let path = self.path(&key, f)?;
                    Latency::read(&path).map_err(|e| self.err(key, f.span(), e))
                }
                (None, None) => Ok(Latency::default()),
            }
        };
        Ok(VenueLatency {
            market_data: leg(
                "market_data",
                &raw.market_data_latency_us,
                &raw.market_data_latency_file,
            )?,
            order: leg("order", &raw.order_latency_us, &raw.order_latency_file)?,
            cancel: leg("cancel", &raw.cancel_latency_us, &raw.cancel_latency_file)?,
            seed: match &raw.latency_seed {
                Some(v) => self.int("gateway.latency_seed", v, 0, i64::MAX)? as u64,
                None => 1,
            },
        })
    }

    pub(super) fn journal(
        &self,
        raw: Option<&RawJournal>,
    ) -> Result<Option<JournalConfig>, ConfigError> {
        let Some(raw) = raw else {
            return Ok(None);
        };
        let dir = self.path("journal.dir", &raw.dir)?;
        let segment_mb = match &raw.segment_mb {
            None => (DEFAULT_SEGMENT_BYTES >> 20) as i64,
            Some(mb) if SEGMENT_MB.contains(mb.get_ref()) => *mb.get_ref(),
            Some(mb) => {
                return Err(self.err(
                    "journal.segment_mb",
                    mb.span(),
                    format!(
                        "must be {} to {} (MiB per segment file)",
                        SEGMENT_MB.start(),
                        SEGMENT_MB.end()
                    ),
                ))
            }
        };
        Ok(Some(JournalConfig {
            dir,
            segment_bytes: segment_mb as u64 * 1024 * 1024,
            sync: match raw.sync {
                RawSync::None => SyncMode::None,
                RawSync::Batch => SyncMode::Batch,
                RawSync::Order => SyncMode::Order,
            },
            fail_io_at: None,
        }))
    }

    pub(super) fn metrics(&self, raw: &RawMetrics) -> Result<MetricsConfig, ConfigError> {
        let stats_file = match &raw.stats_file {
            Some(file) => Some(self.path("metrics.stats_file", file)?),
            None => None,
        };
        let prometheus_listen = match &raw.prometheus_listen {
            Some(addr) => Some(self.socket_addr("metrics.prometheus_listen", addr)?),
            None => None,
        };
        Ok(MetricsConfig {
            stats: raw.stats.unwrap_or(true),
            stats_file,
            prometheus_listen,
        })
    }

    fn socket_addr(&self, key: &str, value: &Spanned<String>) -> Result<SocketAddr, ConfigError> {
        value.get_ref().parse().map_err(|_| {
            self.err(
                key,
                value.span(),
                "must be an IP address and port, such as \"127.0.0.1:9464\"",
            )
        })
    }

    /// `[scenario]`: offsets and durations in seconds (3 decimals), the shock in percent
    /// (signed, 4 decimals), the scales as decimals (6), the spike in ms (3).
    pub(super) fn scenario(
        &self,
        raw: &RawScenario,
        gateway: &GatewayConfig,
        gateway_span: std::ops::Range<usize>,
    ) -> Result<ScenarioConfig, ConfigError> {
        if !matches!(gateway, GatewayConfig::Sim(_)) {
            return Err(self.err(
                "scenario",
                gateway_span,
                "a scenario changes the market: only a backtest against the simulated venue \
                 (gateway kind \"sim\") may have one",
            ));
        }
        let dec =
            |key: &str, v: &Option<Spanned<DecimalText>>, scale: u32, what: &str, default: i64| {
                match v {
                    Some(v) => self.non_negative(&format!("scenario.{key}"), v, scale, what),
                    None => Ok(default),
                }
            };
        let ns_of_ms = |ms_milli: i64| Nanos(ms_milli as u64 * 1_000);
        let shock_ppm = match &raw.price_shock_pct {
            Some(v) => {
                let text = &v.get_ref().0;
                let (neg, body) = match text.strip_prefix('-') {
                    Some(rest) => (true, rest),
                    None => (false, text.as_str()),
                };
                let mantissa = pulse_feeds::num::parse_decimal(body.as_bytes(), 4)
                    .ok()
                    .filter(|m| *m >= 0 && *m < 1_000_000)
                    .ok_or_else(|| {
                        self.err(
                            "scenario.price_shock_pct",
                            v.span(),
                            format!(
                                "`{text}` is not a percentage above -100 with at most 4 decimals"
                            ),
                        )
                    })?;
                if neg {
                    -mantissa
                } else {
                    mantissa
                }
            }
            None => 0,
        };
        let positive = |key: &str, v: &Option<Spanned<DecimalText>>| -> Result<i64, ConfigError> {
            let ppm = dec(key, v, 6, "a positive decimal", 1_000_000)?;
            match v {
                Some(v) if ppm == 0 => Err(self.err(
                    format!("scenario.{key}"),
                    v.span(),
                    "must be greater than zero",
                )),
                _ => Ok(ppm),
            }
        };
        Ok(ScenarioConfig {
            name: raw
                .name
                .as_ref()
                .map_or_else(|| "scenario".to_string(), |n| n.get_ref().clone()),
            market: pulse_feeds::scenario::Scenario {
                at: ns_of_ms(dec("at_s", &raw.at_s, 3, "seconds", 0)? * 1_000),
                shock_ppm,
                vol_ppm: positive("vol_scale", &raw.vol_scale)?,
                depth_ppm: positive("depth_scale", &raw.depth_scale)?,
                outage: ns_of_ms(dec("outage_s", &raw.outage_s, 3, "seconds", 0)? * 1_000),
            },
            spike: ns_of_ms(dec(
                "latency_spike_ms",
                &raw.latency_spike_ms,
                3,
                "milliseconds",
                0,
            )?),
            spike_for: ns_of_ms(dec("spike_s", &raw.spike_s, 3, "seconds", 0)? * 1_000),
        })
    }
}
