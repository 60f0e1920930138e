//! Where a session's risk state comes from at start: the RISK_STATE records of an output
//! stream ([`crate::state`]).
//!
//! `pulse run` continues from the last record of the journal it opens, whatever session wrote
//! it. A replay of a journal directory (`pulse replay --input DIR --config`) decides again what
//! the recorded session decided, so it starts from the state that session started from: the
//! first record of DIR's last session (none when it started fresh, as the demo does).

use std::path::Path;

use anyhow::Context as _;
use pulse_journal::JournalReader;

use crate::allocation::Allocation;
use crate::decisions::{self, kind};
use crate::state::{Cause, RiskState};

/// The risk states an output stream holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RestorePoint {
    /// The last state journaled, by any session.
    pub last: Option<RiskState>,
    /// The state the last session started from.
    pub session_start: Option<RiskState>,
}

/// Reads the output stream of the journal at `dir` (nothing when it has none).
pub fn read(dir: &Path) -> anyhow::Result<RestorePoint> {
    let mut point = RestorePoint::default();
    if !dir.join(decisions::STREAM).exists() {
        return Ok(point);
    }
    let mut reader = JournalReader::open(dir, decisions::STREAM)
        .with_context(|| format!("cannot read the output journal in {}", dir.display()))?;
    let mut in_session_start = false;
    while let Some(r) = reader.next().context("the output journal is unreadable")? {
        match r.kind {
            kind::SESSION => {
                point.session_start = None;
                in_session_start = true;
            }
            kind::RISK_STATE => {
                let (state, cause, _) = RiskState::decode(r.payload).with_context(|| {
                    format!(
                        "the risk state at sequence {} of the output journal in {} is malformed",
                        r.sequence,
                        dir.display()
                    )
                })?;
                if in_session_start && cause == Cause::Start {
                    point.session_start = Some(state);
                }
                in_session_start = false;
                point.last = Some(state);
            }
            _ => {}
        }
    }
    Ok(point)
}

/// The last capital allocation journaled in the output stream at `dir`, by any session
/// (`None` when there is none): `pulse run` starts its strategies' capital from it.
pub fn last_allocation(dir: &Path) -> anyhow::Result<Option<Allocation>> {
    Ok(allocations(dir)?.0)
}

/// The allocation the last session of the output stream at `dir` started from (the last one
/// journaled before it): a replay of that directory starts from it, as the session did.
pub fn session_start_allocation(dir: &Path) -> anyhow::Result<Option<Allocation>> {
    Ok(allocations(dir)?.1)
}

/// The last allocation journaled, and the last one before the last session began.
fn allocations(dir: &Path) -> anyhow::Result<(Option<Allocation>, Option<Allocation>)> {
    let (mut last, mut before_session) = (None, None);
    if !dir.join(decisions::STREAM).exists() {
        return Ok((last, before_session));
    }
    let mut reader = JournalReader::open(dir, decisions::STREAM)
        .with_context(|| format!("cannot read the output journal in {}", dir.display()))?;
    while let Some(r) = reader.next().context("the output journal is unreadable")? {
        match r.kind {
            kind::SESSION => before_session = last,
            kind::ALLOCATION => {
                let a = Allocation::decode(r.payload).with_context(|| {
                    format!(
                        "the allocation at sequence {} of the output journal in {} is malformed",
                        r.sequence,
                        dir.display()
                    )
                })?;
                last = Some(a);
            }
            _ => {}
        }
    }
    Ok((last, before_session))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::{Account, ACCOUNT_SCALE};
    use crate::allocation::{AllocationConfig, AllocationMode, Allocator, Basis, MAX_STRATEGIES};
    use crate::decisions::OutputJournal;
    use pulse_core::instrument::InstrumentRegistry;
    use pulse_core::num::Nanos;
    use pulse_journal::{Appender, JournalConfig};

    const USDT: i128 = 10i128.pow(ACCOUNT_SCALE);

    fn allocation(at: u64, weights: [u32; 2]) -> Allocation {
        let mut a = Allocation {
            at: Nanos(at),
            count: 2,
            weights_bps: [0; MAX_STRATEGIES],
            capital: [0; MAX_STRATEGIES],
            equity: 10_000 * USDT,
            mode: 2,
            basis: Basis::Measured,
        };
        a.weights_bps[..2].copy_from_slice(&weights);
        for (c, w) in a.capital.iter_mut().zip(weights) {
            *c = 10_000 * USDT * i128::from(w) / 10_000;
        }
        a
    }

    /// One session of the output stream at `dir`, journaling `allocations`.
    fn session(dir: &Path, allocations: &[Allocation]) {
        let mut cfg = JournalConfig::new(dir, decisions::STREAM);
        cfg.segment_bytes = 64 * 1024;
        let (appender, service) = Appender::open(cfg).unwrap();
        let mut journal = OutputJournal::start(appender, Nanos(1)).unwrap();
        for a in allocations {
            journal.allocation(a.at, &a.encode());
        }
        drop(journal);
        service.shutdown().unwrap();
    }

    #[test]
    fn the_last_allocation_journaled_survives_a_restart() {
        let dir = std::env::temp_dir().join(format!("pulse-allocation-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        assert_eq!(last_allocation(&dir).unwrap(), None, "no journal yet");
        let (first, second) = (
            allocation(100, [5_000, 5_000]),
            allocation(200, [3_333, 6_666]),
        );
        session(&dir, &[first, second]);
        session(&dir, &[]);
        // A later session that did not rebalance leaves the last one standing.
        assert_eq!(last_allocation(&dir).unwrap(), Some(second));
        assert_eq!(session_start_allocation(&dir).unwrap(), Some(second));
        // Restored: the next rebalance (60 s after it), too early to measure, keeps its weights.
        let mut alloc = Allocator::new(AllocationConfig {
            mode: AllocationMode::RiskParity,
            strategies: 2,
            rebalance_every: Nanos(60),
            sample_every: Nanos(10),
            window: 20,
            min_samples: 20,
            min_vol: 1e-6,
        })
        .unwrap();
        alloc.restore(second);
        let mut account = Account::new(8_000 * USDT, &InstrumentRegistry::new());
        account.set_allocation(&second);
        assert!(alloc.on_market(Nanos(259), &account).is_none());
        let next = alloc.on_market(Nanos(260), &account).unwrap();
        assert_eq!(
            (next.basis, next.weights_bps),
            (Basis::Kept, second.weights_bps)
        );
        assert_eq!(
            next.capital[..2],
            [2_666_400_000_000_000, 5_332_800_000_000_000]
        );
        session(&dir, &[next]);
        assert_eq!(last_allocation(&dir).unwrap(), Some(next));
        // A replay of the directory starts where its last session started.
        assert_eq!(session_start_allocation(&dir).unwrap(), Some(second));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
