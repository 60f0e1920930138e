//! Pulse's journal: append-only streams of records in memory-mapped segment files, written by
//! one hot-path thread with no system call and no allocation per append, and read back (or
//! tailed live) by anyone.
//!
//! - [`Appender`]: the single writer of a stream. [`Appender::open`] cuts a torn tail, refuses
//!   a corrupt stream (changing no byte), and starts a [`JournalService`] thread that prepares segments ahead
//!   (`posix_fallocate`, so a full disk is an error there, never a SIGBUS), pre-faults them,
//!   `msync`s what was written and retires full segments.
//! - [`JournalReader`]: reads a stream in order, following roll-overs; for dumps and tailing.
//! - [`verify`], [`recover`], [`recovery_plan`], [`stats`], [`streams`]: the tools behind
//!   `pulse journal verify | recover | stats`.
//! - [`descriptor`]: the on-disk format, with its field diagrams.
//!
//! A failed I/O operation raises a sticky [`JournalFault`] (see [`FaultFlag`]) and is never
//! retried; [`JournalConfig::fail_io_at`] injects one for drills.
//!
//! ```
//! # let dir = tempfile::tempdir()?;
//! use pulse_journal::{Appender, JournalConfig, JournalReader};
//!
//! let (mut appender, service) = Appender::open(JournalConfig::new(dir.path(), "input"))?;
//! for i in 0..3u64 {
//!     appender.append(1, 1_000 + i, &i.to_le_bytes())?;
//! }
//! appender.close();
//! service.shutdown()?;
//!
//! let mut reader = JournalReader::open(dir.path(), "input")?;
//! let mut sequences = Vec::new();
//! while let Some(record) = reader.next()? {
//!     sequences.push(record.sequence);
//! }
//! assert_eq!(sequences, [0, 1, 2]);
//! assert!(pulse_journal::verify(dir.path(), "input")?.passed());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! `unsafe` is denied here and allowed only where the mapped segments are touched: `segment`
//! (writing through raw pointers, `posix_fallocate`), `appender` (activating and writing a
//! segment, `flock`), `view` (bounds-checked reads of a mapping a writer may still fill), and
//! `reader` and `record` (reading a view's published bytes). Each block carries its `// SAFETY:`.
#![deny(unsafe_code)]

mod appender;
mod config;
pub mod descriptor;
mod error;
mod fault;
mod op;
mod reader;
mod record;
mod recovery;
mod scan;
mod segment;
mod service;
mod shared;
mod verify;
mod view;

pub use appender::{Appender, AppenderCounters};
pub use config::{JournalConfig, SyncMode};
pub use error::{AppendError, JournalError, Location, Reason};
pub use fault::{FaultFlag, JournalFault};
pub use op::Op;
pub use reader::JournalReader;
pub use record::Record;
pub use recovery::{recover, recovery_plan, Moved, RecoveryReport};
pub use scan::{Position, Problem, ProblemKind};
pub use service::{JournalService, ServiceReport, ServiceStatus};
pub use verify::{stats, streams, verify, StreamStats, VerifyReport};
