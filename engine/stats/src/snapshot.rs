//! What a monitor reads from a stats file: its fixed metadata once, at attach (the
//! [`Catalog`]), then the live values on every [`StatsSnapshot`].

use std::hint;
use std::sync::atomic::{fence, Ordering};
use std::thread;

use serde::Serialize;

use super::attach::AttachError;
use super::layout::*;
use super::liveness::{heartbeat_fresh, now_unix_ns, pid_alive};
use super::view::View;

/// Seqlock read attempts per latency entry: the first ones spin (the writer needs a few dozen
/// nanoseconds per entry), the rest yield, in case the writer was descheduled mid-entry.
const SEQLOCK_SPINS: u32 = 100;
const SEQLOCK_ATTEMPTS: u32 = 1_000;

/// The file's metadata, which the writer sets before publishing the magic and never changes.
#[derive(Clone, Debug)]
pub(super) struct Catalog {
    pub(super) name: String,
    pub(super) pid: u32,
    pub(super) start_time_ns: u64,
    metrics: Vec<MetricMeta>,
    stages: Vec<StageMeta>,
}

#[derive(Clone, Debug)]
struct MetricMeta {
    offset: usize,
    name: String,
    kind: MetricKind,
    label: Option<(String, String)>,
    help: String,
}

#[derive(Clone, Debug)]
struct StageMeta {
    offset: usize,
    name: String,
}

/// Everything a file says at one moment. Metric values are each exact but not mutually
/// consistent (each has its own writer); each latency entry is internally consistent.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StatsSnapshot {
    pub name: String,
    pub pid: u32,
    pub start_time_ns: u64,
    pub heartbeat_ns: u64,
    /// When this snapshot was read (unix ns): heartbeat age and uptime are relative to it.
    pub taken_ns: u64,
    /// The pid exists and the heartbeat is fresh at `taken_ns`.
    pub alive: bool,
    /// `None` for a value no engine writes.
    pub health: Option<Health>,
    pub metrics: Vec<MetricValue>,
    pub latencies: Vec<StageLatency>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MetricValue {
    pub name: String,
    pub kind: MetricKind,
    pub label: Option<(String, String)>,
    pub help: String,
    pub value: i64,
}

/// One stage's published percentiles, in nanoseconds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StageLatency {
    pub stage: String,
    /// False when the writer held the entry through every retry (it was descheduled or died
    /// mid-write); the numbers are then zero rather than a torn mix.
    pub consistent: bool,
    pub count: u64,
    pub mean: u64,
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p999: u64,
    pub p9999: u64,
    pub max: u64,
    /// Samples the stage could not pass on, or that were beyond the histogram's range.
    pub dropped: u64,
}

impl StatsSnapshot {
    pub fn heartbeat_age_ns(&self) -> u64 {
        self.taken_ns.saturating_sub(self.heartbeat_ns)
    }
}

