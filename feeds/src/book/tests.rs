use super::*;
use proptest::prelude::*;

fn lv(px: i64, qty: i64) -> Level {
    Level {
        px: Px(px),
        qty: Qty(qty),
    }
}

fn all(book: &L2Book, side: Side) -> Vec<Level> {
    book.levels(side).collect()
}

/// Tick 1 and the default window: every small test price is on the grid and in the window.
fn book(levels_per_side: usize) -> L2Book {
    L2Book::new(BookSpec::new(Px(1), levels_per_side))
}

/// A tick-1 book holding `levels` (side, price, quantity).
fn holding(levels_per_side: usize, levels: &[(Side, i64, i64)]) -> L2Book {
    let mut book = book(levels_per_side);
    for &(side, px, qty) in levels {
        assert_eq!(book.apply(side, Px(px), Qty(qty)), Apply::Inserted);
    }
    book
}

/// The smallest window (256 ticks), so that tests move the touch across it cheaply.
fn narrow(tick: i64, levels_per_side: usize) -> L2Book {
    L2Book::new(BookSpec {
        tick: Px(tick),
        window_ticks: 256,
        levels_per_side,
    })
}

fn check(book: &L2Book) {
    for (side, ladder) in [(Side::Buy, &book.bids), (Side::Sell, &book.asks)] {
        if let Err(e) = ladder.check() {
            panic!("{side:?}: {e}");
        }
    }
}

#[test]
fn insert_update_remove_and_removed_absent() {
    let mut book = book(8);
    assert_eq!(book.apply(Side::Buy, Px(100), Qty(5)), Apply::Inserted);
    assert_eq!(book.qty_at(Side::Buy, Px(100)), Qty(5));
    assert_eq!(book.apply(Side::Buy, Px(100), Qty(7)), Apply::Updated);
    assert_eq!(book.qty_at(Side::Buy, Px(100)), Qty(7));
    assert_eq!(book.depth(Side::Buy), 1);
    assert_eq!(book.depth(Side::Sell), 0);
    assert_eq!(book.qty_at(Side::Sell, Px(100)), Qty(0));

    assert_eq!(book.apply(Side::Buy, Px(100), Qty(0)), Apply::Removed);
    assert_eq!(book.qty_at(Side::Buy, Px(100)), Qty(0));
    assert_eq!(book.depth(Side::Buy), 0);
    assert_eq!(book.apply(Side::Buy, Px(100), Qty(0)), Apply::RemovedAbsent);
    assert_eq!(
        book.apply(Side::Sell, Px(100), Qty(0)),
        Apply::RemovedAbsent
    );
    assert_eq!(book.best_bid(), None);
    assert_eq!(book.best_ask(), None);

    assert_eq!(book.apply(Side::Sell, Px(105), Qty(3)), Apply::Inserted);
    assert_eq!(book.apply(Side::Sell, Px(105), Qty(9)), Apply::Updated);
    assert_eq!(book.best_ask(), Some(lv(105, 9)));
    assert_eq!(book.best(Side::Sell), Some(lv(105, 9)));
    assert_eq!(book.best_bid(), None);
}

