//! How a journal stream is laid out and served.

use std::path::PathBuf;
use std::time::Duration;

use crate::descriptor::{
    valid_capacity, valid_stream_name, MAX_SEGMENT_BYTES, MIN_SEGMENT_BYTES, SEGMENT_GRANULE,
    STREAM_NAME_MAX,
};
use crate::error::JournalError;

/// Configuration of one stream's appender and service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JournalConfig {
    /// The journal directory; the stream lives in `dir/<stream>/`.
    pub dir: PathBuf,
    /// The stream name: 1 to 20 bytes of `[A-Za-z0-9_-]` (it is stored in every segment
    /// header).
    pub stream: String,
    /// Capacity of each segment file: a multiple of 4096 from 64 KiB to 4 GiB. Default 64 MiB.
    /// The largest payload is a quarter of it, less a 32-byte header.
    pub segment_bytes: u64,
    /// Segments the service keeps created, allocated and pre-faulted ahead of the writer.
    /// Default 2.
    pub ready_segments: usize,
    /// How often the service `msync`s what has been written. Default 50 ms.
    pub sync_interval: Duration,
    /// When a record counts as written: see [`SyncMode`]. Default [`SyncMode::None`].
    pub sync: SyncMode,
    /// Fault injection for tests and drills: the Nth I/O operation (counted from 1 across the
    /// opening thread, the appender and the service) fails with an injected error.
    pub fail_io_at: Option<u64>,
}

/// How durable a record is when the writer goes on. Every mode survives the writer's process
/// dying (the bytes are in the kernel's page cache the moment `append` returns); they differ in
/// what a kernel crash or a power cut can take.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SyncMode {
    /// Nothing waits for the disk. The service `msync`s the whole pages written every
    /// `sync_interval` in the background, the page being written once the writer pauses; a
    /// kernel crash or power cut loses what the kernel had not written back yet (usually the
    /// last interval or so; not bounded).
    #[default]
    None,
    /// As `None`, but every `sync_interval` the service `msync`s everything committed, the page
    /// being written included: a kernel crash or power cut loses at most the records of the
    /// last interval plus one `msync`. The writer's next store into a synced page may fault.
    Batch,
    /// As `Batch`, and [`crate::Appender::make_durable`] waits until a record is `msync`ed by
    /// the service (woken for it) before returning: what it returned for survives a power cut,
    /// on a disk that honours flushes.
    Order,
}

/// Most segments the service may keep ahead: each one is a pre-faulted file.
const MAX_READY_SEGMENTS: usize = 64;

impl JournalConfig {
    /// The defaults for stream `stream` under `dir`.
    ///
    /// ```
    /// let cfg = pulse_journal::JournalConfig::new("/var/lib/pulse/journal", "input");
    /// assert_eq!(cfg.segment_bytes, 64 << 20);
    /// assert_eq!(cfg.ready_segments, 2);
    /// ```
    pub fn new(dir: impl Into<PathBuf>, stream: impl Into<String>) -> Self {
        JournalConfig {
            dir: dir.into(),
            stream: stream.into(),
            segment_bytes: 64 << 20,
            ready_segments: 2,
            sync_interval: Duration::from_millis(50),
            sync: SyncMode::None,
            fail_io_at: None,
        }
    }

    /// The stream's directory.
    pub fn stream_dir(&self) -> PathBuf {
        self.dir.join(&self.stream)
    }

    pub(crate) fn validate(&self) -> Result<(), JournalError> {
        if !valid_stream_name(&self.stream) {
            return Err(JournalError::Config(format!(
                "stream name {:?} must be 1 to {STREAM_NAME_MAX} bytes of [A-Za-z0-9_-]",
                self.stream
            )));
        }
        if !valid_capacity(self.segment_bytes) {
            return Err(JournalError::Config(format!(
                "segment_bytes {} must be a multiple of {SEGMENT_GRANULE} from \
                 {MIN_SEGMENT_BYTES} to {MAX_SEGMENT_BYTES}",
                self.segment_bytes
            )));
        }
        if self.ready_segments > MAX_READY_SEGMENTS {
            return Err(JournalError::Config(format!(
                "ready_segments {} is above {MAX_READY_SEGMENTS}",
                self.ready_segments
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_names_the_field() {
        let mut cfg = JournalConfig::new("/tmp/x", "input");
        assert!(cfg.validate().is_ok());
        cfg.segment_bytes = 1000;
        let e = cfg.validate().expect_err("too small").to_string();
        assert!(e.contains("segment_bytes 1000"), "{e}");
        cfg.segment_bytes = 1 << 20;
        cfg.stream = "in/put".into();
        let e = cfg.validate().expect_err("bad name").to_string();
        assert!(e.contains("stream name"), "{e}");
    }
}
