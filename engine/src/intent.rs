//! What strategies ask for, and what risk tells them back.

use pulse_feeds::event::EventMeta;
use pulse_feeds::num::{InstrumentId, Px, Qty, Side};
use pulse_gateways::order::{ClientOrderId, ExecReport, TimeInForce};

use crate::agents::AgentKind;
use crate::risk::RejectReason;

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
}

impl Origin {
    /// Stable code, as journaled: 0 for a rule, 1 + the agent's index.
    pub fn code(self) -> u8 {
        match self {
            Origin::Rule => 0,
            Origin::Agent(a) => 1 + a.index() as u8,
        }
    }

    pub fn from_code(code: u8) -> Option<Origin> {
        match code {
            0 => Some(Origin::Rule),
            c => AgentKind::ALL
                .get(usize::from(c) - 1)
                .map(|a| Origin::Agent(*a)),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Origin::Rule => "rule",
            Origin::Agent(a) => a.name(),
        }
    }
}

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