#[test]
fn levels_and_top_are_best_first_on_both_sides() {
    let mut book = book(8);
    for (px, qty) in [(98, 1), (100, 2), (97, 3), (99, 4)] {
        assert_eq!(book.apply(Side::Buy, Px(px), Qty(qty)), Apply::Inserted);
    }
    for (px, qty) in [(103, 5), (101, 6), (104, 7), (102, 8)] {
        assert_eq!(book.apply(Side::Sell, Px(px), Qty(qty)), Apply::Inserted);
    }
    assert_eq!(
        all(&book, Side::Buy),
        [lv(100, 2), lv(99, 4), lv(98, 1), lv(97, 3)]
    );
    assert_eq!(
        all(&book, Side::Sell),
        [lv(101, 6), lv(102, 8), lv(103, 5), lv(104, 7)]
    );
    assert_eq!(book.best_bid(), Some(lv(100, 2)));
    assert_eq!(book.best_ask(), Some(lv(101, 6)));

    let mut short = [Level::default(); 2];
    assert_eq!(book.top(Side::Buy, &mut short), 2);
    assert_eq!(short, [lv(100, 2), lv(99, 4)]);
    assert_eq!(book.top(Side::Sell, &mut short), 2);
    assert_eq!(short, [lv(101, 6), lv(102, 8)]);

    let mut long = [lv(-1, -1); 6];
    assert_eq!(book.top(Side::Sell, &mut long), 4);
    assert_eq!(
        long,
        [
            lv(101, 6),
            lv(102, 8),
            lv(103, 5),
            lv(104, 7),
            lv(-1, -1),
            lv(-1, -1)
        ]
    );
    assert_eq!(book.top(Side::Buy, &mut []), 0);

    assert_eq!(book.total_qty(Side::Buy, 0), 0);
    assert_eq!(book.total_qty(Side::Buy, 2), 6);
    assert_eq!(book.total_qty(Side::Buy, 100), 10);
    assert_eq!(book.total_qty(Side::Sell, 3), 19);
}

#[test]
fn total_qty_saturates() {
    let mut book = book(4);
    book.apply(Side::Sell, Px(10), Qty(i64::MAX));
    book.apply(Side::Sell, Px(11), Qty(i64::MAX));
    assert_eq!(book.total_qty(Side::Sell, 1), i64::MAX);
    assert_eq!(book.total_qty(Side::Sell, 2), i64::MAX);
}

#[test]
fn is_crossed_only_when_both_sides_exist_and_bid_reaches_ask() {
    let mut book = book(4);
    assert!(!book.is_crossed());
    book.apply(Side::Buy, Px(100), Qty(1));
    assert!(!book.is_crossed(), "one side only");
    book.apply(Side::Sell, Px(101), Qty(1));
    assert!(!book.is_crossed(), "bid below ask");
    book.apply(Side::Buy, Px(101), Qty(1));
    assert!(book.is_crossed(), "bid equal to ask (locked)");
    book.apply(Side::Buy, Px(101), Qty(0));
    assert!(!book.is_crossed());
    book.apply(Side::Sell, Px(99), Qty(1));
    assert!(book.is_crossed(), "ask below bid");
    book.apply(Side::Buy, Px(100), Qty(0));
    assert!(!book.is_crossed(), "bid side emptied");
}

#[test]
fn invalid_inputs_leave_the_book_unchanged() {
    let mut book = holding(
        2,
        &[
            (Side::Buy, 100, 5),
            (Side::Buy, 99, 6),
            (Side::Sell, 101, 7),
        ],
    );
    let (bids, asks) = (all(&book, Side::Buy), all(&book, Side::Sell));
    for side in [Side::Buy, Side::Sell] {
        for (px, qty) in [
            (100, -1),
            (101, -1),
            (102, i64::MIN),
            (0, 5),
            (-100, 5),
            (0, 0),
            (-1, 0),
            (i64::MIN, 1),
            (-5, -5),
        ] {
            assert_eq!(book.apply(side, Px(px), Qty(qty)), Apply::Invalid);
        }
    }
    assert_eq!(all(&book, Side::Buy), bids);
    assert_eq!(all(&book, Side::Sell), asks);
    assert_eq!(bids, [lv(100, 5), lv(99, 6)]);
    assert_eq!(asks, [lv(101, 7)]);
}

