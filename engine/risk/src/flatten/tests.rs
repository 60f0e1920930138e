use super::*;
use proptest::prelude::*;

fn limits() -> SliceLimits {
    SliceLimits {
        collar_bps: 100,
        max_order_qty: Qty(3_000),
        max_order_notional: 1_000_000_000,
        lot: Qty(1_000),
        tick: Px(5),
    }
}

#[test]
fn slices_sit_at_the_collar_on_the_tick_grid() {
    // Long 7,500 at mid 100,003: sell at 100,003 * 0.99 = 99,002.97, up to the tick: 99,005.
    // 3,000 (max order qty) * 99,005 = 297,015,000 <= 10^9 notional.
    assert_eq!(
        plan_slice(Qty(7_500), Px(100_003), &limits()),
        Plan::Slice(Slice {
            side: Side::Sell,
            qty: Qty(3_000),
            px: Px(99_005)
        })
    );
    // Short: buy at 100,003 * 1.01 = 101,003.03, down to the tick: 101,000.
    // Notional 10^9 / 101,000 = 9,900.99: the max order qty (3,000) is the smaller.
    assert_eq!(
        plan_slice(Qty(-2_000), Px(100_003), &limits()),
        Plan::Slice(Slice {
            side: Side::Buy,
            qty: Qty(2_000),
            px: Px(101_000)
        })
    );
    // The notional caps it: 250,000,000 / 99,005 = 2,525.1 -> 2,000 after the lot.
    let tight = SliceLimits {
        max_order_notional: 250_000_000,
        ..limits()
    };
    assert_eq!(
        plan_slice(Qty(7_500), Px(100_003), &tight),
        Plan::Slice(Slice {
            side: Side::Sell,
            qty: Qty(2_000),
            px: Px(99_005)
        })
    );
}

#[test]
fn what_cannot_be_closed_says_why() {
    assert_eq!(plan_slice(Qty(0), Px(100), &limits()), Plan::Flat);
    assert_eq!(
        plan_slice(Qty(500), Px(100_000), &limits()),
        Plan::Unclosable(Unclosable::BelowLot)
    );
    let small = SliceLimits {
        max_order_qty: Qty(999),
        ..limits()
    };
    assert_eq!(
        plan_slice(Qty(5_000), Px(100_000), &small),
        Plan::Unclosable(Unclosable::LotTooLarge)
    );
    // Collar 0 with a mid off the tick grid: no price inside it.
    let zero = SliceLimits {
        collar_bps: 0,
        ..limits()
    };
    assert_eq!(
        plan_slice(Qty(5_000), Px(100_003), &zero),
        Plan::Unclosable(Unclosable::CollarTooTight)
    );
    let live = |ts, state| {
        Some(Reference {
            mid: Some(Px(100)),
            ts: Nanos(ts),
            state,
        })
    };
    let age = Nanos(1_000);
    assert_eq!(
        fresh_mid(live(500, BookState::Live), Nanos(1_500), age),
        Ok(Px(100))
    );
    assert_eq!(
        fresh_mid(live(499, BookState::Live), Nanos(1_500), age),
        Err(Unclosable::ReferenceStale)
    );
    assert_eq!(
        fresh_mid(live(500, BookState::Stale), Nanos(500), age),
        Err(Unclosable::BookNotLive)
    );
    assert_eq!(fresh_mid(None, Nanos(0), age), Err(Unclosable::NoReference));
}

proptest! {
    /// Every slice reduces |position| without flipping it, respects the order quantity and
    /// notional, the lot, the tick and the collar; filling slice after slice ends flat or
    /// with less than a lot.
    #[test]
    fn filled_slices_close_the_position_within_every_limit(
        lots in -400i64..400,
        odd in 0i64..1_000,
        mid in 1_000i64..10_000_000,
        collar in 0u32..500,
        max_lots in 1i64..50,
        notional_lots in 0i64..80,
        tick in prop::sample::select(vec![1i64, 2, 5, 10, 100]),
    ) {
        let lot = 1_000i64;
        let l = SliceLimits {
            collar_bps: collar,
            max_order_qty: Qty(max_lots * lot),
            max_order_notional: i128::from(notional_lots * lot) * i128::from(mid),
            lot: Qty(lot),
            tick: Px(tick),
        };
        let mut position = lots * lot + lots.signum() * odd;
        for _ in 0..1_000 {
            match plan_slice(Qty(position), Px(mid), &l) {
                Plan::Flat => break,
                Plan::Unclosable(Unclosable::BelowLot) => {
                    prop_assert!(position.abs() < lot);
                    break;
                }
                Plan::Unclosable(Unclosable::LotTooLarge) => {
                    prop_assert!(max_lots * lot < lot || notional_lots < 2);
                    break;
                }
                Plan::Unclosable(Unclosable::CollarTooTight) => {
                    prop_assert!(tick * 10_000 > i64::from(collar) * mid);
                    break;
                }
                Plan::Unclosable(other) => prop_assert!(false, "{other:?}"),
                Plan::Slice(s) => {
                    prop_assert!(s.qty.0 >= lot && s.qty.0 % lot == 0);
                    prop_assert!(s.qty.0 <= max_lots * lot);
                    prop_assert!(i128::from(s.qty.0) * i128::from(s.px.0) <= l.max_order_notional);
                    prop_assert!(s.px.0 > 0 && s.px.0 % tick == 0);
                    prop_assert!(
                        i128::from((s.px.0 - mid).abs()) * 10_000
                            <= i128::from(collar) * i128::from(mid)
                    );
                    let after = position + s.side.sign() * s.qty.0;
                    prop_assert!(after.abs() < position.abs());
                    prop_assert!(after == 0 || after.signum() == position.signum());
                    position = after;
                }
            }
        }
    }
}
