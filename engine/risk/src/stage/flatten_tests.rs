//! Flatten driven by the stage: requests, kill mode Flatten, what cannot be closed.

use super::rig::*;
use super::*;
use crate::flatten::{FlattenOutcome, Unclosable};
use crate::kill::KillMode;
use pulse_core::intent::{ExitKind, ENGINE_TAG};
use pulse_core::num::{Px, Qty, Side};

fn outcome(r: &Rig, i: InstrumentId) -> FlattenOutcome {
    r.risk.flatten_status()[usize::from(i.0)].outcome
}

/// Long 0.0003 BTC at 60,000.00 and short 0.0002 ETH at 3,000.00, books live; orders of at
/// most 0.0002.
fn two_positions(setup: Setup) -> Rig {
    let mut r = rig(Setup {
        max_order_qty: 20_000,
        ..setup
    });
    r.adopt(&[(30_000, 6_000_000), (-20_000, 300_000)], &[]);
    r.mid(BTC, 1, 6_000_000);
    r.mid(ETH, 1, 300_000);
    r
}

#[test]
fn flatten_all_closes_every_instrument_in_slices() {
    let mut r = two_positions(Setup::default());
    assert!(r.flatten.request(None));
    r.poll();
    let [btc, eth] = r.new_orders()[..] else {
        panic!("one slice per instrument");
    };
    // BTC: 0.0002 (the order limit) of 0.0003 at 60,000 * 0.99 = 59,400.00.
    assert_eq!(
        (btc.instrument, btc.side, btc.qty, btc.px),
        (BTC, Side::Sell, Qty(20_000), Px(5_940_000))
    );
    // ETH: all 0.0002 bought back at 3,000 * 1.01 = 3,030.00.
    assert_eq!(
        (eth.instrument, eth.side, eth.qty, eth.px),
        (ETH, Side::Buy, Qty(20_000), Px(303_000))
    );
    assert_eq!(
        (outcome(&r, BTC), outcome(&r, ETH)),
        (FlattenOutcome::InProgress, FlattenOutcome::InProgress)
    );
    r.fill(&eth, 20_000);
    assert_eq!(
        (r.position(ETH), outcome(&r, ETH)),
        (0, FlattenOutcome::Closed)
    );
    // The first BTC slice fills; the next carries the rest.
    r.fill(&btc, 20_000);
    let [last] = r.new_orders()[..] else {
        panic!("the last slice");
    };
    assert_eq!((last.instrument, last.qty), (BTC, Qty(10_000)));
    r.fill(&last, 10_000);
    assert_eq!(
        (r.position(BTC), outcome(&r, BTC)),
        (0, FlattenOutcome::Closed)
    );
    assert_eq!(r.risk.counters.exits[ExitKind::Flatten.index()], 2);
    // Verdicts carry the engine's tag.
    let accepted: Vec<u32> = r
        .feedback()
        .iter()
        .filter_map(|f| match f {
            Feedback::Accepted { tag, .. } => Some(*tag),
            _ => None,
        })
        .collect();
    assert_eq!(accepted, [ENGINE_TAG; 3]);
}

#[test]
fn flatten_of_one_instrument_touches_only_that_one() {
    let mut r = two_positions(Setup::default());
    r.flatten.request(Some(ETH));
    r.poll();
    let [eth] = r.new_orders()[..] else {
        panic!("one slice");
    };
    assert_eq!(eth.instrument, ETH);
    r.fill(&eth, 20_000);
    assert!(r.sent().is_empty());
    assert_eq!((r.position(BTC), r.position(ETH)), (30_000, 0));
    assert_eq!(
        (outcome(&r, BTC), outcome(&r, ETH)),
        (FlattenOutcome::Idle, FlattenOutcome::Closed)
    );
}

