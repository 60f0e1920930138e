use pulse_core::event::{BookState, BookTop, EventMeta, Level};
use pulse_core::intent::{Feedback, Intent, Intents, RejectReason};
use pulse_core::metrics::{Metric, MetricLabel};
use pulse_core::num::{InstrumentId, Nanos, Px, Qty};

use super::{Member, StrategySet};
use crate::builtin::BuiltinStrategy;
use crate::imbalance::{ImbalanceConfig, ImbalanceTaker};
use crate::strategy::Strategy;

fn taker(instrument: u16) -> BuiltinStrategy {
    let cfg = ImbalanceConfig {
        instrument: InstrumentId(instrument),
        depth_levels: 1,
        threshold_bps: 1000,
        order_qty: Qty(1),
        max_position: Qty(3),
        cooldown: Nanos(0),
        slippage_ticks: 1,
    };
    BuiltinStrategy::Imbalance(ImbalanceTaker::new(cfg, Px(1)))
}

fn set() -> StrategySet<BuiltinStrategy> {
    let members = [3, 1]
        .into_iter()
        .map(|i| Member {
            strategy: taker(i),
            instrument: InstrumentId(i),
        })
        .collect();
    StrategySet::new(members).unwrap()
}

/// A live book of `instrument` at time `t`, one level a side.
fn book(instrument: u16, t: u64, bid_qty: i64, ask_qty: i64) -> BookTop {
    let meta = EventMeta {
        instrument: InstrumentId(instrument),
        recv_ts: Nanos(t),
        ingress: Default::default(),
    };
    let mut top = BookTop::empty(meta, BookState::Live);
    top.bid_levels = 1;
    top.ask_levels = 1;
    top.bids[0] = Level {
        px: Px(99),
        qty: Qty(bid_qty),
    };
    top.asks[0] = Level {
        px: Px(101),
        qty: Qty(ask_qty),
    };
    top
}

/// What `strategy` emits over a script of books and refusals: (instrument, signed price).
fn decisions(strategy: &mut impl Strategy) -> Vec<(u16, i64)> {
    let mut seen = Vec::new();
    for t in 1..=12u64 {
        let instrument = [3, 1, 0][t as usize % 3];
        let lean = if t % 4 == 0 { (1, 9) } else { (9, 1) };
        let mut out = Intents::default();
        let event = pulse_core::event::MarketEvent::Book(book(instrument, t, lean.0, lean.1));
        strategy.on_market(&event, &mut out);
        for intent in out.iter() {
            let Intent::New(order) = intent else {
                panic!("takers only send new orders")
            };
            seen.push((order.instrument.0, order.side.sign() * order.px.0));
            // Refused at once: the taker may try again on its next book.
            let refused = Feedback::Rejected {
                instrument: order.instrument,
                tag: order.tag,
                reason: RejectReason::RingFull,
            };
            strategy.on_feedback(&refused, &mut Intents::default());
        }
    }
    seen
}

#[test]
fn members_decide_as_they_would_alone() {
    let together = decisions(&mut set());
    let mut alone: Vec<(u16, i64)> = [3, 1]
        .into_iter()
        .flat_map(|i| decisions(&mut taker(i)))
        .collect();
    let mut sorted = together.clone();
    sorted.sort_unstable();
    alone.sort_unstable();
    assert_eq!(sorted, alone);
    // Both members traded, instrument 0 (nobody's) never.
    assert!(together.iter().any(|d| d.0 == 3) && together.iter().any(|d| d.0 == 1));
    assert!(together.iter().all(|d| d.0 != 0));
}

#[test]
fn each_members_counters_carry_its_instrument() {
    let s = set();
    let mut labels = Vec::new();
    s.report(&mut |m: Metric| labels.push(m.label));
    assert!(!labels.is_empty());
    for id in [3, 1] {
        let n = labels
            .iter()
            .filter(|l| **l == MetricLabel::Instrument(InstrumentId(id)))
            .count();
        assert_eq!(n * 2, labels.len(), "each member reports the same counters");
    }
}

#[test]
fn an_instrument_traded_twice_is_refused() {
    let twice = [2, 2]
        .into_iter()
        .map(|i| Member {
            strategy: taker(i),
            instrument: InstrumentId(i),
        })
        .collect();
    let err = StrategySet::new(twice).err().unwrap();
    assert!(err.contains("traded by two strategies"), "{err}");
}
