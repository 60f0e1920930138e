//! The engine's side of the stats file: creates it, hands each metric's writer a slot, and
//! publishes health, heartbeat and latency percentiles.
#![allow(unsafe_code)]

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{fence, AtomicI64, Ordering};
use std::sync::Arc;

use hdrhistogram::Histogram;
use memmap2::MmapMut;

use super::exclusive::{check_instance_name, create_mapped, FileId};
use super::layout::*;
use super::liveness::now_unix_ns;
use super::region::Region;
use super::snapshot::{Catalog, StatsSnapshot};

/// The mapped stats file, shared (`Arc`) by every thread that writes into it.
///
/// Each metric value has exactly one writer, holding its [`MetricSlot`]; health, heartbeat and
/// latency entries are written by the metrics thread alone. Readers map the file read-only and
/// never block a writer.
///
/// When the last `Arc` goes (the engine shut down cleanly), the file is removed, unless another
/// engine has replaced it meanwhile. After a crash the file stays, with a dead pid, until the
/// next engine of that name replaces it.
pub struct StatsFile {
    /// Owns the mapping `region` points into.
    _map: MmapMut,
    region: Region,
    geometry: TableGeometry,
    catalog: Catalog,
    shared: Option<SharedFile>,
}

/// The file behind a shared mapping, identified by inode so that `Drop` never removes a newer
/// engine's file at the same path.
struct SharedFile {
    path: PathBuf,
    id: FileId,
}

// SAFETY: `region` points into `_map`, which `StatsFile` owns and never remaps; after creation
// every access through it is atomic, so the mapping may be used from any thread.
unsafe impl Send for StatsFile {}
// SAFETY: as for `Send`: shared access is only ever atomic loads and stores.
unsafe impl Sync for StatsFile {}

/// One metric's value in the file, for its one writer. `Send` (move it to the writing thread)
/// but not `Sync` or `Clone`, which keeps that writer single.
pub struct MetricSlot {
    value: *const AtomicI64,
    _file: Arc<StatsFile>,
}

// SAFETY: `value` points into the mapping `_file` keeps alive, and is only used atomically.
unsafe impl Send for MetricSlot {}

impl MetricSlot {
    #[inline]
    pub fn set(&self, v: i64) {
        // SAFETY: in bounds and 8-aligned (checked by `StatsFile::metric`); the mapping lives as
        // long as `_file`; the value is only ever accessed atomically.
        let value = unsafe { &*self.value };
        // Relaxed: this slot has one writer, so a plain store (no read-modify-write) loses
        // nothing, and a monitor needs only this word's latest value, with nothing published
        // alongside it. On x86 it is a plain `mov`.
        value.store(v, Ordering::Relaxed);
    }
}

/// What a latency entry holds, in nanoseconds except the two counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LatencySummary {
    pub count: u64,
    pub mean: u64,
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p999: u64,
    pub p9999: u64,
    pub max: u64,
    /// Samples lost before the histogram (full ring) or beyond its range.
    pub dropped: u64,
}

impl LatencySummary {
    /// An empty histogram gives zeros (and `dropped`).
    pub fn from_histogram(h: &Histogram<u64>, dropped: u64) -> LatencySummary {
        if h.is_empty() {
            return LatencySummary {
                dropped,
                ..LatencySummary::default()
            };
        }
        LatencySummary {
            count: h.len(),
            mean: h.mean().round() as u64,
            p50: h.value_at_quantile(0.5),
            p90: h.value_at_quantile(0.9),
            p99: h.value_at_quantile(0.99),
            p999: h.value_at_quantile(0.999),
            p9999: h.value_at_quantile(0.9999),
            max: h.max(),
            dropped,
        }
    }

    fn fields(&self) -> LatencyFields {
        [
            self.count,
            self.mean,
            self.p50,
            self.p90,
            self.p99,
            self.p999,
            self.p9999,
            self.max,
            self.dropped,
        ]
    }
}

