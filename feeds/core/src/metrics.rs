//! What a stage reports to monitoring: named counters and gauges, read from the stage by the
//! thread that runs it and copied into the stats file beside the hot path.
//!
//! A stage never touches shared memory itself. Its runner calls [`crate::stage::Stage::report`]
//! every millisecond or so with a sink that writes each value into the slot registered for it
//! at start-up, in the same order every time. So every slot has exactly one writer (the
//! runner thread of the stage that owns the count), and reporting allocates nothing.

use crate::num::InstrumentId;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricKind {
    /// Only ever grows (exported as `pulse_<name>_total`).
    Counter,
    /// Goes up and down (a position, a count of stale books).
    Gauge,
}

/// What a journal stream's writer counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JournalCounters {
    pub records: u64,
    pub bytes: u64,
    /// Records the journal refused (see the appender's fault): counted, and health goes
    /// Critical on the fault, so trading stops rather than go on unrecorded.
    pub refused: u64,
}

/// Reports a journal stream's counters (the stage that owns its appender reports them).
pub fn report_journal(stream: &'static str, c: &JournalCounters, out: MetricSink<'_>) {
    let label = MetricLabel::Tag("stream", stream);
    out(Metric::counter("journal_records", label, c.records));
    out(Metric::counter("journal_bytes", label, c.bytes));
    out(Metric::counter("journal_refused", label, c.refused));
}

/// The one label a metric may carry. Instruments are resolved to their symbol at registration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricLabel {
    None,
    Instrument(InstrumentId),
    /// Any other dimension, as key and value: `("reason", "position_limit")`,
    /// `("ring", "intents")`, `("stream", "output")`.
    Tag(&'static str, &'static str),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Metric {
    /// Stable snake_case name, without the `pulse_` prefix or the `_total` suffix.
    pub name: &'static str,
    pub kind: MetricKind,
    pub label: MetricLabel,
    pub value: i64,
}

impl Metric {
    pub fn counter(name: &'static str, label: MetricLabel, value: u64) -> Metric {
        Metric {
            name,
            kind: MetricKind::Counter,
            label,
            value: value.min(i64::MAX as u64) as i64,
        }
    }

    pub fn gauge(name: &'static str, label: MetricLabel, value: i64) -> Metric {
        Metric {
            name,
            kind: MetricKind::Gauge,
            label,
            value,
        }
    }
}

/// Where [`crate::stage::Stage::report`] puts its metrics.
pub type MetricSink<'a> = &'a mut dyn FnMut(Metric);
