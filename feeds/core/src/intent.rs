//! What strategies ask for, and what risk tells them back.

use crate::event::EventMeta;
use crate::num::{InstrumentId, Px, Qty, Side};
use crate::order::{ClientOrderId, ExecReport, TimeInForce};

/// Strategy → risk: an order the strategy would like to send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderIntent {
    /// The market event this decision was made on.
    pub meta: EventMeta,
    pub instrument: InstrumentId,
    pub side: Side,
    /// Limit price.
    pub px: Px,
    pub qty: Qty,
    pub tif: TimeInForce,
    /// The strategy's own reference, returned with the verdict ([`Feedback::Accepted`] or
    /// [`Feedback::Rejected`]) so it can tell which of its requests was decided.
    pub tag: u32,
    /// How sure the signal behind it is, in bps (10,000 for a rule that simply fires).
    pub confidence_bps: u16,
    /// The market's realized volatility the strategy saw, in bps of price (0: unknown), for
    /// volatility-based sizing.
    pub vol_bps: u32,
    /// Who decided it (drawdown restrictions let only some trade).
    pub origin: Origin,
}

/// The decision-maker behind an intent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Origin {
    /// A single rule: the book-imbalance taker, the market maker.
    #[default]
    Rule,
    /// The ensemble, led by this agent (the largest weighted vote on the decided side).
    Agent(AgentKind),
    /// The engine itself (the risk stage), closing a position: no strategy asked for it.
    Exit(ExitKind),
}

/// First journal code of [`Origin::Exit`]: codes 1..=15 stay the agents'.
const EXIT_CODE_BASE: u8 = 16;

impl Origin {
    /// Stable code, as journaled: 0 for a rule, 1 + the agent's index, 16 + the exit kind's
    /// index. Codes are only ever added, never renumbered.
    pub fn code(self) -> u8 {
        match self {
            Origin::Rule => 0,
            Origin::Agent(a) => 1 + a.index() as u8,
            Origin::Exit(e) => EXIT_CODE_BASE + e.index() as u8,
        }
    }

    pub fn from_code(code: u8) -> Option<Origin> {
        match code {
            0 => Some(Origin::Rule),
            c if c >= EXIT_CODE_BASE => ExitKind::ALL
                .get(usize::from(c - EXIT_CODE_BASE))
                .map(|e| Origin::Exit(*e)),
            c => AgentKind::ALL
                .get(usize::from(c) - 1)
                .map(|a| Origin::Agent(*a)),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Origin::Rule => "rule",
            Origin::Agent(a) => a.name(),
            Origin::Exit(e) => e.name(),
        }
    }
}

/// Why the engine closes a position on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitKind {
    StopLoss,
    TakeProfit,
    Trailing,
    /// An operator's flatten, or the kill switch in flatten mode.
    Flatten,
    /// The margin guard's cut: the margin ratio reached the reduce level, before the venue's
    /// liquidation price (the risk crate's `margin::guard`).
    Deleverage,
}

impl ExitKind {
    pub const ALL: [ExitKind; 5] = [
        ExitKind::StopLoss,
        ExitKind::TakeProfit,
        ExitKind::Trailing,
        ExitKind::Flatten,
        ExitKind::Deleverage,
    ];

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn name(self) -> &'static str {
        match self {
            ExitKind::StopLoss => "stop_loss",
            ExitKind::TakeProfit => "take_profit",
            ExitKind::Trailing => "trailing",
            ExitKind::Flatten => "flatten",
            ExitKind::Deleverage => "deleverage",
        }
    }
}

/// The tag of every verdict ([`Feedback::Accepted`], [`Feedback::Rejected`]) on an order the
/// engine made itself ([`Origin::Exit`]): no strategy request has it, so a strategy ignores
/// verdicts carrying it. The venue's reports on such orders still reach the strategy as
/// [`Feedback::Report`]: the position they move is real.
pub const ENGINE_TAG: u32 = u32::MAX;

/// Strategy → risk: cancel one of the strategy's working orders.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CancelIntent {
    pub meta: EventMeta,
    pub instrument: InstrumentId,
    pub client_id: ClientOrderId,
    pub tag: u32,
}

/// Strategy → risk, on the intents ring. A cancel-replace is a cancel followed by a new order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Intent {
    New(OrderIntent),
    Cancel(CancelIntent),
}