impl StatsFile {
    /// Creates the stats file at `path` (the engine's is `<run_dir>/<name>.stats`, see
    /// [`crate::run_dir`]), exclusively (`O_CREAT|O_EXCL`) and with mode 0600.
    ///
    /// If the file exists: when its pid is alive and its heartbeat fresh, another engine of this
    /// name is running and this fails ("an engine named demo is already running (pid N)"); when
    /// its pid is dead, it is a crashed engine's leftover, and it is removed and created anew.
    /// A live pid with a stale heartbeat (a hung engine, or a reused pid) and a file this pulse
    /// cannot read are left alone, with an error saying so.
    ///
    /// `name` is the engine's instance name, `[a-z0-9_-]{1,32}`; metric `i` of `metrics` gets
    /// slot `i`, stage `j` of `stages` latency entry `j`.
    pub fn create(
        name: &str,
        path: &Path,
        metrics: &[MetricDesc],
        stages: &[&str],
    ) -> anyhow::Result<Arc<StatsFile>> {
        check_instance_name(name).map_err(anyhow::Error::msg)?;
        check_tables(metrics, stages).map_err(anyhow::Error::msg)?;
        let length = TableGeometry::new(metrics.len(), stages.len()).file_length;
        let (map, id) = create_mapped(name, path, length)?;
        let shared = SharedFile {
            path: path.to_path_buf(),
            id,
        };
        Ok(Arc::new(StatsFile::init(
            map,
            name,
            metrics,
            stages,
            Some(shared),
        )))
    }

    /// The same layout in anonymous memory, for runs nobody monitors (tests, replay), so writers
    /// never branch on whether a file exists.
    ///
    /// # Panics
    ///
    /// On descriptors [`StatsFile::create`] would refuse (names too long for their fields,
    /// duplicates), or if the memory cannot be mapped.
    pub fn anonymous(metrics: &[MetricDesc], stages: &[&str]) -> Arc<StatsFile> {
        if let Err(e) = check_tables(metrics, stages) {
            panic!("stats tables: {e}");
        }
        let length = TableGeometry::new(metrics.len(), stages.len()).file_length;
        let map = MmapMut::map_anon(length).expect("cannot map anonymous memory for stats");
        Arc::new(StatsFile::init(map, "anonymous", metrics, stages, None))
    }

    /// Writes the header and every name, then the magic, last, which publishes them.
    fn init(
        mut map: MmapMut,
        name: &str,
        metrics: &[MetricDesc],
        stages: &[&str],
        shared: Option<SharedFile>,
    ) -> StatsFile {
        let geometry = TableGeometry::new(metrics.len(), stages.len());
        // SAFETY: the region and the mapping are moved together into the returned file, which
        // never remaps the mapping; every access from here on goes through the region (atomic).
        let region = unsafe { Region::new(&mut map, geometry.file_length) };
        let start = now_unix_ns();
        // Relaxed throughout: nothing reads these before the release store of the magic below.
        let relaxed = Ordering::Relaxed;
        let header_u32s = [
            (LAYOUT_VERSION_OFFSET, LAYOUT_VERSION),
            (HEADER_LENGTH_OFFSET, HEADER_LENGTH as u32),
            (PID_OFFSET, std::process::id()),
            (METRIC_COUNT_OFFSET, metrics.len() as u32),
            (
                METRIC_TABLE_OFFSET_OFFSET,
                geometry.metric_table_offset as u32,
            ),
            (LATENCY_COUNT_OFFSET, stages.len() as u32),
            (
                LATENCY_TABLE_OFFSET_OFFSET,
                geometry.latency_table_offset as u32,
            ),
            (HEALTH_OFFSET, Health::Initializing as u32),
        ];
        for (off, v) in header_u32s {
            region.u32(off).store(v, relaxed);
        }
        region.u64(START_TIME_OFFSET).store(start, relaxed);
        region.u64(HEARTBEAT_OFFSET).store(start, relaxed);
        region
            .u64(FILE_LENGTH_OFFSET)
            .store(geometry.file_length as u64, relaxed);
        region.write_str(INSTANCE_NAME_OFFSET, name);
        for (i, m) in metrics.iter().enumerate() {
            let entry = geometry.metric_offset(i);
            region
                .u32(entry + METRIC_KIND_OFFSET)
                .store(m.kind.code(), relaxed);
            region.write_str(entry + METRIC_NAME_OFFSET, m.name);
            region.write_str(entry + METRIC_LABEL_OFFSET, &m.label_field());
            region.write_str(entry + METRIC_HELP_OFFSET, m.help);
        }
        for (i, s) in stages.iter().enumerate() {
            region.write_str(geometry.latency_offset(i) + STAGE_NAME_OFFSET, s);
        }
        // Release: publishes everything above to a reader that sees the magic (it acquires).
        region.u64(MAGIC_OFFSET).store(MAGIC, Ordering::Release);
        let catalog =
            Catalog::read(&region.view()).expect("a stats file reads back as it was written");
        StatsFile {
            _map: map,
            region,
            geometry,
            catalog,
            shared,
        }
    }

