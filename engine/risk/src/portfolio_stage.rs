//! The portfolio stage: risk across the book, beside the hot path. It takes the risk stage's
//! [`Snapshot`] of the account once per sampling interval, adds the interval's returns to the
//! model ([`crate::portfolio`]), recomputes VaR, CVaR, the covariance and correlation, the
//! correlated exposure and every stress scenario, and publishes the numbers the pre-trade
//! checks read ([`PublishedRisk`]) back to the risk stage.
//!
//! Which thread runs it is configuration (`[runtime.threads]`, stage `portfolio`); by default
//! it shares the risk stage's thread, where it runs between decisions, never inside one. The
//! computation is O(window · n²) once per interval and allocates nothing after start.
//! Everything it reads comes in the snapshots, so a replay publishes the same figures.

use pulse_core::metrics::{MetricLabel, MetricSink, Report};
use pulse_core::num::Nanos;
use pulse_core::stage::Stage;

use crate::counters::RiskCounter;
use crate::portfolio::{Figures, PortfolioModel, RiskModelConfig, StressScenario, Z95, Z99};
use crate::portfolio_link::Snapshot;
use crate::published::{InstrumentRisk, PublishedRisk, RiskSummary, MAX_BOOK_INSTRUMENTS};

pub struct PortfolioStage {
    model: PortfolioModel,
    scenarios: Vec<StressScenario>,
    /// Scenario names as metric labels (leaked once at start: labels are `'static`).
    labels: Vec<&'static str>,
    figures: Figures,
    exposures: Vec<f64>,
    z: f64,
    snapshots: rtrb::Consumer<Snapshot>,
    out: rtrb::Producer<PublishedRisk>,
    last: PublishedRisk,
    pub counters: PortfolioCounters,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PortfolioCounters {
    pub snapshots: u64,
    pub published: u64,
    /// Publications the risk stage had no room for (it keeps the previous figures).
    pub unpublished: u64,
}

/// The rings between the risk stage and the portfolio stage.
pub struct PortfolioRings {
    pub snapshots: rtrb::Consumer<Snapshot>,
    pub out: rtrb::Producer<PublishedRisk>,
}

impl PortfolioStage {
    /// A model of `n` instruments (at most [`MAX_BOOK_INSTRUMENTS`]); `confidence` (95 or 99)
    /// is the VaR the published limit figures use.
    pub fn new(
        n: usize,
        config: RiskModelConfig,
        confidence: u8,
        scenarios: Vec<StressScenario>,
        rings: PortfolioRings,
    ) -> anyhow::Result<PortfolioStage> {
        anyhow::ensure!(
            n <= MAX_BOOK_INSTRUMENTS,
            "the portfolio model covers at most {MAX_BOOK_INSTRUMENTS} instruments, not {n}"
        );
        crate::portfolio::check_scenarios(&scenarios, n)?;
        let labels = scenarios
            .iter()
            .map(|s| &*Box::leak(s.name().to_owned().into_boxed_str()))
            .collect();
        Ok(PortfolioStage {
            model: PortfolioModel::new(n, config)?,
            figures: Figures::new(n, scenarios.len()),
            labels,
            scenarios,
            exposures: vec![0.0; n],
            z: if confidence == 95 { Z95 } else { Z99 },
            snapshots: rings.snapshots,
            out: rings.out,
            last: PublishedRisk::default(),
            counters: PortfolioCounters::default(),
        })
    }

    /// The figures of the last computation.
    pub fn figures(&self) -> &Figures {
        &self.figures
    }

    pub fn last_published(&self) -> &PublishedRisk {
        &self.last
    }

    pub fn scenario_names(&self) -> &[&'static str] {
        &self.labels
    }

