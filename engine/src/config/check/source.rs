//! One source table (`[source]`, or one of `[[sources]]`): a capture file or a live venue's
//! endpoints, reconnect and snapshot settings.

use pulse_feeds::instrument::Venue;
use pulse_feeds::num::Nanos;
use pulse_feeds::ws::endpoint::Endpoint;
use toml::Spanned;

use super::super::raw::{RawSource, SourceKind};
use super::super::{ConfigError, LiveSourceConfig, LiveSync, SourceConfig};
use super::Checker;

impl Checker<'_> {
    /// One source table; `prefix` is its key (`source`, `sources[1]`).
    pub(super) fn source<'a>(
        &self,
        raw: &'a RawSource,
        prefix: &str,
    ) -> Result<SourceConfig, ConfigError> {
        let kind = *raw.kind.get_ref();
        let keys = [
            ("path", raw.path.as_ref().map(Spanned::span)),
            ("speed", raw.speed.as_ref().map(Spanned::span)),
            ("ws_url", raw.ws_url.as_ref().map(Spanned::span)),
            ("rest_url", raw.rest_url.as_ref().map(Spanned::span)),
            ("ca_file", raw.ca_file.as_ref().map(Spanned::span)),
            ("depth_stream", raw.depth_stream.as_ref().map(Spanned::span)),
            ("depth", raw.depth.as_ref().map(Spanned::span)),
            (
                "snapshot_limit",
                raw.snapshot_limit.as_ref().map(Spanned::span),
            ),
            (
                "connect_timeout_ms",
                raw.connect_timeout_ms.as_ref().map(Spanned::span),
            ),
            (
                "no_data_timeout_ms",
                raw.no_data_timeout_ms.as_ref().map(Spanned::span),
            ),
            (
                "stream_timeout_ms",
                raw.stream_timeout_ms.as_ref().map(Spanned::span),
            ),
            (
                "reconnect_min_ms",
                raw.reconnect_min_ms.as_ref().map(Spanned::span),
            ),
            (
                "reconnect_max_ms",
                raw.reconnect_max_ms.as_ref().map(Spanned::span),
            ),
            (
                "max_session_age_s",
                raw.max_session_age_s.as_ref().map(Spanned::span),
            ),
        ];
        let kind_name = kind.name();
        if let Some((name, Some(span))) = keys
            .iter()
            .find(|(name, span)| span.is_some() && !takes(kind, name))
        {
            return Err(self.err(
                format!("{prefix}.{name}"),
                span.clone(),
                format!("not a key of a `{kind_name}` source"),
            ));
        }
        let required = |value: Option<&'a Spanned<String>>,
                        name: &str|
         -> Result<&'a Spanned<String>, ConfigError> {
            value.ok_or_else(|| {
                self.err(
                    format!("{prefix}.{name}"),
                    raw.kind.span(),
                    format!("required for a `{kind_name}` source"),
                )
            })
        };
        let Some(venue) = kind.live_venue() else {
            return Ok(SourceConfig::Capture {
                path: self.input_path(
                    &format!("{prefix}.path"),
                    required(raw.path.as_ref(), "path")?,
                )?,
                speed_milli: match &raw.speed {
                    Some(speed) => {
                        self.non_negative(&format!("{prefix}.speed"), speed, 3, "a replay speed")?
                            as u64
                    }
                    None => 0,
                },
                then: Vec::new(),
            });
        };
        let url = |value: &Spanned<String>,
                   name: &str,
                   schemes: [&str; 2]|
         -> Result<String, ConfigError> {
            let key = format!("{prefix}.{name}");
            let text = value.get_ref();
            let endpoint =
                Endpoint::parse(text).map_err(|e| self.err(key.clone(), value.span(), e))?;
            if !schemes.iter().any(|s| text.starts_with(&format!("{s}://"))) {
                return Err(self.err(
                    key,
                    value.span(),
                    format!("must start with {}:// or {}://", schemes[0], schemes[1]),
                ));
            }
            if name == "rest_url" && endpoint.path != "/" {
                return Err(self.err(
                    key,
                    value.span(),
                    "give the host only; Pulse adds the request path",
                ));
            }
            Ok(text.trim_end_matches('/').to_string())
        };
        let ms = |value: &Option<Spanned<i64>>,
                  name: &str,
                  default: u64|
         -> Result<Nanos, ConfigError> {
            match value {
                Some(v) => Ok(Nanos::from_millis(self.int(
                    &format!("{prefix}.{name}"),
                    v,
                    1,
                    i64::MAX / 1_000_000,
                )? as u64)),
                None => Ok(Nanos::from_millis(default)),
            }
        };
        let ws_url = match (&raw.ws_url, default_ws_url(kind)) {
            (Some(v), _) => url(v, "ws_url", ["ws", "wss"])?,
            (None, Some(default)) => default.to_string(),
            (None, None) => url(
                required(raw.ws_url.as_ref(), "ws_url")?,
                "ws_url",
                ["ws", "wss"],
            )?,
        };
        let sync = match kind {
            SourceKind::Okx => LiveSync::InBand {
                depth: OKX_BOOKS_DEPTH,
            },
            SourceKind::Kraken => LiveSync::InBand {
                depth: match &raw.depth {
                    Some(v) => {
                        let depth = *v.get_ref();
                        if !KRAKEN_DEPTHS.contains(&depth) {
                            return Err(self.err(
                                format!("{prefix}.depth"),
                                v.span(),
                                "must be one of 10, 25, 100, 500, 1000",
                            ));
                        }
                        depth as u32
                    }
                    None => KRAKEN_DEFAULT_DEPTH as u32,
                },
            },
            SourceKind::BybitSpot | SourceKind::BybitLinear => LiveSync::InBand {
                depth: match &raw.depth {
                    Some(v) => {
                        let depth = *v.get_ref();
                        if !BYBIT_DEPTHS.contains(&depth) {
                            return Err(self.err(
                                format!("{prefix}.depth"),
                                v.span(),
                                "must be one of 1, 50, 200, 500, 1000",
                            ));
                        }
                        depth as u32
                    }
                    None => u32::from(pulse_feeds::bybit::session::DEFAULT_DEPTH),
                },
            },
            // The snapshot is the whole book: the ring must hold one of the most levels a
            // side the book takes.
            SourceKind::Coinbase => LiveSync::InBand {
                depth: Venue::Coinbase.whole_book_levels() as u32,
            },
            _ => LiveSync::Rest {
                rest_url: url(
                    required(raw.rest_url.as_ref(), "rest_url")?,
                    "rest_url",
                    ["http", "https"],
                )?,
                depth_stream: self.depth_stream(raw, prefix)?,
                snapshot_limit: match &raw.snapshot_limit {
                    Some(v) => self.int(&format!("{prefix}.snapshot_limit"), v, 5, 5_000)? as u32,
                    None => 1_000,
                },
            },
        };
        let live = LiveSourceConfig {
            venue,
            ws_url,
            ca_file: match &raw.ca_file {
                Some(file) => Some(self.path(&format!("{prefix}.ca_file"), file)?),
                None => None,
            },
            sync,
            connect_timeout: ms(&raw.connect_timeout_ms, "connect_timeout_ms", 10_000)?,
            no_data_timeout: ms(&raw.no_data_timeout_ms, "no_data_timeout_ms", 15_000)?,
            stream_timeout: ms(&raw.stream_timeout_ms, "stream_timeout_ms", 60_000)?,
            reconnect_min: ms(&raw.reconnect_min_ms, "reconnect_min_ms", 100)?,
            reconnect_max: ms(&raw.reconnect_max_ms, "reconnect_max_ms", 30_000)?,
            max_session_age: match &raw.max_session_age_s {
                Some(v) => Nanos(
                    self.int(&format!("{prefix}.max_session_age_s"), v, 60, 86_399)? as u64
                        * 1_000_000_000,
                ),
                None => Nanos(84_600 * 1_000_000_000),
            },
        };
        if live.reconnect_min > live.reconnect_max {
            let span = raw
                .reconnect_min_ms
                .as_ref()
                .map_or(raw.kind.span(), Spanned::span);
            return Err(self.err(
                format!("{prefix}.reconnect_min_ms"),
                span,
                "must not exceed reconnect_max_ms",
            ));
        }
        Ok(SourceConfig::Live(live))
    }

    /// A Binance source's depth stream (default `depth@100ms`).
    fn depth_stream(&self, raw: &RawSource, prefix: &str) -> Result<String, ConfigError> {
        let Some(s) = &raw.depth_stream else {
            return Ok("depth@100ms".to_string());
        };
        let ok = [
            "depth",
            "depth@100ms",
            "depth@0ms",
            "depth@250ms",
            "depth@500ms",
        ]
        .contains(&s.get_ref().as_str());
        if !ok {
            return Err(self.err(
                format!("{prefix}.depth_stream"),
                s.span(),
                "must be one of depth, depth@100ms (spot), depth@0ms, depth@250ms, depth@500ms (futures)",
            ));
        }
        Ok(s.get_ref().clone())
    }
}

