//! The journal's output stream: every decision, in the order the risk stage made it. Its writer
//! is the risk stage, which sees each intent, decides on it, sends the order and takes the
//! venue's reports back, so one thread writes the stream and its order is the order of events.
//!
//! Records carry no latency stamps and no wall-clock reading: the timestamp of each is the
//! receive time of the market event it was decided on (recorded time on replay), so replaying
//! the same input writes the same bytes.
//!
//! Payload layouts, little endian, fixed size per kind:
//!
//! ```text
//! SESSION  (0x0001)  8 bytes   0 first sequence of the session u64
//! INTENT   (0x0101) 40 bytes   0 intent number u64 (1, 2, ... per session)
//!                              8 instrument u16 | 10 side u8 (0 buy, 1 sell)
//!                             11 tif u8 (0 ioc, 1 gtc, 2 post-only, 3 fok)
//!                             12 strategy tag u32
//!                             16 limit price i64 (mantissa at the instrument's price scale)
//!                             24 quantity i64 (mantissa at its quantity scale)
//!                             32 confidence u16 (bps) | 34 origin u8 (Origin::code)
//!                             35 reserved u8 | 36 volatility u32 (bps)
//! DECISION (0x0102) 24 bytes   0 intent number u64
//!                              8 verdict u8 (0 accepted, 1 rejected)
//!                              9 reject reason u8 (RejectReason index; 255 when accepted)
//!                             10 reserved [u8; 6]
//!                             16 client order id u64 (0 when rejected)
//!                             (a cancel intent's decision carries the client id to cancel)
//! ORDER    (0x0103) 32 bytes   0 client order id u64
//!                              8 instrument u16 | 10 side u8 | 11 tif u8 | 12 reserved u32
//!                             16 limit price i64 | 24 quantity i64
//! REPORT   (0x0104) 72 bytes   0 client order id u64
//!                              8 instrument u16 | 10 side u8
//!                             11 kind u8 (0 ack, 1 fill, 2 expired, 3 rejected,
//!                                         4 cancelled, 5 cancel rejected,
//!                                         6 outcome unknown, 7 status, 8 funding,
//!                                         9 liquidation)
//!                             12 detail u8 (fill: 0 maker, 1 taker; rejected: VenueReject code;
//!                                           status: 0 working, 1 done, 2 not found)
//!                             13 trade id form u8 (0 a number, at 56; 1 text, at 72)
//!                             14 reserved [u8; 2]
//!                             16 fill price i64 | 24 fill quantity i64 (liquidation: its own)
//!                             32 fee i128 (at the notional scale; funding: the amount paid)
//!                             48 leaves quantity i64
//!                             56 venue trade id u64 (a number; 0 none, or a text id)
//!                             64 venue time u64 (ns)
//!          (form 1) 121 bytes  the 72 above, then 72 text id length u8 (1 to 48)
//!                             73 text id [u8; 48] (printable ASCII, zero padded)
//!                             (every venue id that is a number keeps the 72-byte form:
//!                             Binance's, and any canonical decimal that fits a u64)
//! CANCEL_INTENT (0x0105) 24 bytes  0 intent number u64 (numbered with the intents)
//!                              8 instrument u16 | 10 reserved u16 | 12 strategy tag u32
//!                             16 client order id to cancel u64
//! QUERY    (0x0108) 24 bytes   as CANCEL (origin 0): the status of an order in doubt
//! CANCEL   (0x0106) 24 bytes   0 client order id u64
//!                              8 instrument u16 | 10 side u8
//!                             11 origin u8 (0 the strategy, 1 the kill switch) | 12 reserved [u8; 4]
//!                             16 reserved u64
//! ACCOUNT  (0x0107) 32 bytes   0 instrument u16 | 2 reserved [u8; 6]
//!                              8 position i64 (quantity scale)
//!                             16 cost basis i128 (notional scale)
//! RISK_STATE (0x0109) 88 bytes 0 cause u8 (0 session start, 1 mode, 2 breaker, 3 fill,
//!                                         4 new day, 5 high-water mark, 6 re-arm)
//!                              1 mode u8 (0 armed, 1 reduce-only, 2 killed)
//!                              2 halt reason u8 (0 none, 1 operator, 2 signal, 3 kill file,
//!                                4 health critical, 5 reconciliation mismatch,
//!                                6 start_killed, 7 venue balance)
//!                              3 breaker level u8 (0 clear, 1 halve, 2 conservative only, 3 stop)
//!                              4 re-arm: sender's uid u32 | 8 re-arm: wall time u64 (unix ns)
//!                                (both 0 unless the cause is a re-arm)
//!                             16 high-water mark i128 | 32 realized PnL minus fees i128,
//!                                over every session (both at the account scale)
//!                             48 equity the market day began with i128 (account scale)
//!                             64 market day u64 (UTC days since 1970 of market time;
//!                                u64::MAX before the first market event)
//!                             72 equity i128 (account scale)
//! RISK_FIGURES (0x010C) 96 bytes  the portfolio stage's figures as risk took them
//!                              0 return rows u32 | 4 ready u8 | 5 reserved u8
//!                              6 worst stress scenario u16 (its index in the config)
//!                              8.. f64 (account currency), 8 bytes each, in this order:
//!                                historical VaR 95%, 99%, CVaR 95%, 99%;
//!                                parametric VaR 95%, 99%, CVaR 95%, 99%;
//!                                correlated exposure, equity, worst stress loss
//! ALLOCATION (0x010A) 192 bytes 0 market time of the rebalance u64
//!                              8 strategy count u8 (1 to 8)
//!                              9 mode u8 (0 fixed, 1 volatility target, 2 risk parity,
//!                                         3 equal risk contribution)
//!                             10 basis u8 (0 fixed weights, 1 equal: too few samples,
//!                                          2 measured volatilities, 3 kept: too few samples)
//!                             11 reserved [u8; 5]
//!                             16 weight per strategy [u32; 8] (bps, rounded down; 0 unused)
//!                             48 capital per strategy [i128; 8] (account scale)
//!                            176 equity at the rebalance i128 (account scale)
//! ```
//!
//! ALLOCATION is one capital allocation across strategies (`allocation.rs`), journaled at
//! each rebalance; the next session restores the last one (`restore::last_allocation`).
//!
//! RISK_STATE is the risk stage's state that survives a restart (`state.rs`): one
//! record with the state each session starts from (before any decision), then one whenever
//! the mode, the breaker level, the market day or the realized PnL changes, or the high-water
//! mark rises by a basis point; the next session restores the last one.
//!
//! Each session begins, after its SESSION record, with one ACCOUNT record per instrument: the
//! position reconciled with the venue at start. Orders the venue still held then follow as
//! ORDER records. A cancel intent is followed by its DECISION; an accepted one by the CANCEL sent to the
//! gateway, journaled before it is sent.

