use super::*;

const S: u64 = 1_000_000_000;

fn near(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * b.abs().max(1.0)
}

/// λ = 0.5, 1 s slots, ready from 3 rows.
fn model() -> PortfolioModel {
    let config = RiskModelConfig {
        lambda: 0.5,
        window: 10,
        min_rows: 3,
        ..RiskModelConfig::default()
    };
    let mut m = PortfolioModel::new(2, config).expect("valid config");
    // Instrument 0: 100, 110, 99, (carried); instrument 1: 50, 50, 55, 44.
    for (slot, p0, p1) in [
        (0, Some(100.0), 50.0),
        (1, Some(110.0), 50.0),
        (2, Some(99.0), 55.0),
        (3, None, 44.0),
    ] {
        if let Some(p0) = p0 {
            m.on_mark(0, p0, Nanos(slot * S + 10));
        }
        m.on_mark(1, p1, Nanos(slot * S + 20));
    }
    m.sampler_mut().close_until(Nanos(4 * S));
    m
}

fn scenarios() -> Vec<StressScenario> {
    vec![
        StressScenario::Shock {
            name: "halve 0".into(),
            shocks: vec![(0, -0.5)],
        },
        StressScenario::VolScale {
            name: "vol x3".into(),
            factor: 3.0,
        },
        StressScenario::CorrelationOne {
            name: "rho 1".into(),
        },
    ]
}

#[test]
fn marks_to_figures() {
    let mut m = model();
    // Rows, oldest first: (0, 0), (0.1, 0), (-0.1, 0.1), (0, -0.2).
    assert_eq!(m.rows(), 4);
    let mut f = Figures::new(2, 3);
    m.compute(&[1000.0, 500.0], 10_000.0, &scenarios(), &mut f);
    assert!(f.ready);
    assert_eq!((f.rows, f.ts), (4, Nanos(4 * S)));
    // Weights newest first (8, 4, 2, 1)/15: Σ_00 = (4 + 2)/15 · 0.01 = 0.004,
    // Σ_11 = (8 · 0.04 + 4 · 0.01)/15 = 0.024, Σ_01 = 4/15 · (-0.01) = -0.04/15.
    let want = [0.004, -0.04 / 15.0, -0.04 / 15.0, 0.024];
    for (c, w) in f.cov.iter().zip(want) {
        assert!((c - w).abs() < 1e-15, "{:?}", f.cov);
    }
    // ρ_01 = -0.0026667 / sqrt(0.004 · 0.024) = -0.2721655.
    assert!((f.corr[1] + 0.272_165_526_975_908_6).abs() < 1e-12);
    // Losses -(1000 r_0 + 500 r_1): 0, -100, 50, 100; sorted (-100, 0, 50, 100):
    // 95%: h = 2.85, 100 - 0.15 · 50 = 92.5; 99%: h = 2.97, 98.5; tails {100}.
    assert!(
        near(f.hist.var95, 92.5) && near(f.hist.var99, 98.5),
        "{:?}",
        f.hist
    );
    assert!(near(f.hist.cvar95, 100.0) && near(f.hist.cvar99, 100.0));
    // eᵀΣe = 4000 - 2666.667 + 6000 = 7333.333, σ_p = 85.634884.
    assert!((f.sigma_p - 85.634_883_857_767_52).abs() < 1e-9);
    assert!(near(f.param.var99, Z99 * f.sigma_p));
    assert!(near(f.contributions.iter().sum(), f.param.var99));
    // Negatively correlated: nothing linked, no correlated exposure.
    assert_eq!((f.correlated_gross, f.correlated_exposure_bps), (0.0, 0));
    assert_eq!(
        (f.linked_buy.clone(), f.linked_sell.clone()),
        (vec![false; 2], vec![false; 2])
    );
    // Stress: halve 0: 500; vol x3: 3 z99 σ_p = 597.65; rho 1: z99 (1000 · 0.0632456 + 500 ·
    // 0.1549193) = z99 · 140.7053 = 327.33. The worst is the vol scenario, slopes 3 · marginal.
    assert!(near(f.stress[0], 500.0));
    assert!((f.stress[1] - 597.649_590_018_755_4).abs() < 1e-9);
    assert!(
        (f.stress[2] - Z99 * (1000.0 * 0.004f64.sqrt() + 500.0 * 0.024f64.sqrt())).abs() < 1e-9
    );
    assert_eq!(f.worst_stress.map(|w| w.index), Some(1));
    assert!(near(f.stress_up[1], 3.0 * f.marginal_up[1]));
    assert!(near(f.stress_down[0], 3.0 * f.marginal_down[0]));
}

