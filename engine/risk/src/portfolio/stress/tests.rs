use super::*;

/// σ_1 = 0.02, σ_2 = 0.03, ρ = 1/6.
const COV: [f64; 4] = [0.0004, 0.0001, 0.0001, 0.0009];

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * b.abs().max(1.0)
}

/// Evaluates `s` for `e` against [`COV`]: its loss and its (up, down) sensitivities.
fn eval(e: [f64; 2], s: &StressScenario) -> (f64, [f64; 2], [f64; 2]) {
    let mut sigma_e = [0.0; 2];
    let sigma_p = Parametric {
        cov: &COV,
        exposures: &e,
        sigma_e: &mut sigma_e,
    }
    .sigma_p();
    // The 99% marginals of the book, as the model computes them (σ_p > 0 here).
    let m_up = [Z99 * sigma_e[0] / sigma_p, Z99 * sigma_e[1] / sigma_p];
    let m_down = [-m_up[0], -m_up[1]];
    let (mut sub, mut sub_sigma_e) = ([0.0; 2], [0.0; 2]);
    let mut book = StressBook {
        cov: &COV,
        exposures: &e,
        sigma_p,
        marginal_up: &m_up,
        marginal_down: &m_down,
        sub: &mut sub,
        sub_sigma_e: &mut sub_sigma_e,
    };
    let loss = book.loss(s);
    let (mut up, mut down) = ([9.0; 2], [9.0; 2]);
    book.sensitivities(s, &mut up, &mut down);
    (loss, up, down)
}

#[test]
fn shock_losses_are_exactly_linear() {
    let s = StressScenario::Shock {
        name: "crash".into(),
        shocks: vec![(0, -0.10), (1, 0.05)],
    };
    // -(1000 · -0.10 + 500 · 0.05) = 100 - 25 = 75.
    let (loss, up, down) = eval([1000.0, 500.0], &s);
    assert!(close(loss, 75.0));
    assert_eq!((up, down), ([0.10, -0.05], [-0.10, 0.05]));
}

#[test]
fn vol_scale_is_the_scaled_parametric_var() {
    let s = StressScenario::VolScale {
        name: "vol x2".into(),
        factor: 2.0,
    };
    // σ_p = sqrt(725); 2 z99 σ_p = 125.2777; slopes 2 z99 (Σe)_i / σ_p = 2 · (0.038879, 0.047519).
    let (loss, up, down) = eval([1000.0, 500.0], &s);
    assert!(close(loss, 2.0 * 62.638_833_502_184_54));
    assert!(
        close(up[0], 2.0 * 0.038_879_275_966_873_16)
            && close(up[1], 2.0 * 0.047_519_115_070_622_76)
    );
    assert_eq!(down, [-up[0], -up[1]]);
}

#[test]
fn correlation_one_adds_the_standalone_risks() {
    let s = StressScenario::CorrelationOne {
        name: "rho 1".into(),
    };
    // z99 (1000 · 0.02 + 500 · 0.03) = 35 z99; slopes ±z99 σ_i, adverse for a buy of a long.
    let (loss, up, down) = eval([1000.0, -500.0], &s);
    assert!(close(loss, 35.0 * Z99));
    assert!(close(up[0], 0.02 * Z99) && close(down[0], -0.02 * Z99));
    // Short: a sell adds, a buy reduces.
    assert!(close(up[1], -0.03 * Z99) && close(down[1], 0.03 * Z99));
}

#[test]
fn outage_freezes_a_sub_portfolio_over_the_horizon() {
    let s = StressScenario::Outage {
        name: "venue 1 down".into(),
        instruments: vec![1, 1],
        horizon_intervals: 4.0,
    };
    // Sub-portfolio (0, 500): σ = sqrt(0.0009 · 500²) = 15; loss z99 · sqrt(4) · 15 = 30 z99.
    // Slope of 1: z99 · 2 · (0.0009 · 500) / 15 = 0.06 z99; instrument 0 is not frozen: 0.
    let (loss, up, down) = eval([1000.0, 500.0], &s);
    assert!(close(loss, 30.0 * Z99));
    assert!(close(up[1], 0.06 * Z99) && close(down[1], -0.06 * Z99));
    assert_eq!((up[0], down[0]), (0.0, 0.0));
    // A flat frozen instrument: no loss, and its slope is z99 · 2 · σ_1 both ways.
    let (loss, up, down) = eval([1000.0, 0.0], &s);
    assert_eq!(loss, 0.0);
    assert!(close(up[1], 0.06 * Z99) && close(down[1], 0.06 * Z99));
}

#[test]
fn scenarios_are_checked_against_the_instruments() {
    let ok = [
        StressScenario::Shock {
            name: "a".into(),
            shocks: vec![(1, -0.2)],
        },
        StressScenario::Outage {
            name: "b".into(),
            instruments: vec![0],
            horizon_intervals: 60.0,
        },
    ];
    assert!(check_scenarios(&ok, 2).is_ok());
    let bad_index = [StressScenario::Shock {
        name: "a".into(),
        shocks: vec![(2, -0.2)],
    }];
    assert_eq!(
        check_scenarios(&bad_index, 2).unwrap_err().to_string(),
        "stress scenario a: instrument 2 of 2"
    );
    let bad_horizon = [StressScenario::Outage {
        name: "b".into(),
        instruments: vec![],
        horizon_intervals: -1.0,
    }];
    assert!(check_scenarios(&bad_horizon, 2).is_err());
    let bad_factor = [StressScenario::VolScale {
        name: "c".into(),
        factor: f64::NAN,
    }];
    assert!(check_scenarios(&bad_factor, 2).is_err());
}
