//! Capital allocation across strategies: how much of the equity each strategy may commit.
//!
//! Strategies are numbered 0..S (at most [`MAX_STRATEGIES`]) and every instrument belongs to
//! one ([`crate::account::Account::set_strategies`]). On a schedule in market time (every
//! `rebalance_every`, the first at the first market event of a fresh start) the [`Allocator`]
//! weighs the strategies and gives each `weight × equity`; the pre-trade checks then bound
//! what a strategy commits (its positions at their marks, its working orders and the new
//! order) by its capital (`RejectReason::AllocationLimit`).
//!
//! The weights ([`AllocationMode`]):
//! - **fixed**: configured weights summing to 1;
//! - **volatility target**: `target / sigma_s` each, scaled down together when they sum past 1
//!   (the rest stays cash);
//! - **risk parity**: inverse volatility, `1 / sigma_s` normalized to 1. Correlations between
//!   strategies are ignored: this is equal risk contribution only when they are uncorrelated;
//! - **equal risk contribution**: the weights whose contributions to the portfolio's variance,
//!   correlations counted, are equal (`weights::equal_risk`), normalized to 1.
//!
//! `sigma_s` is the sample standard deviation of strategy s's return per sampling interval
//! (`sample_every` of market time): the change of its PnL (realized + unrealized - fees of its
//! instruments, in the account currency) over the interval divided by the capital allocated to
//! it then, over the last `window` samples (a fixed window allocated at start); covariances
//! pair the returns of the same intervals. An interval in which some strategy has no capital
//! allocated gives no sample, and a gap with no market event gives one sample spanning it. Until the window holds `min_samples`, the last allocation's
//! weights are kept (those restored from the journal after a restart), or equal weights on a
//! fresh start. `sigma_s` is floored at `min_vol` so that a strategy that has not traded does
//! not take everything.
//!
//! Weights are kept in basis points, rounded down, and capital is `equity × bps / 10,000`
//! exactly: what the ALLOCATION record holds ([`crate::decisions`]), so that a restart
//! restores the same figures.

use anyhow::bail;
use pulse_core::num::Nanos;

use crate::decisions::{i128_at, u32_at, u64_at, ALLOCATION_LEN};

mod weights;

use weights::Window;

/// The most strategies an account allocates across (the ALLOCATION record's slots).
pub const MAX_STRATEGIES: usize = 8;

/// How the weights are chosen.
#[derive(Clone, Debug, PartialEq)]
pub enum AllocationMode {
    /// One weight per strategy, summing to 1.
    Fixed(Vec<f64>),
    /// `target_vol` is the return volatility per sampling interval each strategy is sized to
    /// (see [`per_interval`] to convert an annualized target).
    VolTarget { target_vol: f64 },
    /// Inverse volatility, normalized to 1 (correlations ignored).
    RiskParity,
    /// Equal contributions to the portfolio's variance, correlations counted.
    EqualRisk,
}

impl AllocationMode {
    fn code(&self) -> u8 {
        match self {
            AllocationMode::Fixed(_) => 0,
            AllocationMode::VolTarget { .. } => 1,
            AllocationMode::RiskParity => 2,
            AllocationMode::EqualRisk => 3,
        }
    }
}

/// An annualized volatility (365-day year, as crypto markets trade) as the volatility over
/// `interval`, scaling with the square root of time.
pub fn per_interval(annual: f64, interval: Nanos) -> f64 {
    const YEAR_NS: f64 = 365.0 * 86_400.0 * 1e9;
    annual * (interval.0 as f64 / YEAR_NS).sqrt()
}

#[derive(Clone, Debug, PartialEq)]
pub struct AllocationConfig {
    pub mode: AllocationMode,
    /// How many strategies (1 to [`MAX_STRATEGIES`]).
    pub strategies: usize,
    pub rebalance_every: Nanos,
    /// The volatility's sampling interval.
    pub sample_every: Nanos,
    /// Samples the volatility is measured over.
    pub window: usize,
    /// Samples the window needs before the volatilities weigh the strategies (at least 2).
    pub min_samples: usize,
    /// The least volatility a strategy is taken to have, per interval.
    pub min_vol: f64,
}

/// What the weights of an allocation came from. Codes are journaled: never renumber.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Basis {
    /// The configured fixed weights.
    Fixed = 0,
    /// Equal weights: too few samples, and no earlier allocation.
    Equal = 1,
    /// The measured volatilities.
    Measured = 2,
    /// The last allocation's weights: too few samples yet.
    Kept = 3,
}

impl Basis {
    pub fn name(self) -> &'static str {
        match self {
            Basis::Fixed => "fixed",
            Basis::Equal => "equal",
            Basis::Measured => "measured",
            Basis::Kept => "kept",
        }
    }
}

