//! What a stage reports to monitoring: named counters and gauges, read from the stage by the
//! thread that runs it and copied into the stats file beside the hot path.
//!
//! A stage never touches shared memory itself. Its runner calls [`crate::stage::Stage::report`]
//! every millisecond or so with a sink that writes each value into the slot registered for it
//! at start-up, in the same order every time. So every slot has exactly one writer (the
//! runner thread of the stage that owns the count), and reporting allocates nothing.

use crate::counters::{CoreCounter, CounterDescriptor, CounterId};
use crate::num::InstrumentId;

pub use crate::counters::MetricKind;

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
    out(CoreCounter::JournalRecords.count(label, c.records));
    out(CoreCounter::JournalBytes.count(label, c.bytes));
    out(CoreCounter::JournalRefused.count(label, c.refused));
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
    /// Its name, kind and help text.
    pub desc: &'static CounterDescriptor,
    pub label: MetricLabel,
    pub value: i64,
}

impl Metric {
    /// A counter's value (saturating at `i64::MAX`).
    pub fn counter(desc: &'static CounterDescriptor, label: MetricLabel, value: u64) -> Metric {
        debug_assert_eq!(desc.kind, MetricKind::Counter, "{} is a gauge", desc.name);
        Metric {
            desc,
            label,
            value: value.min(i64::MAX as u64) as i64,
        }
    }

    /// A gauge's value.
    pub fn gauge(desc: &'static CounterDescriptor, label: MetricLabel, value: i64) -> Metric {
        debug_assert_eq!(desc.kind, MetricKind::Gauge, "{} is a counter", desc.name);
        Metric { desc, label, value }
    }

    pub fn name(&self) -> &'static str {
        self.desc.name
    }

    pub fn kind(&self) -> MetricKind {
        self.desc.kind
    }
}

/// Builds a [`Metric`] from a counter id: `out(BookCounter::Gaps.count(label, n))`.
pub trait Report: CounterId {
    /// The value of a counter.
    fn count(self, label: MetricLabel, value: u64) -> Metric {
        Metric::counter(self.descriptor(), label, value)
    }

    /// The value of a gauge.
    fn gauge(self, label: MetricLabel, value: i64) -> Metric {
        Metric::gauge(self.descriptor(), label, value)
    }
}

impl<C: CounterId> Report for C {}

/// Where [`crate::stage::Stage::report`] puts its metrics.
pub type MetricSink<'a> = &'a mut dyn FnMut(Metric);
