//! Funds on the stage: conversion, allocation and balances decide real intents, and an
//! allocation is journaled and restored.

use super::rig::*;
use super::*;
use crate::account::ACCOUNT_SCALE;
use crate::allocation::{AllocationConfig, AllocationMode, Allocator, Basis};
use crate::balance::Balances;
use crate::fx::{Conversion, FxTable, RATE_ONE};
use pulse_core::instrument::Venue;
use pulse_core::metrics::MetricLabel;
use pulse_core::num::{Px, Qty, Side};

const USDT: i128 = 10i128.pow(ACCOUNT_SCALE);

fn reasons(r: &mut Rig) -> Vec<Option<RejectReason>> {
    r.feedback()
        .into_iter()
        .filter_map(|f| match f {
            Feedback::Accepted { .. } => Some(None),
            Feedback::Rejected { reason, .. } => Some(Some(reason)),
            Feedback::Report(_) => None,
        })
        .collect()
}

fn fixed(weights: &[f64]) -> Allocator {
    let config = AllocationConfig {
        mode: AllocationMode::Fixed(weights.to_vec()),
        strategies: weights.len(),
        rebalance_every: Nanos::from_millis(60_000),
        sample_every: Nanos::from_millis(1_000),
        window: 10,
        min_samples: 2,
        min_vol: 1e-4,
    };
    Allocator::new(config).expect("valid")
}

fn funds(allocator: Option<Allocator>, balances: Option<Balances>) -> Funds {
    Funds {
        fx: FxTable::identity("USDT", 2),
        strategy_of: vec![0, 1],
        strategy_instruments: Vec::new(),
        balances,
        allocator,
        restored: None,
    }
}

/// The rig's two instruments with their assets, for balances.
fn spot_registry() -> InstrumentRegistry {
    let mut reg = InstrumentRegistry::new();
    for (symbol, base) in [("BTCUSDT", "BTC"), ("ETHUSDT", "ETH")] {
        let id = reg.add(Venue::Binance, symbol, 2, 8, Px(1), Qty(LOT));
        reg.set_assets(id.expect("added"), base, "USDT");
    }
    reg
}

#[test]
fn a_strategy_commits_no_more_than_its_fixed_allocation() {
    let mut r = rig(Setup {
        funds: Some(Funds {
            strategy_instruments: vec![BTC, ETH],
            ..funds(Some(fixed(&[0.02, 0.98])), None)
        }),
        max_order_qty: 100_000_000,
        ..Setup::default()
    });
    // The first mark rebalances: equity 100,000 USDT, 2% = 2,000 to BTC's strategy.
    r.mid(BTC, 1, 6_000_000);
    let a = *r.risk.allocation().expect("allocated at the first mark");
    assert_eq!((a.weights_bps[0], a.weights_bps[1]), (200, 9_800));
    assert_eq!((a.capital[0], a.capital[1]), (2_000 * USDT, 98_000 * USDT));
    assert_eq!(a.basis, Basis::Fixed);
    // 0.05 BTC at 60,000 = 3,000 > 2,000; 0.03 = 1,800 passes; another 0.03 makes 3,600 with
    // the first one working.
    r.intent(BTC, Side::Buy, 6_000_000, 5_000_000, 2, 10_000);
    r.intent(BTC, Side::Buy, 6_000_000, 3_000_000, 3, 10_000);
    r.intent(BTC, Side::Buy, 5_999_900, 3_000_000, 4, 10_000);
    let limit = Some(RejectReason::AllocationLimit);
    assert_eq!(reasons(&mut r), [limit, None, limit]);
    // ETH's strategy has 98,000: its own limits bind first, not the allocation.
    r.mid(ETH, 5, 300_000);
    r.intent(ETH, Side::Buy, 300_000, 5_000_000, 6, 10_000);
    assert_eq!(reasons(&mut r), [None]);
    let mut metrics = Vec::new();
    r.risk.report(&mut |m| metrics.push(m));
    // Each strategy named by its instrument, as the strategy stage names it.
    let gauge = |name: &str, i: InstrumentId| {
        metrics
            .iter()
            .find(|m| m.name() == name && m.label == MetricLabel::Instrument(i))
            .map(|m| m.value)
    };
    assert_eq!(gauge("allocation_weight_bps", ETH), Some(9_800));
    assert_eq!(gauge("allocation_capital_micro", BTC), Some(2_000_000_000));
}

