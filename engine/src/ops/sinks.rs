//! Where the monitor hands each operational event: the journal's `events` stream (in the
//! monitor's own thread: an append to a mapped segment), the JSON-lines log and the webhook
//! (queued to their own threads, never waited on).

use pulse_journal::Appender;

use super::log::{EventLog, LogReport};
use super::notify::{Notifier, NotifyReport};
use super::{json, record, OpsEvent};
use crate::config::Config;
use crate::stats::{MetricDesc, MetricSlot};

/// What became of the run's events, for the summary.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OpsReport {
    /// Events the monitor produced.
    pub events: u64,
    /// Events a faulted `events` journal refused.
    pub journal_refused: u64,
    pub log: Option<LogReport>,
    /// The webhook's host (never more of its URL) and what it did.
    pub notify: Option<(String, NotifyReport)>,
}

pub struct OpsSinks {
    instance: String,
    journal: Option<Appender>,
    log: Option<EventLog>,
    notify: Option<Notifier>,
    events: u64,
    journal_refused: u64,
    /// The stats file's slots of [`OpsSinks::metric_descs`], in their order.
    slots: Vec<MetricSlot>,
}

impl OpsSinks {
    /// How many metrics [`OpsSinks::metric_descs`] declares.
    pub const METRICS: usize = 4;

    /// The sinks' counters in the stats file (and so in Prometheus): events produced, queue-
    /// full drops of the log and of the webhook, and notifications given up.
    pub fn metric_descs() -> [MetricDesc; Self::METRICS] {
        let dropped = "Operational events dropped: the sink's queue was full";
        [
            MetricDesc::counter(
                "ops_events",
                "Operational events (health, kill, flatten, ...)",
            ),
            MetricDesc::counter("ops_events_dropped", dropped).with_label("sink", "log"),
            MetricDesc::counter("ops_events_dropped", dropped).with_label("sink", "notify"),
            MetricDesc::counter(
                "notify_failed",
                "Webhook notifications given up after retries",
            ),
        ]
    }

    /// Where [`OpsSinks::publish`] writes the counters.
    pub fn attach(&mut self, slots: Vec<MetricSlot>) {
        self.slots = slots;
    }

    /// Writes the counters to the stats file (the monitor calls it every publish).
    pub fn publish(&self) {
        let values = [
            self.events,
            self.log.as_ref().map_or(0, EventLog::dropped),
            self.notify.as_ref().map_or(0, Notifier::dropped),
            self.notify.as_ref().map_or(0, Notifier::failed),
        ];
        for (slot, v) in self.slots.iter().zip(values) {
            slot.set(v as i64);
        }
    }

    /// Opens the log and starts the notifier as `cfg` says; the instance is `[events]
    /// instance`, else the engine's name.
    pub fn start(cfg: &Config, journal: Option<Appender>) -> anyhow::Result<OpsSinks> {
        let instance = cfg
            .events
            .instance
            .clone()
            .unwrap_or_else(|| cfg.engine.name.clone());
        let log = match &cfg.events.log {
            Some(target) => Some(EventLog::start(target, super::log::QUEUE_LINES)?),
            None => None,
        };
        let notify = match &cfg.notify {
            Some(n) => {
                let notifier = Notifier::start(n, &instance).map_err(anyhow::Error::msg)?;
                eprintln!("pulse: notify: webhook on {} (<redacted>)", notifier.host());
                Some(notifier)
            }
            None => None,
        };
        Ok(OpsSinks {
            instance,
            journal,
            log,
            notify,
            events: 0,
            journal_refused: 0,
            slots: Vec::new(),
        })
    }

    /// Journals `ev`, queues its line for the log and offers it to the webhook.
    pub fn emit(&mut self, ev: &OpsEvent) {
        self.events += 1;
        if let Some(journal) = &mut self.journal {
            let appended = record::encode(ev, &self.instance)
                .is_some_and(|(kind, p)| journal.append(kind, ev.time_ns, &p).is_ok());
            if !appended {
                self.journal_refused += 1;
            }
        }
        if let Some(log) = &mut self.log {
            log.send(json::line(ev, &self.instance));
        }
        if let Some(notify) = &mut self.notify {
            notify.offer(ev);
        }
    }

    /// Closes the journal appender and lets the log and the webhook finish.
    pub fn finish(mut self) -> OpsReport {
        drop(self.journal.take());
        let notify = self.notify.map(|n| {
            let host = n.host().to_owned();
            (host, n.finish())
        });
        OpsReport {
            events: self.events,
            journal_refused: self.journal_refused,
            log: self.log.map(EventLog::finish),
            notify,
        }
    }
}
