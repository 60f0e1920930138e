//! The risk state that outlives a session: the trading mode and why, the drawdown breaker's
//! level, the high-water mark, the PnL brought from earlier sessions and the market day with
//! the equity it began with. The risk stage, its single owner, journals it as a RISK_STATE
//! record of the output stream whenever it changes (see [`crate::decisions`] for the layout),
//! and the next session starts from the last such record (`restore.rs`): a halt,
//! a breaker and the day's loss survive a restart; only an operator's `pulse rearm` lifts a
//! halt, and the re-arm is journaled with its sender's uid and time.

use pulse_core::num::Nanos;

use crate::account::Account;
use crate::decisions::{i128_at, u32_at, u64_at, OutputJournal, RISK_STATE_LEN};
use crate::halt::HaltReason;
use crate::kill::{KillSwitch, Rearm, TradingMode};
use crate::limits::PortfolioLimits;

/// How far the drawdown breaker has tripped, from the configured levels (5/10/15% by default).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum BreakerLevel {
    Clear = 0,
    /// Order sizes are halved.
    Halve = 1,
    /// Only the conservative agent trades.
    ConservativeOnly = 2,
    /// Trading stops.
    Stop = 3,
}

impl BreakerLevel {
    pub fn of(drawdown_bps: i64, p: &PortfolioLimits) -> BreakerLevel {
        if drawdown_bps >= i64::from(p.drawdown_stop_bps) {
            BreakerLevel::Stop
        } else if drawdown_bps >= i64::from(p.drawdown_restrict_bps) {
            BreakerLevel::ConservativeOnly
        } else if drawdown_bps >= i64::from(p.drawdown_halve_bps) {
            BreakerLevel::Halve
        } else {
            BreakerLevel::Clear
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            BreakerLevel::Clear => "clear",
            BreakerLevel::Halve => "halve",
            BreakerLevel::ConservativeOnly => "conservative_only",
            BreakerLevel::Stop => "stop",
        }
    }

    fn from_code(code: u8) -> BreakerLevel {
        match code {
            1 => BreakerLevel::Halve,
            2 => BreakerLevel::ConservativeOnly,
            3 => BreakerLevel::Stop,
            _ => BreakerLevel::Clear,
        }
    }
}

/// What made the risk stage journal its state. Codes are journaled: never renumber.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cause {
    /// The state the session starts from (restored, reconciled, the kill file read).
    Start = 0,
    Mode = 1,
    Breaker = 2,
    /// A fill moved the realized PnL.
    Fill = 3,
    /// A new UTC market day began.
    Day = 4,
    /// The high-water mark rose by at least [`HWM_STEP_BPS`] since it was last journaled.
    HighWater = 5,
    /// An operator re-armed.
    Rearm = 6,
}

impl Cause {
    pub fn name(self) -> &'static str {
        match self {
            Cause::Start => "start",
            Cause::Mode => "mode",
            Cause::Breaker => "breaker",
            Cause::Fill => "fill",
            Cause::Day => "day",
            Cause::HighWater => "high_water",
            Cause::Rearm => "rearm",
        }
    }
}

/// A rise of the high-water mark alone is journaled once it passes the last journaled one by
/// this much: a restart may understate the drawdown by less than this.
pub const HWM_STEP_BPS: i128 = 1;

/// The state as journaled. Amounts at the account scale.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RiskState {
    pub mode: TradingMode,
    pub reason: Option<HaltReason>,
    pub level: BreakerLevel,
    pub hwm: i128,
    /// Realized PnL minus fees over every session so far.
    pub realized: i128,
    /// The UTC day (of market time) the day's PnL counts from, and the equity it began with.
    pub day: Option<u64>,
    pub day_start: i128,
    /// Equity when journaled (with the day start, the day's PnL).
    pub equity: i128,
}

impl RiskState {
    pub fn of(account: &Account, kill: &KillSwitch, limits: &PortfolioLimits) -> RiskState {
        RiskState {
            mode: kill.mode(),
            reason: kill.reason(),
            level: BreakerLevel::of(account.drawdown_bps(), limits),
            hwm: account.high_water_mark(),
            realized: account.realized(),
            day: account.day(),
            day_start: account.day_start(),
            equity: account.equity(),
        }
    }

    /// Why `self` should be journaled after `last`, if it should.
    fn changed_since(&self, last: &RiskState) -> Option<Cause> {
        if (self.mode, self.reason) != (last.mode, last.reason) {
            Some(Cause::Mode)
        } else if self.level != last.level {
            Some(Cause::Breaker)
        } else if self.day != last.day {
            Some(Cause::Day)
        } else if self.realized != last.realized {
            Some(Cause::Fill)
        } else if self.hwm > last.hwm.max(0).saturating_mul(10_000 + HWM_STEP_BPS) / 10_000 {
            Some(Cause::HighWater)
        } else {
            None
        }
    }

    /// The RISK_STATE payload.
    pub fn encode(&self, cause: Cause, rearm: Option<Rearm>) -> [u8; RISK_STATE_LEN] {
        let mut p = [0u8; RISK_STATE_LEN];
        p[0] = cause as u8;
        p[1] = self.mode as u8;
        p[2] = self.reason.map_or(0, HaltReason::code);
        p[3] = self.level as u8;
        if let Some(r) = rearm {
            p[4..8].copy_from_slice(&r.uid.to_le_bytes());
            p[8..16].copy_from_slice(&r.at_unix_ns.to_le_bytes());
        }
        p[16..32].copy_from_slice(&self.hwm.to_le_bytes());
        p[32..48].copy_from_slice(&self.realized.to_le_bytes());
        p[48..64].copy_from_slice(&self.day_start.to_le_bytes());
        p[64..72].copy_from_slice(&self.day.unwrap_or(u64::MAX).to_le_bytes());
        p[72..88].copy_from_slice(&self.equity.to_le_bytes());
        p
    }

