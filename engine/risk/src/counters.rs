//! What the risk stage counts: its checks, the order table, the account's gauges (see
//! [`pulse_core::counters`]). The output journal's counters are the core's.

pulse_core::counters! {
    /// The risk stage's counters and gauges, every amount in millionths of its unit.
    pub enum RiskCounter {
        Intents => counter("risk_intents", "Intents checked by pre-trade risk"),
        Accepted => counter("risk_accepted", "Intents approved and sent as orders"),
        Rejected => counter("risk_rejected", "Intents refused, by reason"),
        OrdersSent => counter("orders_sent", "Orders sent to the gateway"),
        OrdersAcked => counter("orders_acked", "Orders acknowledged by the venue"),
        OrdersCancelled => counter("orders_cancelled", "Orders the venue reported cancelled"),
        OrdersIllegalTransitions => counter(
            "orders_illegal_transitions",
            "Venue reports refused as illegal order state changes"
        ),
        OpenOrders => gauge("open_orders", "Orders working at the venue"),
        OrdersDuplicateFills => counter(
            "orders_duplicate_fills",
            "Fills whose venue trade id was already applied, ignored"
        ),
        KillCancels => counter("kill_cancels", "Orders cancelled by the kill switch"),
        EngineCancels => counter("engine_cancels", "Orders cancelled by a flatten"),
        Exits => counter("exits", "Engine exits fired, by kind"),
        ExitRejected => counter(
            "exit_rejected",
            "Engine exit and flatten orders refused by the checks or the venue"
        ),
        FlattenOpen => gauge(
            "flatten_open",
            "Instruments whose flatten is not done (in progress or unclosable)"
        ),
        FlattenUnclosable => gauge(
            "flatten_unclosable",
            "Instruments a flatten cannot close now"
        ),
        MarginCalls => counter(
            "margin_calls",
            "Margin calls: a margined instrument's margin ratio crossed the call level"
        ),
        MarginRatioBps => gauge(
            "margin_ratio_bps",
            "Margin ratio (maintenance margin / margin balance) of a margined position, in bps"
        ),
        EquityMicro => gauge("equity_micro", "Account equity in millionths of the quote asset"),
        DrawdownBps => gauge("drawdown_bps", "Drawdown from the equity high-water mark, in bps"),
        DrawdownLimitBps => gauge(
            "drawdown_limit_bps",
            "Each drawdown breaker's level (halve, restrict, stop), in bps"
        ),
        DayPnlMicro => gauge(
            "day_pnl_micro",
            "The market day's PnL, in millionths of the account currency"
        ),
        RiskLimitMicro => gauge(
            "risk_limit_micro",
            "Each configured loss limit, in millionths of the account currency"
        ),
        RiskLimitUsageBps => gauge(
            "risk_limit_usage_bps",
            "Each loss limit's current figure as a share of it, in bps (10000 = at the limit)"
        ),
        GrossExposureMicro => gauge(
            "gross_exposure_micro",
            "Gross exposure at the marks, in millionths of the quote asset"
        ),
        TradingMode => gauge("trading_mode", "Trading mode: 0 armed, 1 reduce-only, 2 killed"),
        Fills => counter("fills", "Fills received"),
        PositionMicro => gauge("position_micro", "Position in millionths of the base asset"),
        RealizedPnlMicro => gauge(
            "realized_pnl_micro",
            "Realized PnL in millionths of the quote asset"
        ),
        UnrealizedPnlMicro => gauge(
            "unrealized_pnl_micro",
            "Unrealized PnL at the mid, in millionths of the quote asset"
        ),
        FeesMicro => gauge("fees_micro", "Fees paid in millionths of the quote asset"),
        AllocationWeightBps => gauge(
            "allocation_weight_bps",
            "Each strategy's weight in the capital allocation in force, in bps"
        ),
        AllocationCapitalMicro => gauge(
            "allocation_capital_micro",
            "Each strategy's allocated capital, in millionths of the account currency"
        ),
        PortfolioRows => gauge("portfolio_rows", "Return rows in the portfolio risk window"),
        PortfolioReady => gauge(
            "portfolio_ready",
            "1 once the portfolio figures have enough rows for the limits to apply"
        ),
        PortfolioVarMicro => gauge(
            "portfolio_var_micro",
            "VaR and CVaR of one interval, by measure, in millionths of the account currency"
        ),
        CorrelatedExposureMicro => gauge(
            "correlated_exposure_micro",
            "Correlated exposure (see the README), in millionths of the account currency"
        ),
        StressLossMicro => gauge(
            "stress_loss_micro",
            "Loss of each stress scenario, in millionths of the account currency"
        ),
        PortfolioSnapshots => counter(
            "portfolio_snapshots",
            "Account snapshots the portfolio stage computed figures from"
        ),
        PortfolioUnpublished => counter(
            "portfolio_unpublished",
            "Figures the risk stage had no room for (it kept the previous ones)"
        ),
        PortfolioSnapshotsDropped => counter(
            "portfolio_snapshots_dropped",
            "Account snapshots the portfolio stage had no room for"
        ),
    }
}
