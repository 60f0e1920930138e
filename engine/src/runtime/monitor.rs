//! The metrics thread's work, done by the coordinator between its 1 ms ticks: drain each
//! stage's latency samples into its histogram, publish percentiles, heartbeat and health to the
//! stats file, answer Prometheus, and watch the journals; and, every publish, the operational
//! events ([`crate::ops`]) found by diffing against the previous one. Nothing here is on the
//! hot path.

use std::sync::Arc;
use std::time::{Duration, Instant};

use pulse_core::counters::{CoreCounter, CounterDescriptor, CounterId};
use pulse_feeds::counters::{BookCounter, FeedCounter};
use pulse_feeds::latency::LatencyCollector;
use pulse_journal::JournalService;
use pulse_risk::counters::RiskCounter;

use crate::health::{Health, HealthInputs, HealthMonitor, HealthPolicy, Transition};
use crate::ops::sinks::{OpsReport, OpsSinks};
use crate::ops::watch::OpsWatch;
use crate::ops::OpsEvent;
use crate::risk::{HaltReason, KillSwitch, RejectReason};
use crate::stats::liveness::now_unix_ns;
use crate::stats::snapshot::StatsSnapshot;
use crate::stats::{LatencySummary, MetricsServer, StatsFile};

/// How often percentiles, heartbeat and health are published.
pub const PUBLISH_EVERY: Duration = Duration::from_millis(100);

