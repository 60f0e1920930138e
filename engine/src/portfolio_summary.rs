//! The end-of-run summary's portfolio lines: the last figures the portfolio stage computed,
//! and what the engine's own exits and flatten did.

use std::fmt::Write as _;

use pulse_core::intent::ExitKind;
use pulse_feeds::instrument::InstrumentRegistry;
use pulse_feeds::num::InstrumentId;

use crate::risk::flatten::FlattenOutcome;
use crate::risk::portfolio_stage::PortfolioStage;
use crate::risk::stage::RiskStage;

/// Exits fired by kind, exit orders refused, and each flatten's outcome; nothing when the
/// engine made no order of its own.
pub fn render_exits(s: &mut String, risk: &RiskStage, instruments: &InstrumentRegistry) {
    let c = &risk.counters;
    let fired: u64 = c.exits.iter().sum();
    if fired == 0 && c.exit_rejected == 0 {
        return;
    }
    let kinds: Vec<String> = ExitKind::ALL
        .iter()
        .map(|k| format!("{} {}", k.name(), c.exits[k.index()]))
        .collect();
    let _ = writeln!(
        s,
        "exits     {}; {} exit order(s) refused, {} working order(s) cancelled first",
        kinds.join(", "),
        c.exit_rejected,
        c.engine_cancels
    );
    let states: Vec<String> = risk
        .flatten_status()
        .iter()
        .enumerate()
        .filter_map(|(i, st)| {
            let name = instruments.display_name(InstrumentId(i as u16));
            match st.outcome {
                FlattenOutcome::Idle => None,
                FlattenOutcome::InProgress => Some(format!("{name} in progress")),
                FlattenOutcome::Closed => Some(format!("{name} closed")),
                FlattenOutcome::Unclosable(why) => {
                    Some(format!("{name} NOT CLOSED ({})", why.name()))
                }
            }
        })
        .collect();
    if !states.is_empty() {
        let _ = writeln!(s, "flatten   {}", states.join(", "));
    }
}

pub fn render(s: &mut String, stage: &PortfolioStage) {
    let p = stage.last_published();
    let f = stage.figures();
    let sum = &p.summary;
    let c = &stage.counters;
    let _ = writeln!(
        s,
        "portfolio {} snapshots, {} return rows ({}), {} figures published ({} without room)",
        c.snapshots,
        p.rows,
        if p.ready {
            "limits on"
        } else {
            "too few for the limits"
        },
        c.published,
        c.unpublished
    );
    let _ = writeln!(
        s,
        "          VaR 95/99% (one interval): historical {:.2} / {:.2}, parametric {:.2} / {:.2}; CVaR 95/99%: historical {:.2} / {:.2}, parametric {:.2} / {:.2}",
        sum.var95_hist, sum.var99_hist, sum.var95_param, sum.var99_param,
        sum.cvar95_hist, sum.cvar99_hist, sum.cvar95_param, sum.cvar99_param
    );
    let share = if p.equity > 0.0 {
        100.0 * p.correlated / p.equity
    } else {
        0.0
    };
    let _ = writeln!(
        s,
        "          correlated exposure {:.2} ({share:.2}% of equity {:.2})",
        p.correlated, p.equity
    );
    let stress: Vec<String> = stage
        .scenario_names()
        .iter()
        .zip(&f.stress)
        .map(|(name, loss)| format!("{name} {loss:.2}"))
        .collect();
    if !stress.is_empty() {
        let worst = stage
            .scenario_names()
            .get(usize::from(p.worst_scenario))
            .copied()
            .unwrap_or("-");
        let _ = writeln!(
            s,
            "          stress losses: {}; worst {worst} {:.2}",
            stress.join(", "),
            p.worst_stress
        );
    }
}
