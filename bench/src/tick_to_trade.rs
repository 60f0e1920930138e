//! `tick-to-trade`: the whole hot path in-process, from a raw frame in memory to an order
//! executed by the simulated venue, through every stage: feed (read and decode), book,
//! strategy, risk, gateway. It runs the engine itself (`pulse_engine::runtime::run`) over the
//! bundled BTCUSDT capture as fast as it goes, pass after pass until the duration is spent,
//! and merges the stages' own latency histograms: each stage's time is counted from the moment
//! the feed read the frame (a TSC stamp), so the rows are cumulative and the `gateway` row is
//! tick-to-trade. Two cases: `single-thread` (`configs/imbalance.toml`, one unpinned thread,
//! no ring hops) and `pinned` (`configs/pinned.toml`: market data on core 0, decisions and
//! orders on core 1, joined by rings; left unpinned on a one-core machine).
//!
//! The strategy is the book-imbalance taker (272 orders a pass). The main distribution is
//! the gateway's (frame in to order executed); each stage's p50 and p99 come as extra fields
//! (`feed_p50`, ...), the attribution of those nanoseconds. In those two cases the frames are
//! replayed as fast as the engine reads them, one per feed call, so each frame crosses every
//! stage before the next is read. The rows count different populations: the book row every
//! commit and trade, the strategy row every book update, the risk and gateway rows only the
//! frames that led to an order (mostly large depth diffs, whose decoding and applying
//! dominate).
//!
//! The third case, `paced`, is a synthetic stream at a set rate: the capture's frames one every
//! 50 µs (20,000 a second), replayed as recorded, single thread, the strategy without its
//! cooldown. Each frame's latency counts from when it was due, not from when the feed got to
//! it, so an engine running behind shows its queue instead of hiding it (coordinated
//! omission). This is the path of one frame at a time.
//!
//! The fourth case, `depth-frame` ([`crate::depth_frame`]), attributes one `depthUpdate`
//! frame's path: every stage timed on the same frames, from the raw frame in memory.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use hdrhistogram::Histogram;
use pulse_engine::config;
use pulse_engine::runtime;
use pulse_feeds::num::Nanos;

use crate::report::Measured;

/// Each stage's name and the fields its p50 and p99 go in.
const STAGES: [(&str, &str, &str); 5] = [
    ("feed", "feed_p50", "feed_p99"),
    ("book", "book_p50", "book_p99"),
    ("strategy", "strategy_p50", "strategy_p99"),
    ("risk", "risk_p50", "risk_p99"),
    ("gateway", "gateway_p50", "gateway_p99"),
];

/// Runs the engine on `cfg` pass after pass for `duration` (at least once); per stage, the
/// merged histogram.
fn passes(cfg: &config::Config, duration: Duration) -> Result<(Vec<Histogram<u64>>, u64)> {
    let mut merged: Vec<Histogram<u64>> = STAGES
        .iter()
        .map(|_| Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("valid bounds"))
        .collect();
    let end = Instant::now() + duration;
    let mut runs = 0;
    loop {
        let outcome = runtime::run(cfg).context("the engine failed")?;
        runs += 1;
        for (name, collector) in &outcome.latency {
            if let Some(i) = STAGES.iter().position(|(s, ..)| s == name) {
                merged[i]
                    .add(collector.histogram())
                    .context("histograms of different bounds")?;
            }
        }
        if Instant::now() >= end {
            return Ok((merged, runs));
        }
    }
}

/// Frames one every `interval` from the capture (its first `lines`, or all): the same
/// messages, evenly spaced in time.
pub fn paced_capture(dir: &Path, interval: Nanos, limit: Option<usize>) -> Result<PathBuf> {
    let start = 1_700_000_000_000_000_000u64;
    let limit = limit.unwrap_or(usize::MAX);
    crate::bundled::rewrite_capture(dir, "paced.cap", |i, line| {
        let (_, rest) = line.split_once('\t').filter(|_| i < limit)?;
        Some(format!("{}\t{rest}", start + i as u64 * interval.0))
    })
}

/// Every case, or only `only`.
pub fn run(duration: Duration, pinned: bool, only: Option<&str>) -> Result<Vec<Measured>> {
    const CASES: [&str; 4] = ["single-thread", "pinned", "paced", "depth-frame"];
    if let Some(case) = only.filter(|c| !CASES.contains(c)) {
        anyhow::bail!("no case {case:?}: the cases are {}", CASES.join(", "));
    }
    let wanted = |case: &str| only.is_none_or(|c| c == case);
    let mut results = Vec::new();
    let dir = std::env::temp_dir().join(format!("pulse-bench-t2t-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let paced = match wanted("paced") {
        true => Some(paced_capture(&dir, Nanos(50_000), None)?),
        false => None,
    };
    for (case, file, pin) in [
        ("single-thread", "imbalance.toml", false),
        ("pinned", "pinned.toml", pinned),
        ("paced", "imbalance.toml", false),
    ] {
        if !wanted(case) {
            continue;
        }
        let mut cfg = crate::bundled::config(file, pin)?;
        if let (true, Some(paced)) = (case == "paced", &paced) {
            cfg.source = config::SourceConfig::Capture {
                path: paced.clone(),
                speed_milli: 1_000,
                then: Vec::new(),
            };
            if let config::StrategyConfig::BookImbalance(s) = &mut cfg.strategy {
                s.cooldown = Nanos::ZERO;
            }
        }
        let (mut stages, runs) = passes(&cfg, duration)?;
        let mut extra = vec![("passes", runs as f64)];
        for ((_, p50, p99), h) in STAGES.iter().zip(&stages) {
            extra.push((*p50, h.value_at_quantile(0.5) as f64));
            extra.push((*p99, h.value_at_quantile(0.99) as f64));
        }
        let histogram = stages.pop().expect("five stages");
        results.push(Measured {
            name: "pulse",
            case: Some(case),
            histogram,
            extra,
        });
    }
    let _ = std::fs::remove_dir_all(&dir);
    if wanted("depth-frame") {
        results.push(crate::depth_frame::run(duration)?);
    }
    Ok(results)
}
