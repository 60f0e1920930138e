//! Should the ensemble's fractions (confidences, weights, strengths) be fixed-point? The
//! aggregator as Pulse runs it (`f64`) beside a transliteration into `fixed`'s `I32F32` (32
//! fractional bits, 1/4e9 resolution), over the same 4,096 pseudo-random ballots (5 agents, each
//! silent or voting a side with a strength and a confidence; weights 0..2). Before timing, it
//! prints how many of the ballots the two decide differently (side, or decided vs dropped at the
//! 60% threshold): the decisions a switch would change.
//!
//! ```sh
//! cargo bench -p pulse-bench --bench fractions
//! ```
#![forbid(unsafe_code)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use fixed::types::I32F32;
use pulse_engine::agents::aggregate::{aggregate, DEFAULT_MIN_CONFIDENCE};
use pulse_engine::agents::{Signal, AGENTS};
use pulse_feeds::num::Side;

const BALLOTS: usize = 4096;

/// One ballot in both representations.
struct Ballot {
    signals: [Option<Signal>; AGENTS],
    weights: [f64; AGENTS],
    fixed_signals: [Option<(Side, I32F32, I32F32)>; AGENTS],
    fixed_weights: [I32F32; AGENTS],
}

/// xorshift64*: a fixed sequence, so every run times the same ballots.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A multiple of 1/1024 in 0..=1: exact in both representations, so a differing decision
    /// comes from the arithmetic, not from the inputs.
    fn unit(&mut self) -> f64 {
        (self.next() % 1025) as f64 / 1024.0
    }
}

fn ballots() -> Vec<Ballot> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    (0..BALLOTS)
        .map(|_| {
            let mut b = Ballot {
                signals: [None; AGENTS],
                weights: [0.0; AGENTS],
                fixed_signals: [None; AGENTS],
                fixed_weights: [I32F32::ZERO; AGENTS],
            };
            for i in 0..AGENTS {
                let w = 2.0 * rng.unit();
                b.weights[i] = w;
                b.fixed_weights[i] = I32F32::from_num(w);
                if !rng.next().is_multiple_of(4) {
                    let side = if rng.next().is_multiple_of(2) {
                        Side::Buy
                    } else {
                        Side::Sell
                    };
                    let (strength, confidence) = (rng.unit(), rng.unit());
                    b.signals[i] = Some(Signal::new(side, strength, confidence));
                    b.fixed_signals[i] = Some((
                        side,
                        I32F32::from_num(strength),
                        I32F32::from_num(confidence),
                    ));
                }
            }
            b
        })
        .collect()
}

/// The aggregator's arithmetic in `I32F32`: side and confidence of the decision, if any.
fn aggregate_fixed(b: &Ballot, min_confidence: I32F32) -> Option<(Side, I32F32, I32F32)> {
    let (mut net, mut spoke) = (I32F32::ZERO, I32F32::ZERO);
    for (signal, &w) in b.fixed_signals.iter().zip(&b.fixed_weights) {
        if let Some((side, _, confidence)) = signal {
            if w > I32F32::ZERO {
                let score = if *side == Side::Buy {
                    *confidence
                } else {
                    -*confidence
                };
                net += w * score;
                spoke += w;
            }
        }
    }
    if spoke <= I32F32::ZERO {
        return None;
    }
    let confidence = (net / spoke).abs();
    if confidence < min_confidence || net == I32F32::ZERO {
        return None;
    }
    let side = if net > I32F32::ZERO {
        Side::Buy
    } else {
        Side::Sell
    };
    let (mut sum, mut wsum) = (I32F32::ZERO, I32F32::ZERO);
    for (signal, &w) in b.fixed_signals.iter().zip(&b.fixed_weights) {
        if let Some((_, strength, _)) = signal.filter(|s| s.0 == side) {
            sum += w * strength;
            wsum += w;
        }
    }
    let strength = if wsum > I32F32::ZERO {
        sum / wsum
    } else {
        I32F32::ZERO
    };
    Some((side, confidence, strength))
}

fn fractions(c: &mut Criterion) {
    let ballots = ballots();
    let min_fixed = I32F32::from_num(DEFAULT_MIN_CONFIDENCE);
    let differ = ballots
        .iter()
        .filter(|b| {
            let float = aggregate(&b.signals, &b.weights, DEFAULT_MIN_CONFIDENCE).map(|d| d.side);
            let fixed = aggregate_fixed(b, min_fixed).map(|d| d.0);
            float != fixed
        })
        .count();
    eprintln!("fractions: {differ} of {BALLOTS} ballots decided differently in f64 and I32F32");
    let mut group = c.benchmark_group("aggregate");
    group.throughput(Throughput::Elements(BALLOTS as u64));
    group.bench_function("f64", |bench| {
        bench.iter(|| {
            for b in &ballots {
                black_box(aggregate(
                    black_box(&b.signals),
                    black_box(&b.weights),
                    DEFAULT_MIN_CONFIDENCE,
                ));
            }
        })
    });
    group.bench_function("fixed_i32f32", |bench| {
        bench.iter(|| {
            for b in &ballots {
                black_box(aggregate_fixed(black_box(b), min_fixed));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, fractions);
criterion_main!(benches);
