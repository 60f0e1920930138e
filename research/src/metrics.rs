//! The portfolio metrics, each as the README's "Research" section defines it, on the simple
//! returns of the equity curve's grid (`r_k = E_k / E_{k-1} - 1`, k from 1). Annualized figures
//! scale by `A` = grid intervals in a 365-day year (crypto trades every day, all day).
//! Definitions follow the reference implementations the test checks against (empyrical's for
//! everything it has; scipy's normal quantiles for the parametric figures): sample standard
//! deviations (n - 1), historical VaR as the linearly interpolated quantile, historical CVaR as
//! the mean of the returns at or below the `floor((n - 1) alpha)`-th smallest.

use serde::{Deserialize, Serialize};

/// Seconds in the 365-day year the annualization uses.
pub const YEAR_SECONDS: f64 = 365.0 * 86_400.0;

/// The standard normal quantiles at 5% and 1% (`scipy.stats.norm.ppf`), to full precision.
const Z_05: f64 = -1.644_853_626_951_472_7;
const Z_01: f64 = -2.326_347_874_040_840_8;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Portfolio {
    /// Intervals a year: `365 * 86400 s / interval`.
    pub periods_per_year: f64,
    pub intervals: u64,
    pub start_equity: f64,
    pub end_equity: f64,
    pub total_return: f64,
    pub annual_return: f64,
    pub annual_volatility: f64,
    pub sharpe: f64,
    pub sortino: f64,
    pub calmar: f64,
    pub max_drawdown: f64,
    /// The longest stretch below a previous peak (to recovery, or to the end), seconds.
    pub max_drawdown_duration_s: f64,
    pub var_hist_95: f64,
    pub var_hist_99: f64,
    pub cvar_hist_95: f64,
    pub cvar_hist_99: f64,
    pub var_param_95: f64,
    pub var_param_99: f64,
    pub cvar_param_95: f64,
    pub cvar_param_99: f64,
}

fn mean(x: &[f64]) -> f64 {
    x.iter().fold(0.0, |a, b| a + b) / x.len() as f64
}

/// Sample standard deviation (n - 1).
fn std(x: &[f64]) -> f64 {
    let m = mean(x);
    (x.iter().map(|v| (v - m) * (v - m)).fold(0.0, |a, b| a + b) / (x.len() as f64 - 1.0)).sqrt()
}

/// The `q` quantile of ascending `sorted`, linearly interpolated between the closest ranks
/// (numpy's default); NaN when empty.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let pos = q * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    let frac = pos - lo as f64;
    sorted[lo] + (sorted[hi] - sorted[lo]) * frac
}

fn cvar_hist(sorted: &[f64], alpha: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let cut = ((sorted.len() - 1) as f64 * alpha) as usize;
    mean(&sorted[..=cut])
}

