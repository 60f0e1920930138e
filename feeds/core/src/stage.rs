//! The one trait every hot-path component implements.
//!
//! A stage is a plain struct polled by a runner thread. It never spawns threads, sleeps, pins
//! cores or reads the clock for its logic: `now` comes from the runner (the wall clock when live,
//! the recorded time on replay). Modelled on Agrona's `Agent`.

use crate::metrics::MetricSink;
use crate::num::Nanos;

pub trait Stage {
    /// A short, stable name used in summaries and stats (`"feed"`, `"book"`, ...).
    fn name(&self) -> &'static str;

    /// Called once on the runner thread before the first `do_work`.
    fn on_start(&mut self) {}

    /// Does a bounded amount of work and returns how much (0 = idle, so the runner may back off).
    fn do_work(&mut self, now: Nanos) -> usize;

    /// Stop taking input from outside the engine (sockets, files). Rings keep draining.
    fn stop_intake(&mut self) {}

    /// `true` once the stage has nothing more to read from outside the engine (a replayed file
    /// at its end). Stages fed only by rings have no outside input: `true` from the start.
    fn intake_done(&self) -> bool {
        true
    }

    /// Called once on the runner thread after the last `do_work`: flush what is buffered.
    fn on_close(&mut self) {}

    /// Reports the stage's counters and gauges, always the same metrics in the same order (the
    /// runner registers them once at start-up and maps them to slots by position). Called by
    /// the stage's own runner thread beside `do_work`; must not allocate.
    fn report(&self, _out: MetricSink<'_>) {}
}
