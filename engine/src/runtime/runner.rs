//! A runner thread: polls its stages round-robin with `now` from the clock, idles when a whole
//! pass did nothing, and follows the phase set by the coordinator.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::JoinHandle;

use pulse_feeds::clock::Clock;
use pulse_feeds::stage::Stage;

use crate::config::IdleKind;
use crate::pipeline::HotStage;
use crate::runtime::control::{Phase, RunControl};
use crate::runtime::failure::{guarded, Drill, StageFailures};
use crate::runtime::idle::Idle;
use crate::runtime::publish::Publisher;

pub struct Runner {
    pub name: String,
    pub stages: Vec<HotStage>,
    pub core: Option<usize>,
    pub idle: IdleKind,
    /// Copies the stages' counters into the stats file; `None` when nothing is published.
    pub publisher: Option<Publisher>,
    /// Counts the stages' failures (panics caught here).
    pub failures: StageFailures,
    /// Fault drill: one stage panics in its Nth `do_work`.
    pub drill: Option<Drill>,
}

/// What a runner reports when it ends: its stages, handed back for the summary.
pub struct Finished {
    pub name: String,
    pub stages: Vec<HotStage>,
    pub pinned: Option<usize>,
}

impl Runner {
    pub fn spawn(
        self,
        index: usize,
        clock: Clock,
        control: Arc<RunControl>,
    ) -> std::io::Result<JoinHandle<Finished>> {
        std::thread::Builder::new()
            .name(format!("pulse-{}", self.name))
            .spawn(move || self.run(index, clock, &control))
    }

    /// Runs on the current thread until the coordinator says `Stopped`.
    pub fn run(mut self, index: usize, clock: Clock, control: &RunControl) -> Finished {
        let pinned = self
            .core
            .filter(|&core| core_affinity::set_for_current(core_affinity::CoreId { id: core }));
        let progress = &control.runners[index];
        let mut idle = Idle::new(self.idle);
        let shared = &progress.failures;
        for (i, stage) in self.stages.iter_mut().enumerate() {
            if guarded(|| stage.on_start()).is_none() {
                self.failures.record(i, shared);
            }
        }
        let mut intake_stopped = false;
        loop {
            let now = clock.now();
            let mut work = 0;
            for (i, stage) in self.stages.iter_mut().enumerate() {
                let drilled = self.drill.as_mut().is_some_and(|d| d.fires(i));
                match guarded(|| {
                    if drilled {
                        drill_failure(stage.name());
                    }
                    stage.do_work(now)
                }) {
                    Some(done) => work += done,
                    None => self.failures.record(i, shared),
                }
            }
            if let Some(publisher) = &mut self.publisher {
                let failures = &mut self.failures;
                publisher.after_pass(&self.stages, |i| failures.record(i, shared));
            }
            // Relaxed: only this runner writes the flag; the load just skips the check once set.
            if !progress.intake_done.load(Ordering::Relaxed)
                && self.stages.iter().all(|s| s.intake_done())
            {
                // Release: pairs with the coordinator's Acquire in `RunControl::all_intake_done`.
                progress.intake_done.store(true, Ordering::Release);
            }
            match control.phase() {
                Phase::Running => {}
                Phase::Draining => {
                    if !intake_stopped {
                        self.stages.iter_mut().for_each(|s| s.stop_intake());
                        intake_stopped = true;
                    }
                    // SeqCst (both): ordered with the coordinator's SeqCst snapshots (draining
                    // only, so its cost is off the running hot path).
                    progress.work.fetch_add(work as u64, Ordering::SeqCst);
                    progress.passes.fetch_add(1, Ordering::SeqCst);
                }
                Phase::Stopped => break,
            }
            idle.idle(work);
        }
        for (i, stage) in self.stages.iter_mut().enumerate() {
            if guarded(|| stage.on_close()).is_none() {
                self.failures.record(i, shared);
            }
        }
        if let Some(publisher) = &self.publisher {
            let failures = &mut self.failures;
            publisher.publish(&self.stages, |i| failures.record(i, shared));
        }
        Finished {
            name: self.name,
            stages: self.stages,
            pinned,
        }
    }
}

/// The drill's failure, as a bug in the stage would fail.
#[cold]
#[inline(never)]
fn drill_failure(stage: &str) -> ! {
    panic!("fault drill: stage {stage} fails (--fail-stage)")
}
