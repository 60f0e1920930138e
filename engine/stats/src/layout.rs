//! The stats file's binary layout: the one place that knows where every field lives.
//!
//! Modelled on Aeron's CnC file and `CountersReader`: a header, then a table of 64-bit metric
//! values each with its metadata, then a table of per-stage latency percentiles. Every integer
//! is little endian; every string is ASCII, NUL-padded to its field (a string that fills its
//! field has no NUL). Offsets are from the start of the file.
//!
//! Header, [`HEADER_LENGTH`] bytes (offsets on the right; one row is 4 bytes, a `u64` two):
//!
//! ```text
//!    0                   1                   2                   3
//!    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//!   +---------------------------------------------------------------+
//!   |                     Magic "PULSTATS" (u64)                    |   0  line 0: identity,
//!   |                                                               |      written once,
//!   +-------------------------------+-------------------------------+      before the magic
//!   |      Layout Version (u32)     |      Header Length (u32)      |   8
//!   +-------------------------------+-------------------------------+
//!   |           PID (u32)           |      Metric Count (u32)       |  16
//!   +-------------------------------+-------------------------------+
//!   |                  Start Time (unix ns, u64)                    |  24
//!   |                                                               |
//!   +-------------------------------+-------------------------------+
//!   |   Metric Table Offset (u32)   |  Latency Entry Count (u32)    |  32
//!   +-------------------------------+-------------------------------+
//!   |  Latency Table Offset (u32)   |          (reserved)           |  40
//!   +-------------------------------+-------------------------------+
//!   |                  Total File Length (u64)                      |  48
//!   |                                                               |
//!   +---------------------------------------------------------------+
//!   |                          (reserved)                           |  56
//!   |                                                               |
//!   +---------------------------------------------------------------+
//!   |                 Instance Name (32 bytes ASCII)               ...  64  line 1
//!   +---------------------------------------------------------------+
//!   |                          (reserved)                          ...  96
//!   +---------------------------------------------------------------+
//!   |            Heartbeat (unix ns, AtomicU64)                     | 128  line 2: live, the
//!   |                                                               |      metrics thread
//!   +-------------------------------+-------------------------------+      writes it
//!   |      Health (AtomicU32)       |          (reserved)          ... 136
//!   +-------------------------------+-------------------------------+
//!   |                          (reserved)                          ... 192  line 3
//!   +---------------------------------------------------------------+ 256
//! ```
//!
//! Metric entry, [`METRIC_ENTRY_LENGTH`] bytes; Metric Count of them, back to back from the
//! Metric Table Offset:
//!
//! ```text
//!   +---------------------------------------------------------------+
//!   |              Value (AtomicI64, exactly one writer)            |   0  line 0: the value
//!   |                                                               |      alone
//!   +---------------------------------------------------------------+
//!   |                          (reserved)                          ...   8
//!   +-------------------------------+-------------------------------+
//!   | Kind: 1 counter, 2 gauge (u32)|          (reserved)           |  64  lines 1-3:
//!   +-------------------------------+-------------------------------+      metadata, written
//!   |                  Name (48 bytes ASCII)                       ...  72  once
//!   +---------------------------------------------------------------+
//!   |     Label "key=value" (48 bytes ASCII, empty: no label)      ... 120
//!   +---------------------------------------------------------------+
//!   |                  Help (88 bytes ASCII)                       ... 168
//!   +---------------------------------------------------------------+ 256
//! ```
//!
//! Latency entry, [`LATENCY_ENTRY_LENGTH`] bytes; Latency Entry Count of them, back to back from
//! the Latency Table Offset, one per stage, all written by the metrics thread under a seqlock
//! (the version is odd while the entry is being written). Every field is an `AtomicU64`:
//!
//! ```text
//!   +---------------------------------------------------------------+
//!   |                       Seqlock Version                         |   0
//!   +---------------------------------------------------------------+
//!   |                       Count (samples)                         |   8
//!   +---------------------------------------------------------------+
//!   |                          Mean (ns)                            |  16
//!   +---------------------------------------------------------------+
//!   |       p50, p90, p99, p99.9, p99.99, Max (ns), in order        |  24, 32, 40, 48, 56, 64
//!   +---------------------------------------------------------------+
//!   |                      Dropped (samples)                        |  72
//!   +---------------------------------------------------------------+
//!   |                          (reserved)                          ...  80
//!   +---------------------------------------------------------------+
//!   |                 Stage Name (32 bytes ASCII)                  ...  96
//!   +---------------------------------------------------------------+ 128
//! ```
//!
//! Why the padding: a metric value is stored by one hot thread and loaded by monitors. Alone on
//! its 64-byte line, and with read-only metadata filling the rest of its 128-byte pair (Intel's
//! spatial prefetcher fetches lines in aligned pairs), no two writers ever contend for a line.
//! The header's live line sits alone in its pair for the same reason.

