//! The whole ensemble per market event (issue 5): indicators, the four rule agents, the policy
//! network, the regime classifier, the meta-agent and the aggregator, as `configs/demo.toml`
//! builds them (its outside-signal file included), beside the book-imbalance strategy of
//! `configs/imbalance.toml` on the same events: the cheapest strategy Pulse has, the floor;
//! and the market maker of `configs/market-maker.toml` (micro-price, skew, cancel/replace).
//!
//! The events are the bundled capture's, collected once through the real feed and book
//! stages. An intent is answered at once with a rejection so that the strategies keep deciding
//! (the cooldown still applies). Criterion times a pass over every event; then one pass per
//! strategy prints the per-book-event distribution (TSC-stamped, each sample includes a clock
//! read) with the ensemble's percentiles as ratios to the floor's.
//!
//! ```sh
//! cargo bench -p pulse-bench --bench ensemble
//! ```
#![forbid(unsafe_code)]

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use hdrhistogram::Histogram;
use pulse_engine::config;
use pulse_engine::intent::{Feedback, Intent, Intents};
use pulse_engine::pipeline::build_strategy;
use pulse_engine::risk::RejectReason;
use pulse_engine::strategy::{BuiltinStrategy, Strategy as _};
use pulse_feeds::event::MarketEvent;
use pulse_feeds::num::{Qty, Side};
use pulse_gateways::order::{ClientOrderId, ExecKind, ExecReport};
use report::Measured;

#[path = "../src/market_events.rs"]
mod market_events;
#[path = "../src/report.rs"]
#[allow(dead_code)]
mod report;

fn strategy(config_file: &str) -> BuiltinStrategy {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../configs")
        .join(config_file);
    let cfg = config::load(&path).expect("the config loads");
    build_strategy(&cfg.strategy, &cfg.instruments, true, &mut None).expect("the strategy builds")
}

/// One event through `s`. A taker's intent is refused at once so that deciding goes on; the
/// market maker's quotes are accepted (client id = tag) and its cancels confirmed at once, so
/// that it keeps requoting as the book moves. No fills: the cost measured is deciding.
fn step(s: &mut BuiltinStrategy, event: &MarketEvent) -> bool {
    let mut out = Intents::default();
    s.on_market(event, &mut out);
    let maker = matches!(s, BuiltinStrategy::MarketMaker(_));
    for intent in out.iter() {
        let feedback = match intent {
            Intent::New(n) if maker => Feedback::Accepted {
                instrument: n.instrument,
                tag: n.tag,
                client_id: ClientOrderId(u64::from(n.tag)),
            },
            Intent::Cancel(c) if maker => Feedback::Report(ExecReport {
                meta: c.meta,
                client_id: c.client_id,
                instrument: c.instrument,
                side: Side::Buy,
                kind: ExecKind::Cancelled,
                leaves: Qty(0),
                ts: c.meta.recv_ts,
            }),
            _ => Feedback::Rejected {
                instrument: intent.instrument(),
                tag: intent.tag(),
                reason: RejectReason::KillSwitch,
            },
        };
        s.on_feedback(&feedback, &mut Intents::default());
    }
    !out.is_empty()
}

fn per_event(c: &mut Criterion) {
    let events = market_events::market_events();
    let mut group = c.benchmark_group("strategy_per_event");
    group.throughput(Throughput::Elements(events.len() as u64));
    for (name, file) in [
        ("ensemble", "demo.toml"),
        ("market_maker", "market-maker.toml"),
        ("book_imbalance", "imbalance.toml"),
    ] {
        group.bench_function(name, |b| {
            b.iter_batched(
                || strategy(file),
                |mut s| {
                    let mut intents = 0u32;
                    for event in &events {
                        intents += u32::from(step(&mut s, black_box(event)));
                    }
                    intents
                },
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();

    let clock = quanta::Clock::new();
    let mut results = Vec::new();
    for (name, file) in [
        ("pulse", "demo.toml"),
        ("market_maker", "market-maker.toml"),
        ("book_imbalance", "imbalance.toml"),
    ] {
        let mut s = strategy(file);
        let mut h = Histogram::<u64>::new_with_bounds(1, 10_000_000_000, 3).unwrap();
        for event in &events {
            let start = clock.raw();
            step(&mut s, event);
            if let MarketEvent::Book(_) = event {
                let _ = h.record(clock.delta_as_nanos(start, clock.raw()).max(1));
            }
        }
        results.push(Measured {
            name,
            case: Some("per_book_event"),
            histogram: h,
            extra: Vec::new(),
        });
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let env = report::env("single-thread", cores, &[]);
    println!("{}", report::table("ensemble", &results, &env));
}

criterion_group!(benches, per_event);
criterion_main!(benches);
