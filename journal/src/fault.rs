//! The sticky fault: the first failed I/O operation of a journal, readable from any thread, and
//! the `fail_io_at` injection that drills it.
//!
//! A failed operation is never retried: after a failed `msync` Linux may forget the pages'
//! error, so a second try can report success for data that never reached the disk. The fault
//! tells the engine to stop trading instead.

use std::fmt;
use std::io;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;

use crate::error::JournalError;
use crate::op::Op;

/// The first failure of a journal: which operation, and the OS error number (0 when it was
/// injected or had none).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JournalFault {
    /// The operation that failed.
    pub op: Op,
    /// `errno` of the failure; 0 for none.
    pub errno: i32,
    /// Whether `fail_io_at` made it fail.
    pub injected: bool,
}

const INJECTED_BIT: u32 = 1 << 8;

impl JournalFault {
    pub(crate) fn from_io(op: Op, e: &io::Error) -> Self {
        JournalFault {
            op,
            errno: e.raw_os_error().unwrap_or(0),
            injected: e.get_ref().is_some_and(|inner| inner.is::<Injected>()),
        }
    }

    /// Whether the disk (or the file-size limit) is full: `ENOSPC` or `EFBIG`.
    pub fn is_disk_full(&self) -> bool {
        self.errno == libc::ENOSPC || self.errno == libc::EFBIG
    }

    fn encode(self) -> u32 {
        let errno = u32::try_from(self.errno).unwrap_or(0) & 0xFFFF;
        u32::from(self.op as u8) | if self.injected { INJECTED_BIT } else { 0 } | errno << 16
    }

    fn decode(code: u32) -> Option<Self> {
        Some(JournalFault {
            op: Op::from_code((code & 0xFF) as u8)?,
            errno: (code >> 16) as i32,
            injected: code & INJECTED_BIT != 0,
        })
    }
}

impl fmt::Display for JournalFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "journal fault: {} failed: ", self.op)?;
        if self.injected {
            f.write_str("injected by fail_io_at")
        } else if self.errno != 0 {
            write!(f, "{}", io::Error::from_raw_os_error(self.errno))
        } else {
            f.write_str("no error number")
        }
    }
}

/// The sticky fault, shared by the appender, the service thread and whoever watches: a cheap
/// clonable handle the engine's health monitor polls from its own thread.
#[derive(Clone, Debug, Default)]
pub struct FaultFlag(Arc<AtomicU32>);

impl FaultFlag {
    /// The first fault, if any.
    pub fn get(&self) -> Option<JournalFault> {
        // Acquire pairs with the Release of `raise`, so a watcher that sees the fault also sees
        // what the faulting thread did before it (its counters, its last status).
        JournalFault::decode(self.0.load(Ordering::Acquire))
    }

    /// Whether a fault has been raised.
    pub fn is_set(&self) -> bool {
        self.get().is_some()
    }

    /// Records `fault` unless an earlier one is already there: the first failure is the cause,
    /// later ones are consequences.
    pub(crate) fn raise(&self, fault: JournalFault) {
        // Release publishes the raising thread's work to whoever Acquires the fault; Relaxed on
        // failure: an earlier fault stays and nothing is published.
        let _ = self
            .0
            .compare_exchange(0, fault.encode(), Ordering::Release, Ordering::Relaxed);
    }
}

/// The error `fail_io_at` injects, recognisable in a [`JournalFault`].
#[derive(Debug)]
struct Injected;

impl fmt::Display for Injected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("I/O failure injected by fail_io_at")
    }
}

impl std::error::Error for Injected {}

/// Counts the journal's I/O operations (from 1, across the opening thread, the appender and the
/// service) and fails the one `fail_io_at` names.
#[derive(Debug)]
pub(crate) struct IoBudget {
    fail_at: Option<u64>,
    ops: AtomicU64,
}

impl IoBudget {
    pub(crate) fn new(fail_at: Option<u64>) -> Self {
        IoBudget {
            fail_at,
            ops: AtomicU64::new(0),
        }
    }

    /// Operations started so far.
    pub(crate) fn ops(&self) -> u64 {
        // Relaxed: a count for reports, ordered by nothing else.
        self.ops.load(Ordering::Relaxed)
    }

    /// Runs `f` as operation `op` on `path`, or fails it if it is the one to fail.
    pub(crate) fn run<T>(
        &self,
        op: Op,
        path: &std::path::Path,
        f: impl FnOnce() -> io::Result<T>,
    ) -> Result<T, JournalError> {
        // Relaxed: operations on two threads are numbered in some order; any order is a valid
        // drill, and the count orders no other memory.
        let n = self.ops.fetch_add(1, Ordering::Relaxed) + 1;
        let result = if self.fail_at == Some(n) {
            Err(io::Error::other(Injected))
        } else {
            f()
        };
        result.map_err(|e| JournalError::io(op, path, e))
    }
}

/// The fault a failed operation means, if the error is one.
pub(crate) fn fault_of(e: &JournalError) -> Option<JournalFault> {
    match e {
        JournalError::Io { op, source, .. } => Some(JournalFault::from_io(*op, source)),
        JournalError::ServicePanicked => Some(JournalFault {
            op: Op::ServicePanic,
            errno: 0,
            injected: false,
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_fault_sticks_and_round_trips() {
        let flag = FaultFlag::default();
        assert_eq!(flag.get(), None);
        let full = JournalFault {
            op: Op::Allocate,
            errno: libc::ENOSPC,
            injected: false,
        };
        flag.raise(full);
        flag.raise(JournalFault {
            op: Op::Msync,
            errno: libc::EIO,
            injected: false,
        });
        assert_eq!(flag.clone().get(), Some(full));
        assert!(full.is_disk_full());
        assert!(
            full.to_string()
                .starts_with("journal fault: fallocate failed: No space"),
            "{full}"
        );
    }

    #[test]
    fn the_budget_fails_exactly_the_nth_operation() {
        let budget = IoBudget::new(Some(2));
        let path = std::path::Path::new("x");
        assert!(budget.run(Op::Map, path, || Ok(())).is_ok());
        let err = budget
            .run(Op::Msync, path, || Ok(()))
            .expect_err("second fails");
        let fault = fault_of(&err).expect("an I/O error");
        assert_eq!(
            (fault.op, fault.injected, fault.errno),
            (Op::Msync, true, 0)
        );
        assert!(budget.run(Op::Map, path, || Ok(())).is_ok());
        assert_eq!(budget.ops(), 3);
    }
}