use pulse_core::intent::{CancelIntent, OrderIntent, RejectReason};
use pulse_core::metrics::JournalCounters;
use pulse_core::num::{InstrumentId, Nanos, Px, Qty, Side};
use pulse_core::order::{
    CancelOrder, ExecKind, ExecReport, Liquidity, Order, OrderStatus, TimeInForce, TradeId,
};
use pulse_journal::{AppendError, Appender};

/// Stream name of the output journal.
pub const STREAM: &str = "output";

pub mod kind {
    pub const SESSION: u16 = 0x0001;
    pub const INTENT: u16 = 0x0101;
    pub const DECISION: u16 = 0x0102;
    pub const ORDER: u16 = 0x0103;
    pub const REPORT: u16 = 0x0104;
    pub const CANCEL_INTENT: u16 = 0x0105;
    pub const CANCEL: u16 = 0x0106;
    pub const ACCOUNT: u16 = 0x0107;
    pub const QUERY: u16 = 0x0108;
    pub const RISK_STATE: u16 = 0x0109;
    pub const RISK_FIGURES: u16 = 0x010C;
    pub const ALLOCATION: u16 = 0x010A;
}

pub const INTENT_LEN: usize = 40;
pub const DECISION_LEN: usize = 24;
pub const ORDER_LEN: usize = 32;
pub const REPORT_LEN: usize = 72;
/// A REPORT whose venue trade id is text (form 1): a string or a UUID.
pub const REPORT_TEXT_ID_LEN: usize = REPORT_LEN + 1 + TradeId::CAPACITY;
pub const CANCEL_INTENT_LEN: usize = 24;
pub const CANCEL_LEN: usize = 24;
pub const ACCOUNT_LEN: usize = 32;
/// A RISK_STATE payload (`RiskState::encode` in `state.rs`).
pub const RISK_STATE_LEN: usize = 88;
/// A RISK_FIGURES payload (`figures_record.rs`).
pub const RISK_FIGURES_LEN: usize = 96;
/// An ALLOCATION payload (`Allocation::encode` in `allocation.rs`).
pub const ALLOCATION_LEN: usize = 192;