impl Intent {
    pub fn meta(&self) -> EventMeta {
        match self {
            Intent::New(i) => i.meta,
            Intent::Cancel(c) => c.meta,
        }
    }

    pub fn instrument(&self) -> InstrumentId {
        match self {
            Intent::New(i) => i.instrument,
            Intent::Cancel(c) => c.instrument,
        }
    }

    pub fn tag(&self) -> u32 {
        match self {
            Intent::New(i) => i.tag,
            Intent::Cancel(c) => c.tag,
        }
    }
}

/// Risk → strategy: verdicts on intents, and the venue's reports on approved orders.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Feedback {
    /// A new order was approved and sent under `client_id`. Always arrives before any report
    /// on that order.
    Accepted {
        instrument: InstrumentId,
        tag: u32,
        client_id: ClientOrderId,
    },
    Report(ExecReport),
    Rejected {
        instrument: InstrumentId,
        tag: u32,
        reason: RejectReason,
    },
}

impl Feedback {
    /// The instrument of the order or intent it answers.
    pub fn instrument(&self) -> InstrumentId {
        match self {
            Feedback::Accepted { instrument, .. } | Feedback::Rejected { instrument, .. } => {
                *instrument
            }
            Feedback::Report(report) => report.instrument,
        }
    }
}

/// The most intents a strategy may emit for one market event: a cancel-replace on each side
/// of a two-sided quote.
pub const MAX_INTENTS_PER_EVENT: usize = 4;

/// What a strategy emits for one market event: a fixed-capacity list, so that emitting never
/// allocates. Filled by the strategy, drained by the strategy stage onto the intents ring.
#[derive(Clone, Copy, Debug, Default)]
pub struct Intents {
    items: [Option<Intent>; MAX_INTENTS_PER_EVENT],
    len: usize,
}

impl Intents {
    /// Adds an intent; `false` (and nothing added) when the list is full, which a strategy
    /// treats like a refusal.
    pub fn push(&mut self, intent: Intent) -> bool {
        match self.items.get_mut(self.len) {
            Some(slot) => {
                *slot = Some(intent);
                self.len += 1;
                true
            }
            None => false,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn room(&self) -> usize {
        MAX_INTENTS_PER_EVENT - self.len
    }

    /// The intents in the order they were pushed.
    pub fn iter(&self) -> impl Iterator<Item = Intent> + '_ {
        self.items[..self.len].iter().flatten().copied()
    }

    pub fn clear(&mut self) {
        self.len = 0;
    }
}

/// The agents of the ensemble, in a fixed order (weights and performance are indexed by it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AgentKind {
    Conservative,
    Aggressive,
    Balanced,
    Contrarian,
    /// The policy network (the strategy crate's `policy`).
    Policy,
}

pub const AGENTS: usize = 5;

impl AgentKind {
    pub const ALL: [AgentKind; AGENTS] = [
        AgentKind::Conservative,
        AgentKind::Aggressive,
        AgentKind::Balanced,
        AgentKind::Contrarian,
        AgentKind::Policy,
    ];

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn name(self) -> &'static str {
        match self {
            AgentKind::Conservative => "conservative",
            AgentKind::Aggressive => "aggressive",
            AgentKind::Balanced => "balanced",
            AgentKind::Contrarian => "contrarian",
            AgentKind::Policy => "policy",
        }
    }
}