use std::fmt;

use serde::Serialize;

// Fields are accessed as native atomics, so the file is little endian only where the host is.
const _: () = assert!(
    cfg!(target_endian = "little"),
    "the stats layout is little endian"
);

/// The first 8 bytes of every stats file: `"PULSTATS"` read as a little-endian `u64`.
pub const MAGIC: u64 = u64::from_le_bytes(*b"PULSTATS");
/// Bumped on any change to the layout below; a reader refuses any other version.
pub const LAYOUT_VERSION: u32 = 1;

pub const CACHE_LINE: usize = 64;

pub const MAGIC_OFFSET: usize = 0;
pub const LAYOUT_VERSION_OFFSET: usize = 8;
pub const HEADER_LENGTH_OFFSET: usize = 12;
pub const PID_OFFSET: usize = 16;
pub const METRIC_COUNT_OFFSET: usize = 20;
pub const START_TIME_OFFSET: usize = 24;
pub const METRIC_TABLE_OFFSET_OFFSET: usize = 32;
pub const LATENCY_COUNT_OFFSET: usize = 36;
pub const LATENCY_TABLE_OFFSET_OFFSET: usize = 40;
pub const FILE_LENGTH_OFFSET: usize = 48;
pub const INSTANCE_NAME_OFFSET: usize = 64;
pub const INSTANCE_NAME_LENGTH: usize = 32;
pub const HEARTBEAT_OFFSET: usize = 128;
pub const HEALTH_OFFSET: usize = 136;
pub const HEADER_LENGTH: usize = 256;

pub const METRIC_VALUE_OFFSET: usize = 0;
pub const METRIC_KIND_OFFSET: usize = 64;
pub const METRIC_NAME_OFFSET: usize = 72;
pub const METRIC_NAME_LENGTH: usize = 48;
pub const METRIC_LABEL_OFFSET: usize = 120;
pub const METRIC_LABEL_LENGTH: usize = 48;
pub const METRIC_HELP_OFFSET: usize = 168;
pub const METRIC_HELP_LENGTH: usize = 88;
pub const METRIC_ENTRY_LENGTH: usize = 256;

pub const LATENCY_VERSION_OFFSET: usize = 0;
pub const LATENCY_COUNT_FIELD_OFFSET: usize = 8;
pub const LATENCY_MEAN_OFFSET: usize = 16;
pub const LATENCY_P50_OFFSET: usize = 24;
pub const LATENCY_P90_OFFSET: usize = 32;
pub const LATENCY_P99_OFFSET: usize = 40;
pub const LATENCY_P999_OFFSET: usize = 48;
pub const LATENCY_P9999_OFFSET: usize = 56;
pub const LATENCY_MAX_OFFSET: usize = 64;
pub const LATENCY_DROPPED_OFFSET: usize = 72;
/// The nine summary fields, in [`LatencyFields`] order, each a `u64`.
pub const LATENCY_FIELD_OFFSETS: [usize; 9] = [
    LATENCY_COUNT_FIELD_OFFSET,
    LATENCY_MEAN_OFFSET,
    LATENCY_P50_OFFSET,
    LATENCY_P90_OFFSET,
    LATENCY_P99_OFFSET,
    LATENCY_P999_OFFSET,
    LATENCY_P9999_OFFSET,
    LATENCY_MAX_OFFSET,
    LATENCY_DROPPED_OFFSET,
];
pub const STAGE_NAME_OFFSET: usize = 96;
pub const STAGE_NAME_LENGTH: usize = 32;
pub const LATENCY_ENTRY_LENGTH: usize = 128;