/// The risk stage's end of the output stream.
pub struct OutputJournal {
    appender: Appender,
    /// The sequence of this run's session record.
    session: u64,
    intents: u64,
    pub counters: JournalCounters,
}

impl OutputJournal {
    /// Wraps an open appender and starts a session in it.
    pub fn start(mut appender: Appender, at: Nanos) -> Result<OutputJournal, AppendError> {
        let seq = appender.next_sequence();
        appender.append(kind::SESSION, at.0, &seq.to_le_bytes())?;
        Ok(OutputJournal {
            appender,
            session: seq,
            intents: 0,
            counters: JournalCounters::default(),
        })
    }

    /// The sequence of this run's session record: larger than any earlier run's in the same
    /// journal, and the same for a replay into a fresh journal.
    pub fn session(&self) -> u64 {
        self.session
    }

    pub fn appender(&self) -> &Appender {
        &self.appender
    }

    /// Journals an intent as received; returns its number for the decision record.
    pub fn intent(&mut self, intent: &OrderIntent) -> u64 {
        self.intents += 1;
        let mut p = [0u8; INTENT_LEN];
        put_u64(&mut p, 0, self.intents);
        put_order_fields(
            &mut p,
            8,
            intent.instrument,
            intent.side,
            intent.tif,
            intent.px,
            intent.qty,
        );
        p[12..16].copy_from_slice(&intent.tag.to_le_bytes());
        p[32..34].copy_from_slice(&intent.confidence_bps.to_le_bytes());
        p[34] = intent.origin.code();
        p[36..40].copy_from_slice(&intent.vol_bps.to_le_bytes());
        let _ = self.write(kind::INTENT, intent.meta.recv_ts, &p);
        self.intents
    }

    /// Journals a cancel intent as received; returns its number for the decision record.
    pub fn cancel_intent(&mut self, cancel: &CancelIntent) -> u64 {
        self.intents += 1;
        let mut p = [0u8; CANCEL_INTENT_LEN];
        put_u64(&mut p, 0, self.intents);
        p[8..10].copy_from_slice(&cancel.instrument.0.to_le_bytes());
        p[12..16].copy_from_slice(&cancel.tag.to_le_bytes());
        put_u64(&mut p, 16, cancel.client_id.0);
        let _ = self.write(kind::CANCEL_INTENT, cancel.meta.recv_ts, &p);
        self.intents
    }

    /// Journals a cancel before it is handed to the gateway; `by_kill` when the kill switch
    /// sent it rather than the strategy.
    pub fn cancel(&mut self, cancel: &CancelOrder, by_kill: bool) {
        let mut p = [0u8; CANCEL_LEN];
        put_u64(&mut p, 0, cancel.client_id.0);
        p[8..10].copy_from_slice(&cancel.instrument.0.to_le_bytes());
        p[10] = side_code(cancel.side);
        p[11] = u8::from(by_kill);
        let _ = self.write(kind::CANCEL, cancel.meta.recv_ts, &p);
    }

    /// Journals a query about an order in doubt before it is handed to the gateway.
    pub fn query(&mut self, query: &CancelOrder) {
        let mut p = [0u8; CANCEL_LEN];
        put_u64(&mut p, 0, query.client_id.0);
        p[8..10].copy_from_slice(&query.instrument.0.to_le_bytes());
        p[10] = side_code(query.side);
        let _ = self.write(kind::QUERY, query.meta.recv_ts, &p);
    }