#[test]
fn the_order_estimates_bracket_the_exact_var() {
    let mut m = model();
    let mut f = Figures::new(2, 0);
    let e = [1000.0, 500.0];
    m.compute(&e, 10_000.0, &[], &mut f);
    assert_eq!(f.worst_stress, None);
    assert_eq!(f.stress_up, vec![0.0; 2]);
    for (i, delta) in [(0, 300.0), (0, -2500.0), (1, 100.0), (1, -100.0)] {
        let (linear, exact, bound) = (
            f.var99_linear(i, delta),
            f.var99_exact(&e, i, delta),
            f.var99_bound(i, delta),
        );
        assert!(
            linear <= exact + 1e-9 && exact <= bound + 1e-9,
            "{i} {delta}: {linear} {exact} {bound}"
        );
    }
    // Selling 2500 of 0 goes through zero: the tangent (var - 2500 · m_0) is far below.
    assert!(f.var99_linear(0, -2500.0) < f.var99_exact(&e, 0, -2500.0) - 10.0);
}

#[test]
fn correlated_exposure_as_a_share_of_equity() {
    let mut m = PortfolioModel::new(
        2,
        RiskModelConfig {
            min_rows: 2,
            ..RiskModelConfig::default()
        },
    )
    .expect("valid config");
    // Identical returns: ρ = 1.
    for r in [0.01, -0.02, 0.015] {
        m.sampler_mut().push_row(&[r, r]);
    }
    let mut f = Figures::new(2, 0);
    m.compute(&[3000.0, 1000.0], 20_000.0, &[], &mut f);
    // One cluster: 4000 - 3000 = 1000, 5% of 20 000 = 500 bps.
    assert_eq!(
        (f.correlated_gross, f.correlated_exposure_bps),
        (1000.0, 500)
    );
    assert!(near(f.correlated_exposure, 0.05));
    // Buying 200 of 1 adds to the cluster: bound 0.05 + 200/20 000 = 0.06, the exact figure.
    assert!((f.correlated_exposure_bound(1, 200.0) - 0.06).abs() < 1e-15);
    // Selling is not linked (a short 0 against the long 1 would hedge): unchanged.
    assert!(!f.linked_sell[0] && f.correlated_exposure_bound(0, -200.0) == 0.05);
    // No equity: any correlated exposure is too much.
    m.compute(&[3000.0, 1000.0], 0.0, &[], &mut f);
    assert_eq!(
        (f.correlated_exposure, f.correlated_exposure_bps),
        (f64::INFINITY, u32::MAX)
    );
}

#[test]
fn not_ready_below_min_rows_and_zero_without_rows() {
    let mut m = PortfolioModel::new(2, RiskModelConfig::default()).expect("valid config");
    let mut f = Figures::new(2, 1);
    let shock = [StressScenario::Shock {
        name: "s".into(),
        shocks: vec![(1, -0.1)],
    }];
    m.compute(&[100.0, -100.0], 1000.0, &shock, &mut f);
    assert!(!f.ready);
    assert_eq!(
        (f.hist, f.param, f.sigma_p),
        (Tail::default(), Tail::default(), 0.0)
    );
    // Shocks need no history: -(-100 · -0.1) = -10, a gain.
    assert!(near(f.stress[0], -10.0));
    assert_eq!(
        f.worst_stress,
        Some(WorstStress {
            index: 0,
            loss: f.stress[0]
        })
    );
    for _ in 0..29 {
        m.sampler_mut().push_row(&[0.01, 0.0]);
    }
    m.compute(&[100.0, -100.0], 1000.0, &shock, &mut f);
    assert!(!f.ready);
    m.sampler_mut().push_row(&[0.01, 0.0]);
    m.compute(&[100.0, -100.0], 1000.0, &shock, &mut f);
    assert!(f.ready);
}

#[test]
fn config_is_checked() {
    assert!(RiskModelConfig::default().check().is_ok());
    let bad = [
        RiskModelConfig {
            window: 0,
            min_rows: 0,
            ..RiskModelConfig::default()
        },
        RiskModelConfig {
            window: 10_001,
            ..RiskModelConfig::default()
        },
        RiskModelConfig {
            lambda: 1.0,
            ..RiskModelConfig::default()
        },
        RiskModelConfig {
            corr_threshold: 1.0,
            ..RiskModelConfig::default()
        },
        RiskModelConfig {
            interval: Nanos(0),
            ..RiskModelConfig::default()
        },
        RiskModelConfig {
            min_rows: 501,
            ..RiskModelConfig::default()
        },
    ];
    for config in bad {
        assert!(PortfolioModel::new(2, config).is_err(), "{config:?}");
    }
}