// The diagram above, checked at compile time: fields inside their entries, live fields on lines
// of their own, entries a whole number of 128-byte prefetch pairs.
const _: () = {
    assert!(INSTANCE_NAME_OFFSET + INSTANCE_NAME_LENGTH <= HEARTBEAT_OFFSET);
    assert!(HEARTBEAT_OFFSET & (CACHE_LINE - 1) == 0 && HEALTH_OFFSET + 4 <= HEARTBEAT_OFFSET + 64);
    assert!(HEARTBEAT_OFFSET + CACHE_LINE < HEADER_LENGTH && HEADER_LENGTH & 127 == 0);
    assert!(METRIC_VALUE_OFFSET + 8 <= METRIC_KIND_OFFSET && METRIC_KIND_OFFSET == CACHE_LINE);
    assert!(METRIC_NAME_OFFSET + METRIC_NAME_LENGTH == METRIC_LABEL_OFFSET);
    assert!(METRIC_LABEL_OFFSET + METRIC_LABEL_LENGTH == METRIC_HELP_OFFSET);
    assert!(METRIC_HELP_OFFSET + METRIC_HELP_LENGTH == METRIC_ENTRY_LENGTH);
    assert!(METRIC_ENTRY_LENGTH & 127 == 0 && LATENCY_ENTRY_LENGTH & 127 == 0);
    assert!(LATENCY_DROPPED_OFFSET + 8 <= STAGE_NAME_OFFSET);
    assert!(STAGE_NAME_OFFSET + STAGE_NAME_LENGTH == LATENCY_ENTRY_LENGTH);
    let mut i = 0;
    while i < LATENCY_FIELD_OFFSETS.len() {
        assert!(LATENCY_FIELD_OFFSETS[i] == LATENCY_VERSION_OFFSET + 8 * (i + 1));
        i += 1;
    }
};

/// The nine `u64`s of a latency entry, in the order of [`LATENCY_FIELD_OFFSETS`]: count, mean,
/// p50, p90, p99, p99.9, p99.99, max, dropped.
pub type LatencyFields = [u64; 9];

/// Where the tables sit for a given number of metrics and stages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TableGeometry {
    pub metric_count: usize,
    pub metric_table_offset: usize,
    pub latency_count: usize,
    pub latency_table_offset: usize,
    pub file_length: usize,
}

impl TableGeometry {
    /// The tables follow the header back to back; both entry sizes are multiples of 128, so
    /// every entry starts on a prefetch pair.
    pub fn new(metric_count: usize, latency_count: usize) -> TableGeometry {
        let metric_table_offset = HEADER_LENGTH;
        let latency_table_offset = metric_table_offset + metric_count * METRIC_ENTRY_LENGTH;
        TableGeometry {
            metric_count,
            metric_table_offset,
            latency_count,
            latency_table_offset,
            file_length: latency_table_offset + latency_count * LATENCY_ENTRY_LENGTH,
        }
    }

    pub fn metric_offset(&self, index: usize) -> usize {
        self.metric_table_offset + index * METRIC_ENTRY_LENGTH
    }

    pub fn latency_offset(&self, index: usize) -> usize {
        self.latency_table_offset + index * LATENCY_ENTRY_LENGTH
    }
}

/// The engine's health as monitors see it. The discriminant is what the file stores.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    Initializing = 0,
    Healthy = 1,
    Warning = 2,
    Degraded = 3,
    Critical = 4,
    EmergencyStop = 5,
}

impl Health {
    pub const ALL: [Health; 6] = [
        Health::Initializing,
        Health::Healthy,
        Health::Warning,
        Health::Degraded,
        Health::Critical,
        Health::EmergencyStop,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Health::Initializing => "initializing",
            Health::Healthy => "healthy",
            Health::Warning => "warning",
            Health::Degraded => "degraded",
            Health::Critical => "critical",
            Health::EmergencyStop => "emergency_stop",
        }
    }

    /// `None` for a value no engine writes (a corrupt file).
    pub fn from_u32(v: u32) -> Option<Health> {
        Health::ALL.into_iter().find(|h| *h as u32 == v)
    }
}

impl fmt::Display for Health {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricKind {
    /// Only ever grows; exported as `pulse_<name>_total`.
    Counter,
    /// Goes up and down; exported as `pulse_<name>`.
    Gauge,
}

impl MetricKind {
    /// Zero is no kind, so an entry left zeroed by a crash during creation is not mistaken for
    /// a counter.
    pub fn code(self) -> u32 {
        match self {
            MetricKind::Counter => 1,
            MetricKind::Gauge => 2,
        }
    }

