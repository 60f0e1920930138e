//! The hot path's O(1) estimates against the exact recomputation, on random portfolios over
//! seeded one-factor return windows: the linear VaR never overstates and the conservative one
//! never understates; the tangent is close for small orders; the correlated-exposure estimate
//! is an upper bound.

mod portfolio_support;

use portfolio_support::{factor_returns, loaded_model, Rng};
use proptest::prelude::*;
use pulse_risk::portfolio::Figures;

/// A seed for the return window, exposures (some flat), an instrument and an order size.
fn case() -> impl Strategy<Value = (u64, Vec<f64>, usize, f64)> {
    (2usize..8).prop_flat_map(|n| {
        let exposure = prop_oneof![1 => Just(0.0), 4 => -10_000.0..10_000.0f64];
        (
            any::<u64>(),
            prop::collection::vec(exposure, n),
            0..n,
            -20_000.0..20_000.0f64,
        )
    })
}

fn figures(seed: u64, e: &[f64]) -> (pulse_risk::portfolio::PortfolioModel, Figures) {
    let mut rng = Rng::new(seed);
    let rows = factor_returns(&mut rng, e.len(), 30 + (seed % 200) as usize);
    let mut model = loaded_model(e.len(), &rows, 500);
    let mut f = Figures::new(e.len(), 0);
    model.compute(e, 100_000.0, &[], &mut f);
    (model, f)
}

proptest! {
    /// `z sqrt(eᵀΣe)` is a norm: the tangent never overstates (convexity), and adding `Δ`
    /// to one instrument adds at most `z σ_i |Δ|` (triangle inequality).
    #[test]
    fn linear_var_understates_and_the_bound_overstates((seed, e, i, delta) in case()) {
        let (_, f) = figures(seed, &e);
        let (linear, exact, bound) =
            (f.var99_linear(i, delta), f.var99_exact(&e, i, delta), f.var99_bound(i, delta));
        let tol = 1e-9 * bound.max(1.0);
        prop_assert!(linear <= exact + tol, "linear {linear} > exact {exact}");
        prop_assert!(exact <= bound + tol, "exact {exact} > bound {bound}");
        let sum: f64 = f.contributions.iter().sum();
        prop_assert!((sum - f.param.var99).abs() <= tol, "contributions {sum} vs {}", f.param.var99);
    }

    /// For an order with `|Δ| σ_i = ε σ_p` the tangent's relative error is at most
    /// `ε² / (2 (1-ε)²)` (second-order term over the smallest σ along the way): 5.1e-5 at
    /// ε = 1%.
    #[test]
    fn small_orders_are_estimated_closely((seed, e, i, sign) in (case(), any::<bool>())
        .prop_map(|((seed, e, i, _), sign)| (seed, e, i, if sign { 1.0 } else { -1.0 })))
    {
        let (_, f) = figures(seed, &e);
        let sigma_i = f.cov[i * e.len() + i].sqrt();
        prop_assume!(f.sigma_p > 0.0 && sigma_i > 0.0);
        let eps = 0.01;
        let delta = sign * eps * f.sigma_p / sigma_i;
        let (linear, exact) = (f.var99_linear(i, delta), f.var99_exact(&e, i, delta));
        let rel = (exact - linear) / exact;
        prop_assert!(rel <= eps * eps / (2.0 * (1.0 - eps) * (1.0 - eps)) + 1e-12, "{rel}");
    }

    /// The correlated exposure after any order, recomputed by the model, is at most what the
    /// hot path estimates from the published figures.
    #[test]
    fn correlated_exposure_estimate_is_an_upper_bound((seed, e, i, delta) in case()) {
        let (mut model, f) = figures(seed, &e);
        let mut after_e = e.clone();
        after_e[i] += delta;
        let mut after = Figures::new(e.len(), 0);
        model.compute(&after_e, 100_000.0, &[], &mut after);
        let bound = f.correlated_exposure_bound(i, delta);
        prop_assert!(after.correlated_exposure <= bound + 1e-12,
            "{} > {bound}: e {e:?} i {i} Δ {delta}", after.correlated_exposure);
    }
}

/// The correlated-exposure property above is not vacuous: the generator makes linked books.
#[test]
fn random_books_have_links() {
    let linked = (0..200u64)
        .filter(|&seed| {
            let e = [5_000.0, -3_000.0, 2_000.0, 4_000.0];
            figures(seed, &e).1.correlated_gross > 0.0
        })
        .count();
    // Counted once for these seeds: 175 of 200 books hold a linked pair.
    assert!(linked > 100, "{linked}");
}
