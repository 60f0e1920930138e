//! The EWMA (RiskMetrics, zero-mean) covariance of the return window and its correlation.

use super::returns::ReturnSampler;

/// Writes the EWMA covariance of the sampler's rows into `cov` (`n * n`, row-major):
/// `Σ = Σ_{k=0}^{T-1} w_k r_{T-k} r_{T-k}ᵀ`, `w_k = (1-λ) λ^k / (1 - λ^T)`, `r_T` the newest
/// of the `T` rows. The weights are normalized (they sum to 1), so a short window is not
/// biased low. All zeros when there are no rows.
pub(crate) fn ewma_covariance(sampler: &ReturnSampler, lambda: f64, cov: &mut [f64]) {
    let n = sampler.instruments();
    let rows = sampler.rows();
    cov.fill(0.0);
    if rows == 0 {
        return;
    }
    let mut w = (1.0 - lambda) / (1.0 - lambda.powi(rows as i32));
    for k in 0..rows {
        let r = sampler.row(rows - 1 - k);
        for i in 0..n {
            let wri = w * r[i];
            for j in i..n {
                cov[i * n + j] += wri * r[j];
            }
        }
        w *= lambda;
    }
    for i in 0..n {
        for j in 0..i {
            cov[i * n + j] = cov[j * n + i];
        }
    }
}

/// `ρ_ij = Σ_ij / sqrt(Σ_ii Σ_jj)`, 0 when either variance is 0, and `ρ_ii = 1`.
pub(crate) fn correlation(n: usize, cov: &[f64], corr: &mut [f64]) {
    for i in 0..n {
        for j in 0..n {
            let vv = cov[i * n + i] * cov[j * n + j];
            corr[i * n + j] = if i == j {
                1.0
            } else if vv > 0.0 {
                cov[i * n + j] / vv.sqrt()
            } else {
                0.0
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pulse_core::num::Nanos;

    #[test]
    fn normalized_weights_newest_first() {
        // λ = 0.5, T = 3 rows: weights newest..oldest 0.5·(1, 0.5, 0.25)/(1 - 0.125)
        // = 4/7, 2/7, 1/7.
        let mut s = ReturnSampler::new(2, Nanos(1), 10);
        s.push_row(&[0.01, 0.02]); // oldest, weight 1/7
        s.push_row(&[-0.02, 0.0]); // weight 2/7
        s.push_row(&[0.03, -0.01]); // newest, weight 4/7
        let mut cov = [0.0; 4];
        ewma_covariance(&s, 0.5, &mut cov);
        // Σ_00 = (1·0.0001 + 2·0.0004 + 4·0.0009)/7 = 0.0045/7
        // Σ_01 = (1·0.0002 + 2·0 + 4·(-0.0003))/7 = -0.001/7
        // Σ_11 = (1·0.0004 + 0 + 4·0.0001)/7 = 0.0008/7
        let want = [0.0045 / 7.0, -0.001 / 7.0, -0.001 / 7.0, 0.0008 / 7.0];
        for (c, w) in cov.iter().zip(want) {
            assert!((c - w).abs() < 1e-18, "{c} vs {w}");
        }
        let mut corr = [0.0; 4];
        correlation(2, &cov, &mut corr);
        // ρ_01 = -0.001 / sqrt(0.0045 · 0.0008) = -0.001 / 0.0018973666 = -0.5270462767
        assert!((corr[1] + 0.527_046_276_694_729_9).abs() < 1e-12);
        assert_eq!((corr[0], corr[3]), (1.0, 1.0));
    }

    #[test]
    fn zero_variance_gives_zero_correlation_and_no_rows_zero_covariance() {
        let mut s = ReturnSampler::new(2, Nanos(1), 4);
        let mut cov = [1.0; 4];
        ewma_covariance(&s, 0.94, &mut cov);
        assert_eq!(cov, [0.0; 4]);
        s.push_row(&[0.01, 0.0]);
        ewma_covariance(&s, 0.94, &mut cov);
        // One row: weight (1-λ)/(1-λ) = 1.
        assert!((cov[0] - 0.0001).abs() < 1e-18);
        let mut corr = [9.0; 4];
        correlation(2, &cov, &mut corr);
        assert_eq!(corr, [1.0, 0.0, 0.0, 1.0]);
    }
}
