//! A finished backtest as plain values: what the report is computed from. Amounts are in the
//! account's currency (every instrument's quote currency is taken to be it), converted from the
//! journal's exact mantissas once, here, so every later step is the same arithmetic on the same
//! numbers.

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Side {
    Buy,
    Sell,
}

impl Side {
    /// +1 for a buy, -1 for a sell.
    pub fn sign(self) -> f64 {
        match self {
            Side::Buy => 1.0,
            Side::Sell => -1.0,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Side::Buy => "buy",
            Side::Sell => "sell",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Instrument {
    /// `venue:SYMBOL`.
    pub name: String,
}

/// Each instrument's touch at one grid time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Mark {
    pub ts: u64,
    pub instrument: usize,
    pub bid: f64,
    pub ask: f64,
}

impl Mark {
    pub fn mid(&self) -> f64 {
        (self.bid + self.ask) / 2.0
    }
}

/// What a strategy asked for, as the risk stage received it.
#[derive(Clone, Debug, PartialEq)]
pub struct Intent {
    pub no: u64,
    pub ts: u64,
    pub instrument: usize,
    pub side: Side,
    pub px: f64,
    pub qty: f64,
    /// The rule or the ensemble's leading agent.
    pub origin: String,
    pub confidence: f64,
}

/// Risk's answer to an intent.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    pub intent: u64,
    pub ts: u64,
    /// `None` when accepted; else the reject reason's name.
    pub rejected: Option<String>,
    /// The order it became (0 when rejected).
    pub client_id: u64,
}

/// An order sent to the venue.
#[derive(Clone, Debug, PartialEq)]
pub struct Order {
    pub client_id: u64,
    pub ts: u64,
    pub instrument: usize,
    pub side: Side,
    pub px: f64,
    pub qty: f64,
    pub tif: String,
}

/// One execution.
#[derive(Clone, Debug, PartialEq)]
pub struct Fill {
    pub ts: u64,
    pub client_id: u64,
    pub instrument: usize,
    pub side: Side,
    pub px: f64,
    pub qty: f64,
    pub fee: f64,
    pub maker: bool,
}

/// A funding settlement of a perpetual: `amount` paid (negative: received), in the quote
/// currency. It moves cash (and so equity and PnL) but no position.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Funding {
    pub ts: u64,
    pub instrument: usize,
    pub amount: f64,
}

/// Any other report of the venue about an order: `ack`, `expired`, `rejected`, `cancelled`,
/// `cancel_rejected`, `outcome_unknown`, `status`.
#[derive(Clone, Debug, PartialEq)]
pub struct OrderEvent {
    pub ts: u64,
    pub client_id: u64,
    pub kind: String,
}

/// The touch an order met when it reached the venue.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Arrival {
    pub client_id: u64,
    pub ts: u64,
    pub mid: Option<f64>,
}

/// One stage's latency distribution, from ingress to the end of its work, in ns.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct StageLatency {
    pub stage: String,
    pub count: u64,
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
}

/// A finished backtest.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Run {
    /// The config's engine name.
    pub name: String,
    /// The stress scenario's name (empty: the market as recorded).
    pub scenario: String,
    /// The input files, as given.
    pub inputs: Vec<String>,
    /// The account's value at the start, in its currency.
    pub capital: f64,
    pub currency: String,
    /// Grid of the equity curve, ns of market time.
    pub interval_ns: u64,
    pub instruments: Vec<Instrument>,
    pub marks: Vec<Mark>,
    pub intents: Vec<Intent>,
    pub decisions: Vec<Decision>,
    pub orders: Vec<Order>,
    pub fills: Vec<Fill>,
    /// Funding settlements, in time order.
    pub fundings: Vec<Funding>,
    /// The portfolio stage's figures as risk took them, in time order (none without one).
    pub risk_figures: Vec<crate::risk_figures::RiskFigures>,
    pub events: Vec<OrderEvent>,
    pub arrivals: Vec<Arrival>,
    pub latency: Vec<StageLatency>,
    /// Market events the book stage published.
    pub market_events: u64,
    /// Market time covered: first and last event.
    pub start_ts: u64,
    pub end_ts: u64,
}

impl Run {
    /// The decisions, orders and fills of the window (the marks stay: the ledger is computed
    /// on the whole run and then cut).
    pub fn window(&self, w: Window) -> Run {
        Run {
            intents: self
                .intents
                .iter()
                .filter(|x| w.holds(x.ts))
                .cloned()
                .collect(),
            decisions: self
                .decisions
                .iter()
                .filter(|x| w.holds(x.ts))
                .cloned()
                .collect(),
            orders: self
                .orders
                .iter()
                .filter(|x| w.holds(x.ts))
                .cloned()
                .collect(),
            fills: self
                .fills
                .iter()
                .filter(|x| w.holds(x.ts))
                .cloned()
                .collect(),
            fundings: self
                .fundings
                .iter()
                .filter(|x| w.holds(x.ts))
                .copied()
                .collect(),
            risk_figures: self
                .risk_figures
                .iter()
                .filter(|x| w.holds(x.ts))
                .cloned()
                .collect(),
            events: self
                .events
                .iter()
                .filter(|x| w.holds(x.ts))
                .cloned()
                .collect(),
            arrivals: self
                .arrivals
                .iter()
                .filter(|x| w.holds(x.ts))
                .copied()
                .collect(),
            start_ts: self.start_ts.max(w.from),
            end_ts: self.end_ts.min(w.to),
            ..self.clone()
        }
    }
}

/// The part of a run a report covers: grid times, fills and decisions from `from` to `to`
/// (ns of market time, both included).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub from: u64,
    pub to: u64,
}

impl Window {
    pub const ALL: Window = Window {
        from: 0,
        to: u64::MAX,
    };

    pub fn holds(&self, ts: u64) -> bool {
        (self.from..=self.to).contains(&ts)
    }
}