    /// Journals an instrument's position as adopted at start.
    pub fn account(&mut self, instrument: InstrumentId, qty: Qty, cost: i128) {
        let mut p = [0u8; ACCOUNT_LEN];
        p[0..2].copy_from_slice(&instrument.0.to_le_bytes());
        p[8..16].copy_from_slice(&qty.0.to_le_bytes());
        p[16..32].copy_from_slice(&cost.to_le_bytes());
        let _ = self.write(kind::ACCOUNT, Nanos(0), &p);
    }

    /// Journals the risk state (a `RiskState` payload, see `state.rs`).
    pub fn risk_state(&mut self, at: Nanos, payload: &[u8; RISK_STATE_LEN]) {
        let _ = self.write(kind::RISK_STATE, at, payload);
    }

    /// Journals the portfolio figures risk decides on from now (a RISK_FIGURES payload).
    pub fn risk_figures(&mut self, at: Nanos, payload: &[u8; RISK_FIGURES_LEN]) {
        let _ = self.write(kind::RISK_FIGURES, at, payload);
    }

    /// Journals a rebalance, at its market time.
    pub fn allocation(&mut self, at: Nanos, payload: &[u8; ALLOCATION_LEN]) {
        let _ = self.write(kind::ALLOCATION, at, payload);
    }

    pub fn decision(&mut self, at: Nanos, intent_no: u64, verdict: Result<u64, RejectReason>) {
        let mut p = [0u8; DECISION_LEN];
        put_u64(&mut p, 0, intent_no);
        match verdict {
            Ok(client_id) => {
                p[9] = u8::MAX;
                put_u64(&mut p, 16, client_id);
            }
            Err(reason) => {
                p[8] = 1;
                p[9] = reason.index() as u8;
            }
        }
        let _ = self.write(kind::DECISION, at, &p);
    }

    /// Journals an accepted intent's decision and its order before the order is handed to the
    /// gateway. An error means the order must not be sent: the journal is faulted (nothing is
    /// written then), or the ORDER record could not be appended or made durable.
    pub fn accept(&mut self, at: Nanos, intent_no: u64, order: &Order) -> Result<(), AppendError> {
        if self.appender.fault().is_some() {
            self.counters.refused += 1;
            return Err(AppendError::NotDurable);
        }
        self.decision(at, intent_no, Ok(order.client_id.0));
        self.order(order)
    }

    /// Journals an order and, with `[journal] sync = "order"`, waits until the service thread
    /// has made its record durable. An error means its record is not in the journal (or not on
    /// disk).
    pub fn order(&mut self, order: &Order) -> Result<(), AppendError> {
        let mut p = [0u8; ORDER_LEN];
        put_u64(&mut p, 0, order.client_id.0);
        put_order_fields(
            &mut p,
            8,
            order.instrument,
            order.side,
            order.tif,
            order.px,
            order.qty,
        );
        let seq = self.write(kind::ORDER, order.meta.recv_ts, &p)?;
        self.appender.make_durable(seq).inspect_err(|_| {
            self.counters.refused += 1;
        })
    }

    pub fn report(&mut self, report: &ExecReport) {
        let (p, len) = report_payload(report);
        let _ = self.write(kind::REPORT, report.meta.recv_ts, &p[..len]);
    }

    /// Appends a record and returns its sequence; a refusal is counted (and the appender's
    /// fault drives health to Critical). Only an order's refusal stops what it records:
    /// decisions, reports and the cancels and queries that only reduce exposure go on.
    fn write(&mut self, kind: u16, at: Nanos, payload: &[u8]) -> Result<u64, AppendError> {
        let appended = self.appender.append(kind, at.0, payload);
        match appended {
            Ok(_) => {
                self.counters.records += 1;
                self.counters.bytes += payload.len() as u64;
            }
            Err(_) => self.counters.refused += 1,
        }
        appended
    }
}

