//! The JSON-lines event log (`[events] log`): a writer thread of its own, fed through a
//! bounded channel. The monitor only ever `try_send`s: a full queue (a stalled disk, a blocked
//! stderr pipe) drops the line and counts it, and the monitor goes on.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::thread::JoinHandle;

/// Lines the queue holds before it drops: far more than a burst of transitions.
pub const QUEUE_LINES: usize = 1024;

/// Where the lines go (`[events] log`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogTarget {
    Stderr,
    /// Appended to; created 0600; refused if it is a symlink or another user's file.
    File(PathBuf),
}

/// What the writer did, for the run summary.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogReport {
    pub written: u64,
    /// Lines dropped because the queue was full.
    pub dropped: u64,
    /// The write or flush error that stopped the writer, if any.
    pub error: Option<String>,
}

pub struct EventLog {
    tx: Option<SyncSender<String>>,
    handle: Option<JoinHandle<(u64, Option<String>)>>,
    dropped: u64,
}

impl EventLog {
    /// Opens the target (before any event, so a refused file stops the start) and starts the
    /// writer thread with a queue of `queue` lines.
    pub fn start(target: &LogTarget, queue: usize) -> io::Result<EventLog> {
        let out: Box<dyn Write + Send> = match target {
            LogTarget::Stderr => Box::new(io::stderr()),
            LogTarget::File(path) => Box::new(open_private(path)?),
        };
        let (tx, rx) = mpsc::sync_channel::<String>(queue);
        let handle = std::thread::Builder::new()
            .name("pulse-events".into())
            .spawn(move || {
                let mut out = BufWriter::new(out);
                let mut written = 0;
                for line in rx {
                    let w = out
                        .write_all(line.as_bytes())
                        .and_then(|()| out.write_all(b"\n"))
                        // Flushed per line: a shipper tailing the file sees each event at once.
                        .and_then(|()| out.flush());
                    if let Err(e) = w {
                        return (written, Some(e.to_string()));
                    }
                    written += 1;
                }
                (written, out.flush().err().map(|e| e.to_string()))
            })?;
        Ok(EventLog {
            tx: Some(tx),
            handle: Some(handle),
            dropped: 0,
        })
    }

    /// Queues one line without waiting; a full queue or a stopped writer drops it (counted).
    pub fn send(&mut self, line: String) {
        let Some(tx) = &self.tx else { return };
        match tx.try_send(line) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => self.dropped += 1,
        }
    }

    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Closes the queue, lets the writer write what it holds and flush, and reports.
    pub fn finish(mut self) -> LogReport {
        drop(self.tx.take());
        let (written, error) = match self.handle.take().map(JoinHandle::join) {
            Some(Ok(done)) => done,
            Some(Err(_)) => (0, Some("the event log writer panicked".into())),
            None => (0, None),
        };
        LogReport {
            written,
            dropped: self.dropped,
            error,
        }
    }
}

/// Opens `path` to append, creating it 0600; refuses a symlink (`O_NOFOLLOW`), anything but a
/// regular file, and a file another user owns.
pub fn open_private(path: &Path) -> io::Result<File> {
    let file = OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| refused(path, &e.to_string()))?;
    match not_ours(&file.metadata()?) {
        Some(why) => Err(refused(path, why)),
        None => Ok(file),
    }
}

/// Why an existing event log may not be appended to (`config check` asks before the run, the
/// opener again on the file it opened): anything but a regular file of the engine's user.
pub fn not_ours(meta: &std::fs::Metadata) -> Option<&'static str> {
    if !meta.is_file() {
        Some("not a regular file")
    } else if meta.uid() != crate::secrets::euid() {
        Some("owned by another user")
    } else {
        None
    }
}

fn refused(path: &Path, why: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::PermissionDenied,
        format!("event log {}: {why}", path.display()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_appended_and_a_symlink_is_refused() {
        let dir = std::env::temp_dir().join(format!("pulse-ops-log-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("events.jsonl");
        std::fs::write(&path, "old\n").unwrap();
        let mut log = EventLog::start(&LogTarget::File(path.clone()), 4).unwrap();
        log.send("{\"a\":1}".into());
        log.send("{\"b\":2}".into());
        let report = log.finish();
        assert_eq!((report.written, report.dropped, report.error), (2, 0, None));
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, "old\n{\"a\":1}\n{\"b\":2}\n");
        let fresh = dir.join("new.jsonl");
        drop(open_private(&fresh).unwrap());
        assert_eq!(std::fs::metadata(&fresh).unwrap().mode() & 0o777, 0o600);
        let link = dir.join("link.jsonl");
        std::os::unix::fs::symlink(&path, &link).unwrap();
        let err = EventLog::start(&LogTarget::File(link), 4).err().unwrap();
        assert!(err.to_string().contains("link.jsonl"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_full_queue_drops_and_counts_without_blocking() {
        // A queue of 2 lines nobody drains (no writer thread): the rest are dropped and
        // counted, and `send` never waits.
        let mut log = EventLog {
            tx: None,
            handle: None,
            dropped: 0,
        };
        let (tx, rx) = mpsc::sync_channel::<String>(2);
        log.tx = Some(tx);
        let started = std::time::Instant::now();
        for i in 0..10 {
            log.send(format!("{i}"));
        }
        assert!(started.elapsed() < std::time::Duration::from_millis(100));
        // 2 queued, 8 dropped.
        assert_eq!(log.dropped(), 8);
        assert_eq!(rx.try_iter().count(), 2);
        assert_eq!(log.finish().dropped, 8);
    }
}