/// A full side of 3 evicts its worst level for a better new one and drops a new one worse than
/// all it holds; the asks mirror the bids around 100 (`px(d)` is `d` ticks worse than 100).
fn full_side_evicts_the_worst_or_truncates(side: Side) {
    let px = |worse_by: i64| match side {
        Side::Buy => 100 - worse_by,
        Side::Sell => 100 + worse_by,
    };
    let levels = |book: &L2Book| -> Vec<(i64, i64)> {
        book.levels(side).map(|l| (l.px.0, l.qty.0)).collect()
    };
    let mut book = book(3);
    for d in [0, 2, 4] {
        assert_eq!(book.apply(side, Px(px(d)), Qty(px(d))), Apply::Inserted);
    }
    assert_eq!(book.apply(side, Px(px(5)), Qty(1)), Apply::Truncated);
    assert_eq!(
        levels(&book),
        [(px(0), px(0)), (px(2), px(2)), (px(4), px(4))]
    );

    assert_eq!(book.apply(side, Px(px(3)), Qty(2)), Apply::Evicted);
    assert_eq!(levels(&book), [(px(0), px(0)), (px(2), px(2)), (px(3), 2)]);
    assert_eq!(book.apply(side, Px(px(-1)), Qty(3)), Apply::Evicted);
    assert_eq!(levels(&book), [(px(-1), 3), (px(0), px(0)), (px(2), px(2))]);
    assert_eq!(book.apply(side, Px(px(1)), Qty(4)), Apply::Evicted);
    assert_eq!(levels(&book), [(px(-1), 3), (px(0), px(0)), (px(1), 4)]);

    assert_eq!(book.apply(side, Px(px(2)), Qty(0)), Apply::RemovedAbsent);
    assert_eq!(book.apply(side, Px(px(0)), Qty(9)), Apply::Updated);
    assert_eq!(levels(&book), [(px(-1), 3), (px(0), 9), (px(1), 4)]);
    assert_eq!(book.depth(side), 3);
    assert_eq!(book.depth(side.opposite()), 0);

    assert_eq!(book.apply(side, Px(px(0)), Qty(0)), Apply::Removed);
    assert_eq!(book.apply(side, Px(px(50)), Qty(1)), Apply::Inserted);
    assert_eq!(levels(&book), [(px(-1), 3), (px(1), 4), (px(50), 1)]);
}

#[test]
fn a_full_side_evicts_its_worst_level_or_truncates() {
    for side in [Side::Buy, Side::Sell] {
        full_side_evicts_the_worst_or_truncates(side);
    }
}

#[test]
fn capacity_of_one_keeps_only_the_touch() {
    let mut book = book(0);
    assert_eq!(book.capacity(), 1);
    assert_eq!(book.apply(Side::Buy, Px(10), Qty(1)), Apply::Inserted);
    assert_eq!(book.apply(Side::Buy, Px(9), Qty(1)), Apply::Truncated);
    assert_eq!(book.apply(Side::Buy, Px(11), Qty(2)), Apply::Evicted);
    assert_eq!(all(&book, Side::Buy), [lv(11, 2)]);
    assert_eq!(book.apply(Side::Sell, Px(20), Qty(1)), Apply::Inserted);
    assert_eq!(book.apply(Side::Sell, Px(21), Qty(1)), Apply::Truncated);
    assert_eq!(book.apply(Side::Sell, Px(19), Qty(3)), Apply::Evicted);
    assert_eq!(all(&book, Side::Sell), [lv(19, 3)]);
}

#[test]
fn clear_keeps_capacity_and_the_book_is_reusable() {
    let mut book = holding(
        2,
        &[(Side::Buy, 10, 1), (Side::Buy, 11, 1), (Side::Sell, 12, 1)],
    );
    let storage = (book.bids.storage(), book.asks.storage());
    book.clear();
    assert_eq!(book.depth(Side::Buy), 0);
    assert_eq!(book.depth(Side::Sell), 0);
    assert_eq!(book.best_bid(), None);
    assert_eq!(book.best_ask(), None);
    assert_eq!(book.capacity(), 2);
    assert_eq!(book.levels(Side::Buy).count(), 0);

    assert_eq!(book.apply(Side::Buy, Px(5), Qty(2)), Apply::Inserted);
    assert_eq!(book.apply(Side::Buy, Px(6), Qty(3)), Apply::Inserted);
    assert_eq!(book.apply(Side::Buy, Px(4), Qty(3)), Apply::Truncated);
    assert_eq!(book.apply(Side::Sell, Px(8), Qty(4)), Apply::Inserted);
    assert_eq!(all(&book, Side::Buy), [lv(6, 3), lv(5, 2)]);
    assert_eq!(all(&book, Side::Sell), [lv(8, 4)]);
    assert_eq!((book.bids.storage(), book.asks.storage()), storage);
}

