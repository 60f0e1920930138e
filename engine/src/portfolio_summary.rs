//! The end-of-run summary's portfolio lines: the last figures the portfolio stage computed.

use std::fmt::Write as _;

use crate::risk::portfolio_stage::PortfolioStage;

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
