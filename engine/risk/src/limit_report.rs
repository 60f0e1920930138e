//! The limits beside the figures they bound, for monitoring: each drawdown breaker's level,
//! the day's PnL, and every configured loss limit with how much of it is used. An alert rule
//! then compares two series of the same engine instead of repeating the config's numbers.

use pulse_core::metrics::{MetricLabel, MetricSink, Report};

use crate::account::{Account, ACCOUNT_SCALE};
use crate::counters::RiskCounter;
use crate::limits::PortfolioLimits;
use crate::published::{BookRiskLimits, PublishedRisk};
use crate::report::micros;

/// A borrowed view of the limits and the figures they bound.
pub(crate) struct LimitReport<'a> {
    pub limits: &'a PortfolioLimits,
    pub account: &'a Account,
    /// The portfolio limits and the latest figures, when the portfolio stage runs.
    pub book: Option<(&'a BookRiskLimits, &'a PublishedRisk)>,
}

impl LimitReport<'_> {
    pub(crate) fn emit(&self, out: MetricSink<'_>) {
        let l = self.limits;
        for (breaker, bps) in [
            ("halve", l.drawdown_halve_bps),
            ("restrict", l.drawdown_restrict_bps),
            ("stop", l.drawdown_stop_bps),
        ] {
            let label = MetricLabel::Tag("breaker", breaker);
            out(RiskCounter::DrawdownLimitBps.gauge(label, i64::from(bps)));
        }
        let day = self.account.day_pnl();
        out(RiskCounter::DayPnlMicro.gauge(MetricLabel::None, micros(day, ACCOUNT_SCALE)));
        let loss = (-day).max(0);
        limit(
            out,
            "daily_loss",
            micros(l.daily_loss_limit, ACCOUNT_SCALE),
            usage_bps(loss as f64, l.daily_loss_limit as f64),
        );
        let Some((book, f)) = self.book else {
            return;
        };
        if let Some(max) = book.max_var {
            limit(out, "var", f64_micros(max), usage_bps(f.var(), max));
        }
        if let Some(share) = book.max_correlated_exposure {
            let max = share * f.equity.max(0.0);
            let used = usage_bps(f.correlated, max);
            limit(out, "correlated_exposure", f64_micros(max), used);
        }
        if let Some(max) = book.max_stress_loss {
            let used = usage_bps(f.worst_stress, max);
            limit(out, "stress_loss", f64_micros(max), used);
        }
    }
}

fn limit(out: MetricSink<'_>, name: &'static str, micros: i64, usage_bps: i64) {
    let label = MetricLabel::Tag("limit", name);
    out(RiskCounter::RiskLimitMicro.gauge(label, micros));
    out(RiskCounter::RiskLimitUsageBps.gauge(label, usage_bps));
}

/// `used` as a share of `max` in bps; a zero limit counts as fully used once anything is.
fn usage_bps(used: f64, max: f64) -> i64 {
    if max <= 0.0 {
        return if used > 0.0 { 10_000 } else { 0 };
    }
    // `as` saturates, and NaN (figures not computed yet) becomes 0.
    (used.max(0.0) / max * 10_000.0).round() as i64
}

fn f64_micros(x: f64) -> i64 {
    (x * 1e6).round() as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use pulse_core::instrument::InstrumentRegistry;

    /// Capital 10,000 (default limits: daily loss 5% = 500, breakers 5/10/15%); VaR limit 5
    /// with a published VaR of z·σ = 2·1.5 = 3; stress limit 50 with a worst scenario of 40.
    #[test]
    fn limits_and_their_usage_as_monitoring_sees_them() {
        let capital = 10_000 * 10i128.pow(ACCOUNT_SCALE);
        let limits = PortfolioLimits::with_capital(capital);
        let account = Account::new(capital, &InstrumentRegistry::default());
        let book = BookRiskLimits {
            max_var: Some(5.0),
            max_correlated_exposure: None,
            max_stress_loss: Some(50.0),
        };
        let figures = PublishedRisk {
            z: 2.0,
            sigma2: 2.25,
            worst_stress: 40.0,
            ..PublishedRisk::default()
        };
        let mut seen = Vec::new();
        LimitReport {
            limits: &limits,
            account: &account,
            book: Some((&book, &figures)),
        }
        .emit(&mut |m| seen.push((m.desc.name, m.label, m.value)));
        let tag = |k, v| MetricLabel::Tag(k, v);
        let expected = [
            ("drawdown_limit_bps", tag("breaker", "halve"), 500),
            ("drawdown_limit_bps", tag("breaker", "restrict"), 1_000),
            ("drawdown_limit_bps", tag("breaker", "stop"), 1_500),
            ("day_pnl_micro", MetricLabel::None, 0),
            ("risk_limit_micro", tag("limit", "daily_loss"), 500_000_000),
            ("risk_limit_usage_bps", tag("limit", "daily_loss"), 0),
            ("risk_limit_micro", tag("limit", "var"), 5_000_000),
            ("risk_limit_usage_bps", tag("limit", "var"), 6_000),
            ("risk_limit_micro", tag("limit", "stress_loss"), 50_000_000),
            ("risk_limit_usage_bps", tag("limit", "stress_loss"), 8_000),
        ];
        assert_eq!(seen, expected);
    }

    #[test]
    fn usage_is_the_share_of_the_limit_in_bps() {
        assert_eq!(usage_bps(4.0, 5.0), 8_000);
        assert_eq!(usage_bps(7.5, 5.0), 15_000);
        assert_eq!(usage_bps(-1.0, 5.0), 0);
        assert_eq!(usage_bps(0.0, 0.0), 0);
        assert_eq!(usage_bps(0.1, 0.0), 10_000);
        assert_eq!(usage_bps(f64::NAN, 5.0), 0);
        assert_eq!(f64_micros(29.18), 29_180_000);
    }
}
