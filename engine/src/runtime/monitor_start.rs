//! Setting up the metrics thread's work before the runners start: the stats file and every
//! stage's slots in it, the Prometheus listener, and the operational events' sinks.

use anyhow::Context;

use super::monitor::{Monitor, MonitorParts};
use super::publish::{self, Publisher};
use super::runner::Runner;
use super::{failure, runner_labels};
use crate::config::{Config, SourceConfig};
use crate::ops::sinks::OpsSinks;
use crate::pipeline;
use crate::run_dir::RunDir;
use crate::stats::{MetricDesc, MetricsServer, StatsFile};

/// Registers every stage's metrics in a new stats file, hands each runner the slots it writes,
/// and sets up the metrics thread's work (latency, health, Prometheus, the events journal).
pub(super) fn start_monitor(
    cfg: &Config,
    run_dir: &RunDir,
    pipeline: &mut pipeline::Pipeline,
    runners: &mut [Runner],
    reconciliation: Option<(String, bool)>,
) -> anyhow::Result<Monitor> {
    let mut descs = Vec::new();
    let mut ranges = Vec::with_capacity(runners.len());
    for (runner, labels) in runners.iter().zip(runner_labels(runners)) {
        let (mine, counts) = publish::describe(&runner.stages, &pipeline.instruments);
        let reports = descs.len()..descs.len() + mine.len();
        descs.extend(mine);
        let failures = descs.len()..descs.len() + runner.stages.len();
        descs.extend(labels.into_iter().map(|label| {
            MetricDesc::counter("stage_failures", failure::HELP).with_label("stage", label)
        }));
        ranges.push((reports, counts, failures));
    }
    let ops_metrics = descs.len()..descs.len() + OpsSinks::METRICS;
    descs.extend(OpsSinks::metric_descs());
    let stages: Vec<&str> = pipeline.latency.iter().map(|(name, _)| *name).collect();
    let stats = if cfg.metrics.stats {
        let path = match &cfg.metrics.stats_file {
            Some(path) => path.clone(),
            None => run_dir.stats_file(&cfg.engine.name),
        };
        StatsFile::create(&cfg.engine.name, &path, &descs, &stages)?
    } else {
        StatsFile::anonymous(&descs, &stages)
    };
    for (runner, (reports, counts, failures)) in runners.iter_mut().zip(ranges) {
        let slots = reports.map(|i| stats.metric(i)).collect();
        runner.publisher = Some(Publisher::new(slots, counts));
        let slots = failures.map(|i| stats.metric(i)).collect();
        runner.failures = failure::StageFailures::new(runner.stages.len(), slots);
    }
    let server = match cfg.metrics.prometheus_listen {
        Some(addr) => {
            let server = MetricsServer::bind(addr)
                .with_context(|| format!("cannot listen for Prometheus on {addr}"))?;
            let addr = server.local_addr().context("Prometheus listener")?;
            eprintln!("pulse: Prometheus metrics on http://{addr}/metrics");
            Some(server)
        }
        None => None,
    };
    let journals = std::mem::take(&mut pipeline.journals);
    let mut ops = OpsSinks::start(cfg, pipeline.events.take())?;
    ops.attach(ops_metrics.map(|i| stats.metric(i)).collect());
    Ok(Monitor::new(MonitorParts {
        stats,
        latency: std::mem::take(&mut pipeline.latency),
        server,
        ops,
        reconciliation,
        journals,
        kill: pipeline.kill.clone(),
        live_feed: cfg
            .all_sources()
            .any(|s| matches!(s, SourceConfig::Live(_))),
    }))
}
