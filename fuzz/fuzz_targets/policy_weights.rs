//! The policy weights parser over arbitrary bytes: weights and a network that evaluates to a
//! distribution, or one `PolicyError` naming a line of the text, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pulse_engine::policy::{parse, PolicyNetwork};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match parse(text) {
        Ok(weights) => {
            let mut network = PolicyNetwork::new(&weights);
            let out = network.infer(&[0.5; 16]);
            let sum: f64 = out.probs.iter().sum();
            assert!((sum - 1.0).abs() < 1e-9, "{out:?}");
        }
        Err(err) => {
            let _ = err.to_string();
            let line = err.line.expect("a parse error names its line");
            let lines = text.lines().count().max(1);
            assert!(
                (1..=lines + 1).contains(&line),
                "line {line} of {lines}: {err}"
            );
        }
    }
});
