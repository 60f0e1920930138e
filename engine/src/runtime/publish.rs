//! Stage metrics into the stats file: registration once at start-up, then each runner copies
//! its stages' counters into the slots it alone writes.

use std::time::{Duration, Instant};

use pulse_core::counters::CounterDescriptor;
use pulse_feeds::instrument::InstrumentRegistry;
use pulse_feeds::metrics::{Metric, MetricKind, MetricLabel};
use pulse_feeds::stage::Stage;

use crate::pipeline::HotStage;
use crate::runtime::failure::guarded;
use crate::stats::layout::MetricDesc;
use crate::stats::MetricSlot;

/// How often a runner copies its stages' counters into the stats file.
pub const PUBLISH_EVERY: Duration = Duration::from_millis(1);
/// Passes between two looks at the clock (a look costs a vDSO call); a power of two.
const CHECK_EVERY_PASSES: u64 = 64;

/// Describes what `stages` report, in report order, with how many metrics each reports.
pub fn describe(
    stages: &[HotStage],
    instruments: &InstrumentRegistry,
) -> (Vec<MetricDesc>, Vec<usize>) {
    let mut descs = Vec::new();
    let mut counts = Vec::with_capacity(stages.len());
    for stage in stages {
        let before = descs.len();
        stage.report(&mut |m: Metric| descs.push(desc(&m, instruments)));
        counts.push(descs.len() - before);
    }
    (descs, counts)
}

fn desc(m: &Metric, instruments: &InstrumentRegistry) -> MetricDesc {
    let CounterDescriptor { name, kind, help } = *m.desc;
    let d = match kind {
        MetricKind::Counter => MetricDesc::counter(name, help),
        MetricKind::Gauge => MetricDesc::gauge(name, help),
    };
    match m.label {
        MetricLabel::None => d,
        MetricLabel::Instrument(id) => d.with_label("instrument", instruments.display_name(id)),
        MetricLabel::Tag(key, value) => d.with_label(key, value),
    }
}

/// A runner's slots and its publishing clock.
pub struct Publisher {
    slots: Vec<MetricSlot>,
    /// Metrics per stage, so a stage's slots are found even after another's report failed.
    counts: Vec<usize>,
    passes: u64,
    last: Instant,
}

impl Publisher {
    pub fn new(slots: Vec<MetricSlot>, counts: Vec<usize>) -> Publisher {
        Publisher {
            slots,
            counts,
            passes: 0,
            last: Instant::now(),
        }
    }

    /// Called once per pass; publishes when [`PUBLISH_EVERY`] has passed.
    #[inline]
    pub fn after_pass(&mut self, stages: &[HotStage], failed: impl FnMut(usize)) {
        self.passes += 1;
        if self.passes & (CHECK_EVERY_PASSES - 1) != 0 || self.last.elapsed() < PUBLISH_EVERY {
            return;
        }
        self.last = Instant::now();
        self.publish(stages, failed);
    }

    /// Copies every stage's metrics into their slots, by position; a stage whose `report`
    /// fails is passed to `failed` (by index) and its remaining slots keep their last values.
    /// Allocates nothing.
    pub fn publish(&self, stages: &[HotStage], mut failed: impl FnMut(usize)) {
        let mut base = 0;
        for (s, stage) in stages.iter().enumerate() {
            let mut i = base;
            if guarded(|| {
                stage.report(&mut |m: Metric| {
                    if let Some(slot) = self.slots.get(i) {
                        slot.set(m.value);
                    }
                    i += 1;
                })
            })
            .is_none()
            {
                failed(s);
            }
            base += self.counts.get(s).copied().unwrap_or(0);
        }
    }
}
