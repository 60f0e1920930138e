//! The metrics thread's work, done by the coordinator between its 1 ms ticks: drain each
//! stage's latency samples into its histogram, publish percentiles, heartbeat and health to the
//! stats file, answer Prometheus, and watch the journals. Nothing here is on the hot path.

use std::sync::Arc;
use std::time::{Duration, Instant};

use pulse_core::counters::{CoreCounter, CounterDescriptor, CounterId};
use pulse_feeds::counters::{BookCounter, FeedCounter};
use pulse_feeds::latency::LatencyCollector;
use pulse_journal::{Appender, JournalService};
use pulse_risk::counters::RiskCounter;

use crate::health::{Health, HealthInputs, HealthMonitor, HealthPolicy, Transition};
use crate::risk::{HaltReason, KillSwitch, RejectReason};
use crate::stats::liveness::now_unix_ns;
use crate::stats::snapshot::StatsSnapshot;
use crate::stats::{LatencySummary, MetricsServer, StatsFile};

/// How often percentiles, heartbeat and health are published.
pub const PUBLISH_EVERY: Duration = Duration::from_millis(100);

/// Record kinds of the events stream (operational, wall-clock: not part of replay).
pub mod event_kind {
    /// A run begins. Payload: start time (unix ns) u64, pid u32, reserved u32.
    pub const SESSION: u16 = 0x0001;
    /// Payload: from u8, to u8 (Health codes), reason u16 (HealthReason), reserved u32.
    pub const HEALTH: u16 = 0x0201;
}
pub const EVENTS_STREAM: &str = "events";

pub struct Monitor {
    stats: Arc<StatsFile>,
    latency: Vec<(&'static str, LatencyCollector)>,
    health: HealthMonitor,
    started: Instant,
    last_publish: Instant,
    server: Option<MetricsServer>,
    events: Option<Appender>,
    journals: Vec<(&'static str, JournalService)>,
    kill: KillSwitch,
    live_feed: bool,
    /// Every health transition of the run, in order.
    pub transitions: Vec<Transition>,
    /// Events-stream records refused by a faulted journal.
    events_refused: u64,
    render: String,
}

/// What the monitor hands back at the end of a run.
pub struct MonitorReport {
    pub latency: Vec<(&'static str, LatencyCollector)>,
    pub transitions: Vec<Transition>,
    pub health: Health,
    /// Events-stream records (health transitions) a faulted journal refused.
    pub events_refused: u64,
    /// Journal streams and what their final sync said.
    pub journals: Vec<(&'static str, anyhow::Result<()>)>,
}

pub struct MonitorParts {
    pub stats: Arc<StatsFile>,
    pub latency: Vec<(&'static str, LatencyCollector)>,
    pub server: Option<MetricsServer>,
    pub events: Option<Appender>,
    pub journals: Vec<(&'static str, JournalService)>,
    pub kill: KillSwitch,
    pub live_feed: bool,
}

impl Monitor {
    pub fn new(parts: MonitorParts) -> Monitor {
        let mut events = parts.events;
        if let Some(events) = &mut events {
            let mut p = [0u8; 16];
            p[..8].copy_from_slice(&now_unix_ns().to_le_bytes());
            p[8..12].copy_from_slice(&std::process::id().to_le_bytes());
            let _ = events.append(event_kind::SESSION, now_unix_ns(), &p);
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
            events,
            journals: parts.journals,
            kill: parts.kill,
            live_feed: parts.live_feed,
            transitions: Vec::new(),
            events_refused: 0,
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
        let inputs = self.inputs(&self.stats.snapshot(), runner_failed);
        let now = self.started.elapsed().as_nanos() as u64;
        if let Some(t) = self.health.step(now, &inputs) {
            self.on_transition(t);
        }
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
        if let Some(events) = &mut self.events {
            let mut p = [0u8; 8];
            p[0] = t.from as u8;
            p[1] = t.to as u8;
            p[2..4].copy_from_slice(&(t.reason as u16).to_le_bytes());
            if events
                .append(event_kind::HEALTH, now_unix_ns(), &p)
                .is_err()
            {
                self.events_refused += 1;
            }
        }
        self.transitions.push(t);
    }

    /// Publishes a last time, then syncs and closes every journal stream.
    pub fn finish(mut self, runner_failed: bool) -> MonitorReport {
        self.publish(runner_failed);
        drop(self.events.take());
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
            events_refused: self.events_refused,
            journals,
        }
    }
}
