//! The webhook notifier (`[notify]`): a thread of its own POSTs a Slack-compatible body,
//! `{"text": "...", "pulse": {the event's JSON line}}`, for each event its `on` list selects,
//! retrying a connect error, a timeout, 5xx or 429 with exponential backoff. The monitor only
//! `try_send`s into a bounded queue: a full queue is a counted drop. The URL is a secret (a
//! Slack webhook's path is its credential): it is held in the thread only, and nothing prints
//! more of it than its host.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use pulse_feeds::ws::endpoint::{tls_config, Endpoint};
use pulse_gateways::secret::Secret;

use super::http::post_json;
use super::{json, OpsEvent};
use crate::config::{KeySource, NotifyConfig};
use crate::secrets::TakenSecret;

/// How long the end of a run waits for queued notifications before it counts them dropped.
pub const FINISH_GRACE: Duration = Duration::from_secs(3);

/// What the notifier did, for the run summary.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NotifyReport {
    /// Events POSTed and answered 2xx.
    pub sent: u64,
    /// Events given up on after every retry (or on a 4xx), or left when the run ended.
    pub failed: u64,
    /// Events dropped because the queue was full.
    pub dropped: u64,
    /// POSTs made, first tries and retries.
    pub attempts: u64,
}

/// The monitor's end: filters, queues, counts drops.
pub struct Notifier {
    on: Vec<String>,
    tx: Option<SyncSender<OpsEvent>>,
    handle: Option<JoinHandle<()>>,
    closing: Arc<AtomicBool>,
    counts: Arc<Counts>,
    dropped: u64,
    host: String,
}

#[derive(Default)]
struct Counts {
    sent: AtomicU64,
    failed: AtomicU64,
    attempts: AtomicU64,
}

/// Takes `[notify] url_env` out of the environment (wiped and removed, and the process made
/// non-dumpable, as for the gateway's API secrets). Call while the process has one thread.
pub fn take_env_url(notify: &mut Option<NotifyConfig>) -> Result<(), String> {
    let Some(cfg) = notify else { return Ok(()) };
    if let KeySource::Env(name) = &cfg.url {
        crate::secrets::forbid_dumps()?;
        let secret =
            crate::secrets::take_env(name).map_err(|e| format!("[notify] url_env: {e}"))?;
        cfg.url = KeySource::Taken(TakenSecret::new(name.clone(), secret));
    }
    Ok(())
}

/// The URL from where the config says; errors name the source, never the URL.
fn read_url(source: &KeySource) -> Result<Secret, String> {
    match source {
        KeySource::Env(name) => Secret::from_env(name),
        KeySource::File(path) => Secret::from_file(path, crate::secrets::euid()),
        KeySource::Taken(taken) => Ok(taken.copy()),
    }
}

impl Notifier {
    /// Reads the URL, checks it is `http://` or `https://`, and starts the thread.
    pub fn start(cfg: &NotifyConfig, instance: &str) -> Result<Notifier, String> {
        let url = read_url(&cfg.url).map_err(|e| format!("[notify]: {e}"))?;
        let text = url.expose();
        if !(text.starts_with("http://") || text.starts_with("https://")) {
            return Err(
                "[notify]: the webhook URL must start with http:// or https:// \
                        (<redacted>)"
                    .into(),
            );
        }
        let endpoint = Endpoint::parse(text)
            .map_err(|_| "[notify]: the webhook URL does not parse (<redacted>)".to_owned())?;
        let tls = if endpoint.tls {
            Some(tls_config(cfg.ca_file.as_deref()).map_err(|e| format!("[notify] TLS: {e}"))?)
        } else {
            None
        };
        let (tx, rx) = mpsc::sync_channel(cfg.queue);
        let closing = Arc::new(AtomicBool::new(false));
        let counts = Arc::new(Counts::default());
        let host = endpoint.host.clone();
        let worker = Worker {
            endpoint,
            tls,
            timeout: cfg.timeout,
            retries: cfg.retries,
            backoff: cfg.backoff,
            instance: instance.to_owned(),
            closing: Arc::clone(&closing),
            counts: Arc::clone(&counts),
        };
        let handle = std::thread::Builder::new()
            .name("pulse-notify".into())
            .spawn(move || worker.run(rx))
            .map_err(|e| format!("[notify]: cannot start its thread: {e}"))?;
        Ok(Notifier {
            on: cfg.on.clone(),
            tx: Some(tx),
            handle: Some(handle),
            closing,
            counts,
            dropped: 0,
            host,
        })
    }

    /// The webhook's host (all of the URL that may be shown).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Whether the `on` list selects `ev`.
    pub fn wants(&self, ev: &OpsEvent) -> bool {
        self.on.iter().any(|on| match on.as_str() {
            "degraded" => {
                ev.kind == "health"
                    && matches!(
                        ev.text("to"),
                        Some("degraded" | "critical" | "emergency_stop")
                    )
            }
            kind => kind == ev.kind,
        })
    }