pub struct Monitor {
    stats: Arc<StatsFile>,
    latency: Vec<(&'static str, LatencyCollector)>,
    health: HealthMonitor,
    started: Instant,
    last_publish: Instant,
    server: Option<MetricsServer>,
    ops: OpsSinks,
    watch: OpsWatch,
    journals: Vec<(&'static str, JournalService)>,
    kill: KillSwitch,
    live_feed: bool,
    /// Every health transition of the run, in order.
    pub transitions: Vec<Transition>,
    render: String,
}

/// What the monitor hands back at the end of a run.
pub struct MonitorReport {
    pub latency: Vec<(&'static str, LatencyCollector)>,
    pub transitions: Vec<Transition>,
    pub health: Health,
    /// The run's operational events: how many, and what the journal, log and webhook did.
    pub ops: OpsReport,
    /// Journal streams and what their final sync said.
    pub journals: Vec<(&'static str, anyhow::Result<()>)>,
}

pub struct MonitorParts {
    pub stats: Arc<StatsFile>,
    pub latency: Vec<(&'static str, LatencyCollector)>,
    pub server: Option<MetricsServer>,
    /// The events journal, log and webhook.
    pub ops: OpsSinks,
    /// The start's reconciliation with the venue (described, and whether it halts), if any.
    pub reconciliation: Option<(String, bool)>,
    pub journals: Vec<(&'static str, JournalService)>,
    pub kill: KillSwitch,
    pub live_feed: bool,
}

impl Monitor {
    pub fn new(parts: MonitorParts) -> Monitor {
        let mut ops = parts.ops;
        let now = now_unix_ns();
        ops.emit(&OpsEvent::new(now, "session_start").with("pid", u64::from(std::process::id())));
        if let Some((result, halts)) = parts.reconciliation {
            let ev = OpsEvent::new(now, "reconciliation")
                .with("result", result)
                .with("halts", u64::from(halts));
            ops.emit(&ev);
        }
        parts.stats.heartbeat(now_unix_ns());
        parts.stats.set_health(Health::Initializing);
        Monitor {
            stats: parts.stats,
            latency: parts.latency,
            health: HealthMonitor::new(HealthPolicy::default()),
            started: Instant::now(),
            // The first publication waits a period: by then every runner has published its
            // stages' counters once, so health never judges the slots' initial zeros.
            last_publish: Instant::now(),
            server: parts.server,
            ops,
            watch: OpsWatch::new(&parts.kill),
            journals: parts.journals,
            kill: parts.kill,
            live_feed: parts.live_feed,
            transitions: Vec::new(),
            render: String::with_capacity(64 << 10),
        }
    }

    /// Health is critical or worse (a re-arm must wait for its cause to be fixed).
    pub fn critical(&self) -> bool {
        matches!(
            self.health.state(),
            Health::Critical | Health::EmergencyStop
        )
    }

    pub fn stats(&self) -> &Arc<StatsFile> {
        &self.stats
    }

    /// One tick: drains samples always; publishes every [`PUBLISH_EVERY`].
    pub fn tick(&mut self, runner_failed: bool) {
        for (_, collector) in &mut self.latency {
            collector.drain();
        }
        if let Some(server) = &mut self.server {
            let stats = &self.stats;
            let render = &mut self.render;
            // A failed accept is the client's problem; the next tick tries again.
            let _ = server.poll(|out| {
                render.clear();
                crate::stats::prometheus::render(&stats.snapshot(), render);
                out.push_str(render);
            });
        }
        if self.last_publish.elapsed() < PUBLISH_EVERY {
            return;
        }
        self.last_publish = Instant::now();
        self.publish(runner_failed);
    }

    fn publish(&mut self, runner_failed: bool) {
        for (i, (_, c)) in self.latency.iter().enumerate() {
            let summary =
                LatencySummary::from_histogram(c.histogram(), c.dropped() + c.out_of_range());
            self.stats.publish_latency(i, &summary);
        }
        self.stats.heartbeat(now_unix_ns());
        let snap = self.stats.snapshot();
        for ev in self.watch.diff(&snap, &self.kill, now_unix_ns()) {
            self.ops.emit(&ev);
        }
        let inputs = self.inputs(&snap, runner_failed);
        let now = self.started.elapsed().as_nanos() as u64;
        if let Some(t) = self.health.step(now, &inputs) {
            self.on_transition(t);
        }
        self.ops.publish();
    }

    fn inputs(&self, snap: &StatsSnapshot, runner_failed: bool) -> HealthInputs {
        let sum = |desc: &CounterDescriptor| -> u64 {
            snap.metrics
                .iter()
                .filter(|m| m.name == desc.name)
                .map(|m| m.value.max(0) as u64)
                .sum()
        };
        let breaches = snap
            .metrics
            .iter()
            .filter(|m| m.name == RiskCounter::Rejected.descriptor().name)
            .filter(|m| {
                m.label.as_ref().is_some_and(|(_, v)| {
                    RejectReason::ALL
                        .iter()
                        .any(|r| r.is_breach() && r.name() == v)
                })
            })
            .map(|m| m.value.max(0) as u64)
            .sum();
        HealthInputs {
            stale: sum(BookCounter::Stale.descriptor()),
            resyncs: sum(BookCounter::Resyncs.descriptor()),
            ring_full: sum(CoreCounter::RingFull.descriptor()),
            breaches,
            feed_connected: self
                .live_feed
                .then(|| sum(FeedCounter::Connected.descriptor()) > 0),
            journal_fault: self
                .journals
                .iter()
                .any(|(_, j)| j.status().fault.is_some()),
            runner_failed,
            kill_engaged: self.kill.is_engaged(),
            open_orders: sum(RiskCounter::OpenOrders.descriptor()),
        }
    }

    fn on_transition(&mut self, t: Transition) {
        self.stats.set_health(t.to);
        if t.to == Health::Critical {
            // Critical trips the kill switch: nothing new goes out until an operator acts.
            self.kill.engage(HaltReason::HealthCritical);
        }
        eprintln!("pulse: health {} -> {} ({})", t.from, t.to, t.reason.name());
        let ev = OpsEvent::new(now_unix_ns(), "health")
            .with("from", t.from.as_str())
            .with("to", t.to.as_str())
            .with("reason", t.reason.name());
        self.ops.emit(&ev);
        self.transitions.push(t);
    }

    /// An operator's flatten the coordinator applied: `instrument` as named (`None`: all).
    pub fn flatten_requested(&mut self, instrument: Option<&str>, uid: u32) {
        let now = now_unix_ns();
        self.watch.flatten_asked(now);
        let ev = OpsEvent::new(now, "flatten")
            .with("instrument", instrument.unwrap_or("all"))
            .with("uid", u64::from(uid));
        self.ops.emit(&ev);
    }

    /// Publishes a last time, records the session's end (`reason`: why the run stopped), lets
    /// the event log and the webhook finish, then syncs and closes every journal stream.
    pub fn finish(mut self, runner_failed: bool, reason: &str) -> MonitorReport {
        self.publish(runner_failed);
        let end = OpsEvent::new(now_unix_ns(), "session_end")
            .with("reason", reason)
            .with("health", self.health.state().as_str());
        self.ops.emit(&end);
        let ops = self.ops.finish();
        let journals = self
            .journals
            .into_iter()
            .map(|(name, service)| {
                let synced = match service.shutdown() {
                    Ok(report) => match report.fault {
                        None => Ok(()),
                        Some(fault) => Err(anyhow::anyhow!("{fault}")),
                    },
                    Err(e) => Err(anyhow::Error::from(e)),
                };
                (name, synced)
            })
            .collect();
        MonitorReport {
            latency: self.latency,
            transitions: self.transitions,
            health: self.health.state(),
            ops,
            journals,
        }
    }
}
