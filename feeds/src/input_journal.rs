//! The journal's input stream: every message the engine took in, exactly as received, with its
//! receive time: enough to replay a run and reach the same decisions.
//!
//! A message record's payload is a capture line without its timestamp, `source <TAB> payload`
//! (`binance:ws`, `binance:rest:/api/v3/depth?symbol=BTCUSDT&limit=1000`; see
//! [`crate::capture`]), and the record's timestamp is the receive time. So a journal and a
//! capture file hold the same thing and replay through the same code. Each run of the engine
//! starts with a session record; a replay takes the last session unless told otherwise.

use std::io;
use std::path::Path;

use pulse_journal::{AppendError, Appender, JournalError, JournalReader};

use crate::capture::{parse_source, CaptureRecord, LineError, SourceKind};
use crate::metrics::JournalCounters;
use crate::num::Nanos;

/// Stream name of the input journal.
pub const STREAM: &str = "input";

/// Record kinds of the input stream.
pub mod kind {
    /// A run begins. Payload: the sequence number of this record, u64 little endian.
    pub const SESSION: u16 = 0x0001;
    /// A message received: `source <TAB> payload`.
    pub const MESSAGE: u16 = 0x0010;
}

/// The feed's end of the input stream.
pub struct InputJournal {
    appender: Appender,
    pub counters: JournalCounters,
}

impl InputJournal {
    /// Wraps an open appender and starts a session in it.
    pub fn start(mut appender: Appender, at: Nanos) -> Result<InputJournal, AppendError> {
        let seq = appender.next_sequence();
        appender.append(kind::SESSION, at.0, &seq.to_le_bytes())?;
        Ok(InputJournal {
            appender,
            counters: JournalCounters::default(),
        })
    }

    pub fn appender(&self) -> &Appender {
        &self.appender
    }

    /// Records one received message. Never allocates: the source and payload are written
    /// straight into the mapped segment.
    pub fn message(
        &mut self,
        recv_ts: Nanos,
        venue: &[u8],
        source: SourceKind<'_>,
        payload: &[u8],
    ) {
        let suffix: &[u8] = match source {
            SourceKind::Ws => b"ws",
            SourceKind::Send => b"send",
            SourceKind::Rest { .. } => b"rest:",
        };
        let path: &[u8] = match source {
            SourceKind::Rest { path } => path,
            SourceKind::Ws | SourceKind::Send => b"",
        };
        let head = venue.len() + 1 + suffix.len() + path.len() + 1;
        let len = head + payload.len();
        let written = self
            .appender
            .append_with(kind::MESSAGE, recv_ts.0, len, |buf| {
                let mut at = 0;
                for part in [venue, b":", suffix, path, b"\t", payload] {
                    buf[at..at + part.len()].copy_from_slice(part);
                    at += part.len();
                }
            });
        match written {
            Ok(_) => {
                self.counters.records += 1;
                self.counters.bytes += len as u64;
            }
            Err(_) => self.counters.refused += 1,
        }
    }
}

/// Splits a message record back into a capture record.
pub fn decode_message(recv_ts: u64, payload: &[u8]) -> Result<CaptureRecord<'_>, LineError> {
    let tab = payload
        .iter()
        .position(|&b| b == b'\t')
        .ok_or(LineError::FieldCount)?;
    parse_source(Nanos(recv_ts), &payload[..tab], &payload[tab + 1..])
}

/// Reads the input stream of a journal for replay: the messages of one session, in order.
pub struct JournalInput {
    reader: JournalReader,
    /// The record last returned, copied so that it can be held (a paced replay).
    current: Vec<u8>,
    current_ts: u64,
    held: bool,
    records: u64,
}

/// Which run of a journal to replay.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Session {
    /// The last one recorded (the default).
    Last,
    /// The n-th, from 0.
    Index(u64),
}

impl JournalInput {
    /// Opens `dir`'s input stream at the start of `session`.
    pub fn open(dir: &Path, session: Session) -> Result<JournalInput, JournalError> {
        JournalInput::open_stream(dir, STREAM, session)
    }

    /// Opens the input stream `stream` of `dir` (`input-1`: the second source's of several)
    /// at the start of `session`.
    pub fn open_stream(
        dir: &Path,
        stream: &str,
        session: Session,
    ) -> Result<JournalInput, JournalError> {
        let starts = stream_session_starts(dir, stream)?;
        let start = match session {
            Session::Last => starts.last().copied(),
            Session::Index(n) => starts.get(n as usize).copied(),
        };
        let mut reader = JournalReader::open(dir, stream)?;
        if let Some(start) = start {
            // Skip to the session's own record: the records before it are earlier runs.
            loop {
                match reader.next()? {
                    Some(r) if r.sequence == start => break,
                    Some(_) => {}
                    None => break,
                }
            }
        } else if session != Session::Last || !starts.is_empty() {
            return Err(JournalError::Config(format!(
                "{} holds {} session(s), not {session:?}",
                dir.join(stream).display(),
                starts.len()
            )));
        }
        Ok(JournalInput {
            reader,
            current: Vec::with_capacity(1 << 16),
            current_ts: 0,
            held: false,
            records: 0,
        })
    }

    /// Records returned so far (for error reports, like a capture's line number).
    pub fn records(&self) -> u64 {
        self.records
    }

    pub fn current(&self) -> &[u8] {
        &self.current
    }

    pub fn hold(&mut self) {
        self.held = true;
    }

    /// The next message of the session: `None` at its end (the stream's end or the next
    /// session), `Some(Err(Ok(kind)))` for a malformed message, `Some(Err(Err(io)))` for a
    /// journal that cannot be read.
    #[allow(clippy::type_complexity)]
    pub fn next_record(
        &mut self,
    ) -> Option<Result<CaptureRecord<'_>, Result<LineError, io::Error>>> {
        if !std::mem::take(&mut self.held) {
            loop {
                let record = match self.reader.next() {
                    Ok(Some(record)) => record,
                    Ok(None) => return None,
                    Err(e) => return Some(Err(Err(io::Error::other(e)))),
                };
                match record.kind {
                    kind::MESSAGE => {
                        self.current.clear();
                        self.current.extend_from_slice(record.payload);
                        self.current_ts = record.timestamp;
                        self.records += 1;
                        break;
                    }
                    kind::SESSION => return None,
                    _ => {}
                }
            }
        }
        Some(decode_message(self.current_ts, &self.current).map_err(Ok))
    }
}

/// The sequence numbers of the session records in `dir`'s input stream, in order.
pub fn session_starts(dir: &Path) -> Result<Vec<u64>, JournalError> {
    stream_session_starts(dir, STREAM)
}

/// [`session_starts`] of the input stream `stream`.
pub fn stream_session_starts(dir: &Path, stream: &str) -> Result<Vec<u64>, JournalError> {
    let mut reader = JournalReader::open(dir, stream)?;
    let mut starts = Vec::new();
    while let Some(record) = reader.next()? {
        if record.kind == kind::SESSION {
            starts.push(record.sequence);
        }
    }
    Ok(starts)
}