    fn on_snapshot(&mut self, s: &Snapshot) {
        self.counters.snapshots += 1;
        let n = self.exposures.len();
        // Every mark of the interval that just ended, then the interval closes: one row.
        let inside = Nanos(s.at.0.saturating_sub(1));
        for i in 0..n {
            self.model.on_mark(i, s.mids[i], inside);
            self.exposures[i] = s.exposures[i];
        }
        self.model.sampler_mut().close_until(s.at);
        self.model.compute(
            &self.exposures,
            s.equity,
            &self.scenarios,
            &mut self.figures,
        );
        self.last = publication(&self.figures, &self.exposures, s.equity, self.z);
        if self.out.push(self.last).is_ok() {
            self.counters.published += 1;
        } else {
            self.counters.unpublished += 1;
        }
    }
}

/// The numbers the hot path reads, from figures computed at `exposures` and `equity`, with
/// `z` the quantile of the limit's confidence.
pub fn publication(f: &Figures, exposures: &[f64], equity: f64, z: f64) -> PublishedRisk {
    let n = exposures.len().min(MAX_BOOK_INSTRUMENTS);
    let worst = f.worst_stress;
    let mut p = PublishedRisk {
        at: f.ts,
        rows: f.rows as u32,
        ready: f.ready,
        z,
        sigma2: f.sigma_p * f.sigma_p,
        correlated: f.correlated_gross,
        equity,
        worst_scenario: worst.map_or(0, |w| w.index as u16),
        worst_stress: worst.map_or(0.0, |w| w.loss),
        summary: RiskSummary {
            var95_hist: f.hist.var95,
            var99_hist: f.hist.var99,
            cvar95_hist: f.hist.cvar95,
            cvar99_hist: f.hist.cvar99,
            var95_param: f.param.var95,
            var99_param: f.param.var99,
            cvar95_param: f.param.cvar95,
            cvar99_param: f.param.cvar99,
        },
        instruments: [InstrumentRisk::default(); MAX_BOOK_INSTRUMENTS],
    };
    let width = exposures.len();
    for (i, r) in p.instruments.iter_mut().take(n).enumerate() {
        let row = &f.cov[i * width..(i + 1) * width];
        *r = InstrumentRisk {
            exposure: exposures[i],
            cov_portfolio: row.iter().zip(exposures).map(|(c, e)| c * e).sum(),
            variance: row[i],
            linked_buy: f.linked_buy[i],
            linked_sell: f.linked_sell[i],
            jump_buy: f.ce_jump_buy[i] * equity,
            jump_sell: f.ce_jump_sell[i] * equity,
            stress_buy: f.stress_up[i],
            stress_sell: f.stress_down[i],
        };
    }
    p
}

const SNAPSHOTS_PER_CALL: usize = 8;

impl Stage for PortfolioStage {
    fn name(&self) -> &'static str {
        "portfolio"
    }

    fn do_work(&mut self, _now: Nanos) -> usize {
        let mut work = 0;
        while work < SNAPSHOTS_PER_CALL {
            let Ok(s) = self.snapshots.pop() else {
                break;
            };
            self.on_snapshot(&s);
            work += 1;
        }
        work
    }

    fn report(&self, out: MetricSink<'_>) {
        let p = &self.last;
        let s = &p.summary;
        let none = MetricLabel::None;
        let micros = |v: f64| (v * 1e6).round().clamp(i64::MIN as f64, i64::MAX as f64) as i64;
        out(RiskCounter::PortfolioRows.gauge(none, i64::from(p.rows)));
        out(RiskCounter::PortfolioReady.gauge(none, i64::from(p.ready)));
        for (label, v) in [
            ("var95_hist", s.var95_hist),
            ("var99_hist", s.var99_hist),
            ("cvar95_hist", s.cvar95_hist),
            ("cvar99_hist", s.cvar99_hist),
            ("var95_param", s.var95_param),
            ("var99_param", s.var99_param),
            ("cvar95_param", s.cvar95_param),
            ("cvar99_param", s.cvar99_param),
        ] {
            out(RiskCounter::PortfolioVarMicro.gauge(MetricLabel::Tag("measure", label), micros(v)));
        }
        out(RiskCounter::CorrelatedExposureMicro.gauge(none, micros(p.correlated)));
        for (k, name) in self.labels.iter().enumerate() {
            let loss = self.figures.stress.get(k).copied().unwrap_or(0.0);
            let label = MetricLabel::Tag("scenario", name);
            out(RiskCounter::StressLossMicro.gauge(label, micros(loss)));
        }
        out(RiskCounter::PortfolioSnapshots.count(none, self.counters.snapshots));
        out(RiskCounter::PortfolioUnpublished.count(none, self.counters.unpublished));
    }
}