    /// A RISK_STATE payload read back: the state, what caused it and the re-arm it records.
    pub fn decode(p: &[u8]) -> Option<(RiskState, Cause, Option<Rearm>)> {
        if p.len() != RISK_STATE_LEN {
            return None;
        }
        let cause = [
            Cause::Start,
            Cause::Mode,
            Cause::Breaker,
            Cause::Fill,
            Cause::Day,
            Cause::HighWater,
            Cause::Rearm,
        ]
        .into_iter()
        .find(|c| *c as u8 == p[0])?;
        let mode = match p[1] {
            0 => TradingMode::Armed,
            1 => TradingMode::ReduceOnly,
            _ => TradingMode::Killed,
        };
        let day = u64_at(p, 64);
        let state = RiskState {
            mode,
            reason: HaltReason::from_code(p[2]),
            level: BreakerLevel::from_code(p[3]),
            hwm: i128_at(p, 16),
            realized: i128_at(p, 32),
            day_start: i128_at(p, 48),
            day: (day != u64::MAX).then_some(day),
            equity: i128_at(p, 72),
        };
        let rearm = (cause == Cause::Rearm).then(|| Rearm {
            uid: u32_at(p, 4),
            at_unix_ns: u64_at(p, 8),
        });
        Some((state, cause, rearm))
    }

    /// For the operator at start: `killed (operator), breaker conservative_only`.
    pub fn describe(&self) -> String {
        let mode = match self.reason {
            Some(r) if self.mode == TradingMode::Killed => format!("killed ({})", r.name()),
            _ => self.mode.name().to_owned(),
        };
        format!("{mode}, breaker {}", self.level.name())
    }
}

/// The risk stage's memory of what it journaled last, so that it journals only changes.
#[derive(Clone, Copy, Debug, Default)]
pub struct StateWatch {
    last: Option<RiskState>,
}

impl StateWatch {
    /// Journals the state now at market time `at` when it changed since the last record
    /// (always for [`Cause::Start`] and [`Cause::Rearm`]). Nothing without a journal.
    #[allow(clippy::too_many_arguments)]
    pub fn observe(
        &mut self,
        journal: &mut Option<OutputJournal>,
        account: &Account,
        kill: &KillSwitch,
        limits: &PortfolioLimits,
        at: Nanos,
        forced: Option<(Cause, Option<Rearm>)>,
    ) {
        let Some(journal) = journal else {
            return;
        };
        let now = RiskState::of(account, kill, limits);
        let cause = match (forced, &self.last) {
            (Some(forced), _) => Some(forced),
            (None, None) => Some((Cause::Start, None)),
            (None, Some(last)) => now.changed_since(last).map(|c| (c, None)),
        };
        if let Some((cause, rearm)) = cause {
            journal.risk_state(at, &now.encode(cause, rearm));
            self.last = Some(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> RiskState {
        RiskState {
            mode: TradingMode::Killed,
            reason: Some(HaltReason::ReconcileMismatch),
            level: BreakerLevel::ConservativeOnly,
            hwm: 10_000,
            realized: -1_100,
            day: Some(19_943),
            day_start: 9_500,
            equity: 8_900,
        }
    }

    #[test]
    fn a_state_reads_back_as_written() {
        let s = state();
        let rearm = Rearm {
            uid: 1000,
            at_unix_ns: 1_733_390_000_000_000_000,
        };
        assert_eq!(
            RiskState::decode(&s.encode(Cause::Rearm, Some(rearm))),
            Some((s, Cause::Rearm, Some(rearm)))
        );
        let fresh = RiskState {
            day: None,
            reason: None,
            mode: TradingMode::Armed,
            ..s
        };
        assert_eq!(
            RiskState::decode(&fresh.encode(Cause::Start, None)),
            Some((fresh, Cause::Start, None))
        );
        assert_eq!(RiskState::decode(&[0u8; 12]), None);
    }

    #[test]
    fn only_changes_that_matter_are_journaled() {
        let last = state();
        assert_eq!(last.changed_since(&last), None);
        let up = |hwm| RiskState { hwm, ..last };
        assert_eq!(up(10_000).changed_since(&last), None);
        assert_eq!(up(10_001).changed_since(&last), None, "below one bp");
        assert_eq!(up(10_002).changed_since(&last), Some(Cause::HighWater));
        let armed = RiskState {
            mode: TradingMode::Armed,
            reason: None,
            ..last
        };
        assert_eq!(armed.changed_since(&last), Some(Cause::Mode));
        let fill = RiskState {
            realized: 0,
            ..last
        };
        assert_eq!(fill.changed_since(&last), Some(Cause::Fill));
        let mut p = PortfolioLimits::with_capital(1);
        (
            p.drawdown_halve_bps,
            p.drawdown_restrict_bps,
            p.drawdown_stop_bps,
        ) = (500, 1_000, 1_500);
        let levels: Vec<BreakerLevel> = [0, 499, 500, 999, 1_000, 1_499, 1_500, 10_000]
            .into_iter()
            .map(|bps| BreakerLevel::of(bps, &p))
            .collect();
        use BreakerLevel::*;
        assert_eq!(
            levels,
            [
                Clear,
                Clear,
                Halve,
                Halve,
                ConservativeOnly,
                ConservativeOnly,
                Stop,
                Stop
            ]
        );
    }
}