    /// Queues `ev` if the `on` list selects it; never waits: a full queue drops it, counted.
    pub fn offer(&mut self, ev: &OpsEvent) {
        if !self.wants(ev) {
            return;
        }
        let Some(tx) = &self.tx else { return };
        match tx.try_send(ev.clone()) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => self.dropped += 1,
        }
    }

    /// Events given up on so far (every retry failed, or a 4xx).
    pub fn failed(&self) -> u64 {
        // Acquire: pairs with the worker's AcqRel increments; a monitor wants the latest count.
        self.counts.failed.load(Ordering::Acquire)
    }

    /// Queue-full drops so far.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Lets the thread send what is queued, retries included, for up to [`FINISH_GRACE`]
    /// (what is left then is counted failed), then reports.
    pub fn finish(mut self) -> NotifyReport {
        self.closing.store(true, Ordering::Release);
        drop(self.tx.take());
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
        NotifyReport {
            sent: self.counts.sent.load(Ordering::Acquire),
            failed: self.counts.failed.load(Ordering::Acquire),
            dropped: self.dropped,
            attempts: self.counts.attempts.load(Ordering::Acquire),
        }
    }
}

/// The thread's end: owns the URL.
struct Worker {
    endpoint: Endpoint,
    tls: Option<Arc<rustls::ClientConfig>>,
    timeout: Duration,
    retries: u32,
    backoff: Duration,
    instance: String,
    closing: Arc<AtomicBool>,
    counts: Arc<Counts>,
}

impl Worker {
    fn run(self, rx: Receiver<OpsEvent>) {
        let mut closed_at = None;
        for ev in rx {
            if self.past_grace(&mut closed_at) {
                self.counts.failed.fetch_add(1, Ordering::AcqRel);
                continue;
            }
            let body = body(&ev, &self.instance);
            if self.deliver(body.as_bytes(), &mut closed_at) {
                self.counts.sent.fetch_add(1, Ordering::AcqRel);
            } else {
                self.counts.failed.fetch_add(1, Ordering::AcqRel);
            }
        }
    }

    /// Whether the run ended more than [`FINISH_GRACE`] ago (`closed_at`: when this thread
    /// first saw it end).
    fn past_grace(&self, closed_at: &mut Option<Instant>) -> bool {
        // Acquire: pairs with `finish`'s Release; nothing else is published with it.
        if closed_at.is_none() && self.closing.load(Ordering::Acquire) {
            *closed_at = Some(Instant::now());
        }
        closed_at.is_some_and(|t| t.elapsed() > FINISH_GRACE)
    }

    /// One event: the first try and up to `retries` more, waiting `backoff`, then twice that;
    /// no retry starts once the run's end is past its grace.
    fn deliver(&self, body: &[u8], closed_at: &mut Option<Instant>) -> bool {
        let mut wait = self.backoff;
        let mut tries = 0;
        for attempt in 0..=self.retries {
            if attempt > 0 {
                std::thread::sleep(wait);
                wait = wait.saturating_mul(2);
                if self.past_grace(closed_at) {
                    break;
                }
            }
            tries += 1;
            self.counts.attempts.fetch_add(1, Ordering::AcqRel);
            match post_json(&self.endpoint, self.tls.as_ref(), body, self.timeout) {
                Ok(_) => return true,
                Err(e) if !e.retryable() => {
                    eprintln!(
                        "pulse: notify: {} answered {e}: not retried",
                        self.endpoint.host
                    );
                    return false;
                }
                Err(_) => {}
            }
        }
        eprintln!(
            "pulse: notify: {} failed {tries} time(s): event dropped",
            self.endpoint.host
        );
        false
    }
}

/// The POST body: Slack's `text`, and the event's JSON line under `pulse`.
pub fn body(ev: &OpsEvent, instance: &str) -> String {
    let text = serde_json::to_string(&message(ev, instance)).unwrap_or_else(|_| "\"\"".into());
    format!("{{\"text\":{text},\"pulse\":{}}}", json::line(ev, instance))
}

/// The human line: `pulse demo: health healthy -> degraded (kill_switch)`.
pub fn message(ev: &OpsEvent, instance: &str) -> String {
    let mut out = format!("pulse {instance}: ");
    match ev.kind {
        "health" => out.push_str(&format!(
            "health {} -> {} ({})",
            ev.text("from").unwrap_or("?"),
            ev.text("to").unwrap_or("?"),
            ev.text("reason").unwrap_or("?")
        )),
        "kill" => out.push_str(&format!(
            "kill switch engaged ({}): no new orders, open orders cancelled",
            ev.text("reason").unwrap_or("?")
        )),
        kind => {
            out.push_str(kind);
            for (k, v) in &ev.fields {
                match v {
                    super::Value::Num(n) => out.push_str(&format!(" {k}={n}")),
                    super::Value::Text(t) => out.push_str(&format!(" {k}={t}")),
                }
            }
        }
    }
    out
}
