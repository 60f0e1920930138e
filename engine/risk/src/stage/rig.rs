//! A risk stage over two instruments, driven without a thread, with a hand-cranked venue:
//! what the exit and flatten tests share.

use std::collections::BTreeMap;

use super::*;
use crate::account::ACCOUNT_SCALE;
use crate::exits::{ExitRules, ExitSettings};
use crate::kill::{FlattenSwitch, KillMode};
use crate::limits::{InstrumentLimits, PortfolioLimits};
use crate::position::Position;
use pulse_core::event::{BookState, BookTop, EventMeta, Level};
use pulse_core::instrument::Venue;
use pulse_core::intent::Origin;
use pulse_core::num::{Px, Qty, Side};
use pulse_core::order::{Liquidity, OpenOrder, TimeInForce, VenueAccount};

pub const BTC: InstrumentId = InstrumentId(0);
pub const ETH: InstrumentId = InstrumentId(1);
/// Both instruments: price scale 2, quantity scale 8, tick 1, lot 1,000 (0.00001).
pub const LOT: i64 = 1_000;
pub const COLLAR_BPS: u32 = 100;

pub struct Setup {
    pub rules: Vec<ExitRules>,
    pub settings: ExitSettings,
    pub kill_mode: KillMode,
    pub max_order_qty: i64,
    /// At the notional scale (10).
    pub max_order_notional: i128,
    pub portfolio: fn(&mut PortfolioLimits),
    pub journal: Option<OutputJournal>,
    /// Funds set up at start ([`RiskStage::with_funds`]), if any.
    pub funds: Option<super::Funds>,
}

impl Default for Setup {
    fn default() -> Setup {
        Setup {
            rules: Vec::new(),
            settings: ExitSettings::default(),
            kill_mode: KillMode::Cancel,
            max_order_qty: 1_000_000,
            // 10,000 USDT.
            max_order_notional: 10_000 * 10i128.pow(10),
            portfolio: |_| {},
            journal: None,
            funds: None,
        }
    }
}

pub struct Rig {
    pub risk: RiskStage,
    pub kill: KillSwitch,
    pub flatten: FlattenSwitch,
    pub market: rtrb::Producer<MarketEvent>,
    pub intents: rtrb::Producer<Intent>,
    pub reports: rtrb::Producer<ExecReport>,
    pub orders: rtrb::Consumer<Request>,
    pub feedback: rtrb::Consumer<Feedback>,
    next_trade: u64,
}

pub fn rig(setup: Setup) -> Rig {
    let mut reg = InstrumentRegistry::new();
    for symbol in ["BTCUSDT", "ETHUSDT"] {
        let added = reg.add(Venue::Binance, symbol, 2, 8, Px(1), Qty(LOT));
        assert!(added.is_ok());
    }
    let limits = InstrumentLimits {
        max_order_qty: Qty(setup.max_order_qty),
        max_order_notional: setup.max_order_notional,
        max_position: Qty(10_000_000),
        price_collar_bps: COLLAR_BPS,
        max_ref_age: Nanos::from_millis(60_000),
    };
    let mut portfolio = PortfolioLimits::with_capital(100_000 * 10i128.pow(ACCOUNT_SCALE));
    (setup.portfolio)(&mut portfolio);
    let kill = KillSwitch::new(false);
    let (market, market_rx) = rtrb::RingBuffer::new(256);
    let (intents, intents_rx) = rtrb::RingBuffer::new(64);
    let (reports, reports_rx) = rtrb::RingBuffer::new(256);
    let (orders_tx, orders) = rtrb::RingBuffer::new(64);
    let (feedback_tx, feedback) = rtrb::RingBuffer::new(1024);
    let risk = RiskStage::new(
        RiskChecks::new(reg.clone(), vec![limits.clone(), limits], portfolio),
        kill.clone(),
        &reg,
        RiskRings {
            market: market_rx,
            intents: intents_rx,
            reports: reports_rx,
            orders_out: orders_tx,
            feedback: feedback_tx,
        },
        LatencyProbe::detached(quanta::Clock::new()),
        7,
    )
    .with_exits(setup.rules, setup.settings)
    .with_kill_mode(setup.kill_mode);
    let risk = match setup.journal {
        Some(journal) => risk.with_journal(journal),
        None => risk,
    };
    let risk = match setup.funds {
        Some(funds) => risk
            .with_funds(funds)
            .expect("funds fit the two instruments"),
        None => risk,
    };
    Rig {
        flatten: risk.flatten_switch(),
        risk,
        kill,
        market,
        intents,
        reports,
        orders,
        feedback,
        next_trade: 1,
    }
}

impl Rig {
    /// Takes over positions `(qty, entry price)` by instrument and working orders, as a
    /// startup reconciliation would.
    pub fn adopt(&mut self, positions: &[(i64, i64)], open: &[Order]) {
        let venue = VenueAccount {
            positions: positions.iter().map(|&(q, _)| Qty(q)).collect(),
            open: open
                .iter()
                .map(|&order| OpenOrder {
                    order,
                    leaves: order.qty,
                })
                .collect(),
        };
        let expected = crate::reconcile::Expected {
            sessions: 1,
            positions: positions
                .iter()
                .map(|&(q, px)| Position {
                    qty: Qty(q),
                    cost: i128::from(q) * i128::from(px),
                    ..Position::default()
                })
                .collect(),
            open: BTreeMap::new(),
        };
        self.risk.adopt(&venue, Some(&expected));
    }

