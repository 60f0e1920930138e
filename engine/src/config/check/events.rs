//! `[events]` and `[notify]`: the event log's target and the webhook's secret URL source,
//! `on` list, timeout, retries and queue.

use std::time::Duration;

use toml::Spanned;

use super::super::events::{
    EventsConfig, LogTarget, NotifyConfig, RawEvents, RawNotify, DEFAULT_ON,
};
use super::super::{ConfigError, KeySource};
use super::Checker;
use crate::ops::record::KINDS;

impl Checker<'_> {
    pub(super) fn events(&self, raw: Option<&RawEvents>) -> Result<EventsConfig, ConfigError> {
        let Some(raw) = raw else {
            return Ok(EventsConfig::default());
        };
        let log = match &raw.log {
            Some(v) if v.get_ref() == "stderr" => Some(LogTarget::Stderr),
            Some(v) => Some(LogTarget::File(self.path("events.log", v)?)),
            None => None,
        };
        let instance = match &raw.instance {
            Some(v) => {
                let ok = (1..=64).contains(&v.get_ref().len())
                    && v.get_ref().bytes().all(|b| b.is_ascii_graphic());
                if !ok {
                    return Err(self.err(
                        "events.instance",
                        v.span(),
                        "must be 1 to 64 printable characters without spaces",
                    ));
                }
                Some(v.get_ref().clone())
            }
            None => None,
        };
        Ok(EventsConfig { log, instance })
    }

    pub(super) fn notify(
        &self,
        raw: Option<&RawNotify>,
    ) -> Result<Option<NotifyConfig>, ConfigError> {
        let Some(raw) = raw else {
            return Ok(None);
        };
        if let Some(url) = &raw.url {
            // The message never repeats the value: it is the secret being refused.
            return Err(self.err(
                "notify.url",
                url.span(),
                "the webhook URL is a secret and never sits in the config: name the \
                 environment variable that holds it (url_env = \"PULSE_NOTIFY_URL\") or a file \
                 only you can read (url_file = \"...\")",
            ));
        }
        let url = match (&raw.url_env, &raw.url_file) {
            (Some(e), None) => {
                let name = e.get_ref();
                let ok = !name.is_empty()
                    && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
                if !ok {
                    return Err(self.err(
                        "notify.url_env",
                        e.span(),
                        "must be an environment variable's name (A-Z, 0-9, _)",
                    ));
                }
                KeySource::Env(name.clone())
            }
            (None, Some(f)) => KeySource::File(self.path("notify.url_file", f)?),
            (Some(e), Some(_)) => {
                return Err(self.err(
                    "notify.url_env",
                    e.span(),
                    "give url_env or url_file, not both",
                ))
            }
            (None, None) => {
                return Err(ConfigError {
                    key: "notify".into(),
                    line: None,
                    message: "needs url_env (or url_file): where the webhook URL comes from".into(),
                })
            }
        };
        let on = match &raw.on {
            Some(list) => self.notify_on(list)?,
            None => DEFAULT_ON.iter().map(|s| (*s).to_owned()).collect(),
        };
        let ms = |key: &str, v: &Option<Spanned<i64>>, default: i64, max: i64| match v {
            Some(v) => self.int(key, v, 1, max),
            None => Ok(default),
        };
        let timeout = ms("notify.timeout_ms", &raw.timeout_ms, 5_000, 60_000)?;
        let backoff = ms("notify.backoff_ms", &raw.backoff_ms, 200, 60_000)?;
        let retries = match &raw.retries {
            Some(v) => self.int("notify.retries", v, 0, 10)?,
            None => 3,
        };
        let queue = ms("notify.queue", &raw.queue, 64, 4096)?;
        let ca_file = match &raw.ca_file {
            Some(f) => Some(self.path("notify.ca_file", f)?),
            None => None,
        };
        Ok(Some(NotifyConfig {
            url,
            on,
            timeout: Duration::from_millis(timeout as u64),
            retries: retries as u32,
            backoff: Duration::from_millis(backoff as u64),
            queue: queue as usize,
            ca_file,
        }))
    }

    fn notify_on(&self, list: &Spanned<Vec<Spanned<String>>>) -> Result<Vec<String>, ConfigError> {
        let mut on = Vec::with_capacity(list.get_ref().len());
        for item in list.get_ref() {
            let name = item.get_ref();
            let known = name == "degraded" || KINDS.iter().any(|(_, k)| k == name);
            if !known {
                let kinds: Vec<&str> = KINDS.iter().map(|(_, k)| *k).collect();
                return Err(self.err(
                    "notify.on",
                    item.span(),
                    format!(
                        "`{name}` is not an event kind: one of degraded, {}",
                        kinds.join(", ")
                    ),
                ));
            }
            on.push(name.clone());
        }
        Ok(on)
    }
}
