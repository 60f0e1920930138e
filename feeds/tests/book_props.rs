//! The tick-indexed `L2Book` against a book written the obvious way (a `BTreeMap` per side),
//! compared after every step of random update sequences: every level of both sides in order,
//! the best levels, `top(n)`, `total_qty`, `qty_at` at sampled prices, `depth` and `is_crossed`,
//! plus each update's `Apply` outcome.
//!
//! The updates cluster around a mid that drifts and jumps (so the 256-tick windows mostly used here
//! re-centre often), with far outliers anywhere in the price range, off-grid prices, deletes of
//! present and absent levels, invalid inputs and clears.

#[path = "support/book_reference.rs"]
mod book_reference;

use book_reference::Reference;
use proptest::prelude::*;
use pulse_feeds::book::{Apply, BookSpec, L2Book, Level};
use pulse_feeds::num::{Px, Qty, Side};

#[derive(Clone, Debug)]
enum Op {
    /// Moves the mid by this many ticks.
    Drift(i64),
    /// A level `away` ticks from the mid on its own side (negative: through the mid, crossing),
    /// `nudge` mantissa units off the grid.
    Near {
        side: Side,
        away: i64,
        nudge: i64,
        qty: i64,
    },
    /// Any price at all, valid or not.
    Far {
        side: Side,
        px: i64,
        qty: i64,
    },
    /// Deletes the `n % depth`-th best level of a side, so that present levels are deleted
    /// wherever they are, not only where a near price happens to land.
    DeleteNth {
        side: Side,
        n: usize,
    },
    Clear,
}

fn side() -> impl Strategy<Value = Side> {
    prop_oneof![Just(Side::Buy), Just(Side::Sell)]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (-30i64..30).prop_map(Op::Drift),
        1 => (-5_000i64..5_000).prop_map(Op::Drift),
        20 => (
            side(),
            prop_oneof![4 => -3i64..60, 1 => 60i64..400],
            prop_oneof![7 => Just(0i64), 1 => 1i64..4],
            prop_oneof![6 => 1i64..5, 3 => Just(0i64), 1 => Just(-1i64)],
        )
            .prop_map(|(side, away, nudge, qty)| Op::Near { side, away, nudge, qty }),
        2 => (
            side(),
            prop_oneof![
                Just(i64::MAX),
                1i64..1_000,
                1i64..i64::MAX,
                -3i64..=0,
            ],
            0i64..3,
        )
            .prop_map(|(side, px, qty)| Op::Far { side, px, qty }),
        5 => (side(), any::<usize>()).prop_map(|(side, n)| Op::DeleteNth { side, n }),
        1 => Just(Op::Clear),
    ]
}

/// Ticks from 1 to BTCUSDT's at Binance's wire scale (0.01 at 8 decimals).
fn tick() -> impl Strategy<Value = i64> {
    prop_oneof![Just(1i64), Just(2), Just(5), Just(100), Just(1_000_000)]
}

/// Where the mid starts, in ticks: near the lowest price, mid-range, near the highest.
fn start(tick: i64) -> impl Strategy<Value = i64> {
    let top = i64::MAX / tick;
    prop_oneof![Just(50i64), 1_000i64..2_000_000, Just(top - 100)]
}

/// What one step does to both books.
enum Step {
    Apply { side: Side, px: i64, qty: i64 },
    Clear,
    Nothing,
}

fn resolve(op: &Op, mid: &mut i64, tick: i64, book: &L2Book) -> Step {
    let top = i64::MAX / tick;
    match *op {
        Op::Drift(by) => {
            *mid = mid.saturating_add(by).clamp(1, top);
            Step::Nothing
        }
        Op::Near {
            side,
            away,
            nudge,
            qty,
        } => {
            let ticks = match side {
                Side::Buy => mid.checked_sub(away),
                Side::Sell => mid.checked_add(away),
            };
            let px = ticks
                .and_then(|t| t.checked_mul(tick))
                .and_then(|p| p.checked_add(nudge % tick));
            match px {
                Some(px) => Step::Apply { side, px, qty },
                None => Step::Nothing,
            }
        }
        Op::Far { side, px, qty } => Step::Apply { side, px, qty },
        Op::DeleteNth { side, n } => match book.levels(side).nth(n % book.depth(side).max(1)) {
            Some(level) => Step::Apply {
                side,
                px: level.px.0,
                qty: 0,
            },
            None => Step::Nothing,
        },
        Op::Clear => Step::Clear,
    }
}

