//! The operational tables: `[journal]` and `[metrics]`.

use std::net::SocketAddr;

use toml::Spanned;

use super::super::raw::{RawJournal, RawMetrics};
use super::super::{ConfigError, JournalConfig, MetricsConfig, DEFAULT_SEGMENT_BYTES};
use super::Checker;

/// Segment sizes allowed, in MiB: a segment must hold the largest REST snapshot several times
/// over, and stay small enough to pre-allocate in a moment.
const SEGMENT_MB: std::ops::RangeInclusive<i64> = 4..=1024;

impl Checker<'_> {
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