/// Why an intent was refused. Every rejection carries one and is counted by it. The checks run
/// in the order of [`RejectReason::ALL`] (see the risk crate's `checks`); the first that fails is the reason.
/// Reasons are journaled by index, so new ones are appended: the last three (allocation,
/// conversion, balance) are checked after `CapitalCap`, though listed after the stage's own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RejectReason {
    KillSwitch,
    UnknownInstrument,
    /// Zero or negative quantity or price.
    NotPositive,
    /// Quantity not a multiple of the lot size.
    LotSize,
    /// Price not a multiple of the tick size.
    TickSize,
    /// The signal behind the intent is less sure than `min_confidence`.
    LowConfidence,
    /// Drawdown from the equity high-water mark at or past the stop level (default 15%), or
    /// past the halving level with an order too small to halve.
    DrawdownHalt,
    /// Drawdown at or past the restriction level (default 10%): only the conservative agent
    /// may trade.
    DrawdownRestricted,
    /// The day's loss reached the daily loss limit.
    DailyLoss,
    /// As many automatic fills as `max_auto_fills` since the last re-arm: paused.
    FillsPaused,
    MaxOrderQty,
    MaxOrderNotional,
    /// Reduce-only mode, and the order would not reduce the position.
    ReduceOnly,
    /// The same order (side, price, quantity) is working or was sent within the window.
    Duplicate,
    /// As many messages (orders and cancels) as the throttle allows in its window.
    Throttle,
    /// As many open orders as `max_open_orders` (or the order table's capacity).
    TooManyOrders,
    /// Position plus working orders on that side would pass the limit.
    PositionLimit,
    /// The book is stale or crossed: no trading on it.
    BookNotLive,
    /// No reference price, or one older than `max_ref_age`.
    ReferenceStale,
    /// Limit price too far from the reference price.
    PriceCollar,
    /// The instrument's position would pass `max_position_share` of the portfolio's value.
    PortfolioShare,
    /// The portfolio's gross position exposure would pass `max_gross_exposure`.
    PortfolioLimit,
    /// Positions and working orders together would commit more than the capital.
    CapitalCap,
    /// The ring to the next stage was full.
    RingFull,
    /// A cancel for an order that is not working (already filled, cancelled or never sent).
    UnknownOrder,
    /// The order's ORDER record could not be appended to the output journal (or, with
    /// `[journal] sync = "order"`, made durable): it is not sent.
    JournalFailed,
    /// The portfolio's parametric value at risk, from the last published covariance with this
    /// order's exposure added, would pass `[portfolio] max_var`.
    VarLimit,
    /// Correlated exposure (gross exposure in instruments that add to a larger holding they
    /// move with) would pass `[portfolio] max_correlated_exposure_pct` of equity.
    CorrelatedExposure,
    /// The worst configured stress scenario's loss would pass `[portfolio] max_stress_loss`.
    StressLoss,
    /// An engine exit ([`Origin::Exit`]) that would not reduce the position (working orders
    /// on its side counted as filled): an exit never opens or flips one. Checked right after
    /// the order size; last in [`RejectReason::ALL`] only because indices are journaled.
    NotReducing,
    /// The strategy's positions, working orders and this order would commit more than the
    /// capital allocated to it (the risk crate's `allocation`).
    AllocationLimit,
    /// The instrument is quoted in another currency than the account's, and the instrument
    /// that converts it has no live, fresh book: its amounts cannot be valued.
    ConversionStale,
    /// The order would reserve more of an asset (quote to buy, base to sell a spot
    /// instrument) than the account has available.
    InsufficientBalance,
    /// A margined instrument: the position the order would leave is in a margin tier whose
    /// maximum leverage is below the leverage set (or beyond the last tier).
    MarginTierLeverage,
    /// A margined instrument: the initial margin of the position the order would leave does
    /// not fit the margin put up for it.
    InsufficientMargin,
}

