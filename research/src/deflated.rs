//! The deflated Sharpe ratio (Bailey and López de Prado, "The Deflated Sharpe Ratio:
//! Correcting for Selection Bias, Backtest Overfitting and Non-Normality", 2014): the
//! probability that the best of `N` tried configurations has a true Sharpe ratio above zero,
//! once the best Sharpe ratio that `N` tries of pure luck would show is accounted for.
//!
//! With `SR*` the selected run's Sharpe ratio per grid interval (not annualized), `T` its
//! returns, `g3` their skewness and `g4` their kurtosis (3 for a normal),
//! `SR0 = sqrt(Var[SR_n]) ((1 - γ) Φ⁻¹(1 - 1/N) + γ Φ⁻¹(1 - 1/(N e)))` (γ Euler's constant,
//! `Var[SR_n]` across the N tries) and
//! `DSR = Φ((SR* - SR0) sqrt(T - 1) / sqrt(1 - g3 SR* + (g4 - 1)/4 SR*²))`.

use serde::Serialize;

const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;

#[derive(Clone, Debug, Serialize)]
pub struct Deflated {
    pub trials: usize,
    /// The selected run and its Sharpe ratio per interval.
    pub selected_run: usize,
    pub sharpe: f64,
    /// What the best of `trials` tries would show by luck alone.
    pub expected_max_sharpe: f64,
    pub skewness: f64,
    pub kurtosis: f64,
    pub observations: u64,
    /// The probability the selected run's true Sharpe ratio is above zero after the
    /// correction (and without it, the probabilistic Sharpe ratio).
    pub deflated_sharpe: f64,
    pub probabilistic_sharpe: f64,
}

/// Standard normal CDF (via erfc; absolute error below 1.2e-7).
pub fn norm_cdf(x: f64) -> f64 {
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

/// Standard normal quantile (Acklam's rational approximation, relative error below 1.2e-9).
pub fn norm_ppf(p: f64) -> f64 {
    if p <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if p >= 1.0 {
        return f64::INFINITY;
    }
    const A: [f64; 6] = [
        -3.969683028665376e1,
        2.209460984245205e2,
        -2.759285104469687e2,
        1.383_577_518_672_69e2,
        -3.066479806614716e1,
        2.506628277459239,
    ];
    const B: [f64; 5] = [
        -5.447609879822406e1,
        1.615858368580409e2,
        -1.556989798598866e2,
        6.680131188771972e1,
        -1.328068155288572e1,
    ];
    const C: [f64; 6] = [
        -7.784894002430293e-3,
        -3.223964580411365e-1,
        -2.400758277161838,
        -2.549732539343734,
        4.374664141464968,
        2.938163982698783,
    ];
    const D: [f64; 4] = [
        7.784695709041462e-3,
        3.224671290700398e-1,
        2.445134137142996,
        3.754408661907416,
    ];
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < 0.02425 {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - 0.02425 {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

fn moments(r: &[f64]) -> (f64, f64, f64, f64) {
    let n = r.len() as f64;
    let m = r.iter().fold(0.0, |a, b| a + b) / n;
    let c = |k: i32| r.iter().map(|x| (x - m).powi(k)).fold(0.0, |a, b| a + b) / n;
    let (m2, m3, m4) = (c(2), c(3), c(4));
    let sd = (r.iter().map(|x| (x - m).powi(2)).fold(0.0, |a, b| a + b) / (n - 1.0)).sqrt();
    (m, sd, m3 / m2.powf(1.5), m4 / (m2 * m2))
}

/// `returns`: each try's interval returns, in run order; the selected try is the one with the
/// largest Sharpe ratio.
pub fn deflated(returns: &[Vec<f64>]) -> Option<Deflated> {
    let sharpe: Vec<f64> = returns
        .iter()
        .map(|r| {
            let (m, sd, _, _) = moments(r);
            if r.len() > 2 && sd > 0.0 {
                m / sd
            } else {
                f64::NAN
            }
        })
        .collect();
    let finite: Vec<f64> = sharpe.iter().copied().filter(|s| s.is_finite()).collect();
    let best = (0..sharpe.len())
        .filter(|&i| sharpe[i].is_finite())
        .max_by(|&a, &b| sharpe[a].total_cmp(&sharpe[b]).then(b.cmp(&a)))?;
    let n = finite.len();
    let mean = finite.iter().fold(0.0, |a, b| a + b) / n as f64;
    let var = if n > 1 {
        finite
            .iter()
            .map(|s| (s - mean).powi(2))
            .fold(0.0, |a, b| a + b)
            / (n as f64 - 1.0)
    } else {
        0.0
    };
    let sr0 = if n > 1 {
        var.sqrt()
            * ((1.0 - EULER_GAMMA) * norm_ppf(1.0 - 1.0 / n as f64)
                + EULER_GAMMA * norm_ppf(1.0 - 1.0 / (n as f64 * std::f64::consts::E)))
    } else {
        0.0
    };
    let r = &returns[best];
    let (_, _, g3, g4) = moments(r);
    let sr = sharpe[best];
    let t = r.len() as f64;
    let denom = (1.0 - g3 * sr + (g4 - 1.0) / 4.0 * sr * sr).sqrt();
    let z = |target: f64| (sr - target) * (t - 1.0).sqrt() / denom;
    Some(Deflated {
        trials: n,
        selected_run: best,
        sharpe: sr,
        expected_max_sharpe: sr0,
        skewness: g3,
        kurtosis: g4,
        observations: r.len() as u64,
        deflated_sharpe: norm_cdf(z(sr0)),
        probabilistic_sharpe: norm_cdf(z(0.0)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_functions_match_known_values() {
        assert!((norm_ppf(0.975) - 1.959_963_984_540_054).abs() < 1e-8);
        assert!((norm_ppf(0.05) + 1.644_853_626_951_472_7).abs() < 1e-8);
        assert!((norm_cdf(1.959_963_984_540_054) - 0.975).abs() < 2e-7);
        assert!((norm_cdf(0.0) - 0.5).abs() < 2e-7);
    }

    /// Many tries of noise: the best looks good alone (PSR above 99%) but is not significant
    /// once the number of tries is counted.
    #[test]
    fn the_best_of_many_noise_tries_is_deflated() {
        let mut seed = 1u64;
        let mut noise = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((seed >> 11) as f64 / (1u64 << 53) as f64) - 0.5
        };
        let tries: Vec<Vec<f64>> = (0..200)
            .map(|_| (0..250).map(|_| noise() * 0.01).collect())
            .collect();
        let d = deflated(&tries).unwrap();
        assert_eq!(d.trials, 200);
        assert!(d.probabilistic_sharpe > 0.99, "{d:?}");
        assert!(
            d.deflated_sharpe < 0.95,
            "not significant once 200 tries are counted: {d:?}"
        );
    }
}
