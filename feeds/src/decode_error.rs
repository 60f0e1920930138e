//! Why a venue's frame was refused: the same kinds for every venue's codec, so that the feeds
//! count them per kind and the replay report names them with stable keys.

use crate::errors::FeedError;
use crate::log::{DistinctLog, ErrorKind};
use crate::num::{DecimalError, Nanos};

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

    pub const KINDS: usize = FeedError::FRAME.len();

    /// The field the error is about, if any.
    pub fn field(self) -> &'static str {
        match self {
            DecodeError::MissingField(f)
            | DecodeError::WrongType(f)
            | DecodeError::Decimal(f, _) => f,
            _ => "",
        }
    }

    /// The kind the feed's distinct-error log counts this error as.
    pub fn kind(self) -> FeedError {
        match self {
            DecodeError::Json => FeedError::FrameJson,
            DecodeError::NotAnObject => FeedError::FrameNotAnObject,
            DecodeError::UnknownEvent => FeedError::FrameUnknownEvent,
            DecodeError::MissingField(_) => FeedError::FrameMissingField,
            DecodeError::WrongType(_) => FeedError::FrameWrongType,
            DecodeError::Decimal(..) => FeedError::FrameDecimal,
            DecodeError::UnknownSymbol => FeedError::FrameUnknownSymbol,
            DecodeError::TooManyLevels => FeedError::FrameTooManyLevels,
        }
    }

    pub fn describe_code(code: usize) -> &'static str {
        FeedError::FRAME.get(code).map_or("unknown", |k| k.what())
    }
}

impl DecodeError {
    /// Counts a refused frame in `bad_frames` and in `log` at `now`, and logs its kind once,
    /// with where (`line`, 0 on a live session) and an excerpt of `frame`.
    /// Cold: kept out of the decode loop's code.
    #[cold]
    #[inline(never)]
    pub fn count_and_log(
        self,
        bad_frames: &mut [u64; DecodeError::KINDS],
        log: &mut DistinctLog<FeedError>,
        now: Nanos,
        line: u64,
        frame: &[u8],
    ) {
        bad_frames[self.code()] += 1;
        log.once(self.kind(), now, self.field(), line, frame);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_code_counts_as_its_own_frame_kind() {
        let all = [
            DecodeError::Json,
            DecodeError::NotAnObject,
            DecodeError::UnknownEvent,
            DecodeError::MissingField("p"),
            DecodeError::WrongType("q"),
            DecodeError::Decimal("p", DecimalError::TooPrecise),
            DecodeError::UnknownSymbol,
            DecodeError::TooManyLevels,
        ];
        for e in all {
            assert_eq!(FeedError::FRAME[e.code()], e.kind(), "{e:?}");
            assert_eq!(DecodeError::describe_code(e.code()), e.kind().what());
        }
    }
}