/// A REPORT's payload and its length: [`REPORT_LEN`] bytes for a numeric trade id,
/// [`REPORT_TEXT_ID_LEN`] for a text one.
fn report_payload(report: &ExecReport) -> ([u8; REPORT_TEXT_ID_LEN], usize) {
    let mut p = [0u8; REPORT_TEXT_ID_LEN];
    put_u64(&mut p, 0, report.client_id.0);
    p[8..10].copy_from_slice(&report.instrument.0.to_le_bytes());
    p[10] = side_code(report.side);
    let (code, detail, px, qty, fee, trade) = match report.kind {
        ExecKind::Ack => (0, 0, 0, 0, 0, TradeId::NONE),
        ExecKind::Fill {
            px,
            qty,
            fee,
            liquidity,
            trade_id,
        } => {
            let l = match liquidity {
                Liquidity::Maker => 0,
                Liquidity::Taker => 1,
            };
            (1, l, px.0, qty.0, fee, trade_id)
        }
        ExecKind::Expired => (2, 0, 0, 0, 0, TradeId::NONE),
        ExecKind::Rejected(why) => (3, why.code(), 0, 0, 0, TradeId::NONE),
        ExecKind::Cancelled => (4, 0, 0, 0, 0, TradeId::NONE),
        ExecKind::CancelRejected => (5, 0, 0, 0, 0, TradeId::NONE),
        ExecKind::OutcomeUnknown => (6, 0, 0, 0, 0, TradeId::NONE),
        ExecKind::Status(status) => (7, status_code(status), 0, 0, 0, TradeId::NONE),
        ExecKind::Funding { amount } => (8, 0, 0, 0, amount, TradeId::NONE),
        ExecKind::Liquidation { px, qty, fee } => (9, 0, px.0, qty.0, fee, TradeId::NONE),
    };
    p[11] = code;
    p[12] = detail;
    p[16..24].copy_from_slice(&px.to_le_bytes());
    p[24..32].copy_from_slice(&qty.to_le_bytes());
    p[32..48].copy_from_slice(&fee.to_le_bytes());
    p[48..56].copy_from_slice(&report.leaves.0.to_le_bytes());
    let len = match trade.number() {
        Some(number) => {
            put_u64(&mut p, 56, number);
            REPORT_LEN
        }
        None => {
            let text = trade.text();
            p[13] = 1;
            p[REPORT_LEN] = text.len() as u8;
            p[REPORT_LEN + 1..REPORT_LEN + 1 + text.len()].copy_from_slice(text);
            REPORT_TEXT_ID_LEN
        }
    };
    put_u64(&mut p, 64, report.ts.0);
    (p, len)
}

/// The little-endian `u64` at `at` of a record's payload; 0 where the payload is too short.
/// Readers of the records above (`pulse journal dump`, reconciliation, tests) share these.
pub fn u64_at(p: &[u8], at: usize) -> u64 {
    p.get(at..at + 8)
        .and_then(|b| b.try_into().ok())
        .map_or(0, u64::from_le_bytes)
}

pub fn i64_at(p: &[u8], at: usize) -> i64 {
    u64_at(p, at) as i64
}

pub fn u32_at(p: &[u8], at: usize) -> u32 {
    p.get(at..at + 4)
        .and_then(|b| b.try_into().ok())
        .map_or(0, u32::from_le_bytes)
}

pub fn i128_at(p: &[u8], at: usize) -> i128 {
    p.get(at..at + 16)
        .and_then(|b| b.try_into().ok())
        .map_or(0, i128::from_le_bytes)
}

fn put_u64(p: &mut [u8], at: usize, v: u64) {
    p[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

fn put_order_fields(
    p: &mut [u8],
    at: usize,
    instrument: InstrumentId,
    side: Side,
    tif: TimeInForce,
    px: Px,
    qty: Qty,
) {
    p[at..at + 2].copy_from_slice(&instrument.0.to_le_bytes());
    p[at + 2] = side_code(side);
    p[at + 3] = match tif {
        TimeInForce::Ioc => 0,
        TimeInForce::Gtc => 1,
        TimeInForce::PostOnly => 2,
        TimeInForce::Fok => 3,
        TimeInForce::Market => 4,
    };
    p[at + 8..at + 16].copy_from_slice(&px.0.to_le_bytes());
    p[at + 16..at + 24].copy_from_slice(&qty.0.to_le_bytes());
}

fn status_code(status: OrderStatus) -> u8 {
    match status {
        OrderStatus::Working => 0,
        OrderStatus::Done => 1,
        OrderStatus::NotFound => 2,
    }
}

fn side_code(side: Side) -> u8 {
    match side {
        Side::Buy => 0,
        Side::Sell => 1,
    }
}

#[cfg(test)]
mod tests;