#[test]
fn spec_is_adjusted_to_a_usable_layout() {
    let book = L2Book::new(BookSpec {
        tick: Px(0),
        window_ticks: 100,
        levels_per_side: 0,
    });
    let want = BookSpec {
        tick: Px(1),
        window_ticks: 256,
        levels_per_side: 1,
    };
    assert_eq!(book.spec(), want);
    assert_eq!(book.capacity(), 1);
    let book = L2Book::new(BookSpec {
        tick: Px(-5),
        window_ticks: 300,
        levels_per_side: 10,
    });
    assert_eq!(book.spec().tick, Px(1));
    assert_eq!(book.spec().window_ticks, 512);
    let book = L2Book::new(BookSpec::new(Px(7), 10));
    assert_eq!(book.spec().window_ticks, BookSpec::WINDOW_TICKS);
}

#[test]
fn near_levels_are_in_the_window_and_far_ones_in_the_overflow() {
    let mut book = narrow(10, 1000);
    // The best first, at key 10,000: the window is placed with it three quarters of the way
    // up, rounded down to a multiple of 64, so it covers the keys 9,792 to 10,047.
    for k in 0..300 {
        let px = 100_000 - 10 * k;
        assert_eq!(book.apply(Side::Buy, Px(px), Qty(k + 1)), Apply::Inserted);
        check(&book);
    }
    assert_eq!(book.bids.in_window(), 209);
    assert_eq!(book.depth(Side::Buy), 300);
    assert_eq!(book.best_bid(), Some(lv(100_000, 1)));
    assert_eq!(book.qty_at(Side::Buy, Px(97_920)), Qty(209));
    assert_eq!(book.qty_at(Side::Buy, Px(97_910)), Qty(210));
    assert_eq!(book.qty_at(Side::Buy, Px(97_010)), Qty(300));
    assert_eq!(book.qty_at(Side::Buy, Px(97_000)), Qty(0));
    let want: Vec<Level> = (0..300).map(|k| lv(100_000 - 10 * k, k + 1)).collect();
    assert_eq!(all(&book, Side::Buy), want);
    // Deleting across the window's lower edge keeps the far levels exact.
    for k in 200..220 {
        assert_eq!(
            book.apply(Side::Buy, Px(100_000 - 10 * k), Qty(0)),
            Apply::Removed
        );
        check(&book);
    }
    assert_eq!(book.depth(Side::Buy), 280);
    assert_eq!(book.total_qty(Side::Buy, 201), (1..=200).sum::<i64>() + 221);
}

#[test]
fn off_grid_prices_are_kept_exactly_beside_the_grid() {
    let mut book = narrow(10, 100);
    for px in [1_000, 990, 980] {
        assert_eq!(book.apply(Side::Buy, Px(px), Qty(1)), Apply::Inserted);
    }
    // Better than the best, between two grid levels, and below them all.
    for (px, qty) in [(1_005, 2), (985, 3), (7, 4)] {
        assert_eq!(book.apply(Side::Buy, Px(px), Qty(qty)), Apply::Inserted);
        check(&book);
    }
    assert_eq!(book.best_bid(), Some(lv(1_005, 2)));
    assert_eq!(
        all(&book, Side::Buy),
        [
            lv(1_005, 2),
            lv(1_000, 1),
            lv(990, 1),
            lv(985, 3),
            lv(980, 1),
            lv(7, 4)
        ]
    );
    assert_eq!(book.qty_at(Side::Buy, Px(985)), Qty(3));
    assert_eq!(book.apply(Side::Buy, Px(985), Qty(5)), Apply::Updated);
    assert_eq!(book.qty_at(Side::Buy, Px(985)), Qty(5));
    assert_eq!(book.apply(Side::Buy, Px(1_005), Qty(0)), Apply::Removed);
    assert_eq!(
        book.apply(Side::Buy, Px(1_005), Qty(0)),
        Apply::RemovedAbsent
    );
    assert_eq!(book.best_bid(), Some(lv(1_000, 1)));
    assert_eq!(book.apply(Side::Sell, Px(1_003), Qty(1)), Apply::Inserted);
    assert!(!book.is_crossed(), "an off-grid ask above the best bid");
    assert_eq!(book.apply(Side::Sell, Px(1_000), Qty(1)), Apply::Inserted);
    assert!(book.is_crossed(), "locked at 1,000");
    assert_eq!(book.apply(Side::Sell, Px(1_000), Qty(0)), Apply::Removed);
    assert_eq!(book.apply(Side::Sell, Px(999), Qty(1)), Apply::Inserted);
    assert!(book.is_crossed(), "an off-grid ask below the best bid");
    check(&book);
}