    /// A live book with mid `mid` (bid `mid - 1`, ask `mid + 1`) at `ms` milliseconds of
    /// market time, then a poll.
    pub fn mid(&mut self, i: InstrumentId, ms: u64, mid: i64) {
        self.push_mid(i, ms, mid);
        self.poll();
    }

    /// The book of [`Rig::mid`], without the poll.
    pub fn push_mid(&mut self, i: InstrumentId, ms: u64, mid: i64) {
        let level = |px| Level {
            px: Px(px),
            qty: Qty(1),
        };
        let top = BookTop::with_touch(meta(i, ms), BookState::Live, level(mid - 1), level(mid + 1));
        assert!(self.market.push(MarketEvent::Book(top)).is_ok());
    }

    /// The book of `i` goes stale at `ms`, then a poll.
    pub fn stale(&mut self, i: InstrumentId, ms: u64) {
        let top = BookTop::empty(meta(i, ms), BookState::Stale);
        assert!(self.market.push(MarketEvent::Book(top)).is_ok());
        self.poll();
    }

    pub fn poll(&mut self) {
        self.risk.do_work(Nanos(0));
    }

    /// What risk sent since the last call.
    pub fn sent(&mut self) -> Vec<Request> {
        std::iter::from_fn(|| self.orders.pop().ok()).collect()
    }

    /// The new orders among `sent()`; panics on anything else.
    pub fn new_orders(&mut self) -> Vec<Order> {
        self.sent()
            .into_iter()
            .map(|r| match r {
                Request::New(o) => o,
                other => panic!("not a new order: {other:?}"),
            })
            .collect()
    }

    pub fn feedback(&mut self) -> Vec<Feedback> {
        std::iter::from_fn(|| self.feedback.pop().ok()).collect()
    }

    pub fn position(&self, i: InstrumentId) -> i64 {
        self.risk
            .account()
            .instrument(usize::from(i.0))
            .map_or(0, |a| a.position.qty.0)
    }

    fn push(&mut self, o: &Order, kind: ExecKind, leaves: i64) {
        let report = ExecReport {
            meta: EventMeta::default(),
            client_id: o.client_id,
            instrument: o.instrument,
            side: o.side,
            kind,
            leaves: Qty(leaves),
            ts: Nanos(0),
        };
        assert!(self.reports.push(report).is_ok());
    }

    /// The venue acks `o`; then a poll.
    pub fn ack(&mut self, o: &Order) {
        self.push(o, ExecKind::Ack, o.qty.0);
        self.poll();
    }

    /// The venue acks `o`, fills `qty` of it at its limit price and (an IOC) expires the
    /// rest; then a poll.
    pub fn fill(&mut self, o: &Order, qty: i64) {
        self.push(o, ExecKind::Ack, o.qty.0);
        if qty > 0 {
            let fill = ExecKind::Fill {
                px: o.px,
                qty: Qty(qty),
                fee: 0,
                liquidity: Liquidity::Taker,
                trade_id: self.next_trade.into(),
            };
            self.next_trade += 1;
            self.push(o, fill, o.qty.0 - qty);
        }
        if qty < o.qty.0 {
            self.push(o, ExecKind::Expired, 0);
        }
        self.poll();
    }

    /// The venue confirms every cancel in `sent`; then a poll.
    pub fn confirm_cancels(&mut self, sent: &[Request]) {
        for r in sent {
            if let Request::Cancel(c) = r {
                let report = ExecReport {
                    meta: EventMeta::default(),
                    client_id: c.client_id,
                    instrument: c.instrument,
                    side: c.side,
                    kind: ExecKind::Cancelled,
                    leaves: Qty(0),
                    ts: Nanos(0),
                };
                assert!(self.reports.push(report).is_ok());
            }
        }
        self.poll();
    }

    /// A strategy's intent at `ms`, then a poll.
    pub fn intent(&mut self, i: InstrumentId, side: Side, px: i64, qty: i64, ms: u64, conf: u16) {
        let intent = OrderIntent {
            meta: meta(i, ms),
            instrument: i,
            side,
            px: Px(px),
            qty: Qty(qty),
            tif: TimeInForce::Gtc,
            tag: 1,
            confidence_bps: conf,
            vol_bps: 0,
            origin: Origin::Rule,
        };
        assert!(self.intents.push(Intent::New(intent)).is_ok());
        self.poll();
    }
}

pub fn meta(i: InstrumentId, ms: u64) -> EventMeta {
    EventMeta {
        instrument: i,
        recv_ts: Nanos::from_millis(ms),
        ..EventMeta::default()
    }
}

/// A working order the venue holds at start (client id 900 + n).
pub fn resting(i: InstrumentId, n: u64, side: Side, px: i64, qty: i64) -> Order {
    Order {
        meta: meta(i, 0),
        client_id: ClientOrderId(900 + n),
        instrument: i,
        side,
        px: Px(px),
        qty: Qty(qty),
        tif: TimeInForce::Gtc,
    }
}