/// Everything observable on `side` must equal the reference.
fn compare_side(
    book: &L2Book,
    reference: &Reference,
    side: Side,
    probes: &[i64],
) -> Result<(), TestCaseError> {
    let levels = reference.levels(side);
    let got: Vec<Level> = book.levels(side).collect();
    prop_assert_eq!(&got, &levels, "{:?} levels", side);
    prop_assert_eq!(book.best(side), levels.first().copied());
    prop_assert_eq!(book.depth(side), levels.len());
    for n in [1, 3, 10] {
        let mut out = [Level::default(); 10];
        let copied = book.top(side, &mut out[..n]);
        prop_assert_eq!(&out[..copied], &levels[..levels.len().min(n)], "top {}", n);
    }
    let sum = levels
        .iter()
        .take(10)
        .fold(0i64, |t, l| t.saturating_add(l.qty.0));
    prop_assert_eq!(book.total_qty(side, 10), sum);
    for level in &levels {
        prop_assert_eq!(book.qty_at(side, level.px), level.qty);
    }
    for &px in probes {
        prop_assert_eq!(
            book.qty_at(side, Px(px)),
            reference.qty_at(side, px),
            "{}",
            px
        );
    }
    Ok(())
}

/// Runs `ops` through a book and the reference, comparing after every step; returns how many
/// updates evicted or truncated.
fn run(spec: BookSpec, bound: usize, mut mid: i64, ops: &[Op]) -> Result<usize, TestCaseError> {
    let mut book = L2Book::new(spec);
    let mut reference = Reference::new(bound);
    let tick = spec.tick.0;
    let mut dropped = 0;
    for (step, op) in ops.iter().enumerate() {
        let mut probe = None;
        match resolve(op, &mut mid, tick, &book) {
            Step::Apply { side, px, qty } => {
                let got = book.apply(side, Px(px), Qty(qty));
                let want = reference.apply(side, px, qty);
                prop_assert_eq!(got, want, "step {} {:?} px {} qty {}", step, side, px, qty);
                dropped += usize::from(matches!(got, Apply::Evicted | Apply::Truncated));
                probe = Some(px);
            }
            Step::Clear => {
                book.clear();
                reference.clear();
            }
            Step::Nothing => {}
        }
        let around = mid.saturating_mul(tick);
        let probes: Vec<i64> = (-3i64..=3)
            .map(|k| around.saturating_add(k.saturating_mul(tick)))
            .chain([around.saturating_add(1), 0, -1, i64::MAX])
            .chain(probe)
            .collect();
        for side in [Side::Buy, Side::Sell] {
            compare_side(&book, &reference, side, &probes)?;
        }
        prop_assert_eq!(book.is_crossed(), reference.crossed(), "step {}", step);
    }
    Ok(dropped)
}

fn case() -> impl Strategy<Value = (i64, i64, Vec<Op>)> {
    tick().prop_flat_map(|tick| {
        (
            Just(tick),
            start(tick),
            proptest::collection::vec(op(), 0..400),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// With a bound no sequence can reach, nothing is ever dropped, and the book is the
    /// reference exactly.
    #[test]
    fn ladder_equals_btreemap_book_after_every_step(
        (tick, start, ops) in case(),
        window_ticks in prop_oneof![3 => Just(256usize), 1 => Just(1024), 1 => Just(4096)],
    ) {
        let spec = BookSpec { tick: Px(tick), window_ticks, levels_per_side: 1_000 };
        prop_assert_eq!(run(spec, 1_000, start, &ops)?, 0);
    }

    /// A small bound: which level is evicted or truncated, and what is left, is the
    /// reference's bounded rule exactly, however the levels are split between window and
    /// overflow.
    #[test]
    fn bounded_ladder_evicts_and_truncates_like_the_bounded_reference(
        (tick, start, ops) in case(),
        bound in 1usize..12,
    ) {
        let spec = BookSpec { tick: Px(tick), window_ticks: 256, levels_per_side: bound };
        run(spec, bound, start, &ops)?;
    }
}

/// The bounded property does exercise the bound: over a fixed set of generated cases, some
/// updates evict or truncate (otherwise it would pass with the bound never reached).
#[test]
fn the_bounded_cases_reach_the_bound() {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let mut dropped = 0;
    for _ in 0..32 {
        let (tick, start, ops) = case().new_tree(&mut runner).expect("a case").current();
        let spec = BookSpec {
            tick: Px(tick),
            window_ticks: 256,
            levels_per_side: 4,
        };
        dropped += run(spec, 4, start, &ops).expect("the book equals the reference");
    }
    assert!(dropped > 100, "only {dropped} updates reached the bound");
}
