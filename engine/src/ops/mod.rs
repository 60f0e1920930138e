//! Operational events for machines: what an operator's log shipper (Loki, Vector, any tail of
//! a JSON-lines file) and a chat webhook want to hear about: health transitions, kill, re-arm,
//! reduce-only and flatten, resyncs, venue and feed connects, reconciliation, and the session's
//! start and end.
//!
//! The cold monitor ([`crate::runtime::monitor`]) is the only producer: every publish (every
//! [`crate::runtime::monitor::PUBLISH_EVERY`], 100 ms) it diffs the stats snapshot and the kill
//! switch against the previous publish ([`watch::OpsWatch`]), so an event's time is the publish
//! that saw it, up to 100 ms after the fact, and a change undone within one period (a
//! disconnect and reconnect between two publishes) is seen through the counters it moved.
//! Each event goes to the journal's `events` stream ([`record`]), to the JSON-lines log
//! ([`log::EventLog`], its own writer thread) and to the webhook ([`notify::Notifier`], its own
//! thread): the monitor never waits on a file or a socket, and a full queue is a counted drop.

pub mod event_kind;
pub mod http;
pub mod json;
pub mod log;
pub mod notify;
pub mod record;
pub mod sinks;
pub mod summary;
pub mod watch;

/// The journal stream the events go to (beside `input` and `output`).
pub const EVENTS_STREAM: &str = "events";

/// A field's value: a number or a short text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Num(u64),
    Text(String),
}

impl From<u64> for Value {
    fn from(n: u64) -> Value {
        Value::Num(n)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Text(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Text(s)
    }
}

/// One operational event: when (wall clock, ns since the Unix epoch), what, and a few flat
/// fields whose keys are [`record::KEYS`] (so the journal stores a key as one byte and `pulse
/// events` gives back the very same names).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpsEvent {
    pub time_ns: u64,
    pub kind: &'static str,
    pub fields: Vec<(&'static str, Value)>,
}

impl OpsEvent {
    pub fn new(time_ns: u64, kind: &'static str) -> OpsEvent {
        OpsEvent {
            time_ns,
            kind,
            fields: Vec::new(),
        }
    }

    /// Adds a field (builder style).
    pub fn with(mut self, key: &'static str, value: impl Into<Value>) -> OpsEvent {
        self.fields.push((key, value.into()));
        self
    }

    /// The text of field `key`, if it has one.
    pub fn text(&self, key: &str) -> Option<&str> {
        self.fields.iter().find_map(|(k, v)| match v {
            Value::Text(t) if *k == key => Some(t.as_str()),
            _ => None,
        })
    }
}
