//! Exits fired by the stage itself: trigger prices computed by hand, the order they send.

use super::rig::*;
use super::*;
use crate::exits::{ExitDistance, ExitRules, ExitSettings};
use crate::volatility::VolatilitySettings;
use pulse_core::intent::{ExitKind, ENGINE_TAG};
use pulse_core::num::{Px, Qty, Side};
use pulse_core::order::TimeInForce;

fn rules(rules: ExitRules) -> Setup {
    Setup {
        rules: vec![rules],
        ..Setup::default()
    }
}

fn stop(bps: u32) -> ExitRules {
    ExitRules {
        stop_loss: Some(ExitDistance::Bps(bps)),
        ..ExitRules::default()
    }
}

fn exits(r: &Rig, kind: ExitKind) -> u64 {
    r.risk.counters.exits[kind.index()]
}

#[test]
fn a_stop_loss_closes_the_whole_position_one_order_at_a_time() {
    let mut r = rig(rules(stop(100)));
    // Long 0.0001 BTC entered at 60,000.00: the stop is at 60,000 * 0.99 = 59,400.00.
    r.adopt(&[(10_000, 6_000_000)], &[]);
    r.mid(BTC, 1, 5_940_001);
    assert!(r.sent().is_empty());
    r.mid(BTC, 2, 5_940_000);
    let [exit] = r.new_orders()[..] else {
        panic!("one exit order");
    };
    // The whole position, sold at the collar's edge: 59,400 * 0.99 = 58,806.00.
    assert_eq!(
        (exit.side, exit.qty, exit.px, exit.tif),
        (Side::Sell, Qty(10_000), Px(5_880_600), TimeInForce::Ioc)
    );
    assert_eq!(
        exit.meta.recv_ts,
        Nanos::from_millis(2),
        "decided at the mid that fired it"
    );
    assert!(matches!(
        r.feedback()[..],
        [Feedback::Accepted {
            tag: ENGINE_TAG,
            ..
        }]
    ));
    // In flight: lower mids send nothing more.
    r.mid(BTC, 3, 5_930_000);
    r.mid(BTC, 4, 5_920_000);
    assert!(r.sent().is_empty());
    // Nothing filled (the IOC expired): the next slice goes at once, from the latest mid
    // 59,200.00 * 0.99 = 58,608.00.
    r.fill(&exit, 0);
    let [again] = r.new_orders()[..] else {
        panic!("a second slice");
    };
    assert_eq!(
        (again.side, again.qty, again.px),
        (Side::Sell, Qty(10_000), Px(5_860_800))
    );
    // Partly filled: the rest goes next; then flat, and nothing more.
    r.fill(&again, 4_000);
    let [rest] = r.new_orders()[..] else {
        panic!("the rest");
    };
    assert_eq!((rest.qty, r.position(BTC)), (Qty(6_000), 6_000));
    r.fill(&rest, 6_000);
    assert_eq!(r.position(BTC), 0);
    r.mid(BTC, 5, 5_000_000);
    assert!(r.sent().is_empty());
    assert_eq!(exits(&r, ExitKind::StopLoss), 1, "one exit, three slices");
    // The fills reached the strategy as reports.
    let reports = r
        .feedback()
        .iter()
        .filter(|f| matches!(f, Feedback::Report(_)))
        .count();
    assert_eq!(reports, 2 + 3 + 2);
}

#[test]
fn a_take_profit_buys_back_a_short() {
    let mut r = rig(rules(ExitRules {
        take_profit: Some(ExitDistance::Bps(200)),
        ..ExitRules::default()
    }));
    // Short 0.0002 BTC from 60,000.00: target 60,000 * 0.98 = 58,800.00.
    r.adopt(&[(-20_000, 6_000_000)], &[]);
    r.mid(BTC, 1, 5_880_001);
    assert!(r.sent().is_empty());
    r.mid(BTC, 2, 5_880_000);
    let [exit] = r.new_orders()[..] else {
        panic!("one exit order");
    };
    // Bought at 58,800 * 1.01 = 59,388.00.
    assert_eq!(
        (exit.side, exit.qty, exit.px),
        (Side::Buy, Qty(20_000), Px(5_938_800))
    );
    r.fill(&exit, 20_000);
    assert_eq!(r.position(BTC), 0);
    assert_eq!(exits(&r, ExitKind::TakeProfit), 1);
}

#[test]
fn a_trailing_stop_follows_the_best_mid() {
    let mut r = rig(rules(ExitRules {
        trailing: Some(ExitDistance::Bps(50)),
        ..ExitRules::default()
    }));
    r.adopt(&[(10_000, 6_000_000)], &[]);
    // The best mid rises to 61,000.00: the stop trails at 61,000 * 0.995 = 60,695.00.
    r.mid(BTC, 1, 6_050_000);
    r.mid(BTC, 2, 6_100_000);
    r.mid(BTC, 3, 6_069_501);
    assert!(r.sent().is_empty());
    r.mid(BTC, 4, 6_069_500);
    let [exit] = r.new_orders()[..] else {
        panic!("one exit order");
    };
    // 60,695 * 0.99 = 60,088.05, up to the tick.
    assert_eq!(
        (exit.side, exit.qty, exit.px),
        (Side::Sell, Qty(10_000), Px(6_008_805))
    );
    assert_eq!(exits(&r, ExitKind::Trailing), 1);
}

