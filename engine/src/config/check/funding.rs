//! The simulated venue's funding for `[instruments.margin]`: a configured rate every interval
//! (`funding_rate_pct`, `funding_interval_h`), or the venue's recorded history
//! (`funding_file`).

use pulse_feeds::num::{parse_decimal, Nanos};
use pulse_gateways::sim::{Funding, FundingEvent};
use toml::Spanned;

use super::super::raw::RawMargin;
use super::super::ConfigError;
use super::Checker;

/// 8 hours, Binance's funding interval.
const DEFAULT_FUNDING_H: u64 = 8;
const HOUR_NS: u64 = 3_600 * 1_000_000_000;

impl Checker<'_> {
    /// `funding_rate_pct` (may be negative: shorts pay) every `funding_interval_h` hours
    /// (decimal, default 8), or `funding_file`; neither: no funding.
    pub(super) fn funding(
        &self,
        key: &str,
        raw: &RawMargin,
    ) -> Result<Option<Funding>, ConfigError> {
        if let (Some(file), Some(_)) = (&raw.funding_file, &raw.funding_rate_pct) {
            let message = "give funding_rate_pct or funding_file, not both";
            return Err(self.err(format!("{key}.funding_file"), file.span(), message));
        }
        if let Some(file) = &raw.funding_file {
            return self
                .funding_file(&format!("{key}.funding_file"), file)
                .map(Some);
        }
        let Some(rate) = &raw.funding_rate_pct else {
            if let Some(h) = &raw.funding_interval_h {
                let message = "needs funding_rate_pct";
                return Err(self.err(format!("{key}.funding_interval_h"), h.span(), message));
            }
            return Ok(None);
        };
        let text = rate.get_ref().0.trim();
        // A percentage at 6 decimals is the rate in 1e-8 (Binance's precision).
        let rate_e8 = signed_decimal(text, 6).ok_or_else(|| {
            let message = format!("`{text}` is not a percentage with at most 6 decimals");
            self.err(format!("{key}.funding_rate_pct"), rate.span(), message)
        })?;
        let interval = match &raw.funding_interval_h {
            Some(h) => {
                let k = format!("{key}.funding_interval_h");
                // Hours at 9 decimals: times 3600 is nanoseconds.
                let nano_h = self.positive(&k, h, 9, "a nanosecond")?;
                Nanos((nano_h as u64).saturating_mul(3_600))
            }
            None => Nanos(DEFAULT_FUNDING_H * HOUR_NS),
        };
        Ok(Some(Funding::Every { interval, rate_e8 }))
    }

    /// The venue's funding history, one settlement a line, `funding_time_ms,rate`: the
    /// settlement time in Unix milliseconds and Binance's `fundingRate`, a fraction with at most
    /// 8 decimals (`0.00010000` is 0.01%). Lines starting with a letter (a header) and empty
    /// lines are skipped; times must rise. Settlements before the run's first event do not
    /// settle (the venue starts its history there).
    fn funding_file(&self, key: &str, value: &Spanned<String>) -> Result<Funding, ConfigError> {
        let path = self.path(key, value)?;
        let text = std::fs::read_to_string(&path).map_err(|e| {
            self.err(
                key,
                value.span(),
                format!("cannot read {}: {e}", path.display()),
            )
        })?;
        let mut events: Vec<FundingEvent> = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with(|c: char| c.is_ascii_alphabetic()) {
                continue;
            }
            let bad = |why: &str| {
                let message = format!("{}: line {}: {why}: `{line}`", path.display(), n + 1);
                self.err(key, value.span(), message)
            };
            let (ms, rate) = line
                .split_once(',')
                .ok_or_else(|| bad("not `funding_time_ms,rate`"))?;
            let ms: u64 = ms
                .trim()
                .parse()
                .map_err(|_| bad("not a time in milliseconds"))?;
            let rate_e8 = signed_decimal(rate.trim(), 8)
                .ok_or_else(|| bad("not a rate with at most 8 decimals"))?;
            let ts = Nanos(ms.saturating_mul(1_000_000));
            if events.last().is_some_and(|e| e.ts >= ts) {
                return Err(bad("times must rise"));
            }
            events.push(FundingEvent { ts, rate_e8 });
        }
        Ok(Funding::Recorded(events))
    }
}

/// A decimal with an optional minus sign at `scale`, below 1 in absolute value times 10^scale
/// of one hundred percent (any rate a venue publishes).
fn signed_decimal(text: &str, scale: u32) -> Option<i64> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let m = parse_decimal(digits.as_bytes(), scale).ok()?;
    let one = 10i64.checked_pow(scale)?;
    (m < one).then_some(if negative { -m } else { m })
}
