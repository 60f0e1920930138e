//! Why a weights file was refused, and where.

use std::fmt;

/// The kind of a [`PolicyError`], for callers and tests that act on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyErrorKind {
    /// The file could not be read, or is not UTF-8.
    Io,
    /// The first line is not `pulse-policy v1`.
    Header,
    /// A line that is none of the format's lines.
    UnknownLine,
    /// One of the format's lines where another was expected.
    OutOfOrder,
    /// Not the network the policy runs: input other than 16, no `layer 3 softmax` last,
    /// softmax on a hidden layer, an unknown activation.
    Architecture,
    /// A layer wider than 256 or empty, or more than 4 hidden layers.
    Bound,
    /// Too many or too few values on a line, or rows in a `weights` block.
    Count,
    /// A value that is not a number, or not a whole number where one is needed, or a standard
    /// deviation that is not positive.
    Number,
    /// NaN or an infinity (including a number too large for an `f64`).
    NotFinite,
    /// The file ends before a section it needs.
    Missing,
}

/// A weights file refused at load time: what and, except for [`PolicyErrorKind::Io`], the line
/// (1-based; one past the last line when the file ends early).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyError {
    pub kind: PolicyErrorKind,
    pub line: Option<usize>,
    pub message: String,
}

impl PolicyError {
    pub(super) fn at(line: usize, kind: PolicyErrorKind, message: String) -> PolicyError {
        PolicyError {
            kind,
            line: Some(line),
            message,
        }
    }
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(line) = self.line {
            write!(f, "line {line}: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for PolicyError {}