#[test]
fn an_atr_stop_waits_for_its_bars_then_fires_where_computed() {
    let settings = ExitSettings {
        volatility: VolatilitySettings {
            interval: Nanos::from_millis(1_000),
            bars: 2,
        },
        ..ExitSettings::default()
    };
    let mut r = rig(Setup {
        settings,
        ..rules(ExitRules {
            stop_loss: Some(ExitDistance::Atr { multiple: 2.0 }),
            ..ExitRules::default()
        })
    });
    r.adopt(&[(10_000, 6_000_000)], &[]);
    // Bar 0: close 60,000.01. Bar 1: 60,030.01 alone, true range 30.00 (3,000 ticks).
    r.mid(BTC, 500, 6_000_001);
    r.mid(BTC, 1_000, 6_003_001);
    // Bar 2: 59,990.01 then 59,600.01 (400 below the entry, but one true range only: no
    // estimate, no stop): high 5,999,001, low 5,960,001, true range
    // max(39,000, 4,000, 43,000) = 43,000.
    r.mid(BTC, 2_000, 5_999_001);
    r.mid(BTC, 2_500, 5_960_001);
    assert!(r.sent().is_empty());
    // Bar 2 closes: ATR = (3,000 + 43,000) / 2 = 23,000; stop at 6,000,000 - 46,000.
    r.mid(BTC, 3_000, 5_954_001);
    assert!(r.sent().is_empty());
    r.mid(BTC, 3_100, 5_954_000);
    let [exit] = r.new_orders()[..] else {
        panic!("one exit order");
    };
    // 59,540 * 0.99 = 58,944.60.
    assert_eq!(
        (exit.side, exit.qty, exit.px),
        (Side::Sell, Qty(10_000), Px(5_894_460))
    );
    assert_eq!(exits(&r, ExitKind::StopLoss), 1);
}

#[test]
fn an_exit_passes_the_daily_loss_breaker_and_the_confidence_floor() {
    let mut r = rig(Setup {
        portfolio: |p| {
            p.daily_loss_limit = 1;
            p.min_confidence_bps = 10_000;
        },
        ..rules(stop(100))
    });
    r.adopt(&[(10_000, 6_000_000)], &[]);
    r.mid(BTC, 1, 6_000_000);
    r.mid(BTC, 2, 5_950_000);
    // Down 0.0001 * 500 = 0.05 USDT on the day: the strategy may not trade...
    r.intent(BTC, Side::Sell, 5_950_000, 1_000, 3, 10_000);
    assert!(matches!(
        r.feedback()[..],
        [Feedback::Rejected {
            reason: RejectReason::DailyLoss,
            tag: 1,
            ..
        }]
    ));
    // ... the stop (at 59,400.00) still closes the position, at full confidence or not.
    r.mid(BTC, 4, 5_940_000);
    let [exit] = r.new_orders()[..] else {
        panic!("one exit order");
    };
    assert_eq!((exit.side, exit.qty), (Side::Sell, Qty(10_000)));
}

#[test]
fn the_kill_switch_in_cancel_mode_blocks_exits_and_they_retry_once_a_second() {
    let mut r = rig(rules(stop(100)));
    r.adopt(&[(10_000, 6_000_000)], &[]);
    r.kill.engage(crate::halt::HaltReason::Operator);
    r.mid(BTC, 1_000, 5_940_000);
    assert!(r.sent().is_empty());
    assert_eq!(
        (exits(&r, ExitKind::StopLoss), r.risk.counters.exit_rejected),
        (1, 1)
    );
    assert!(matches!(
        r.feedback()[..],
        [Feedback::Rejected {
            reason: RejectReason::KillSwitch,
            tag: ENGINE_TAG,
            ..
        }]
    ));
    // Within the retry interval nothing is tried; after it, once more.
    r.mid(BTC, 1_999, 5_930_000);
    assert_eq!(r.risk.counters.exit_rejected, 1);
    r.mid(BTC, 2_000, 5_930_000);
    assert_eq!(r.risk.counters.exit_rejected, 2);
    // Re-armed: the latched stop goes out at the next try.
    r.kill.rearm(crate::kill::Rearm {
        uid: 0,
        at_unix_ns: 0,
    });
    r.mid(BTC, 3_000, 5_930_000);
    assert!(matches!(
        r.new_orders()[..],
        [Order {
            side: Side::Sell,
            ..
        }]
    ));
}