/// One rebalance: the weights and the capital each strategy may commit until the next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Allocation {
    /// Market time of the rebalance.
    pub at: Nanos,
    pub count: usize,
    /// Per strategy, in bps (the first `count`).
    pub weights_bps: [u32; MAX_STRATEGIES],
    /// Per strategy, at the account scale.
    pub capital: [i128; MAX_STRATEGIES],
    /// Equity at the rebalance, at the account scale.
    pub equity: i128,
    /// [`AllocationMode`] code: 0 fixed, 1 volatility target, 2 risk parity, 3 equal risk.
    pub mode: u8,
    pub basis: Basis,
}

impl Allocation {
    /// The name of [`Allocation::mode`], for `pulse journal dump`.
    pub fn mode_name(&self) -> &'static str {
        match self.mode {
            0 => "fixed",
            1 => "vol_target",
            2 => "risk_parity",
            3 => "equal_risk",
            _ => "unknown",
        }
    }

    /// The ALLOCATION payload (layout in [`crate::decisions`]).
    pub fn encode(&self) -> [u8; ALLOCATION_LEN] {
        let mut p = [0u8; ALLOCATION_LEN];
        p[0..8].copy_from_slice(&self.at.0.to_le_bytes());
        p[8] = self.count as u8;
        p[9] = self.mode;
        p[10] = self.basis as u8;
        for s in 0..MAX_STRATEGIES {
            let w = 16 + 4 * s;
            p[w..w + 4].copy_from_slice(&self.weights_bps[s].to_le_bytes());
            let c = 48 + 16 * s;
            p[c..c + 16].copy_from_slice(&self.capital[s].to_le_bytes());
        }
        p[176..192].copy_from_slice(&self.equity.to_le_bytes());
        p
    }

    /// An ALLOCATION payload read back (`pulse journal dump`, restore); `None` when malformed.
    pub fn decode(p: &[u8]) -> Option<Allocation> {
        if p.len() != ALLOCATION_LEN || usize::from(p[8]) > MAX_STRATEGIES {
            return None;
        }
        let basis = [Basis::Fixed, Basis::Equal, Basis::Measured, Basis::Kept]
            .into_iter()
            .find(|b| *b as u8 == p[10])?;
        let mut a = Allocation {
            at: Nanos(u64_at(p, 0)),
            count: usize::from(p[8]),
            weights_bps: [0; MAX_STRATEGIES],
            capital: [0; MAX_STRATEGIES],
            equity: i128_at(p, 176),
            mode: p[9],
            basis,
        };
        for s in 0..MAX_STRATEGIES {
            a.weights_bps[s] = u32_at(p, 16 + 4 * s);
            a.capital[s] = i128_at(p, 48 + 16 * s);
        }
        Some(a)
    }
}

/// Rebalances on schedule from what the account's strategies earn. Owned by the risk stage,
/// called with every market event: O(strategies) per sample, O(strategies² × window) per
/// rebalance (and a few thousand steps for equal risk), never allocating after
/// [`Allocator::new`].
#[derive(Clone, Debug)]
pub struct Allocator {
    config: AllocationConfig,
    window: Window,
    /// Each strategy's PnL at the last sample.
    last_pnl: [i128; MAX_STRATEGIES],
    next_sample: Option<Nanos>,
    next_rebalance: Option<Nanos>,
    current: Option<Allocation>,
}

/// What the allocator reads of the account: the equity and each strategy's PnL (realized plus
/// unrealized minus fees, at the account scale).
pub trait StrategyBook {
    fn equity(&self) -> i128;
    fn strategy_pnl(&self, strategy: usize) -> i128;
}

impl Allocator {
    pub fn new(config: AllocationConfig) -> anyhow::Result<Allocator> {
        let n = config.strategies;
        if n == 0 || n > MAX_STRATEGIES {
            bail!("allocation across 1 to {MAX_STRATEGIES} strategies, not {n}");
        }
        if config.rebalance_every.0 == 0 || config.sample_every.0 == 0 {
            bail!("the rebalance and sampling intervals must be positive");
        }
        if config.min_samples < 2 || config.window < config.min_samples {
            bail!("need 2 <= min_samples <= window");
        }
        if !positive(config.min_vol) {
            bail!("min_vol must be positive");
        }
        match &config.mode {
            AllocationMode::Fixed(w) => {
                let sum: f64 = w.iter().sum();
                if w.len() != n
                    || w.iter().any(|w| !(w.is_finite() && *w >= 0.0))
                    || (sum - 1.0).abs() > 1e-9
                {
                    bail!("fixed weights: {n} non-negative weights summing to 1, not {w:?}");
                }
            }
            AllocationMode::VolTarget { target_vol } if !positive(*target_vol) => {
                bail!("the volatility target must be positive")
            }
            _ => {}
        }
        Ok(Allocator {
            window: Window::new(config.window),
            config,
            last_pnl: [0; MAX_STRATEGIES],
            next_sample: None,
            next_rebalance: None,
            current: None,
        })
    }

    /// Continues from an allocation an earlier session journaled: its weights stand until
    /// the volatilities are measured again, and the schedule goes on from its time.
    pub fn restore(&mut self, allocation: Allocation) {
        self.next_rebalance = Some(allocation.at.saturating_add(self.config.rebalance_every));
        self.current = Some(allocation);
    }

