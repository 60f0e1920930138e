//! One decision of the policy agent's network, per call, on the shipped example network
//! (`configs/policy/example.policy`: 16 normalized features -> 32 relu -> 32 relu -> 3
//! softmax, 1,635 weights and biases):
//!
//! - `pulse_policy_network`: `PolicyNetwork::infer`: flat input-major weights, two activation
//!   buffers allocated at load, no allocation per call; probabilities, action and confidence.
//! - `naive_vec_of_vecs`: the textbook version (`engine/strategy/src/policy/naive.rs`, the unit tests'
//!   reference): a `Vec<Vec<f64>>` per layer, a new `Vec` per layer per call; probabilities.
//!
//! Both give the same probabilities (checked on every input before timing). The inputs are
//! 4,096 feature vectors drawn around the example's normalization, taken in turn. Criterion
//! times calls; then one pass per variant prints the per-call distribution (TSC-stamped, so
//! each sample includes one clock read) and the ratio of the medians.
//!
//! ```sh
//! cargo bench -p pulse-bench --bench policy
//! ```
#![forbid(unsafe_code)]

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use hdrhistogram::Histogram;
use pulse_engine::policy::{parse, PolicyNetwork, FEATURES};
// The names `naive.rs` takes from its parent module.
use pulse_engine::policy::{Activation, PolicyWeights};

#[path = "../../engine/strategy/src/policy/naive.rs"]
mod naive;

use naive::NaivePolicy;

const INPUTS: usize = 4096;
const PASS: usize = 200_000;

fn example() -> PolicyWeights {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs/policy/example.policy");
    let text = std::fs::read_to_string(&path).expect("the example weights file reads");
    parse(&text).expect("the example weights file parses")
}

/// Feature vectors within three standard deviations of the example's training means, from a
/// fixed xorshift sequence.
fn inputs(weights: &PolicyWeights) -> Vec<[f64; FEATURES]> {
    let norm = weights.normalize().expect("the example normalizes");
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut uniform = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64 * 6.0 - 3.0
    };
    (0..INPUTS)
        .map(|_| std::array::from_fn(|i| norm.mean()[i] + norm.std()[i] * uniform()))
        .collect()
}

fn policy(c: &mut Criterion) {
    let weights = example();
    let inputs = inputs(&weights);
    let mut network = PolicyNetwork::new(&weights);
    let naive = NaivePolicy::new(&weights);
    for features in &inputs {
        let (fast, slow) = (network.infer(features).probs, naive.probs(features));
        assert_eq!(&fast[..], &slow[..], "the two evaluations agree");
    }

    let mut group = c.benchmark_group("policy_infer_16_32_32_3");
    group.throughput(Throughput::Elements(1));
    let mut i = 0;
    group.bench_function("pulse_policy_network", |b| {
        b.iter(|| {
            i = (i + 1) % INPUTS;
            black_box(network.infer(black_box(&inputs[i])))
        })
    });
    group.bench_function("naive_vec_of_vecs", |b| {
        b.iter(|| {
            i = (i + 1) % INPUTS;
            black_box(naive.probs(black_box(&inputs[i])))
        })
    });
    group.finish();

    let clock = quanta::Clock::new();
    let pass = |name: &str, call: &mut dyn FnMut(&[f64; FEATURES])| {
        let mut h = Histogram::<u64>::new_with_bounds(1, 1_000_000_000, 3).expect("valid bounds");
        for n in 0..PASS {
            let features = &inputs[n % INPUTS];
            let start = clock.raw();
            call(features);
            let _ = h.record(clock.delta_as_nanos(start, clock.raw()).max(1));
        }
        let q = |q| h.value_at_quantile(q);
        println!(
            "policy/per_call {name:<22} n={} p50={} p99={} p99.9={} max={} ns",
            h.len(),
            q(0.5),
            q(0.99),
            q(0.999),
            h.max()
        );
        q(0.5)
    };
    let fast = pass("pulse_policy_network", &mut |f| {
        black_box(network.infer(black_box(f)));
    });
    let slow = pass("naive_vec_of_vecs", &mut |f| {
        black_box(naive.probs(black_box(f)));
    });
    println!(
        "policy/per_call naive p50 / pulse p50 = {:.2}",
        slow as f64 / fast as f64
    );
}

criterion_group!(benches, policy);
criterion_main!(benches);
