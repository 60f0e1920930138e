use super::*;
use proptest::prelude::*;

/// A symmetric correlation matrix from its upper triangle (row-major pairs).
fn corr(n: usize, upper: &[f64]) -> Vec<f64> {
    let mut c = vec![0.0; n * n];
    let mut k = 0;
    for i in 0..n {
        c[i * n + i] = 1.0;
        for j in i + 1..n {
            (c[i * n + j], c[j * n + i]) = (upper[k], upper[k]);
            k += 1;
        }
    }
    c
}

struct Published {
    buy: Vec<bool>,
    sell: Vec<bool>,
    jump_buy: Vec<f64>,
    jump_sell: Vec<f64>,
}

fn publish(corr: &[f64], e: &[f64], theta: f64) -> Published {
    let n = e.len();
    let mut p = Published {
        buy: vec![false; n],
        sell: vec![false; n],
        jump_buy: vec![0.0; n],
        jump_sell: vec![0.0; n],
    };
    let links = Links {
        buy: &mut p.buy,
        sell: &mut p.sell,
        jump_buy: &mut p.jump_buy,
        jump_sell: &mut p.jump_sell,
    };
    Clusters::new(n).publish(corr, e, theta, links);
    p
}

#[test]
fn clusters_count_all_but_their_largest_holding() {
    // ρ_01 = 0.8, ρ_02 = 0.2, ρ_12 = 0.75, θ = 0.7: links 0-1 and 1-2 when the signs agree.
    let c = corr(3, &[0.8, 0.2, 0.75]);
    let mut k = Clusters::new(3);
    // One cluster {0, 1, 2} through 1: 180 - 100 = 80.
    assert_eq!(k.gross(&c, &[100.0, 50.0, 30.0], 0.7), 80.0);
    // 1 short: ρ · (+)(−) < 0, no links at all.
    assert_eq!(k.gross(&c, &[100.0, -50.0, 30.0], 0.7), 0.0);
    // 2 short: {0, 1} gives 50, {2} alone nothing.
    assert_eq!(k.gross(&c, &[100.0, 50.0, -30.0], 0.7), 50.0);
    // Both short together are linked too: {1, 2} = 30.
    assert_eq!(k.gross(&c, &[0.0, -50.0, -30.0], 0.7), 30.0);
    // The threshold is strict: 0.75 is not above 0.75.
    assert_eq!(k.gross(&c, &[0.0, 50.0, 30.0], 0.75), 0.0);
}

#[test]
fn linked_directions_and_bridges() {
    let c = corr(3, &[0.8, 0.2, 0.75]);
    let p = publish(&c, &[100.0, 50.0, 0.0], 0.7);
    // Buying 2 would link it to 1 (0.75); selling it links to nothing.
    assert_eq!((p.buy[2], p.sell[2]), (true, false));
    // 0 and 1 are linked to each other when bought, not sold.
    assert_eq!(
        (p.buy[0], p.sell[0], p.buy[1], p.sell[1]),
        (true, false, true, false)
    );
    // Only one cluster to join: no jumps.
    assert_eq!(p.jump_buy, vec![0.0; 3]);

    // 3 is correlated 0.9 with 0 and 1, which are not with each other: two clusters {0}, {1},
    // CE 0. Buying 3 bridges them: jump 100 + 60 - 100 = 60.
    let c = corr(4, &[0.0, 0.0, 0.9, 0.0, 0.9, 0.0]);
    let e = [100.0, 60.0, 0.0, 0.0];
    let p = publish(&c, &e, 0.7);
    assert_eq!((p.buy[3], p.jump_buy[3], p.sell[3]), (true, 60.0, false));
    let mut k = Clusters::new(4);
    assert_eq!(k.gross(&c, &e, 0.7), 0.0);
    // After buying 10 of 3: {0, 1, 3} = 170 - 100 = 70 = 0 + 60 + 10, the bound exactly.
    assert_eq!(k.gross(&c, &[100.0, 60.0, 0.0, 10.0], 0.7), 70.0);
}

#[test]
fn shrinking_below_a_linked_neighbour_does_not_raise_it() {
    // 0 ~ 1 ~ 2 (0.8), 0 and 2 unrelated; e = (51, 50, 80). Selling 2 of 0 (not a linked
    // direction): one cluster before and after, 181 - 80 = 101 then 179 - 80 = 99. (Counting
    // each position with a larger linked neighbour instead would go from 50 to 49 + 50 = 99.)
    let c = corr(3, &[0.8, 0.0, 0.8]);
    let mut k = Clusters::new(3);
    assert_eq!(k.gross(&c, &[51.0, 50.0, 80.0], 0.7), 101.0);
    assert!(!publish(&c, &[51.0, 50.0, 80.0], 0.7).sell[0]);
    assert_eq!(k.gross(&c, &[49.0, 50.0, 80.0], 0.7), 99.0);
}

fn book() -> impl Strategy<Value = (Vec<f64>, Vec<f64>, usize, f64)> {
    (2usize..7).prop_flat_map(|n| {
        let rho = prop::sample::select(vec![-0.95, -0.8, -0.3, 0.0, 0.3, 0.75, 0.8, 0.95]);
        let exposure = prop_oneof![1 => Just(0.0), 3 => (-100i32..=100).prop_map(f64::from)];
        (
            prop::collection::vec(rho, n * (n - 1) / 2),
            prop::collection::vec(exposure, n),
            0..n,
            (-300i32..=300).prop_map(f64::from),
        )
    })
}

proptest! {
    /// The hot path's estimate of the correlated exposure after an order is an upper bound of
    /// the exact recomputation: `CE + jump + |Δ|` when the order's direction is linked, `CE`
    /// when not.
    #[test]
    fn the_published_estimate_bounds_the_exact_figure((upper, e, i, delta) in book()) {
        let n = e.len();
        let c = corr(n, &upper);
        let mut k = Clusters::new(n);
        let before = k.gross(&c, &e, 0.7);
        let p = publish(&c, &e, 0.7);
        let mut after_e = e.clone();
        after_e[i] += delta;
        let after = k.gross(&c, &after_e, 0.7);
        let (linked, jump) =
            if delta > 0.0 { (p.buy[i], p.jump_buy[i]) } else { (p.sell[i], p.jump_sell[i]) };
        let bound = if linked { before + jump + delta.abs() } else { before };
        prop_assert!(after <= bound + 1e-9, "{after} > {bound}: e {e:?} i {i} Δ {delta}");
    }
}
