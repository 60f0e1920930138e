//! The portfolio stage's figures over a run, as the risk stage journaled them (RISK_FIGURES
//! records): the last publication and the worst of each figure over the run, for
//! `report.json` and `report.html`.

use serde::Serialize;

/// One publication, in the account currency.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RiskFigures {
    pub ts: u64,
    pub rows: u32,
    pub ready: bool,
    pub var95_hist: f64,
    pub var99_hist: f64,
    pub cvar95_hist: f64,
    pub cvar99_hist: f64,
    pub var95_param: f64,
    pub var99_param: f64,
    pub cvar95_param: f64,
    pub cvar99_param: f64,
    pub correlated: f64,
    pub equity: f64,
    /// The worst stress scenario's name and loss.
    pub worst_scenario: String,
    pub worst_stress: f64,
}

/// The run's portfolio risk: `null` in `report.json` when no portfolio stage ran.
#[derive(Debug, Serialize, PartialEq)]
pub struct PortfolioRisk {
    pub publications: u64,
    /// The last publication's figures (one sampling interval, account currency).
    pub last: Figures,
    /// The largest of each over the run, from the publications with enough rows.
    pub max: Figures,
}

#[derive(Debug, Default, Serialize, PartialEq)]
pub struct Figures {
    pub var95_hist: f64,
    pub var99_hist: f64,
    pub cvar95_hist: f64,
    pub cvar99_hist: f64,
    pub var95_param: f64,
    pub var99_param: f64,
    pub cvar95_param: f64,
    pub cvar99_param: f64,
    /// Correlated exposure as a share of equity.
    pub correlated_share: f64,
    pub worst_stress: f64,
    /// The scenario of `worst_stress`.
    pub worst_scenario: String,
}

impl Figures {
    fn of(f: &RiskFigures) -> Figures {
        Figures {
            var95_hist: f.var95_hist,
            var99_hist: f.var99_hist,
            cvar95_hist: f.cvar95_hist,
            cvar99_hist: f.cvar99_hist,
            var95_param: f.var95_param,
            var99_param: f.var99_param,
            cvar95_param: f.cvar95_param,
            cvar99_param: f.cvar99_param,
            correlated_share: share(f),
            worst_stress: f.worst_stress,
            worst_scenario: f.worst_scenario.clone(),
        }
    }

    fn widen(&mut self, f: &RiskFigures) {
        let pairs = [
            (&mut self.var95_hist, f.var95_hist),
            (&mut self.var99_hist, f.var99_hist),
            (&mut self.cvar95_hist, f.cvar95_hist),
            (&mut self.cvar99_hist, f.cvar99_hist),
            (&mut self.var95_param, f.var95_param),
            (&mut self.var99_param, f.var99_param),
            (&mut self.cvar95_param, f.cvar95_param),
            (&mut self.cvar99_param, f.cvar99_param),
            (&mut self.correlated_share, share(f)),
        ];
        for (slot, v) in pairs {
            *slot = slot.max(v);
        }
        if f.worst_stress > self.worst_stress {
            self.worst_stress = f.worst_stress;
            self.worst_scenario = f.worst_scenario.clone();
        }
    }
}

fn share(f: &RiskFigures) -> f64 {
    if f.equity > 0.0 {
        f.correlated / f.equity
    } else {
        0.0
    }
}

/// The summary of a run's publications; `None` without any.
pub fn summarize(figures: &[RiskFigures]) -> Option<PortfolioRisk> {
    let last = figures.last()?;
    let mut max = Figures::default();
    for f in figures.iter().filter(|f| f.ready) {
        max.widen(f);
    }
    Some(PortfolioRisk {
        publications: figures.len() as u64,
        last: Figures::of(last),
        max,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_and_the_worst_of_the_ready_publications() {
        let f = |ts, ready, var99_param, correlated, worst_stress: f64, name: &str| RiskFigures {
            ts,
            ready,
            var99_param,
            correlated,
            equity: 1_000.0,
            worst_stress,
            worst_scenario: name.into(),
            ..RiskFigures::default()
        };
        let run = [
            f(1, false, 99.0, 900.0, 500.0, "early"),
            f(2, true, 3.0, 50.0, 20.0, "btc"),
            f(3, true, 5.0, 20.0, 40.0, "eth"),
            f(4, true, 4.0, 10.0, 30.0, "btc"),
        ];
        let r = summarize(&run).unwrap();
        assert_eq!(r.publications, 4);
        assert_eq!(
            (r.last.var99_param, r.last.worst_scenario.as_str()),
            (4.0, "btc")
        );
        // Not ready: not in the maxima.
        assert_eq!(r.max.var99_param, 5.0);
        assert_eq!(r.max.correlated_share, 0.05);
        assert_eq!(
            (r.max.worst_stress, r.max.worst_scenario.as_str()),
            (40.0, "eth")
        );
        assert_eq!(summarize(&[]), None);
    }
}