#[test]
fn flatten_cancels_working_orders_first_and_reports_what_it_cannot_close() {
    let mut r = rig(Setup::default());
    r.adopt(
        &[(30_000, 6_000_000), (-20_000, 300_000)],
        &[resting(BTC, 1, Side::Buy, 5_990_000, 10_000)],
    );
    r.mid(BTC, 1, 6_000_000);
    // ETH's book is stale.
    r.stale(ETH, 1);
    r.flatten.request(None);
    r.poll();
    let sent = r.sent();
    let [Request::Cancel(cancel)] = sent[..] else {
        panic!("the working order is cancelled first: {sent:?}");
    };
    assert_eq!(cancel.client_id, ClientOrderId(901));
    assert_eq!(
        outcome(&r, ETH),
        FlattenOutcome::Unclosable(Unclosable::BookNotLive)
    );
    assert_eq!(r.risk.counters.engine_cancels, 1);
    r.confirm_cancels(&sent);
    let [btc] = r.new_orders()[..] else {
        panic!("then the slice");
    };
    assert_eq!((btc.side, btc.qty), (Side::Sell, Qty(30_000)));
    r.fill(&btc, 30_000);
    assert_eq!(outcome(&r, BTC), FlattenOutcome::Closed);
    assert_eq!(
        outcome(&r, ETH),
        FlattenOutcome::Unclosable(Unclosable::BookNotLive)
    );
    // The book comes back: the flatten goes on by itself.
    r.mid(ETH, 2, 300_000);
    let [eth] = r.new_orders()[..] else {
        panic!("the ETH slice");
    };
    r.fill(&eth, 20_000);
    assert_eq!(outcome(&r, ETH), FlattenOutcome::Closed);
}

#[test]
fn kill_mode_flatten_cancels_then_closes_and_nothing_else_goes_out() {
    let mut r = two_positions(Setup {
        kill_mode: KillMode::Flatten,
        ..Setup::default()
    });
    r.intent(BTC, Side::Buy, 5_990_000, 10_000, 2, 10_000);
    let [working] = r.new_orders()[..] else {
        panic!("the strategy's order");
    };
    r.ack(&working);
    r.kill.engage(crate::halt::HaltReason::Operator);
    r.poll();
    let sent = r.sent();
    // BTC's flatten cancels the strategy's order first (the kill switch finds it cancelled
    // already); ETH's slice goes out at once.
    assert!(
        matches!(sent[..], [Request::Cancel(ref c), Request::New(ref eth)]
            if eth.instrument == ETH && c.client_id == working.client_id),
        "{sent:?}"
    );
    // A strategy's order is refused while killed.
    r.intent(BTC, Side::Sell, 6_000_000, 10_000, 3, 10_000);
    assert!(r.sent().is_empty());
    r.confirm_cancels(&sent);
    let [btc] = r.new_orders()[..] else {
        panic!("the BTC slice once the cancel is confirmed");
    };
    assert_eq!((btc.side, btc.qty), (Side::Sell, Qty(20_000)));
    let Request::New(eth) = sent[1] else {
        panic!("the ETH slice");
    };
    // The flatten slices are not cancelled by the kill switch; they fill.
    r.fill(&eth, 20_000);
    r.fill(&btc, 20_000);
    let [last] = r.new_orders()[..] else {
        panic!("the last BTC slice");
    };
    r.fill(&last, 10_000);
    assert_eq!((r.position(BTC), r.position(ETH)), (0, 0));
    assert_eq!(
        (r.risk.counters.engine_cancels, r.risk.counters.kill_cancels),
        (1, 0)
    );
    assert_eq!(r.risk.mode(), crate::kill::TradingMode::Killed);
}

#[test]
fn a_flatten_in_cancel_mode_with_the_kill_switch_engaged_is_reported_unclosable() {
    let mut r = two_positions(Setup::default());
    r.kill.engage(crate::halt::HaltReason::Operator);
    r.flatten.request(Some(BTC));
    r.poll();
    assert!(r.sent().is_empty());
    assert_eq!(
        outcome(&r, BTC),
        FlattenOutcome::Unclosable(Unclosable::Rejected(RejectReason::KillSwitch))
    );
}
