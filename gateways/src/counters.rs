//! What the gateway stages count: the simulated venue's and the Binance order gateway's (see
//! [`pulse_core::counters`]).

pulse_core::counters! {
    /// The simulated venue's counters.
    pub enum SimCounter {
        Orders => counter("venue_orders", "Orders the simulated venue received"),
        Fills => counter("venue_fills", "Fills the simulated venue made"),
        MakerFills => counter("venue_maker_fills", "Fills of resting (maker) orders"),
        Expired => counter("venue_expired", "IOC remainders the simulated venue expired"),
        Rejects => counter("venue_rejects", "Orders the simulated venue rejected"),
        Cancels => counter("venue_cancels", "Orders the simulated venue cancelled"),
        CancelRejects => counter("venue_cancel_rejects", "Cancels the simulated venue refused"),
        Fundings => counter("venue_fundings", "Funding settlements on derivatives positions"),
        Liquidations => counter("venue_liquidations", "Derivatives positions the venue liquidated"),
        Resting => gauge("venue_resting", "Orders resting in the simulated venue's book"),
    }
}

pulse_core::counters! {
    /// The Binance order gateway's counters.
    pub enum GatewayCounter {
        Requests => counter("gateway_requests", "Requests risk handed to the gateway"),
        OrdersSent => counter("gateway_orders_sent", "New orders sent to the venue"),
        CancelsSent => counter("gateway_cancels_sent", "Cancels sent to the venue"),
        ReplacesSent => counter("gateway_replaces_sent", "Cancel-replaces sent to the venue"),
        StatusSent => counter("gateway_status_sent", "Order status queries sent to the venue"),
        Responses => counter("gateway_responses", "Responses received from the venue"),
        StreamEvents => counter("gateway_stream_events", "User data stream events received"),
        RefusedUnavailable => counter(
            "gateway_refused_unavailable",
            "Requests refused while the venue session was not ready"
        ),
        RefusedRateLimited => counter(
            "gateway_refused_rate_limited",
            "Requests refused by the venue's rate limits"
        ),
        OutcomeUnknown => counter(
            "gateway_outcome_unknown",
            "Requests whose outcome was unknown, to be queried"
        ),
        Timeouts => counter("gateway_timeouts", "Requests that got no response in time"),
        ReconciledFills => counter(
            "gateway_reconciled_fills",
            "Fills learned from a status answer rather than the stream"
        ),
        ForeignEvents => counter(
            "gateway_foreign_events",
            "Stream events for orders the gateway does not track"
        ),
        Malformed => counter("gateway_malformed", "Venue messages that did not parse"),
        Reconnects => counter("gateway_reconnects", "Venue session reconnects"),
        BalanceMismatches => counter(
            "gateway_balance_mismatches",
            "Balance checks that disagreed with the positions twice: trading halted"
        ),
        RestSent => counter("gateway_rest_sent", "Cancels and queries sent over REST"),
        RestFailures => counter("gateway_rest_failures", "REST calls that got no response"),
        TrackedOrders => gauge("gateway_tracked_orders", "Orders the gateway is tracking"),
        Ready => gauge("gateway_ready", "1 while the venue session is ready for orders"),
        ClockOffsetUs => gauge(
            "gateway_clock_offset_us",
            "The venue clock's offset from ours, in microseconds"
        ),
    }
}
