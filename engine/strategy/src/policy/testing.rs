//! Test helpers: a seeded random source and a writer of weights files.

use std::fmt::Write;

use super::weights::FEATURES;

/// SplitMix64: small, seeded, the same sequence everywhere.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[-scale, scale)`.
    pub fn uniform(&mut self, scale: f64) -> f64 {
        let unit = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        (2.0 * unit - 1.0) * scale
    }

    pub fn features(&mut self, scale: f64) -> [f64; FEATURES] {
        std::array::from_fn(|_| self.uniform(scale))
    }
}

/// A `pulse-policy v1` text with random weights in `[-1, 1)`: `hidden` (width, activation)
/// layers then `layer 3 softmax`, and random normalization when asked. Values are written with
/// Rust's shortest round-trip formatting, so parsing gives back the very same numbers.
pub fn policy_text(rng: &mut Rng, hidden: &[(usize, &str)], normalize: bool) -> String {
    let mut text = String::from("pulse-policy v1\ninput 16\n");
    for (width, activation) in hidden {
        writeln!(text, "layer {width} {activation}").unwrap();
    }
    text.push_str("layer 3 softmax\n");
    if normalize {
        let means: Vec<f64> = (0..FEATURES).map(|_| rng.uniform(10.0)).collect();
        let stds: Vec<f64> = (0..FEATURES)
            .map(|_| 0.1 + rng.uniform(1.0).abs())
            .collect();
        writeln!(text, "normalize mean {}", join(&means)).unwrap();
        writeln!(text, "normalize std {}", join(&stds)).unwrap();
    }
    let mut inputs = FEATURES;
    let widths = hidden.iter().map(|(w, _)| *w).chain([3]);
    for (k, width) in widths.enumerate() {
        writeln!(text, "weights {k}").unwrap();
        for _ in 0..width {
            let row: Vec<f64> = (0..inputs).map(|_| rng.uniform(1.0)).collect();
            writeln!(text, "{}", join(&row)).unwrap();
        }
        let biases: Vec<f64> = (0..width).map(|_| rng.uniform(1.0)).collect();
        writeln!(text, "bias {k} {}", join(&biases)).unwrap();
        inputs = width;
    }
    text.push_str("end\n");
    text
}

fn join(values: &[f64]) -> String {
    let words: Vec<String> = values.iter().map(|v| format!("{v:?}")).collect();
    words.join(" ")
}