impl Catalog {
    /// Checks the header against the mapping and reads every name. `view` is the whole file.
    pub(super) fn read(view: &View<'_>) -> Result<Catalog, AttachError> {
        if view.len() < HEADER_LENGTH {
            return Err(AttachError::Truncated {
                expected: HEADER_LENGTH as u64,
                found: view.len() as u64,
            });
        }
        let magic = view.u64(MAGIC_OFFSET);
        // Acquire: pairs with the writer's release store of the magic, its last write during
        // creation, so seeing the magic means seeing every header field and name.
        fence(Ordering::Acquire);
        if magic == 0 {
            return Err(AttachError::NotReady);
        }
        if magic != MAGIC {
            return Err(AttachError::BadMagic { found: magic });
        }
        let version = view.u32(LAYOUT_VERSION_OFFSET);
        if version != LAYOUT_VERSION {
            return Err(AttachError::LayoutVersion {
                found: version,
                expected: LAYOUT_VERSION,
            });
        }
        let header_length = view.u32(HEADER_LENGTH_OFFSET) as usize;
        let g = TableGeometry::new(
            view.u32(METRIC_COUNT_OFFSET) as usize,
            view.u32(LATENCY_COUNT_OFFSET) as usize,
        );
        let declared = (
            header_length,
            view.u32(METRIC_TABLE_OFFSET_OFFSET) as usize,
            view.u32(LATENCY_TABLE_OFFSET_OFFSET) as usize,
            view.u64(FILE_LENGTH_OFFSET),
        );
        let expected = (
            HEADER_LENGTH,
            g.metric_table_offset,
            g.latency_table_offset,
            g.file_length as u64,
        );
        if declared != expected {
            return Err(AttachError::Corrupt(format!(
                "header says (header length, metric table, latency table, file length) = \
                 {declared:?}, layout {LAYOUT_VERSION} with these counts means {expected:?}"
            )));
        }
        if g.file_length > view.len() {
            return Err(AttachError::Truncated {
                expected: g.file_length as u64,
                found: view.len() as u64,
            });
        }
        let mut metrics = Vec::with_capacity(g.metric_count);
        for i in 0..g.metric_count {
            let offset = g.metric_offset(i);
            let code = view.u32(offset + METRIC_KIND_OFFSET);
            let kind = MetricKind::from_code(code).ok_or_else(|| {
                AttachError::Corrupt(format!("metric {i} has kind {code}, not 1 or 2"))
            })?;
            let label = view.string(offset + METRIC_LABEL_OFFSET, METRIC_LABEL_LENGTH);
            metrics.push(MetricMeta {
                offset,
                name: view.string(offset + METRIC_NAME_OFFSET, METRIC_NAME_LENGTH),
                kind,
                label: label
                    .split_once('=')
                    .map(|(k, v)| (k.to_string(), v.to_string())),
                help: view.string(offset + METRIC_HELP_OFFSET, METRIC_HELP_LENGTH),
            });
        }
        let stages = (0..g.latency_count)
            .map(|i| {
                let offset = g.latency_offset(i);
                StageMeta {
                    offset,
                    name: view.string(offset + STAGE_NAME_OFFSET, STAGE_NAME_LENGTH),
                }
            })
            .collect();
        Ok(Catalog {
            name: view.string(INSTANCE_NAME_OFFSET, INSTANCE_NAME_LENGTH),
            pid: view.u32(PID_OFFSET),
            start_time_ns: view.u64(START_TIME_OFFSET),
            metrics,
            stages,
        })
    }

    /// Reads the live values. `view` is the mapping this catalog was read from.
    pub(super) fn snapshot(&self, view: &View<'_>) -> StatsSnapshot {
        let taken_ns = now_unix_ns();
        let heartbeat_ns = view.u64(HEARTBEAT_OFFSET);
        StatsSnapshot {
            name: self.name.clone(),
            pid: self.pid,
            start_time_ns: self.start_time_ns,
            heartbeat_ns,
            taken_ns,
            alive: pid_alive(self.pid) && heartbeat_fresh(heartbeat_ns, taken_ns),
            health: Health::from_u32(view.u32(HEALTH_OFFSET)),
            metrics: self
                .metrics
                .iter()
                .map(|m| MetricValue {
                    name: m.name.clone(),
                    kind: m.kind,
                    label: m.label.clone(),
                    help: m.help.clone(),
                    value: view.i64(m.offset + METRIC_VALUE_OFFSET),
                })
                .collect(),
            latencies: self
                .stages
                .iter()
                .map(|s| stage_latency(&s.name, read_latency(view, s.offset)))
                .collect(),
        }
    }
}

fn stage_latency(stage: &str, fields: Option<LatencyFields>) -> StageLatency {
    let [count, mean, p50, p90, p99, p999, p9999, max, dropped] = fields.unwrap_or_default();
    StageLatency {
        stage: stage.to_string(),
        consistent: fields.is_some(),
        count,
        mean,
        p50,
        p90,
        p99,
        p999,
        p9999,
        max,
        dropped,
    }
}

/// The seqlock read (Boehm, "Can seqlocks get along with programming language memory
/// models?"): version, fields, version again; equal and even means no write overlapped.
fn read_latency(view: &View<'_>, entry: usize) -> Option<LatencyFields> {
    for attempt in 0..SEQLOCK_ATTEMPTS {
        let before = view.u64(entry + LATENCY_VERSION_OFFSET);
        // Acquire: pairs with the writer's release store of the even version, so the fields
        // read next are at least those that version published.
        fence(Ordering::Acquire);
        if before & 1 == 0 {
            let fields = LATENCY_FIELD_OFFSETS.map(|off| view.u64(entry + off));
            // Acquire: if any field came from a newer write, this pairs with the writer's
            // release fence after it made the version odd, so the check below sees that change.
            fence(Ordering::Acquire);
            if view.u64(entry + LATENCY_VERSION_OFFSET) == before {
                return Some(fields);
            }
        }
        if attempt < SEQLOCK_SPINS {
            hint::spin_loop();
        } else {
            thread::yield_now();
        }
    }
    None
}
