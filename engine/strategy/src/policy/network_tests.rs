use std::path::Path;

use super::super::naive::NaivePolicy;
use super::super::testing::{policy_text, Rng};
use super::super::{parse, Action, PolicyNetwork, PolicyOutput, PolicyWeights, FEATURES};

fn example_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs/policy/example.policy")
}

/// Checks `out` against the naive evaluation of the same weights, and that it is a
/// distribution whose action and confidence agree with it.
fn check(out: &PolicyOutput, naive: &NaivePolicy, features: &[f64; FEATURES]) {
    let expected = naive.probs(features);
    for (p, q) in out.probs.iter().zip(&expected) {
        assert!((p - q).abs() <= 1e-12, "{:?} vs {expected:?}", out.probs);
    }
    // Stronger, and documented by `PolicyNetwork`: every sum runs in the same order as the
    // textbook one, so the bits are the same.
    assert_eq!(&out.probs[..], &expected[..]);
    assert_distribution(out);
}

fn assert_distribution(out: &PolicyOutput) {
    assert!(out.probs.iter().all(|p| (0.0..=1.0).contains(p)), "{out:?}");
    assert!(
        (out.probs.iter().sum::<f64>() - 1.0).abs() <= 1e-12,
        "{out:?}"
    );
    let top = out.probs.iter().copied().fold(0.0, f64::max);
    assert_eq!(out.confidence, top);
    let index = match out.action {
        Action::Buy => 0,
        Action::Hold => 1,
        Action::Sell => 2,
    };
    if out.action != Action::Hold {
        assert_eq!(out.probs[index], top, "{out:?}");
    }
}

fn both(weights: &PolicyWeights) -> (PolicyNetwork, NaivePolicy) {
    (PolicyNetwork::new(weights), NaivePolicy::new(weights))
}

#[test]
fn inference_matches_the_naive_implementation_over_random_networks_and_inputs() {
    // Hidden layers, and how many random inputs (fewer for the largest, to keep debug builds
    // quick).
    let architectures: [(&[(usize, &str)], usize); 6] = [
        (&[], 5_000),
        (&[(32, "relu"), (32, "relu")], 5_000),
        (&[(5, "tanh")], 5_000),
        (
            &[(256, "relu"), (64, "tanh"), (1, "relu"), (9, "tanh")],
            300,
        ),
        (&[(200, "tanh"), (256, "tanh")], 200),
        (&[(17, "relu"), (3, "relu"), (33, "tanh")], 5_000),
    ];
    let mut rng = Rng::new(42);
    for (n, (hidden, inputs)) in architectures.into_iter().enumerate() {
        for normalize in [false, true] {
            let weights = parse(&policy_text(&mut rng, hidden, normalize)).unwrap();
            let (mut network, naive) = both(&weights);
            for i in 0..inputs {
                let scale = if i % 10 == 0 { 100.0 } else { 3.0 };
                let features = rng.features(scale);
                let out = network.infer(&features);
                check(&out, &naive, &features);
            }
            assert_eq!(network.non_finite, 0, "architecture {n}");
        }
    }
}

#[test]
fn probabilities_sum_to_one_even_when_the_softmax_saturates() {
    let text = policy_text(&mut Rng::new(7), &[(32, "relu"), (32, "relu")], false);
    let mut network = PolicyNetwork::parse(&text).unwrap();
    let mut rng = Rng::new(8);
    let mut saturated = 0;
    for _ in 0..5_000 {
        let out = network.infer(&rng.features(1e6));
        assert_distribution(&out);
        saturated += usize::from(out.confidence == 1.0);
    }
    assert!(saturated > 100, "{saturated} saturated outputs");
}

/// `first` then zeros: 16 values.
fn row(first: &[&str]) -> String {
    let mut words: Vec<&str> = first.to_vec();
    words.resize(FEATURES, "0");
    words.join(" ")
}

/// h0 = relu(x0), h1 = relu(2 x1 - 1); buy = h0, hold = 0, sell = h1; x0 = (f0 - 1) / 2.
fn hand_built() -> String {
    [
        "pulse-policy v1".to_owned(),
        "input 16".into(),
        "layer 2 relu".into(),
        "layer 3 softmax".into(),
        format!("normalize mean {}", row(&["1"])),
        format!("normalize std 2 {}", ["1"; FEATURES - 1].join(" ")),
        "weights 0".into(),
        row(&["1"]),
        row(&["0", "2"]),
        "bias 0 0 -1".into(),
        "weights 1".into(),
        "1 0".into(),
        "0 0".into(),
        "0 1".into(),
        "bias 1 0 0 0".into(),
        "end".into(),
    ]
    .join("\n")
}

fn features(f0: f64, f1: f64) -> [f64; FEATURES] {
    let mut rest = Rng::new(9).features(50.0);
    rest[0] = f0;
    rest[1] = f1;
    rest
}

fn assert_probs(out: &PolicyOutput, expected: [f64; 3], action: Action) {
    for (p, q) in out.probs.iter().zip(expected) {
        assert!((p - q).abs() < 1e-15, "{out:?} vs {expected:?}");
    }
    assert_eq!(out.action, action, "{out:?}");
    let top = expected.iter().copied().fold(0.0, f64::max);
    assert!((out.confidence - top).abs() < 1e-15, "{out:?}");
}