#[test]
fn an_exit_only_covers_what_working_orders_do_not() {
    let mut r = rig(rules(stop(100)));
    // Long 0.0003 with a strategy's sell of 0.0001 working: the stop sells the other 0.0002.
    r.adopt(
        &[(30_000, 6_000_000)],
        &[resting(BTC, 1, Side::Sell, 6_100_000, 10_000)],
    );
    r.mid(BTC, 1, 5_940_000);
    let [exit] = r.new_orders()[..] else {
        panic!("one exit order");
    };
    assert_eq!((exit.side, exit.qty), (Side::Sell, Qty(20_000)));
}

#[test]
fn checks_refuse_an_exit_that_would_not_reduce() {
    let mut r = rig(Setup::default());
    r.adopt(&[(10_000, 6_000_000)], &[]);
    r.mid(BTC, 1, 6_000_000);
    let exit = |side, qty| OrderIntent {
        meta: meta(BTC, 1),
        instrument: BTC,
        side,
        px: Px(6_000_000),
        qty: Qty(qty),
        tif: TimeInForce::Ioc,
        tag: ENGINE_TAG,
        confidence_bps: 0,
        vol_bps: 0,
        origin: pulse_core::intent::Origin::Exit(ExitKind::StopLoss),
    };
    // A buy adds to a long; selling 0.0002 of 0.0001 flips it.
    assert_eq!(
        r.risk.on_intent(exit(Side::Buy, 1_000)),
        Err(RejectReason::NotReducing)
    );
    assert_eq!(
        r.risk.on_intent(exit(Side::Sell, 20_000)),
        Err(RejectReason::NotReducing)
    );
    assert!(r.risk.on_intent(exit(Side::Sell, 10_000)).is_ok());
}

#[test]
fn the_same_input_fires_the_same_exits_however_it_is_polled() {
    let rules = ExitRules {
        stop_loss: Some(ExitDistance::Bps(100)),
        trailing: Some(ExitDistance::Bps(30)),
        ..ExitRules::default()
    };
    let mids = [
        6_000_000, 6_020_000, 6_050_000, 6_032_000, 6_031_850, 6_020_000, 6_010_000,
    ];
    let run = |batched: bool| {
        let mut r = rig(Setup {
            rules: vec![rules],
            ..Setup::default()
        });
        r.adopt(&[(10_000, 6_000_000)], &[]);
        for (n, mid) in mids.into_iter().enumerate() {
            r.push_mid(BTC, n as u64, mid);
            if !batched {
                r.poll();
            }
        }
        r.poll();
        r.new_orders()
    };
    let one_by_one = run(false);
    // Best 60,500.00; trailing at 60,500 * 0.997 = 60,318.50: the fifth mid (60,318.50)
    // fires it, at its own market time, whether polled alone or in one batch.
    let [exit] = one_by_one[..] else {
        panic!("one exit: {one_by_one:?}");
    };
    assert_eq!(
        (exit.meta.recv_ts, exit.qty),
        (Nanos::from_millis(4), Qty(10_000))
    );
    // 60,318.50 * 0.99 = 59,715.315, up to the tick.
    assert_eq!(exit.px, Px(5_971_532));
    assert_eq!(run(true), one_by_one);
}

#[test]
fn an_exit_is_journaled_like_any_intent_with_its_origin() {
    use crate::decisions::{kind, u64_at, OutputJournal, STREAM};
    use pulse_journal::{Appender, JournalConfig, JournalReader};

    let dir = std::env::temp_dir().join(format!("pulse-risk-exit-journal-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (appender, service) = Appender::open(JournalConfig::new(&dir, STREAM)).expect("journal");
    let journal = OutputJournal::start(appender, Nanos(0)).expect("session");
    let mut r = rig(Setup {
        journal: Some(journal),
        ..rules(stop(100))
    });
    r.adopt(&[(10_000, 6_000_000)], &[]);
    r.mid(BTC, 2, 5_940_000);
    let [exit] = r.new_orders()[..] else {
        panic!("one exit order");
    };
    drop(r);
    assert!(service.shutdown().is_ok());
    let mut reader = JournalReader::open(&dir, STREAM).expect("reader");
    let mut seen = Vec::new();
    while let Ok(Some(rec)) = reader.next() {
        let p = rec.payload;
        match rec.kind {
            // Intent number, tag and origin code (16: stop-loss).
            kind::INTENT => seen.push((rec.kind, u64_at(p, 0), u64::from(p[34]), rec.timestamp)),
            kind::DECISION => seen.push((rec.kind, u64_at(p, 0), u64_at(p, 16), rec.timestamp)),
            kind::ORDER => seen.push((rec.kind, u64_at(p, 0), 0, rec.timestamp)),
            _ => {}
        }
        if rec.kind == kind::INTENT {
            assert_eq!(p[12..16], ENGINE_TAG.to_le_bytes());
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    let id = exit.client_id.0;
    assert_eq!(
        seen,
        [
            (kind::INTENT, 1, 16, 2_000_000),
            (kind::DECISION, 1, id, 2_000_000),
            (kind::ORDER, id, 0, 2_000_000),
        ]
    );
}