/// Walks the touch of `side` far away from where it started and back, one new best level at a
/// time, keeping every level: the window re-centres many times over and never loses or
/// duplicates one, and nothing is reallocated.
fn touch_walks_away_and_back(side: Side) {
    let mut book = narrow(3, 1000);
    let storage = (book.bids.storage(), book.asks.storage());
    let step = match side {
        Side::Buy => 3 * 25,
        Side::Sell => -3 * 25,
    };
    let start = 3 * 1_000_000;
    let pxs: Vec<i64> = (0..200).map(|k| start + step * k).collect();
    for (k, &px) in pxs.iter().enumerate() {
        assert_eq!(book.apply(side, Px(px), Qty(k as i64 + 1)), Apply::Inserted);
        assert_eq!(book.best(side), Some(lv(px, k as i64 + 1)));
        check(&book);
    }
    let ladder = match side {
        Side::Buy => &book.bids,
        Side::Sell => &book.asks,
    };
    // 25 ticks apart in a 256-tick window: a few near the best are in it, the rest overflow.
    assert!(
        (8..=11).contains(&ladder.in_window()),
        "{}",
        ladder.in_window()
    );
    let want: Vec<Level> = (0..200).rev().map(|k| lv(pxs[k], k as i64 + 1)).collect();
    assert_eq!(all(&book, side), want);
    // Deleting the best walks it back down through every level.
    for k in (1..200).rev() {
        assert_eq!(book.apply(side, Px(pxs[k]), Qty(0)), Apply::Removed);
        assert_eq!(book.best(side), Some(lv(pxs[k - 1], k as i64)));
        assert_eq!(book.qty_at(side, Px(pxs[k - 1])), Qty(k as i64));
        check(&book);
    }
    assert_eq!(all(&book, side), [lv(start, 1)]);
    assert_eq!((book.bids.storage(), book.asks.storage()), storage);
}

#[test]
fn the_window_follows_the_touch_without_losing_a_level() {
    for side in [Side::Buy, Side::Sell] {
        touch_walks_away_and_back(side);
    }
}

#[test]
fn a_jump_further_than_the_window_moves_every_level_out_and_back() {
    let mut book = narrow(1, 100);
    for px in 1_000..1_040 {
        book.apply(Side::Sell, Px(px), Qty(px));
    }
    assert_eq!(book.asks.in_window(), 40);
    // A new best ask far below: the whole old window goes to the overflow.
    assert_eq!(book.apply(Side::Sell, Px(500), Qty(1)), Apply::Inserted);
    check(&book);
    assert_eq!(book.asks.in_window(), 1);
    assert_eq!(book.depth(Side::Sell), 41);
    // Gone again: the window returns to the old levels.
    assert_eq!(book.apply(Side::Sell, Px(500), Qty(0)), Apply::Removed);
    check(&book);
    assert_eq!(book.asks.in_window(), 40);
    assert_eq!(book.best_ask(), Some(lv(1_000, 1_000)));
    let want: Vec<Level> = (1_000..1_040).map(|px| lv(px, px)).collect();
    assert_eq!(all(&book, Side::Sell), want);
}

