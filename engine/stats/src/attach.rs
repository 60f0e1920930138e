//! Why a monitor cannot read a stats file.

use std::fmt;
use std::io;
use std::path::PathBuf;

use super::layout::MAGIC;

/// Why a stats file cannot be read.
#[derive(Debug)]
pub enum AttachError {
    NotFound {
        path: PathBuf,
    },
    /// The file exists but its magic is not written yet: an engine is creating it right now,
    /// or died doing so.
    NotReady,
    BadMagic {
        found: u64,
    },
    LayoutVersion {
        found: u32,
        expected: u32,
    },
    Truncated {
        expected: u64,
        found: u64,
    },
    /// The header contradicts the layout its version promises.
    Corrupt(String),
    Io(io::Error),
}

impl fmt::Display for AttachError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttachError::NotFound { path } => {
                write!(f, "no engine is running: {} does not exist", path.display())
            }
            AttachError::NotReady => f.write_str(
                "the stats file is not initialized yet (an engine is starting, or died starting)",
            ),
            AttachError::BadMagic { found } => write!(
                f,
                "not a pulse stats file (magic {found:#018x}, expected {MAGIC:#018x})"
            ),
            AttachError::LayoutVersion { found, expected } => write!(
                f,
                "stats layout version {found}, this pulse reads {expected}: use the pulse binary \
                 that matches the engine"
            ),
            AttachError::Truncated { expected, found } => write!(
                f,
                "stats file truncated: {found} bytes where its header needs {expected}"
            ),
            AttachError::Corrupt(why) => write!(f, "corrupt stats file: {why}"),
            AttachError::Io(e) => write!(f, "cannot read stats file: {e}"),
        }
    }
}

impl std::error::Error for AttachError {}