    pub fn from_code(code: u32) -> Option<MetricKind> {
        match code {
            1 => Some(MetricKind::Counter),
            2 => Some(MetricKind::Gauge),
            _ => None,
        }
    }
}

/// One metric to register: its slot's index is its position in the slice given to
/// [`crate::stats::StatsFile::create`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetricDesc {
    /// Snake case, without the `pulse_` prefix or the `_total` suffix: `feed_messages`.
    pub name: &'static str,
    pub kind: MetricKind,
    /// At most one label, `("instrument", "BTCUSDT".into())`; `key=value` fits in 48 bytes.
    pub label: Option<(&'static str, String)>,
    /// One short line for Prometheus' `# HELP`; at most 88 bytes.
    pub help: &'static str,
}

impl MetricDesc {
    pub fn counter(name: &'static str, help: &'static str) -> MetricDesc {
        MetricDesc {
            name,
            kind: MetricKind::Counter,
            label: None,
            help,
        }
    }

    pub fn gauge(name: &'static str, help: &'static str) -> MetricDesc {
        MetricDesc {
            name,
            kind: MetricKind::Gauge,
            label: None,
            help,
        }
    }

    pub fn with_label(mut self, key: &'static str, value: impl Into<String>) -> MetricDesc {
        self.label = Some((key, value.into()));
        self
    }

    /// The label as stored: `key=value`, or empty.
    pub fn label_field(&self) -> String {
        match &self.label {
            Some((k, v)) => format!("{k}={v}"),
            None => String::new(),
        }
    }

    /// Refuses what the file cannot hold exactly: a name, label or help text too long for its
    /// field, or not printable ASCII. Nothing is truncated, so what monitors show is what the
    /// engine registered.
    pub fn validate(&self) -> Result<(), String> {
        check_field("metric name", self.name, METRIC_NAME_LENGTH)?;
        if !self
            .name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            return Err(format!(
                "metric name {:?}: only a-z, A-Z, 0-9 and _",
                self.name
            ));
        }
        if let Some((key, value)) = &self.label {
            if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return Err(format!(
                    "metric {}: label key {key:?}: only a-z, A-Z, 0-9 and _",
                    self.name
                ));
            }
            check_field(
                &format!("metric {} label", self.name),
                &format!("{key}={value}"),
                METRIC_LABEL_LENGTH,
            )?;
        }
        check_field(
            &format!("metric {} help", self.name),
            self.help,
            METRIC_HELP_LENGTH,
        )
    }
}

/// `s` fits a NUL-padded field of `len` bytes and reads back unchanged.
pub fn check_field(what: &str, s: &str, len: usize) -> Result<(), String> {
    if s.len() > len {
        return Err(format!(
            "{what} {s:?} is {} bytes, the stats file holds {len}",
            s.len()
        ));
    }
    if !s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Err(format!("{what} {s:?}: only printable ASCII"));
    }
    Ok(())
}

/// Reads a NUL-padded field back.
pub fn decode_field(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_follow_the_header_back_to_back() {
        let g = TableGeometry::new(3, 2);
        assert_eq!(g.metric_offset(1), 256 + 256);
        assert_eq!(g.latency_offset(0), 256 + 3 * 256);
        assert_eq!(g.file_length, 256 + 3 * 256 + 2 * 128);
        assert_eq!(&MAGIC.to_le_bytes(), b"PULSTATS");
    }

    #[test]
    fn health_round_trips_through_its_code() {
        for h in Health::ALL {
            assert_eq!(Health::from_u32(h as u32), Some(h));
        }
        assert_eq!(Health::from_u32(6), None);
        assert_eq!(Health::EmergencyStop.as_str(), "emergency_stop");
        assert_eq!(
            serde_json::to_string(&Health::EmergencyStop).unwrap(),
            "\"emergency_stop\""
        );
    }

    #[test]
    fn descriptors_that_do_not_fit_are_refused() {
        let ok = MetricDesc::gauge("position", "Net position in lots.")
            .with_label("instrument", "BTCUSDT");
        assert_eq!(ok.validate(), Ok(()));
        assert_eq!(ok.label_field(), "instrument=BTCUSDT");
        let long_label = MetricDesc::gauge("stale", "x").with_label("instrument", "A".repeat(38));
        assert!(long_label.validate().unwrap_err().contains("49 bytes"));
        let bad_name = MetricDesc::counter("feed-messages", "x");
        assert!(bad_name.validate().is_err());
        let too_long_help: &'static str = "h".repeat(89).leak();
        assert!(MetricDesc::counter("fills", too_long_help)
            .validate()
            .is_err());
    }

    #[test]
    fn fields_decode_up_to_the_first_nul_or_the_end() {
        assert_eq!(decode_field(b"book\0\0\0"), "book");
        assert_eq!(decode_field(b"full"), "full");
    }
}
