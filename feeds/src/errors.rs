//! The distinct error kinds of the market-data feeds (replayed or live), for the feed's
//! [`DistinctLog`](crate::log::DistinctLog): each is counted, and logged the first time.

pulse_core::error_kinds! {
    /// What a feed refuses or fails at.
    pub enum FeedError {
        LineFieldCount => ("line_field_count", "capture line without three tab-separated fields"),
        LineTimestamp => ("line_timestamp", "capture line with a malformed receive timestamp"),
        LineSource => ("line_source", "capture line with an unknown source"),
        LineTooLong => ("line_too_long", "capture line longer than the limit"),
        TardisRow => ("tardis_row", "Tardis CSV row with the wrong columns for its header"),
        NoAdapter => ("no_adapter", "capture line from a venue with no adapter"),
        FrameJson => ("frame_json", "frame with invalid JSON"),
        FrameNotAnObject => ("frame_not_an_object", "frame that is not a JSON object"),
        FrameUnknownEvent => ("frame_unknown_event", "frame with an unknown event type"),
        FrameMissingField => ("frame_missing_field", "frame with a missing field"),
        FrameWrongType => ("frame_wrong_type", "frame with a field of the wrong type"),
        FrameDecimal => (
            "frame_decimal",
            "frame with a decimal that does not fit the instrument's scale"
        ),
        FrameUnknownSymbol => ("frame_unknown_symbol", "frame for a symbol that is not configured"),
        FrameTooManyLevels => (
            "frame_too_many_levels",
            "frame with more price levels than allowed"
        ),
        SnapshotRefused => ("snapshot_refused", "snapshot body refused"),
        SnapshotFailed => ("snapshot_failed", "snapshot request failed; retrying with back-off"),
        ReadFailed => ("read_failed", "capture read failed; replay ends here"),
    }
}

impl FeedError {
    /// The frame kinds, by `DecodeError::code` (decode_error.rs).
    pub const FRAME: [FeedError; 8] = [
        FeedError::FrameJson,
        FeedError::FrameNotAnObject,
        FeedError::FrameUnknownEvent,
        FeedError::FrameMissingField,
        FeedError::FrameWrongType,
        FeedError::FrameDecimal,
        FeedError::FrameUnknownSymbol,
        FeedError::FrameTooManyLevels,
    ];
}
