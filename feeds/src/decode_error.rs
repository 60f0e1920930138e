//! Why a venue's frame was refused: the same kinds for every venue's codec, so that the feeds
//! count them per kind and the replay report names them with stable keys.

use crate::log::DistinctLog;
use crate::num::DecimalError;

/// Why a frame was refused. Small and `Copy`: counted per kind on the hot path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeError {
    Json,
    NotAnObject,
    UnknownEvent,
    MissingField(&'static str),
    WrongType(&'static str),
    Decimal(&'static str, DecimalError),
    UnknownSymbol,
    TooManyLevels,
}

impl DecodeError {
    /// A stable index per kind (field names aside), for counters and the distinct-error log.
    pub fn code(self) -> usize {
        match self {
            DecodeError::Json => 0,
            DecodeError::NotAnObject => 1,
            DecodeError::UnknownEvent => 2,
            DecodeError::MissingField(_) => 3,
            DecodeError::WrongType(_) => 4,
            DecodeError::Decimal(..) => 5,
            DecodeError::UnknownSymbol => 6,
            DecodeError::TooManyLevels => 7,
        }
    }

    pub const KINDS: usize = 8;

    /// The field the error is about, if any.
    pub fn field(self) -> &'static str {
        match self {
            DecodeError::MissingField(f)
            | DecodeError::WrongType(f)
            | DecodeError::Decimal(f, _) => f,
            _ => "",
        }
    }

    pub fn describe_code(code: usize) -> &'static str {
        [
            "frame with invalid JSON",
            "frame that is not a JSON object",
            "frame with an unknown event type",
            "frame with a missing field",
            "frame with a field of the wrong type",
            "frame with a decimal that does not fit the instrument's scale",
            "frame for a symbol that is not configured",
            "frame with more price levels than allowed",
        ]
        .get(code)
        .copied()
        .unwrap_or("unknown")
    }
}

impl DecodeError {
    /// Counts a refused frame in `bad_frames` and logs its kind once, with where (`line`, 0 on
    /// a live session) and an excerpt of `frame`.
    pub fn count_and_log(
        self,
        bad_frames: &mut [u64; DecodeError::KINDS],
        log: &mut DistinctLog,
        line: u64,
        frame: &[u8],
    ) {
        let code = self.code();
        bad_frames[code] += 1;
        log.once(
            16 + code as u32,
            DecodeError::describe_code(code),
            self.field(),
            line,
            frame,
        );
    }
}