    /// How many strategies it allocates across.
    pub fn strategies(&self) -> usize {
        self.config.strategies
    }

    /// The allocation in force.
    pub fn current(&self) -> Option<&Allocation> {
        self.current.as_ref()
    }

    /// A market event at `now`: samples the strategies' PnL and, when due, rebalances and
    /// returns the new allocation (for the account and the journal).
    pub fn on_market(&mut self, now: Nanos, account: &impl StrategyBook) -> Option<Allocation> {
        let n = self.config.strategies;
        let pnl = |s: usize| account.strategy_pnl(s);
        let Some(next_sample) = self.next_sample else {
            for s in 0..n {
                self.last_pnl[s] = pnl(s);
            }
            self.next_sample = Some(now.saturating_add(self.config.sample_every));
            // A fresh start rebalances at its first event; so does a session whose market
            // time begins before the allocation it restored (a recording replayed again into
            // the same journal), whose schedule would otherwise lie past its end.
            if self.current.is_none_or(|a| a.at > now) {
                self.next_rebalance = Some(now);
            }
            return self.due(now, account);
        };
        if now >= next_sample {
            let mut row = [0.0; MAX_STRATEGIES];
            let mut allocated = true;
            for (s, r) in row.iter_mut().enumerate().take(n) {
                let capital = self.current.map_or(0, |a| a.capital[s]);
                *r = (pnl(s) - self.last_pnl[s]) as f64 / capital.max(1) as f64;
                allocated &= capital > 0;
                self.last_pnl[s] = pnl(s);
            }
            if allocated {
                self.window.push(row);
            }
            self.next_sample = Some(advance(next_sample, self.config.sample_every, now));
        }
        self.due(now, account)
    }

    fn due(&mut self, now: Nanos, account: &impl StrategyBook) -> Option<Allocation> {
        let next = self.next_rebalance?;
        if now < next {
            return None;
        }
        self.next_rebalance = Some(advance(next, self.config.rebalance_every, now));
        let allocation = self.rebalance(now, account.equity());
        self.current = Some(allocation);
        Some(allocation)
    }

    /// The allocation of `equity` at `now` from the samples so far.
    fn rebalance(&self, now: Nanos, equity: i128) -> Allocation {
        let n = self.config.strategies;
        let floor = self.config.min_vol * self.config.min_vol;
        let cov = self
            .window
            .cov(n)
            .filter(|_| self.window.len() >= self.config.min_samples)
            .map(|mut cov| {
                for (i, row) in cov.iter_mut().enumerate().take(n) {
                    row[i] = row[i].max(floor);
                }
                cov
            });
        let measured = cov.is_some();
        let cov = cov.unwrap_or([[0.0; MAX_STRATEGIES]; MAX_STRATEGIES]);
        let mut sigmas = [0.0; MAX_STRATEGIES];
        for (i, sigma) in sigmas.iter_mut().enumerate().take(n) {
            *sigma = cov[i][i].sqrt();
        }
        let mut weights_bps = [0u32; MAX_STRATEGIES];
        let (weights, basis) = match &self.config.mode {
            AllocationMode::Fixed(w) => {
                let mut fixed = [0.0; MAX_STRATEGIES];
                fixed[..n].copy_from_slice(w);
                (fixed, Basis::Fixed)
            }
            _ if !measured => match self.current {
                Some(last) => {
                    weights_bps = last.weights_bps;
                    ([0.0; MAX_STRATEGIES], Basis::Kept)
                }
                None => (weights::equal(n), Basis::Equal),
            },
            AllocationMode::VolTarget { target_vol } => (
                weights::vol_target(*target_vol, &sigmas[..n]),
                Basis::Measured,
            ),
            AllocationMode::RiskParity => (weights::inverse_vol(&sigmas[..n]), Basis::Measured),
            AllocationMode::EqualRisk => (weights::equal_risk(&cov, n), Basis::Measured),
        };
        if basis != Basis::Kept {
            for (bps, w) in weights_bps.iter_mut().zip(&weights[..n]) {
                *bps = weights::to_bps(*w);
            }
        }
        let mut capital = [0i128; MAX_STRATEGIES];
        for (c, bps) in capital.iter_mut().zip(&weights_bps[..n]) {
            *c = equity.max(0) * i128::from(*bps) / 10_000;
        }
        Allocation {
            at: now,
            count: n,
            weights_bps,
            capital,
            equity,
            mode: self.config.mode.code(),
            basis,
        }
    }
}

/// A finite number above zero (not NaN).
fn positive(x: f64) -> bool {
    x.is_finite() && x > 0.0
}

/// The first time on the grid `t + k × every` after `now`.
fn advance(t: Nanos, every: Nanos, now: Nanos) -> Nanos {
    let steps = now.0.saturating_sub(t.0) / every.0 + 1;
    Nanos(t.0.saturating_add(steps.saturating_mul(every.0)))
}

#[cfg(test)]
mod tests;
