//! A stage that fails on a runner thread (a panic in `do_work`, `report`, `on_start` or
//! `on_close`, caught at the runner) is counted here, by the runner that runs it: in its own
//! `stage_failures` slot of the stats file and in a counter the coordinator reads to report it
//! and apply `[runtime] on_stage_failure` (Agrona's `AgentRunner` error handling).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::runtime::control::RunControl;
use crate::stats::MetricSlot;

/// `# HELP` of the `stage_failures` counter.
pub const HELP: &str = "Panics caught in a stage (work, report, start or close), by stage";

/// One runner's failure counts, one per stage in its polling order.
pub struct StageFailures {
    counts: Vec<u64>,
    /// The stats file's `stage_failures{stage}` slots; empty when nothing is published.
    slots: Vec<MetricSlot>,
}

impl StageFailures {
    pub fn new(stages: usize, slots: Vec<MetricSlot>) -> StageFailures {
        StageFailures {
            counts: vec![0; stages],
            slots,
        }
    }

    /// Counts a failure of stage `i` where the coordinator (`shared`) and monitors see it.
    #[cold]
    pub fn record(&mut self, i: usize, shared: &[AtomicU64]) {
        if let Some(count) = self.counts.get_mut(i) {
            *count += 1;
            if let Some(slot) = self.slots.get(i) {
                slot.set(i64::try_from(*count).unwrap_or(i64::MAX));
            }
        }
        if let Some(total) = shared.get(i) {
            // Release: the coordinator that sees the count also sees the slot written above.
            total.fetch_add(1, Ordering::Release);
        }
    }
}

/// Runs `f`, catching a panic: `None` when it panicked. Free on the path that does not panic
/// (the unwinding tables are only read when a panic happens).
#[inline(always)]
pub fn guarded<T>(f: impl FnOnce() -> T) -> Option<T> {
    catch_unwind(AssertUnwindSafe(f)).ok()
}

/// The fault drill of `--fail-stage STAGE:N`: stage `stage` panics in its `n`th `do_work`.
#[derive(Clone, Copy, Debug)]
pub struct Drill {
    pub stage: usize,
    pub n: u64,
    calls: u64,
}

impl Drill {
    pub fn new(stage: usize, n: u64) -> Drill {
        Drill { stage, n, calls: 0 }
    }

    /// Call before stage `i`'s `do_work`: true exactly at the drilled call.
    #[inline]
    pub fn fires(&mut self, i: usize) -> bool {
        if i != self.stage {
            return false;
        }
        self.calls += 1;
        self.calls == self.n
    }
}

/// The coordinator's view of every runner's failures: reports each new one on stderr once.
pub struct FailureWatch {
    /// Per runner, its stages' names in polling order.
    names: Vec<Vec<&'static str>>,
    /// Per runner and stage, the count last reported.
    seen: Vec<Vec<u64>>,
}

impl FailureWatch {
    pub fn new(names: Vec<Vec<&'static str>>) -> FailureWatch {
        let seen = names.iter().map(|n| vec![0; n.len()]).collect();
        FailureWatch { names, seen }
    }

    /// Reports failures new since the last scan; true once any stage has failed.
    pub fn scan(&mut self, control: &RunControl) -> bool {
        let mut any = false;
        for (r, progress) in control.runners.iter().enumerate() {
            for (s, count) in progress.failures.iter().enumerate() {
                // Acquire pairs with the runner's Release in `StageFailures::record`.
                let now = count.load(Ordering::Acquire);
                let Some(seen) = self.seen.get_mut(r).and_then(|v| v.get_mut(s)) else {
                    continue;
                };
                if now > *seen {
                    let name = self.names[r][s];
                    eprintln!(
                        "pulse: stage {name} failed (panic caught by its runner; {now} so far)"
                    );
                    *seen = now;
                }
                any |= now > 0;
            }
        }
        any
    }

    /// Every stage that failed, with its count.
    pub fn totals(&self) -> Vec<(&'static str, u64)> {
        self.names
            .iter()
            .flatten()
            .zip(self.seen.iter().flatten())
            .filter(|(_, &n)| n > 0)
            .map(|(&name, &n)| (name, n))
            .collect()
    }
}
