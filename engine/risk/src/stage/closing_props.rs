//! Property: whatever the position, the marks, the rules and the venue's fills, every order
//! the engine makes reduces |position| without flipping it and stays within the order
//! limits, the lot and the collar.

use proptest::prelude::*;

use super::rig::*;
use super::*;
use crate::exits::{ExitDistance, ExitRules};
use pulse_core::num::Side;

fn distance() -> impl Strategy<Value = Option<ExitDistance>> {
    prop_oneof![
        Just(None),
        (1u32..400).prop_map(|b| Some(ExitDistance::Bps(b)))
    ]
}

/// Checks one engine order against the position it was planned on and the mid it saw.
fn check(o: &Order, position: i64, mid: i64, max_qty: i64, max_notional: i128) {
    assert!(position != 0, "an order with nothing to close: {o:?}");
    let closing = if position > 0 { Side::Sell } else { Side::Buy };
    assert_eq!(o.side, closing, "{o:?} against {position}");
    assert!(
        o.qty.0 > 0 && o.qty.0 <= position.abs(),
        "{o:?} against {position}"
    );
    assert_eq!(o.qty.0 % LOT, 0);
    assert!(o.qty.0 <= max_qty);
    assert!(i128::from(o.qty.0) * i128::from(o.px.0) <= max_notional);
    let off = i128::from((o.px.0 - mid).abs()) * 10_000;
    assert!(
        off <= i128::from(COLLAR_BPS) * i128::from(mid),
        "{o:?} at mid {mid}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn engine_orders_only_ever_reduce_within_the_limits(
        lots in prop_oneof![-300i64..-1, 1i64..300],
        odd in 0i64..LOT,
        entry in 1_000_000i64..10_000_000,
        stop_loss in distance(),
        take_profit in distance(),
        trailing in distance(),
        max_lots in 1i64..60,
        notional_usdt in 1i128..500,
        steps in prop::collection::vec((-300i64..300, 0i64..=100, prop::bool::weighted(0.1)), 1..40),
    ) {
        let (max_qty, max_notional) = (max_lots * LOT, notional_usdt * 10i128.pow(10));
        let mut r = rig(Setup {
            rules: vec![ExitRules { stop_loss, take_profit, trailing }],
            max_order_qty: max_qty,
            max_order_notional: max_notional,
            ..Setup::default()
        });
        let position = lots * LOT + lots.signum() * odd;
        r.adopt(&[(position, entry)], &[]);
        let mut mid = entry;
        for (n, (moved_bps, filled_pct, flatten)) in steps.into_iter().enumerate() {
            mid = (mid + mid * moved_bps / 10_000).max(1_000);
            r.mid(BTC, n as u64 * 100, mid);
            if flatten {
                r.flatten.request(None);
                r.poll();
            }
            for _ in 0..1_000 {
                let sent = r.new_orders();
                let [o] = sent[..] else {
                    prop_assert!(sent.is_empty(), "one engine order at a time: {sent:?}");
                    break;
                };
                check(&o, r.position(BTC), mid, max_qty, max_notional);
                let filled = o.qty.0 * filled_pct / 100;
                r.fill(&o, filled - filled % LOT);
            }
        }
    }
}