#[test]
fn a_hand_built_network_gives_hand_computed_outputs() {
    let mut network = PolicyNetwork::parse(&hand_built()).unwrap();
    let e = std::f64::consts::E;
    // Logits (ln 3, 0, 0): the second unit is clipped by relu.
    let out = network.infer(&features(1.0 + 2.0 * 3f64.ln(), 0.25));
    assert_probs(&out, [0.6, 0.2, 0.2], Action::Buy);
    // Logits (0, 0, 1): the first unit is clipped.
    let out = network.infer(&features(-2.0, 1.0));
    let d = 2.0 + e;
    assert_probs(&out, [1.0 / d, 1.0 / d, e / d], Action::Sell);
    // Logits (0, 0, 0): a three-way tie holds.
    let out = network.infer(&features(1.0, 0.5));
    assert_probs(&out, [1.0 / 3.0; 3], Action::Hold);
    // Logits (1, 0, 1): buy and sell tie above hold, which holds.
    let out = network.infer(&features(3.0, 1.0));
    let d = 2.0 * e + 1.0;
    assert_probs(&out, [e / d, 1.0 / d, e / d], Action::Hold);
}

#[test]
fn a_hand_built_tanh_network_gives_hand_computed_outputs() {
    let text = [
        "pulse-policy v1\ninput 16\nlayer 1 tanh\nlayer 3 softmax\nweights 0".to_owned(),
        row(&["1"]),
        "bias 0 0\nweights 1\n1\n0\n-1\nbias 1 0 0 0\nend".into(),
    ]
    .join("\n");
    let mut network = PolicyNetwork::parse(&text).unwrap();
    // tanh(atanh(0.5)) = 0.5: logits (0.5, 0, -0.5).
    let out = network.infer(&features(0.5f64.atanh(), 0.0));
    let (a, b) = (0.5f64.exp(), (-0.5f64).exp());
    let d = a + 1.0 + b;
    assert_probs(&out, [a / d, 1.0 / d, b / d], Action::Buy);
}

#[test]
fn non_finite_features_or_outputs_give_no_opinion_and_are_counted() {
    let mut network = PolicyNetwork::parse(&hand_built()).unwrap();
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let mut f = features(1.0, 1.0);
        f[5] = bad;
        assert_eq!(network.infer(&f), PolicyOutput::NO_OPINION);
    }
    assert_eq!(network.non_finite, 3);
    let huge = hand_built().replacen("\n1 0 0", "\n1e300 0 0", 1);
    let mut network = PolicyNetwork::parse(&huge).unwrap();
    assert_eq!(
        network.infer(&features(1e10, 0.0)),
        PolicyOutput::NO_OPINION
    );
    assert_eq!(network.non_finite, 1);
    assert_eq!(PolicyOutput::NO_OPINION.probs.iter().sum::<f64>(), 1.0);
}

#[test]
fn inference_is_deterministic_and_keeps_no_state_between_calls() {
    let text = policy_text(&mut Rng::new(11), &[(32, "relu"), (32, "tanh")], true);
    let mut network = PolicyNetwork::parse(&text).unwrap();
    let mut fresh = PolicyNetwork::parse(&text).unwrap();
    let mut rng = Rng::new(12);
    let first = rng.features(5.0);
    let expected = network.infer(&first);
    for _ in 0..100 {
        network.infer(&rng.features(5.0));
    }
    let again = network.infer(&first);
    assert_eq!(
        again.probs.map(f64::to_bits),
        expected.probs.map(f64::to_bits)
    );
    let other = fresh.infer(&first);
    assert_eq!(
        other.probs.map(f64::to_bits),
        expected.probs.map(f64::to_bits)
    );
}

#[test]
fn the_example_file_is_16_32_32_3_and_gives_valid_probabilities() {
    let text = std::fs::read_to_string(example_path()).unwrap();
    let weights = parse(&text).unwrap();
    let shape: Vec<(usize, usize)> = weights
        .layers()
        .iter()
        .map(|l| (l.inputs(), l.outputs()))
        .collect();
    assert_eq!(shape, [(16, 32), (32, 32), (32, 3)]);
    let norm = weights
        .normalize()
        .expect("the example normalizes its features");
    let (mut network, naive) = both(&weights);
    let mut loaded = PolicyNetwork::load(&example_path()).unwrap();
    let mut rng = Rng::new(13);
    let mut actions = [0usize; 3];
    for _ in 0..5_000 {
        let features: [f64; FEATURES] =
            std::array::from_fn(|i| norm.mean()[i] + norm.std()[i] * rng.uniform(3.0));
        let out = network.infer(&features);
        check(&out, &naive, &features);
        assert_eq!(loaded.infer(&features), out);
        actions[out.action as usize] += 1;
    }
    assert!(
        actions.iter().filter(|&&n| n > 0).count() >= 2,
        "{actions:?}"
    );
}
