//! Steady state allocates nothing: the real hot stages, built from the demo config, driven over
//! the bundled capture on this thread. After a warm-up that includes the REST snapshot (the
//! largest message), a counting global allocator must see zero allocations for the rest of the
//! capture, about 39,000 messages and 160,000 events.
//!
//! The stages journal (input and output streams, small segments so that both roll over inside
//! the measured window) and publish their counters into a stats file after every pass, as
//! their runner does. Only this thread's allocations count: the journal's service thread
//! creates segment files beside it, off the hot path, and may allocate.

use std::hint::black_box;
use std::path::Path;

use pulse_engine::config;
use pulse_engine::pipeline::{self, HotStage};
use pulse_engine::policy::{Action, PolicyNetwork, PolicyOutput};
use pulse_engine::runtime::publish::{self, Publisher};
use pulse_engine::stats::StatsFile;
use pulse_feeds::num::Nanos;
use pulse_feeds::stage::Stage;

mod counting;

fn feed_lines(stages: &[HotStage]) -> u64 {
    match &stages[0] {
        HotStage::Feed(feed) => feed.counters.lines,
        _ => unreachable!("the feed is the first stage"),
    }
}

/// A config's hot stages, built as `pulse run` builds them and run on this thread (their
/// counters published after every pass, as their runner does), after warm-up.
struct Run {
    stages: Vec<HotStage>,
    journals: Vec<(&'static str, pulse_journal::JournalService)>,
    stats: std::sync::Arc<StatsFile>,
    /// Lines the first feed had read when the warm-up ended.
    lines_before: u64,
    /// Allocations of this thread from then to the end of the input.
    allocations: u64,
}

/// Runs `cfg` until its first feed has read `warm_lines`, then to the end of the input under
/// the counting allocator.
fn run_after_warm_up(cfg: &config::Config, warm_lines: u64) -> Run {
    let tsc = quanta::Clock::new();
    let built = pipeline::build(cfg, &tsc).expect("pipeline builds");
    let mut stages = built.stages;
    let (descs, counts) = publish::describe(&stages, &built.instruments);
    let stats = StatsFile::anonymous(&descs, &[]);
    let publisher = Publisher::new((0..descs.len()).map(|i| stats.metric(i)).collect(), counts);
    let pass = |stages: &mut Vec<HotStage>| {
        let work = stages
            .iter_mut()
            .map(|s| s.do_work(Nanos(0)))
            .sum::<usize>();
        publisher.publish(stages, |_| {});
        work
    };
    while feed_lines(&stages) < warm_lines {
        pass(&mut stages);
    }
    let lines_before = feed_lines(&stages);
    let ((), allocations) = counting::measure(|| {
        while pass(&mut stages) > 0 || !stages.iter().all(|s| s.intake_done()) {}
    });
    drop(publisher);
    Run {
        stages,
        journals: built.journals,
        stats,
        lines_before,
        allocations,
    }
}

#[test]
fn hot_stages_do_not_allocate_after_warm_up() {
    steady_state_allocates_nothing("imbalance.toml");
}

/// The ensemble (the demo): indicators, the four rule agents, the policy network, the
/// meta-agent and the aggregator on every book event.
#[test]
fn the_ensemble_does_not_allocate_after_warm_up() {
    steady_state_allocates_nothing("demo.toml");
}

/// The market maker: quotes, cancels and replaces through risk, resting orders and maker fills
/// in the simulated venue.
#[test]
fn the_market_maker_does_not_allocate_after_warm_up() {
    steady_state_allocates_nothing("market-maker.toml");
}

fn steady_state_allocates_nothing(config_file: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../configs")
        .join(config_file);
    let mut cfg = config::load(&path).expect("config loads");
    let dir = std::env::temp_dir().join(format!(
        "pulse-zero-alloc-{}-{config_file}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    cfg.journal = Some(config::JournalConfig {
        dir: dir.clone(),
        segment_bytes: 4 << 20,
        sync: Default::default(),
        fail_io_at: None,
    });
    // Warm-up: the snapshot arrives at line 8; 2,000 lines see every message kind many times.
    let run = run_after_warm_up(&cfg, 2_000);
    let (stages, stats, allocations) = (&run.stages, &run.stats, run.allocations);
    let lines = feed_lines(stages) - run.lines_before;

    let (orders, book_updates) = stages.iter().fold((0, 0), |(o, b), s| match s {
        HotStage::Risk(r) => (r.orders().counters.sent, b),
        HotStage::Book(k) => (o, k.counters(0).map_or(0, |c| c.commits)),
        _ => (o, b),
    });
    assert_eq!(lines, 41_249 - 2_000);
    assert!(
        orders > 100 && book_updates > 3_000,
        "the measured window must trade: {orders} orders"
    );
    let (input, output) = stages.iter().fold((0, 0), |(i, o), s| match s {
        HotStage::Feed(f) => (f.journal().map_or(0, |j| j.counters.records), o),
        HotStage::Risk(r) => (i, r.journal().map_or(0, |j| j.counters.records)),
        _ => (i, o),
    });
    assert_eq!(input, 41_249, "every message journaled");
    assert!(output > 500, "decisions journaled: {output}");
    let published = stats.snapshot();
    let messages = published.metrics.iter().find(|m| m.name == "feed_messages");
    assert_eq!(
        messages.map(|m| m.value),
        Some(41_249),
        "counters published"
    );
    assert_eq!(
        allocations, 0,
        "{allocations} allocations over {lines} messages after warm-up"
    );
    let Run {
        stages, journals, ..
    } = run;
    drop(stages);
    for (_, service) in journals {
        service.shutdown().expect("the journal syncs");
    }
    let segments = std::fs::read_dir(dir.join("input")).unwrap().count();
    assert!(
        segments >= 3,
        "the input stream rolled over: {segments} segments"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Three strategies under one risk book (`configs/portfolio.toml`): four feeds, the market
/// maker and two takers in one strategy stage, exits, allocation, balances and the portfolio
/// stage on the risk thread recomputing VaR, correlation and stress every 250 ms. After the
/// first 1,500 lines of the first feed (the portfolio's window and the allocation's samples
/// are preallocated, so no warm-up needs to fill them), nothing allocates.
#[test]
fn a_portfolio_under_one_risk_book_does_not_allocate_after_warm_up() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs/portfolio.toml");
    let cfg = config::load(&path).expect("config loads");
    let run = run_after_warm_up(&cfg, 1_500);
    let allocations = run.allocations;
    let (orders, snapshots) = run.stages.iter().fold((0, 0), |(o, n), s| match s {
        HotStage::Risk(r) => (r.orders().counters.sent, n),
        HotStage::Portfolio(p) => (o, p.counters.snapshots),
        _ => (o, n),
    });
    assert!(
        orders > 40,
        "the measured window must trade: {orders} orders"
    );
    assert_eq!(
        snapshots, 120,
        "the portfolio stage computed every interval"
    );
    assert_eq!(allocations, 0, "{allocations} allocations after warm-up");
}

#[test]
/// The policy network alone, 100,000 decisions: normal features, saturating ones, and
/// non-finite ones answered with no opinion.
fn policy_inference_does_not_allocate() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs/policy/example.policy");
    let mut network = PolicyNetwork::load(&path).expect("the example loads");

    let mut state = 1u64;
    let mut features = [0.0; 16];
    let mut actions = [0u64; 3];
    let ((), allocations) = counting::measure(|| {
        for n in 0..100_000u64 {
            for f in features.iter_mut() {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                *f = ((state >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 20.0;
            }
            if n % 1000 == 1 {
                features[(n % 16) as usize] = f64::NAN;
            }
            if n % 1000 == 2 {
                features[0] = 1e300;
            }
            let out: PolicyOutput = network.infer(black_box(&features));
            actions[out.action as usize] += 1;
        }
    });
    assert_eq!(allocations, 0, "{allocations} allocations in 100,000 calls");
    assert!(
        network.non_finite >= 100,
        "{} non-finite",
        network.non_finite
    );
    assert!(actions[Action::Hold as usize] >= 100, "{actions:?}");
}