/// OKX `books`: a snapshot holds 400 levels a side.
const OKX_BOOKS_DEPTH: u32 = 400;
/// The depths Kraken v2's `book` channel takes.
const KRAKEN_DEPTHS: [i64; 5] = [10, 25, 100, 500, 1000];
const KRAKEN_DEFAULT_DEPTH: usize = pulse_feeds::kraken::adapter::DEFAULT_DEPTH;
/// The depths Bybit v5's `orderbook.{depth}.{symbol}` topics take.
const BYBIT_DEPTHS: [i64; 5] = [1, 50, 200, 500, 1000];

/// The venue's public endpoint, for a live kind whose `ws_url` may be left out.
fn default_ws_url(kind: SourceKind) -> Option<&'static str> {
    match kind {
        SourceKind::Okx => Some("wss://ws.okx.com:8443/ws/v5/public"),
        SourceKind::Kraken => Some("wss://ws.kraken.com/v2"),
        SourceKind::BybitSpot => Some("wss://stream.bybit.com/v5/public/spot"),
        SourceKind::BybitLinear => Some("wss://stream.bybit.com/v5/public/linear"),
        SourceKind::Coinbase => Some("wss://advanced-trade-ws.coinbase.com"),
        SourceKind::Capture | SourceKind::Binance | SourceKind::BinanceUsdm => None,
    }
}

/// Whether a source of `kind` takes the key `name`.
fn takes(kind: SourceKind, name: &str) -> bool {
    const TIMERS: [&str; 6] = [
        "connect_timeout_ms",
        "no_data_timeout_ms",
        "stream_timeout_ms",
        "reconnect_min_ms",
        "reconnect_max_ms",
        "max_session_age_s",
    ];
    let live = name == "ws_url" || name == "ca_file" || TIMERS.contains(&name);
    match kind {
        SourceKind::Capture => name == "path" || name == "speed",
        SourceKind::Binance | SourceKind::BinanceUsdm => {
            live || ["rest_url", "depth_stream", "snapshot_limit"].contains(&name)
        }
        SourceKind::Okx | SourceKind::Coinbase => live,
        SourceKind::Kraken | SourceKind::BybitSpot | SourceKind::BybitLinear => {
            live || name == "depth"
        }
    }
}
