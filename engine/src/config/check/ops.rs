//! The operational tables: `[journal]`, `[metrics]`, and `[gateway]`'s latencies.

use std::net::SocketAddr;

use toml::Spanned;

use pulse_feeds::num::Nanos;
use pulse_gateways::latency::{Latency, VenueLatency};

use super::super::raw::{DecimalText, RawGateway, RawJournal, RawMetrics};
use super::super::{ConfigError, JournalConfig, MetricsConfig, DEFAULT_SEGMENT_BYTES};
use super::Checker;

/// Segment sizes allowed, in MiB: a segment must hold the largest REST snapshot several times
/// over, and stay small enough to pre-allocate in a moment.
const SEGMENT_MB: std::ops::RangeInclusive<i64> = 4..=1024;

impl Checker<'_> {
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
}
