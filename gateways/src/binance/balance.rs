//! The balance check: the venue's holdings against the positions reported.

use std::sync::atomic::Ordering;

use pulse_feeds::num::{parse_decimal, InstrumentId, Nanos};

use super::gateway::BinanceGatewayStage;
use super::json::{self, Value};

impl BinanceGatewayStage {
    /// The balances answer: each instrument's base asset (free plus locked) against the
    /// position reported. A difference is looked at again half a second later (a fill's
    /// report may still be on its way); if it is still there, trading halts.
    pub(super) fn on_account(&mut self, result: &[u8]) {
        let mut mismatch = false;
        for i in 0..self.instruments.len() {
            let Some(spec) = self.instruments.get(InstrumentId(i as u16)) else {
                continue;
            };
            if spec.base.is_empty() {
                // No base asset configured: nothing to compare.
                continue;
            }
            let base = spec.base.as_str();
            let scale = spec.qty_scale;
            let mut held = 0i64;
            let walked = json::fields(result, |k, v| {
                if k != b"balances" {
                    return;
                }
                let Value::Array(balances) = v else { return };
                let _ = json::elements(balances, |b| {
                    let Value::Object(b) = b else { return };
                    let (mut asset, mut free, mut locked) = (None, 0, 0);
                    let amount = |v: Value<'_>| {
                        v.text()
                            .and_then(|t| parse_decimal(t, scale).ok())
                            .unwrap_or(0)
                    };
                    let _ = json::fields(b, |k, v| match k {
                        b"asset" => asset = v.text(),
                        b"free" => free = amount(v),
                        b"locked" => locked = amount(v),
                        _ => {}
                    });
                    if asset == Some(base.as_bytes()) {
                        held += free + locked;
                    }
                });
            });
            if walked.is_err() {
                self.counters.malformed += 1;
                return;
            }
            mismatch |= self
                .orders
                .reports
                .positions()
                .get(i)
                .is_some_and(|&p| p != held);
        }
        match (mismatch, self.recheck_at) {
            (false, _) => self.recheck_at = None,
            (true, None) => {
                self.recheck_at = Some(self.now.saturating_add(Nanos::from_millis(500)))
            }
            (true, Some(_)) => {
                self.recheck_at = None;
                self.counters.balance_mismatches += 1;
                if let Some(halt) = &self.settings.halt {
                    // Release: the risk stage reads the kill switch with Acquire.
                    halt.store(true, Ordering::Release);
                }
            }
        }
    }
}
