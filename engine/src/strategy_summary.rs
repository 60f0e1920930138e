//! The end-of-run summary's strategy lines: each built-in strategy's counters (a set's members
//! one by one), the ensemble's agents, regimes and outside scores.

use std::fmt::Write as _;

use pulse_feeds::instrument::InstrumentRegistry;

use crate::agents::regime::Regime;
use crate::agents::AgentKind;
use crate::strategy::BuiltinStrategy;

/// One strategy's lines; `on` names its instrument within a set, `ring` is the stage's count of
/// intents lost to a full ring (given once, with the stage's first line).
pub(crate) fn render_strategy(
    s: &mut String,
    strategy: &BuiltinStrategy,
    on: &str,
    ring: Option<u64>,
    instruments: &InstrumentRegistry,
) {
    let lost = match ring {
        Some(n) => format!(" ({n} lost to a full ring)"),
        None => String::new(),
    };
    match strategy {
        BuiltinStrategy::Set(set) => {
            let _ = writeln!(
                s,
                "strategy  {} strategies in one stage{lost}",
                set.members().len()
            );
            for m in set.members() {
                let on = format!(" on {}", instruments.display_name(m.instrument));
                render_strategy(s, &m.strategy, &on, None, instruments);
            }
        }
        BuiltinStrategy::Imbalance(t) => {
            let c = &t.counters;
            let _ = writeln!(
                s,
                "strategy  book-imbalance{on}: {} book events, {} signals, {} intents{lost}",
                c.book_events, c.signals, c.intents
            );
        }
        BuiltinStrategy::MarketMaker(m) => {
            let c = &m.counters;
            let _ = writeln!(
                s,
                "strategy  market-maker{on}: {} book events; {} quotes, {} cancels ({} replaces, {} pulled on a stale book), {} inventory-capped, {} refused by risk{lost}",
                c.book_events, c.quotes, c.cancels, c.replaces, c.pulled_stale, c.inventory_capped, c.rejected
            );
            let _ = writeln!(
                s,
                "quotes    {} fills of our quotes, {} quotes working at the end",
                c.fills,
                m.working()
            );
        }
        BuiltinStrategy::Ensemble(e) => {
            let c = &e.counters;
            let _ = writeln!(
                s,
                "strategy  ensemble{on}: {} book events, {} trades; {} decisions at or above the minimum confidence, {} below; {} intents{lost}",
                c.book_events, c.trades, c.decisions, c.below_confidence, c.intents
            );
            let agents: Vec<String> = AgentKind::ALL
                .iter()
                .map(|a| {
                    let (_, scored, score) = e.meta().record(*a);
                    format!(
                        "{} {} (scored {scored}, {score:+.2} bps)",
                        a.name(),
                        c.signals[a.index()]
                    )
                })
                .collect();
            let _ = writeln!(s, "agents    signals: {}", agents.join(", "));
            let regimes: Vec<String> = Regime::ALL
                .iter()
                .map(|r| format!("{} {}", r.name(), c.regimes[r.index()]))
                .collect();
            let _ = writeln!(s, "regime    book events in each: {}", regimes.join(", "));
            if let Some(outside) = e.outside() {
                let _ = writeln!(
                    s,
                    "outside   {} scores applied from the signal file ({} dropped, too many pending)",
                    outside.applied, outside.overflow
                );
            }
        }
    }
}