    pub fn path(&self) -> Option<&Path> {
        self.shared.as_ref().map(|s| s.path.as_path())
    }

    /// The slot of metric `index` (its position in `create`'s `metrics`), for its one writer.
    ///
    /// # Panics
    ///
    /// If `index` is not a registered metric.
    pub fn metric(self: &Arc<Self>, index: usize) -> MetricSlot {
        assert!(
            index < self.geometry.metric_count,
            "metric {index} of {}",
            self.geometry.metric_count
        );
        let value: *const AtomicI64 = self.region.i64(self.geometry.metric_offset(index));
        MetricSlot {
            value,
            _file: Arc::clone(self),
        }
    }

    pub fn set_health(&self, h: Health) {
        // Relaxed: a monitor wants only the latest state; nothing is published with it.
        self.region
            .u32(HEALTH_OFFSET)
            .store(h as u32, Ordering::Relaxed);
    }

    /// Called by the metrics thread every few milliseconds: monitors take a heartbeat older than
    /// a few seconds to mean the engine has stopped.
    pub fn heartbeat(&self, unix_ns: u64) {
        // Relaxed: a monitor wants only the latest beat; nothing is published with it.
        self.region
            .u64(HEARTBEAT_OFFSET)
            .store(unix_ns, Ordering::Relaxed);
    }

    /// Publishes stage `stage_index`'s summary under the entry's seqlock. Only the metrics
    /// thread calls it; readers retry rather than wait, so this never blocks.
    ///
    /// # Panics
    ///
    /// If `stage_index` is not a registered stage.
    pub fn publish_latency(&self, stage_index: usize, s: &LatencySummary) {
        assert!(
            stage_index < self.geometry.latency_count,
            "stage {stage_index} of {}",
            self.geometry.latency_count
        );
        let entry = self.geometry.latency_offset(stage_index);
        let version = self.region.u64(entry + LATENCY_VERSION_OFFSET);
        // Relaxed: this thread is the version's only writer, so it reads its own last store.
        let v = version.load(Ordering::Relaxed);
        // Relaxed, then a release fence: the fence orders the odd version before every field
        // store below, so a reader that sees any new field also sees the odd version and retries.
        version.store(v.wrapping_add(1), Ordering::Relaxed);
        fence(Ordering::Release);
        for (off, value) in LATENCY_FIELD_OFFSETS.into_iter().zip(s.fields()) {
            // Relaxed: ordered by the fence above and the release store below.
            self.region.u64(entry + off).store(value, Ordering::Relaxed);
        }
        // Release: publishes the fields together with the even version.
        version.store(v.wrapping_add(2), Ordering::Release);
    }

    /// What a reader of this file would see now: lets the engine serve its own `/metrics` and
    /// lets tests read an anonymous file.
    pub fn snapshot(&self) -> StatsSnapshot {
        self.catalog.snapshot(&self.region.view())
    }
}

impl Drop for StatsFile {
    fn drop(&mut self) {
        if let Some(s) = &self.shared {
            // Only our own inode: a newer engine may have replaced the file after we hung.
            if FileId::of(&s.path) == Some(s.id) {
                let _ = fs::remove_file(&s.path);
            }
        }
    }
}

