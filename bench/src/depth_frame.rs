//! `tick-to-trade`'s `depth-frame` case: one `depthUpdate` frame's own path, stage by stage.
//!
//! The other cases read each stage's latency row, and the rows count different events (every
//! message, every book update, every intent, every order). Here the engine's stages are built
//! exactly as `pulse run` builds them (`pipeline::build`, `configs/imbalance.toml`) and driven on
//! this thread one pass at a time, with a TSC read between stages; a pass whose feed call staged
//! a depth diff (two events or more: levels and a commit) is one sample, and every stage's time
//! is measured on that same frame. The capture is inflated to a plain file first, so that reading
//! a line is a memory copy, not gzip: the path starts from the raw frame in memory.
//!
//! Each sample starts at the frame's ingress stamp, taken by the feed once the line is in memory
//! (where a live feed stamps a frame when the socket read returns), and ends when the venue
//! stage is done: decode, sync, book, strategy, risk and the simulated venue, an order or not.
//! The stages are timed on every other message (`attributed` depth frames), and the
//! distribution is taken on the others, read only at both ends, so that it does not carry the
//! attribution's four clock reads. `*_p50` are cumulative from ingress; `read_p50` is the time
//! before it, reading the capture line (the replay's own cost, reported so that nothing is
//! hidden); `order_p50`/`order_p99` are the frames that ended in an order executed at the
//! simulated venue.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use hdrhistogram::Histogram;
use pulse_engine::pipeline::{self, HotStage};
use pulse_feeds::stage::Stage;

use crate::report::Measured;

fn hist() -> Result<Histogram<u64>> {
    Ok(Histogram::new_with_bounds(1, 60_000_000_000, 3)?)
}

/// Passes over the capture until `duration` is spent (at least one).
pub fn run(duration: Duration) -> Result<Measured> {
    let dir = std::env::temp_dir().join(format!("pulse-bench-depth-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let capture = crate::bundled::rewrite_capture(&dir, "plain.cap", |_, line| Some(line.into()))?;
    let mut cfg = crate::bundled::config("imbalance.toml", false)?;
    cfg.source = pulse_engine::config::SourceConfig::Capture {
        path: capture,
        speed_milli: 0,
        then: Vec::new(),
    };
    let clock = quanta::Clock::new();
    // Whole pass from ingress, and the cumulative time at the end of each of the five stages.
    let mut whole = hist()?;
    let mut read = hist()?;
    let mut orders = hist()?;
    let mut stages: Vec<Histogram<u64>> = (0..5).map(|_| hist()).collect::<Result<_>>()?;
    let end = Instant::now() + duration;
    let mut passes = 0u64;
    let mut stamped = false;
    loop {
        let mut p = pipeline::build(&cfg, &clock).context("cannot build the pipeline")?;
        passes += 1;
        loop {
            let now = p.replay_time.get();
            let staged_before = feed_events(&p.stages[0]);
            let orders_before = venue_orders(&p.stages[4]);
            // Every other message is timed stage by stage; the others only at both ends, so
            // that the distribution does not carry the four clock reads of the attribution.
            stamped = !stamped;
            let mut t = [0u64; 6];
            t[0] = clock.raw();
            for (i, stage) in p.stages.iter_mut().enumerate() {
                stage.do_work(now);
                if stamped {
                    t[i + 1] = clock.raw();
                }
            }
            if !stamped {
                t[5] = clock.raw();
            }
            if p.stages[0].intake_done() && feed_events(&p.stages[0]) == staged_before {
                break;
            }
            if feed_events(&p.stages[0]) - staged_before < 2 {
                continue;
            }
            let ingress = match &p.stages[0] {
                HotStage::Feed(feed) => feed.last_ingress().0,
                _ => t[0],
            };
            read.record(clock.delta_as_nanos(t[0], ingress).max(1))?;
            let pass = clock.delta_as_nanos(ingress, t[5]).max(1);
            if stamped {
                for (i, h) in stages.iter_mut().enumerate() {
                    h.record(clock.delta_as_nanos(ingress, t[i + 1]).max(1))?;
                }
                continue;
            }
            whole.record(pass)?;
            if venue_orders(&p.stages[4]) > orders_before {
                orders.record(pass)?;
            }
        }
        if Instant::now() >= end {
            break;
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    let names = [
        "feed_p50",
        "book_p50",
        "strategy_p50",
        "risk_p50",
        "gateway_p50",
    ];
    let mut extra: Vec<(&'static str, f64)> = vec![
        ("passes", passes as f64),
        ("read_p50", read.value_at_quantile(0.5) as f64),
        ("attributed", stages[0].len() as f64),
    ];
    for (name, h) in names.iter().zip(&stages) {
        extra.push((name, h.value_at_quantile(0.5) as f64));
    }
    extra.push(("order_p50", orders.value_at_quantile(0.5) as f64));
    extra.push(("order_p99", orders.value_at_quantile(0.99) as f64));
    extra.push(("orders", orders.len() as f64));
    Ok(Measured {
        name: "pulse",
        case: Some("depth-frame"),
        histogram: whole,
        extra,
    })
}

/// Events the capture feed has handed to the book so far.
fn feed_events(stage: &HotStage) -> u64 {
    match stage {
        HotStage::Feed(feed) => feed.counters.events,
        _ => 0,
    }
}

/// Orders the simulated venue has taken so far.
fn venue_orders(stage: &HotStage) -> u64 {
    match stage {
        HotStage::Gateway(gw) => gw.venue().counters.orders,
        _ => 0,
    }
}
