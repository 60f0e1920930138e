//! Seeded return windows for the portfolio model's tests: a one-factor market, so that
//! correlations spread over both signs and past the link threshold. (Each test uses a part.)
#![allow(dead_code)]

use pulse_risk::portfolio::{PortfolioModel, RiskModelConfig};

/// SplitMix64: a small seeded generator, the same numbers on every machine.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u = 1.0 - self.uniform();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * self.uniform()).cos()
    }
}

/// `rows` rows of `n` returns: `r_ti = 0.01 (β_i f_t + s_i ε_ti)` with loadings `β_i` of
/// either sign and size 0.5..1.5 and idiosyncratic scales `s_i` 0.1..1.
pub fn factor_returns(rng: &mut Rng, n: usize, rows: usize) -> Vec<Vec<f64>> {
    let beta: Vec<f64> = (0..n)
        .map(|_| {
            let sign = if rng.uniform() < 0.5 { -1.0 } else { 1.0 };
            sign * (0.5 + rng.uniform())
        })
        .collect();
    let scale: Vec<f64> = (0..n).map(|_| 0.1 + 0.9 * rng.uniform()).collect();
    (0..rows)
        .map(|_| {
            let f = rng.normal();
            (0..n)
                .map(|i| 0.01 * (beta[i] * f + scale[i] * rng.normal()))
                .collect()
        })
        .collect()
}

/// A model of `n` instruments holding `rows`, with the default settings but the window.
pub fn loaded_model(n: usize, rows: &[Vec<f64>], window: usize) -> PortfolioModel {
    let config = RiskModelConfig {
        window,
        ..RiskModelConfig::default()
    };
    let mut model = PortfolioModel::new(n, config).expect("valid config");
    for row in rows {
        model.sampler_mut().push_row(row);
    }
    model
}