#[test]
fn an_instrument_converted_through_a_stale_book_gets_no_new_exposure() {
    // ETHUSDT taken as quoted in BTC, converted through BTCUSDT's mid.
    let mut fx = FxTable::identity("USDT", 2);
    let via = Conversion::Via {
        instrument: BTC,
        inverted: false,
    };
    assert!(fx.set(ETH, via).is_ok());
    let mut r = rig(Setup {
        funds: Some(Funds {
            fx,
            ..funds(None, None)
        }),
        ..Setup::default()
    });
    r.mid(ETH, 1, 300_000);
    // No BTC mid yet: no rate.
    r.intent(ETH, Side::Buy, 300_000, 1_000, 2, 10_000);
    r.mid(BTC, 3, 6_000_000);
    assert_eq!(r.risk.account().rate(1), Some(60_000 * RATE_ONE));
    // 0.00001 at 3,000 BTC = 0.03 BTC = 1,800 USDT: within every limit.
    r.intent(ETH, Side::Buy, 300_000, 1_000, 4, 10_000);
    r.stale(BTC, 5);
    r.intent(ETH, Side::Buy, 299_900, 1_000, 6, 10_000);
    let stale = Some(RejectReason::ConversionStale);
    assert_eq!(reasons(&mut r), [stale, None, stale]);
    // BTC itself is in the account currency: its book alone matters.
    r.mid(BTC, 7, 6_000_000);
    r.intent(BTC, Side::Buy, 6_000_000, 1_000, 8, 10_000);
    assert_eq!(reasons(&mut r), [None]);
}

#[test]
fn working_orders_reserve_the_balance_they_would_spend() {
    let start = [("USDT".to_owned(), 1_000 * USDT)];
    let balances = Balances::new(&spot_registry(), &[true, true], &start).expect("balances");
    let mut r = rig(Setup {
        funds: Some(funds(None, Some(balances))),
        max_order_qty: 100_000_000,
        ..Setup::default()
    });
    r.mid(BTC, 1, 6_000_000);
    // 0.03 BTC at 60,000 = 1,800 > 1,000 USDT; 0.01 = 600 passes and reserves 600; another
    // 0.01 needs 600 of the 400 left; selling 0.01 BTC needs BTC the account does not hold.
    r.intent(BTC, Side::Buy, 6_000_000, 3_000_000, 2, 10_000);
    r.intent(BTC, Side::Buy, 6_000_000, 1_000_000, 3, 10_000);
    r.intent(BTC, Side::Buy, 5_999_900, 1_000_000, 4, 10_000);
    r.intent(BTC, Side::Sell, 6_000_000, 1_000_000, 5, 10_000);
    let short = Some(RejectReason::InsufficientBalance);
    assert_eq!(reasons(&mut r), [short, None, short, short]);
    assert_eq!(
        r.risk.account().balances().available("USDT"),
        Some(400 * USDT)
    );
    // Filled: 0.01 BTC held, 600 USDT spent, nothing reserved.
    let [order] = r.new_orders()[..] else {
        panic!("one order");
    };
    r.fill(&order, 1_000_000);
    let b = r.risk.account().balances();
    assert_eq!(b.available("USDT"), Some(400 * USDT));
    assert_eq!(b.available("BTC"), Some(USDT / 100));
}

#[test]
fn a_restored_allocation_stands_until_the_first_rebalance() {
    // The allocation an earlier session ended with: 30% / 70% of 90,000, at 50 s.
    let mut a = crate::allocation::Allocation {
        at: Nanos::from_millis(50_000),
        count: 2,
        weights_bps: [0; 8],
        capital: [0; 8],
        equity: 90_000 * USDT,
        mode: 2,
        basis: Basis::Measured,
    };
    a.weights_bps[..2].copy_from_slice(&[3_000, 7_000]);
    a.capital[..2].copy_from_slice(&[27_000 * USDT, 63_000 * USDT]);
    let config = AllocationConfig {
        mode: AllocationMode::RiskParity,
        strategies: 2,
        rebalance_every: Nanos::from_millis(60_000),
        sample_every: Nanos::from_millis(1_000),
        window: 10,
        min_samples: 2,
        min_vol: 1e-4,
    };
    let allocator = Allocator::new(config).expect("valid");
    let mut r = rig(Setup {
        funds: Some(Funds {
            restored: Some(a),
            ..funds(Some(allocator), None)
        }),
        ..Setup::default()
    });
    // Before any mark, the restored capital bounds BTC's strategy: 27,000.
    assert_eq!(r.risk.allocation(), Some(&a));
    assert_eq!(r.risk.account().sizing_capital(0), 27_000 * USDT);
    // Market time at 1 s, before the restored allocation's 50 s (the same recording again):
    // rebalanced at once, too few samples, the weights kept, on this session's equity.
    r.mid(BTC, 1_000, 6_000_000);
    let now = *r.risk.allocation().expect("allocated");
    assert_eq!(now.basis, Basis::Kept);
    assert_eq!(now.at, Nanos::from_millis(1_000));
    assert_eq!((now.weights_bps[0], now.weights_bps[1]), (3_000, 7_000));
    assert_eq!(
        (now.capital[0], now.capital[1]),
        (30_000 * USDT, 70_000 * USDT)
    );
}