fn phi(z: f64) -> f64 {
    (-z * z / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

/// `equity` on the grid, `ts` its times (ns).
pub fn portfolio(equity: &[f64], ts: &[u64], interval_ns: u64) -> Portfolio {
    let a = YEAR_SECONDS / (interval_ns as f64 / 1e9);
    let r: Vec<f64> = equity.windows(2).map(|w| w[1] / w[0] - 1.0).collect();
    let n = r.len() as f64;
    let (Some(&first), Some(&last)) = (equity.first(), equity.last()) else {
        return Portfolio {
            periods_per_year: a,
            ..Portfolio::default()
        };
    };
    // As empyrical: the compounded returns from a start of 1.
    let mut growth = 1.0;
    let mut peak = 1.0f64;
    let mut max_dd = 0.0f64;
    for x in &r {
        growth *= 1.0 + x;
        peak = peak.max(growth);
        max_dd = max_dd.min((growth - peak) / peak);
    }
    let total = growth - 1.0;
    let annual = growth.powf(a / n) - 1.0;
    let (m, s) = (mean(&r), std(&r));
    let downside =
        (r.iter().map(|x| x.min(0.0).powi(2)).fold(0.0, |a, b| a + b) / n).sqrt() * a.sqrt();
    let mut sorted = r.clone();
    sorted.sort_by(f64::total_cmp);
    Portfolio {
        periods_per_year: a,
        intervals: r.len() as u64,
        start_equity: first,
        end_equity: last,
        total_return: total,
        annual_return: annual,
        annual_volatility: s * a.sqrt(),
        sharpe: m / s * a.sqrt(),
        sortino: m * a / downside,
        // As empyrical: undefined without a drawdown, or when it would be infinite.
        calmar: match annual / max_dd.abs() {
            c if max_dd < 0.0 && c.is_finite() => c,
            _ => f64::NAN,
        },
        max_drawdown: max_dd,
        max_drawdown_duration_s: drawdown_duration(equity, ts),
        var_hist_95: quantile(&sorted, 0.05),
        var_hist_99: quantile(&sorted, 0.01),
        cvar_hist_95: cvar_hist(&sorted, 0.05),
        cvar_hist_99: cvar_hist(&sorted, 0.01),
        var_param_95: m + Z_05 * s,
        var_param_99: m + Z_01 * s,
        cvar_param_95: m - s * phi(Z_05) / 0.05,
        cvar_param_99: m - s * phi(Z_01) / 0.01,
    }
}

/// The longest time from a peak until equity is back at it (or the end), seconds.
fn drawdown_duration(equity: &[f64], ts: &[u64]) -> f64 {
    let mut longest = 0u64;
    let mut peak = (f64::NEG_INFINITY, 0u64);
    for (&e, &t) in equity.iter().zip(ts) {
        if e >= peak.0 {
            peak = (e, t);
        }
        longest = longest.max(t - peak.1);
    }
    longest as f64 / 1e9
}

/// Statistics of closed round trips' PnL.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Trades {
    pub round_trips: u64,
    pub wins: u64,
    pub losses: u64,
    pub win_rate: f64,
    pub profit_factor: f64,
    pub avg_win: f64,
    pub avg_loss: f64,
    pub expectancy: f64,
    pub total_pnl: f64,
}

pub fn trades(pnl: &[f64]) -> Trades {
    let wins: Vec<f64> = pnl.iter().copied().filter(|p| *p > 0.0).collect();
    let losses: Vec<f64> = pnl.iter().copied().filter(|p| *p < 0.0).collect();
    let gross_win: f64 = wins.iter().fold(0.0, |a, b| a + b);
    let gross_loss: f64 = losses.iter().fold(0.0, |a, b| a + b);
    Trades {
        round_trips: pnl.len() as u64,
        wins: wins.len() as u64,
        losses: losses.len() as u64,
        win_rate: wins.len() as f64 / pnl.len() as f64,
        // Undefined without a losing trade.
        profit_factor: if losses.is_empty() {
            f64::NAN
        } else {
            gross_win / gross_loss.abs()
        },
        avg_win: gross_win / wins.len() as f64,
        avg_loss: gross_loss / losses.len() as f64,
        expectancy: pnl.iter().fold(0.0, |a, b| a + b) / pnl.len() as f64,
        total_pnl: pnl.iter().fold(0.0, |a, b| a + b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hand-checked curve: 100, 110, 99, 105 on a one-second grid.
    #[test]
    fn a_small_curve() {
        let e = [100.0, 110.0, 99.0, 105.0];
        let p = portfolio(
            &e,
            &[0, 1_000_000_000, 2_000_000_000, 3_000_000_000],
            1_000_000_000,
        );
        assert!((p.total_return - 0.05).abs() < 1e-12);
        assert!((p.max_drawdown - (99.0 / 110.0 - 1.0)).abs() < 1e-12);
        assert_eq!(p.max_drawdown_duration_s, 2.0);
        // r = 0.1, -0.1, 0.0606...: the 5% quantile interpolates between -0.1 and 0.0606.
        let r = [0.1, 99.0 / 110.0 - 1.0, 105.0 / 99.0 - 1.0];
        let want = r[1] + (r[2] - r[1]) * 0.1;
        assert!((p.var_hist_95 - want).abs() < 1e-12, "{}", p.var_hist_95);
        assert!((p.cvar_hist_95 - (99.0 / 110.0 - 1.0)).abs() < 1e-15);
        let t = trades(&[2.0, -1.0, 3.0, -1.0]);
        assert_eq!((t.wins, t.losses), (2, 2));
        assert_eq!(t.profit_factor, 2.5);
        assert_eq!(t.expectancy, 0.75);
    }
}
