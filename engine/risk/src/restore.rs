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
    let mut last = None;
    if !dir.join(decisions::STREAM).exists() {
        return Ok(last);
    }
    let mut reader = JournalReader::open(dir, decisions::STREAM)
        .with_context(|| format!("cannot read the output journal in {}", dir.display()))?;
    while let Some(r) = reader.next().context("the output journal is unreadable")? {
        if r.kind == kind::ALLOCATION {
            let a = Allocation::decode(r.payload).with_context(|| {
                format!(
                    "the allocation at sequence {} of the output journal in {} is malformed",
                    r.sequence,
                    dir.display()
                )
            })?;
            last = Some(a);
        }
    }
    Ok(last)
}