#[test]
fn prices_at_the_ends_of_the_range_are_stored_exactly() {
    for tick in [1, 7, i64::MAX / 3] {
        let mut book = narrow(tick, 16);
        let top = i64::MAX / tick * tick;
        let pxs = [top, top - tick, tick, 2 * tick, i64::MAX, 1];
        for side in [Side::Buy, Side::Sell] {
            for (i, &px) in pxs.iter().enumerate() {
                let got = book.apply(side, Px(px), Qty(i as i64 + 1));
                assert!(
                    matches!(got, Apply::Inserted | Apply::Updated),
                    "{tick} {px}"
                );
                check(&book);
            }
            for px in pxs {
                // A price given twice (`top` is `i64::MAX` at tick 1) holds the later quantity.
                let last = pxs.iter().rposition(|&p| p == px).unwrap_or(0);
                assert_eq!(book.qty_at(side, Px(px)), Qty(last as i64 + 1));
            }
            let mut distinct = pxs.to_vec();
            distinct.sort_unstable();
            distinct.dedup();
            assert_eq!(book.depth(side), distinct.len(), "tick {tick}");
        }
        assert_eq!(book.best_bid().map(|l| l.px), Some(Px(i64::MAX)));
        assert_eq!(book.best_ask().map(|l| l.px), Some(Px(1)));
        book.clear();
        check(&book);
    }
}

#[test]
fn clear_empties_window_and_overflow_for_reuse_elsewhere() {
    let mut book = narrow(1, 500);
    let storage = (book.bids.storage(), book.asks.storage());
    for px in (10_000..10_300).step_by(3) {
        book.apply(Side::Buy, Px(px), Qty(1));
        book.apply(Side::Sell, Px(px + 1_000), Qty(2));
    }
    assert!(book.bids.in_window() > 0 && book.depth(Side::Buy) > book.bids.in_window());
    book.clear();
    check(&book);
    assert_eq!((book.depth(Side::Buy), book.depth(Side::Sell)), (0, 0));
    assert_eq!((book.best_bid(), book.best_ask()), (None, None));
    assert_eq!(book.qty_at(Side::Buy, Px(10_299)), Qty(0));
    // A snapshot at a price far from the old one.
    for px in (50..60).rev() {
        assert_eq!(book.apply(Side::Buy, Px(px), Qty(px)), Apply::Inserted);
    }
    assert_eq!(book.best_bid(), Some(lv(59, 59)));
    assert_eq!(book.depth(Side::Buy), 10);
    assert_eq!(book.bids.in_window(), 10);
    check(&book);
    assert_eq!((book.bids.storage(), book.asks.storage()), storage);
}

/// Updates around a mid that drifts and jumps, with off-grid prices, deletes and clears.
fn layout_ops() -> impl Strategy<Value = Vec<(i64, Side, i64, i64)>> {
    let step = prop_oneof![
        8 => -20i64..20,
        1 => -400i64..400,
        1 => Just(0),
    ];
    proptest::collection::vec(
        (
            step,
            prop_oneof![Just(Side::Buy), Just(Side::Sell)],
            -10i64..120,
            prop_oneof![3 => 1i64..4, 2 => Just(0), 1 => Just(-1)],
        ),
        0..400,
    )
}

proptest! {
    /// The layout's own invariants hold after every step (the book's contents against a
    /// reference are checked in `tests/book_props.rs`); `qty -1` stands for a clear here.
    #[test]
    fn layout_invariants_hold_after_every_step(ops in layout_ops(), tick in 1i64..4) {
        let mut book = narrow(tick, 64);
        let storage = (book.bids.storage(), book.asks.storage());
        let mut mid = 10_000i64;
        for (step, side, offset, qty) in ops {
            mid = (mid + step).max(200);
            if qty < 0 {
                book.clear();
            } else {
                let away = match side { Side::Buy => -offset, Side::Sell => offset };
                // Every seventh price is off the grid when the tick allows it.
                let off_grid = i64::from(offset % 7 == 0) % tick;
                book.apply(side, Px((mid + away) * tick + off_grid), Qty(qty));
            }
            for ladder in [&book.bids, &book.asks] {
                prop_assert_eq!(ladder.check(), Ok(()));
            }
            prop_assert_eq!((book.bids.storage(), book.asks.storage()), storage);
        }
    }
}
