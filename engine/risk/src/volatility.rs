//! One instrument's volatility, for the volatility-scaled exits ([`crate::exits`]): bars of
//! the mid price on a fixed market-time interval (high, low, close of the mids whose receive
//! time falls in it), and over them two Wilder-smoothed estimates of the last `bars` bars:
//!
//! - `sigma`: the standard deviation of one interval's return, the root of the smoothed
//!   squared simple returns `(close - previous close) / previous close` (mean zero);
//! - `atr`: the average true range, `max(high - low, |high - prev close|, |low - prev close|)`,
//!   in price mantissa units.
//!
//! Both start as the plain mean of the first `bars` measurements, then each new one moves them
//! by `1/bars` of the difference (Wilder's smoothing). A measurement needs the bar before
//! it, so an estimate is ready after `bars + 1` completed bars; until then it is `None` and a
//! rule scaled by it does not fire. An interval without any mid makes no bar: the next bar's
//! return and true range span the gap. Market time only (no clock), so a replay measures the
//! same. Per mid: a few integer comparisons; floating point only when a bar closes.

use pulse_core::num::{Nanos, Px};

/// How volatility is measured: bar length and smoothing window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VolatilitySettings {
    /// Bar length in market time (1 s by default).
    pub interval: Nanos,
    /// Bars in the smoothing window, and bars needed before an estimate exists (14).
    pub bars: u32,
}

impl Default for VolatilitySettings {
    fn default() -> VolatilitySettings {
        VolatilitySettings {
            interval: Nanos::from_millis(1_000),
            bars: 14,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Bar {
    /// `recv_ts / interval` of its mids.
    index: u64,
    high: i64,
    low: i64,
    close: i64,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Volatility {
    interval: u64,
    bars: u32,
    bar: Option<Bar>,
    prev_close: Option<i64>,
    /// Measurements taken (returns, true ranges), saturating at `bars`.
    seen: u32,
    /// Smoothed squared return.
    var: f64,
    /// Smoothed true range, price mantissa units.
    atr: f64,
}

impl Volatility {
    pub fn new(settings: VolatilitySettings) -> Volatility {
        Volatility {
            interval: settings.interval.0.max(1),
            bars: settings.bars.max(1),
            bar: None,
            prev_close: None,
            seen: 0,
            var: 0.0,
            atr: 0.0,
        }
    }

    /// A mid at market time `at`: extends the current bar, or closes it and opens the next.
    /// A mid older than the current bar (never from one book) counts towards the current bar.
    pub fn on_mid(&mut self, mid: Px, at: Nanos) {
        let index = at.0 / self.interval;
        match &mut self.bar {
            Some(bar) if index <= bar.index => {
                bar.high = bar.high.max(mid.0);
                bar.low = bar.low.min(mid.0);
                bar.close = mid.0;
            }
            current => {
                let closed = current.replace(Bar {
                    index,
                    high: mid.0,
                    low: mid.0,
                    close: mid.0,
                });
                if let Some(bar) = closed {
                    self.close(bar);
                }
            }
        }
    }

    fn close(&mut self, bar: Bar) {
        if let Some(prev) = self.prev_close.filter(|p| *p > 0) {
            let ret = (bar.close - prev) as f64 / prev as f64;
            let range = (bar.high - bar.low)
                .max((bar.high - prev).abs())
                .max((bar.low - prev).abs()) as f64;
            self.seen = (self.seen + 1).min(self.bars);
            let weight = 1.0 / f64::from(self.seen);
            self.var += (ret * ret - self.var) * weight;
            self.atr += (range - self.atr) * weight;
        }
        self.prev_close = Some(bar.close);
    }

    fn ready(&self) -> bool {
        self.seen >= self.bars
    }

    /// Standard deviation of one interval's return (a fraction), once ready.
    pub fn sigma(&self) -> Option<f64> {
        self.ready().then(|| self.var.sqrt())
    }

    /// Average true range in price mantissa units, once ready.
    pub fn atr(&self) -> Option<f64> {
        self.ready().then_some(self.atr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(v: &mut Volatility, mids: &[(u64, i64)]) {
        for &(ms, mid) in mids {
            v.on_mid(Px(mid), Nanos::from_millis(ms));
        }
    }

    #[test]
    fn wilder_averages_of_one_second_bars() {
        let mut v = Volatility::new(VolatilitySettings {
            interval: Nanos::from_millis(1_000),
            bars: 2,
        });
        // Bars: [0 s] close 1000; [1 s] 1000..1030 close 1010; [2 s] 990..1010 close 990;
        // [3 s] opens (closes bar 2).
        feed(
            &mut v,
            &[
                (0, 1_000),
                (1_000, 1_000),
                (1_500, 1_030),
                (1_900, 1_010),
                (2_000, 1_010),
            ],
        );
        // One measurement so far (bar 1): not ready.
        feed(&mut v, &[(2_500, 990)]);
        assert_eq!((v.sigma(), v.atr()), (None, None));
        feed(&mut v, &[(3_000, 995)]);
        // Bar 1: return 10/1000 = 0.01, TR = max(30, 30, 0) = 30.
        // Bar 2: return -20/1010, TR = max(20, 0, 20) = 20. Mean of two (seeding).
        let r2 = -20.0 / 1_010.0;
        let var = (0.01f64 * 0.01 + r2 * r2) / 2.0;
        assert_eq!(v.atr(), Some(25.0));
        assert!((v.sigma().unwrap_or(0.0) - var.sqrt()).abs() < 1e-12);
        // Bar 3 (995 alone, closed by a mid 5 s in, over an empty interval): TR =
        // max(0, 5, 5) = 5; Wilder: 25 + (5 - 25) / 2 = 15.
        feed(&mut v, &[(5_000, 995)]);
        assert_eq!(v.atr(), Some(15.0));
    }
}
