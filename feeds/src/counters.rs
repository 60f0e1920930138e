//! What the market-data stages count: the feeds' counters and the books' (see
//! [`pulse_core::counters`](mod@pulse_core::counters)). The ring-full and journal counters are the core's.

pulse_core::counters! {
    /// A feed's counters (capture replay or live session).
    pub enum FeedCounter {
        Messages => counter("feed_messages", "Messages decoded and handed to the book"),
        BadFrames => counter(
            "feed_bad_frames",
            "Input refused: malformed lines or frames, unknown venues"
        ),
        SnapshotRequests => counter("feed_snapshot_requests", "REST depth snapshots requested"),
        SnapshotFailures => counter(
            "feed_snapshot_failures",
            "REST depth snapshot requests that failed"
        ),
        Connected => gauge("feed_connected", "1 while the market data WebSocket is open"),
        WsConnects => counter("ws_connects", "WebSocket connection attempts"),
        WsBytes => counter("ws_bytes", "Bytes received on the market data WebSocket"),
    }
}

pulse_core::counters! {
    /// A book's counters, per instrument.
    pub enum BookCounter {
        DiffsApplied => counter("book_diffs_applied", "Depth diffs applied to the book"),
        DiffsDropped => counter(
            "book_diffs_dropped",
            "Depth diffs dropped as covered by the snapshot"
        ),
        Gaps => counter("book_gaps", "Gaps in the depth diff sequence"),
        Resyncs => counter("book_resyncs", "Book resyncs from a new snapshot"),
        Snapshots => counter("book_snapshots", "Depth snapshots applied"),
        Updates => counter("book_updates", "Book commits published downstream"),
        Crossed => counter("book_crossed", "Commits that left the book crossed"),
        TickerChecks => counter(
            "book_ticker_checks",
            "Books checked against the venue's own best bid and ask"
        ),
        TickerMismatches => counter(
            "book_ticker_mismatches",
            "Books that disagreed with the venue's best bid and ask"
        ),
        Stale => gauge(
            "stale",
            "1 while the instrument's book is not live (stale or crossed)"
        ),
    }
}
