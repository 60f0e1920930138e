//! How the main thread steers runner threads: a phase word, and per-runner progress counters
//! used to detect that the whole pipeline has drained.
//!
//! Drain protocol: in `Draining`, every runner stops intake and, after every pass, adds its work
//! to `work` and bumps `passes`. The coordinator snapshots the total work, waits until every
//! runner has finished two more passes, and reads the total again. Every event still in a ring
//! is consumed by some runner's next full pass and counted as work, so an unchanged total
//! across two full passes of every runner means no event is left anywhere.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Phase {
    Running = 0,
    Draining = 1,
    Stopped = 2,
}

pub struct RunnerProgress {
    pub passes: AtomicU64,
    pub work: AtomicU64,
    /// Every stage on the runner reports its outside input finished.
    pub intake_done: AtomicBool,
    /// Failures of each of the runner's stages, in its polling order.
    pub failures: Vec<AtomicU64>,
}

pub struct RunControl {
    phase: AtomicU8,
    pub runners: Vec<RunnerProgress>,
}

impl RunControl {
    /// One runner per entry, each with that many stages.
    pub fn new(stages_per_runner: &[usize]) -> RunControl {
        RunControl {
            phase: AtomicU8::new(Phase::Running as u8),
            runners: stages_per_runner
                .iter()
                .map(|&stages| RunnerProgress {
                    passes: AtomicU64::new(0),
                    work: AtomicU64::new(0),
                    intake_done: AtomicBool::new(false),
                    failures: (0..stages).map(|_| AtomicU64::new(0)).collect(),
                })
                .collect(),
        }
    }

    /// Acquire pairs with the Release in `set_phase`: a runner that sees `Draining` also sees
    /// everything the coordinator did before.
    pub fn phase(&self) -> Phase {
        match self.phase.load(Ordering::Acquire) {
            0 => Phase::Running,
            1 => Phase::Draining,
            _ => Phase::Stopped,
        }
    }

    pub fn set_phase(&self, phase: Phase) {
        // Release: publishes what the coordinator did before to the runners' Acquire in `phase`.
        self.phase.store(phase as u8, Ordering::Release);
    }

    pub fn all_intake_done(&self) -> bool {
        self.runners
            .iter()
            // Acquire: pairs with the runner's Release store once its stages' intake is done.
            .all(|r| r.intake_done.load(Ordering::Acquire))
    }

    /// (total work, passes per runner), SeqCst so the coordinator's two snapshots are ordered
    /// with the runners' increments.
    pub fn snapshot(&self) -> (u64, Vec<u64>) {
        let work = self
            .runners
            .iter()
            // SeqCst: see above (stronger than needed: each counter is monotonic on its own).
            .map(|r| r.work.load(Ordering::SeqCst))
            .sum();
        let passes = self
            .runners
            .iter()
            // SeqCst: as for `work` above.
            .map(|r| r.passes.load(Ordering::SeqCst))
            .collect();
        (work, passes)
    }
}
