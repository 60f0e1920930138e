//! Monitoring without touching the hot path: the shared-memory stats file (DESIGN.md, "Metrics
//! and health"), modelled on Aeron's CnC file and counters as read by `AeronStat`.
//!
//! The engine creates `<run_dir>/<name>.stats` ([`StatsFile`]); each counter or gauge has
//! one writer, which stores into its own cache line ([`MetricSlot`]); the metrics thread beats
//! the heartbeat, sets the health and publishes per-stage latency percentiles under a seqlock.
//! Monitors map the file read-only ([`StatsReader`]) and never block a writer: `pulse stats`
//! shows it to people, [`prometheus::render`] and [`http::MetricsServer`] to machines.
//!
//! [`layout`] is the one place that knows the binary layout. [`health`] is the state machine
//! the metrics thread drives from what the stages report.
//!
//! `unsafe` is denied here and allowed only in the modules that map, address and check the
//! shared memory: `region` and `view` (atomics at offsets of the mapping), `writer` and
//! `exclusive` (creating and mapping the file), `reader` (mapping it read-only) and `liveness`
//! (`kill(pid, 0)`). Each says so at its top, and each block carries its `// SAFETY:`.
#![deny(unsafe_code)]

mod attach;
mod exclusive;
pub mod health;
pub mod http;
pub mod layout;
pub mod liveness;
pub mod prometheus;
pub mod reader;
mod region;
pub mod snapshot;
mod view;
pub mod writer;

pub use attach::AttachError;
pub use exclusive::check_instance_name;
pub use http::MetricsServer;
pub use layout::{Health, MetricDesc, MetricKind};
pub use reader::StatsReader;
pub use snapshot::{MetricValue, StageLatency, StatsSnapshot};
pub use writer::{LatencySummary, MetricSlot, StatsFile};