fn check_tables(metrics: &[MetricDesc], stages: &[&str]) -> Result<(), String> {
    let mut seen = HashSet::new();
    for m in metrics {
        m.validate()?;
        if !seen.insert((m.name, m.label_field())) {
            return Err(format!(
                "metric {} {} registered twice",
                m.name,
                m.label_field()
            ));
        }
    }
    let mut seen = HashSet::new();
    for s in stages {
        check_field("stage name", s, STAGE_NAME_LENGTH)?;
        if s.is_empty() || !seen.insert(*s) {
            return Err(format!("stage name {s:?}: empty or registered twice"));
        }
    }
    // Counts are stored as u32; far beyond anything an engine registers.
    if metrics.len() > 1 << 20 || stages.len() > 1 << 20 {
        return Err("too many metrics or stages for a stats file".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn descs() -> Vec<MetricDesc> {
        vec![
            MetricDesc::counter("feed_messages", "Frames decoded."),
            MetricDesc::gauge("position", "Net position in lots.").with_label("instrument", "BTC"),
        ]
    }

    #[test]
    fn anonymous_file_reads_back_what_was_written() {
        let f = StatsFile::anonymous(&descs(), &["feed", "book"]);
        assert_eq!(f.path(), None);
        f.metric(0).set(42);
        f.metric(1).set(-7);
        f.set_health(Health::Degraded);
        f.heartbeat(123);
        let s = LatencySummary {
            count: 9,
            mean: 2,
            p50: 3,
            p90: 4,
            p99: 5,
            p999: 6,
            p9999: 7,
            max: 8,
            dropped: 1,
        };
        f.publish_latency(1, &s);
        let snap = f.snapshot();
        assert_eq!(snap.pid, std::process::id());
        assert_eq!(snap.name, "anonymous");
        assert_eq!(snap.health, Some(Health::Degraded));
        assert_eq!(snap.heartbeat_ns, 123);
        let values: Vec<i64> = snap.metrics.iter().map(|m| m.value).collect();
        assert_eq!(values, [42, -7]);
        assert_eq!(
            snap.metrics[1].label,
            Some(("instrument".into(), "BTC".into()))
        );
        assert_eq!(snap.metrics[1].kind, MetricKind::Gauge);
        let book = &snap.latencies[1];
        assert_eq!(book.stage, "book");
        assert!(book.consistent);
        let got = [
            book.count,
            book.mean,
            book.p50,
            book.p90,
            book.p99,
            book.p999,
            book.p9999,
            book.max,
            book.dropped,
        ];
        assert_eq!(got, s.fields());
        assert_eq!(snap.latencies[0].count, 0);
    }

    #[test]
    fn summary_from_histogram_takes_its_quantiles() {
        let mut h = Histogram::<u64>::new_with_bounds(1, 1_000_000, 3).unwrap();
        for v in 1..=1000 {
            h.record(v).unwrap();
        }
        let s = LatencySummary::from_histogram(&h, 5);
        assert_eq!(
            (s.count, s.p50, s.p90, s.max, s.dropped),
            (1000, 500, 900, 1000, 5)
        );
        assert_eq!(s.mean, 501);
        let empty = Histogram::<u64>::new(3).unwrap();
        assert_eq!(
            LatencySummary::from_histogram(&empty, 2),
            LatencySummary {
                dropped: 2,
                ..LatencySummary::default()
            }
        );
    }

    #[test]
    fn tables_that_cannot_be_stored_exactly_are_refused() {
        let twice = [descs()[0].clone(), descs()[0].clone()];
        assert!(check_tables(&twice, &[]).unwrap_err().contains("twice"));
        assert!(check_tables(&[], &["book", "book"]).is_err());
        assert!(check_tables(&[], &[&"s".repeat(33)]).is_err());
        assert!(check_instance_name("demo-1_a").is_ok());
        assert!(check_instance_name("Demo").is_err());
        assert!(check_instance_name("../x").is_err());
        assert!(check_instance_name("").is_err());
    }
}
