//! Where the monitor hands each operational event: the journal's `events` stream (in the
//! monitor's own thread: an append to a mapped segment), the JSON-lines log and the webhook
//! (queued to their own threads, never waited on).

use pulse_journal::Appender;

use super::log::{EventLog, LogReport};
use super::notify::{Notifier, NotifyReport};
use super::{json, record, OpsEvent};
use crate::config::Config;

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
}

impl OpsSinks {
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
