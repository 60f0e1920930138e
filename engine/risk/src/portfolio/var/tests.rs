use super::*;
use pulse_core::num::Nanos;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * b.abs().max(1.0)
}

#[test]
fn linear_quantile_and_the_tail_mean() {
    // T = 5, α = 0.95: h = 4 · 0.95 = 3.8, between sorted[3] = 1 and sorted[4] = 3:
    // 1 + 0.8 · 2 = 2.6 (numpy.quantile([-2, -1, 0, 1, 3], 0.95) = 2.6); CVaR: mean of {3}.
    let (var, cvar) = var_cvar_sorted(&[-2.0, -1.0, 0.0, 1.0, 3.0], 0.95);
    assert!(close(var, 2.6) && cvar == 3.0, "{var} {cvar}");
    // α = 0.5: h = 2 exactly, VaR = sorted[2] = 0; CVaR = mean(0, 1, 3) = 4/3 (>= includes 0).
    let (var, cvar) = var_cvar_sorted(&[-2.0, -1.0, 0.0, 1.0, 3.0], 0.5);
    assert!(var == 0.0 && close(cvar, 4.0 / 3.0));
    // α = 0.7: h = 2.8 ≥ 0.5 from the upper end: 1 - 0.2 · 1 = 0.8; CVaR = mean(1, 3) = 2.
    let (var, cvar) = var_cvar_sorted(&[-2.0, -1.0, 0.0, 1.0, 3.0], 0.7);
    assert!(close(var, 0.8) && cvar == 2.0);
    // One scenario: it is every quantile.
    assert_eq!(var_cvar_sorted(&[7.0], 0.99), (7.0, 7.0));
}

#[test]
fn historical_losses_over_the_window() {
    let mut s = ReturnSampler::new(2, Nanos(1), 8);
    // e = (100, -50); L_t = -(100 r_0 - 50 r_1):
    s.push_row(&[0.01, 0.02]); //   -(1 - 1)     = 0
    s.push_row(&[-0.02, 0.01]); //  -(-2 - 0.5)  = 2.5
    s.push_row(&[0.03, -0.01]); //  -(3 + 0.5)   = -3.5
    s.push_row(&[-0.01, -0.03]); // -(-1 + 1.5)  = -0.5
    s.push_row(&[-0.04, 0.0]); //   -(-4)        = 4
    let mut scratch = [0.0; 8];
    let tail = historical(&s, &[100.0, -50.0], &mut scratch);
    // Sorted (-3.5, -0.5, 0, 2.5, 4). 95%: h = 3.8: 4 - 0.2 · 1.5 = 3.7; 99%: h = 3.96:
    // 4 - 0.04 · 1.5 = 3.94; both tails hold only the 4.
    assert!(
        close(tail.var95, 3.7) && close(tail.var99, 3.94),
        "{tail:?}"
    );
    assert_eq!((tail.cvar95, tail.cvar99), (4.0, 4.0));
    let empty = ReturnSampler::new(2, Nanos(1), 8);
    assert_eq!(
        historical(&empty, &[1.0, 1.0], &mut scratch),
        Tail::default()
    );
}

/// σ_1 = 0.02, σ_2 = 0.03, ρ = 1/6.
const COV: [f64; 4] = [0.0004, 0.0001, 0.0001, 0.0009];

#[test]
fn parametric_figures_contributions_and_marginals() {
    let e = [1000.0, 500.0];
    let mut sigma_e = [0.0; 2];
    let sigma_p = Parametric {
        cov: &COV,
        exposures: &e,
        sigma_e: &mut sigma_e,
    }
    .sigma_p();
    // Σe = (0.4 + 0.05, 0.1 + 0.45) = (0.45, 0.55); eᵀΣe = 450 + 275 = 725.
    assert!(close(sigma_e[0], 0.45) && close(sigma_e[1], 0.55));
    assert!(close(sigma_p, 26.925_824_035_672_52));
    let t = parametric_tail(sigma_p);
    // z99 σ_p; σ_p φ(z99) / 0.01 with φ(z99) = 0.026652142203458; likewise at 95%.
    assert!(close(t.var99, 62.638_833_502_184_54) && close(t.cvar99, 71.763_089_114_403_36));
    assert!(close(t.var95, 44.289_039_323_733_07) && close(t.cvar95, 55.540_242_091_073_04));

    let (mut c, mut up, mut down, mut alone) = ([0.0; 2], [0.0; 2], [0.0; 2], [0.0; 2]);
    Slopes {
        contributions: &mut c,
        marginal_up: &mut up,
        marginal_down: &mut down,
        standalone: &mut alone,
    }
    .fill(&COV, &e, &sigma_e, sigma_p);
    // c_i = z e_i (Σe)_i / σ_p: z · 450 / σ_p = 38.879, z · 275 / σ_p = 23.760; sum = VaR.
    assert!(close(c[0], 38.879_275_966_873_16) && close(c[1], 23.759_557_535_311_377));
    assert!(close(c[0] + c[1], t.var99));
    // m_i = z (Σe)_i / σ_p = 0.038879, 0.047519.
    assert!(close(up[0], 0.038_879_275_966_873_16) && close(up[1], 0.047_519_115_070_622_76));
    assert_eq!((down[0], down[1]), (-up[0], -up[1]));
    assert!(close(alone[0], Z99 * 0.02) && close(alone[1], Z99 * 0.03));
}

#[test]
fn flat_book_marginals_are_the_standalone_figures() {
    let e = [0.0, 0.0];
    let mut sigma_e = [0.0; 2];
    let sigma_p = Parametric {
        cov: &COV,
        exposures: &e,
        sigma_e: &mut sigma_e,
    }
    .sigma_p();
    assert_eq!(sigma_p, 0.0);
    let (mut c, mut up, mut down, mut alone) = ([9.0; 2], [0.0; 2], [0.0; 2], [0.0; 2]);
    Slopes {
        contributions: &mut c,
        marginal_up: &mut up,
        marginal_down: &mut down,
        standalone: &mut alone,
    }
    .fill(&COV, &e, &sigma_e, sigma_p);
    assert_eq!(c, [0.0, 0.0]);
    assert_eq!(up, alone);
    assert_eq!(down, alone);
    assert!(close(up[1], Z99 * 0.03));
}