impl RejectReason {
    pub const ALL: [RejectReason; 35] = [
        RejectReason::KillSwitch,
        RejectReason::UnknownInstrument,
        RejectReason::NotPositive,
        RejectReason::LotSize,
        RejectReason::TickSize,
        RejectReason::LowConfidence,
        RejectReason::DrawdownHalt,
        RejectReason::DrawdownRestricted,
        RejectReason::DailyLoss,
        RejectReason::FillsPaused,
        RejectReason::MaxOrderQty,
        RejectReason::MaxOrderNotional,
        RejectReason::ReduceOnly,
        RejectReason::Duplicate,
        RejectReason::Throttle,
        RejectReason::TooManyOrders,
        RejectReason::PositionLimit,
        RejectReason::BookNotLive,
        RejectReason::ReferenceStale,
        RejectReason::PriceCollar,
        RejectReason::PortfolioShare,
        RejectReason::PortfolioLimit,
        RejectReason::CapitalCap,
        RejectReason::RingFull,
        RejectReason::UnknownOrder,
        RejectReason::JournalFailed,
        RejectReason::VarLimit,
        RejectReason::CorrelatedExposure,
        RejectReason::StressLoss,
        RejectReason::NotReducing,
        RejectReason::AllocationLimit,
        RejectReason::ConversionStale,
        RejectReason::InsufficientBalance,
        RejectReason::MarginTierLeverage,
        RejectReason::InsufficientMargin,
    ];

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn name(self) -> &'static str {
        match self {
            RejectReason::KillSwitch => "kill_switch",
            RejectReason::UnknownInstrument => "unknown_instrument",
            RejectReason::NotPositive => "not_positive",
            RejectReason::LotSize => "lot_size",
            RejectReason::TickSize => "tick_size",
            RejectReason::LowConfidence => "low_confidence",
            RejectReason::DrawdownHalt => "drawdown_halt",
            RejectReason::DrawdownRestricted => "drawdown_restricted",
            RejectReason::DailyLoss => "daily_loss",
            RejectReason::FillsPaused => "fills_paused",
            RejectReason::MaxOrderQty => "max_order_qty",
            RejectReason::MaxOrderNotional => "max_order_notional",
            RejectReason::ReduceOnly => "reduce_only",
            RejectReason::Duplicate => "duplicate",
            RejectReason::Throttle => "throttle",
            RejectReason::TooManyOrders => "too_many_orders",
            RejectReason::PositionLimit => "position_limit",
            RejectReason::BookNotLive => "book_not_live",
            RejectReason::ReferenceStale => "reference_stale",
            RejectReason::PriceCollar => "price_collar",
            RejectReason::PortfolioShare => "portfolio_share",
            RejectReason::PortfolioLimit => "portfolio_limit",
            RejectReason::CapitalCap => "capital_cap",
            RejectReason::RingFull => "ring_full",
            RejectReason::UnknownOrder => "unknown_order",
            RejectReason::JournalFailed => "journal_failed",
            RejectReason::VarLimit => "var_limit",
            RejectReason::CorrelatedExposure => "correlated_exposure",
            RejectReason::StressLoss => "stress_loss",
            RejectReason::NotReducing => "not_reducing",
            RejectReason::AllocationLimit => "allocation_limit",
            RejectReason::ConversionStale => "conversion_stale",
            RejectReason::InsufficientBalance => "insufficient_balance",
            RejectReason::MarginTierLeverage => "margin_tier_leverage",
            RejectReason::InsufficientMargin => "insufficient_margin",
        }
    }

    /// Whether this refusal is a limit doing its job (health counts these as risk breaches).
    pub fn is_breach(self) -> bool {
        matches!(
            self,
            RejectReason::MaxOrderQty
                | RejectReason::MaxOrderNotional
                | RejectReason::PositionLimit
                | RejectReason::PriceCollar
                | RejectReason::PortfolioShare
                | RejectReason::PortfolioLimit
                | RejectReason::CapitalCap
                | RejectReason::AllocationLimit
                | RejectReason::DailyLoss
                | RejectReason::DrawdownHalt
                | RejectReason::DrawdownRestricted
                | RejectReason::VarLimit
                | RejectReason::CorrelatedExposure
                | RejectReason::StressLoss
                | RejectReason::MarginTierLeverage
                | RejectReason::InsufficientMargin
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_codes_round_trip_and_keep_the_old_numbers() {
        // The journaled codes of earlier versions stay what they were.
        assert_eq!(Origin::Rule.code(), 0);
        assert_eq!(Origin::Agent(AgentKind::Conservative).code(), 1);
        assert_eq!(Origin::Agent(AgentKind::Policy).code(), 5);
        assert_eq!(Origin::Exit(ExitKind::StopLoss).code(), 16);
        assert_eq!(Origin::Exit(ExitKind::Flatten).code(), 19);
        assert_eq!(Origin::Exit(ExitKind::Deleverage).code(), 20);
        let all = [Origin::Rule]
            .into_iter()
            .chain(AgentKind::ALL.map(Origin::Agent))
            .chain(ExitKind::ALL.map(Origin::Exit));
        for o in all {
            assert_eq!(Origin::from_code(o.code()), Some(o), "{}", o.name());
        }
        for unused in [6, 15, 21, 255] {
            assert_eq!(Origin::from_code(unused), None);
        }
        assert_eq!(RejectReason::NotReducing.index(), 29);
    }
}
