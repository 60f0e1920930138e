//! `[events]` (the JSON-lines event log) and `[notify]` (the webhook): their file shape and
//! their checked values. Checked in `check/events.rs`.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::KeySource;
pub use crate::ops::log::LogTarget;

/// `[events]`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventsConfig {
    /// `log = "stderr"` or a path (relative to the config's folder); `None`: no log (the
    /// events still go to the journal's `events` stream and the webhook).
    pub log: Option<LogTarget>,
    /// The `instance` every line carries; `None`: `[engine] name`.
    pub instance: Option<String>,
}

/// `[notify]`: a Slack-compatible webhook called on the events `on` names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotifyConfig {
    /// The URL is a secret (a Slack webhook's path is its credential): from `url_env` or
    /// `url_file`, never inline. `Debug` shows the variable's name or the file's path only.
    pub url: KeySource,
    /// Event kinds that notify ([`crate::ops::record::KINDS`] names), and `degraded`: a health
    /// transition to degraded or worse.
    pub on: Vec<String>,
    /// One POST, connect to last byte.
    pub timeout: Duration,
    /// Tries after the first, on a connect error, a timeout, 5xx or 429.
    pub retries: u32,
    /// The first retry waits this long, each further one twice as long.
    pub backoff: Duration,
    /// Events waiting to be sent; more are dropped and counted.
    pub queue: usize,
    /// PEM CAs trusted besides Mozilla's roots, for an `https://` URL (a private CA).
    pub ca_file: Option<PathBuf>,
}

/// `on` when the config leaves it out: health going degraded or worse, and every halt.
pub const DEFAULT_ON: [&str; 2] = ["degraded", "kill"];

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEvents {
    pub(super) log: Option<Spanned<String>>,
    pub(super) instance: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNotify {
    /// Refused by name: the URL is a secret and never sits in the config.
    pub(super) url: Option<Spanned<toml::Value>>,
    pub(super) url_env: Option<Spanned<String>>,
    pub(super) url_file: Option<Spanned<String>>,
    pub(super) on: Option<Spanned<Vec<Spanned<String>>>>,
    pub(super) timeout_ms: Option<Spanned<i64>>,
    pub(super) retries: Option<Spanned<i64>>,
    pub(super) backoff_ms: Option<Spanned<i64>>,
    pub(super) queue: Option<Spanned<i64>>,
    pub(super) ca_file: Option<Spanned<String>>,
}
