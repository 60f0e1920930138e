//! The portfolio limits end to end at the stages: the risk stage sends its snapshots to a real
//! portfolio stage over the real rings, takes the figures back, and refuses the orders that
//! would pass `max_var`, `max_correlated_exposure` or `max_stress_loss`, each with its reason,
//! while the same order passes without that limit.
//!
//! Three instruments: BTC on two venues moving together (one factor plus a little noise each),
//! and ETH moving on its own. The account starts long 0.1 BTC on the first venue (adopted
//! from the venue), 6,000 USDT of exposure; 40 one-second intervals of marks make the figures
//! ready; then one intent is decided.

mod portfolio_support;

use portfolio_support::Rng;
use pulse_core::event::{BookState, BookTop, EventMeta, Level, MarketEvent};
use pulse_core::instrument::{InstrumentRegistry, Venue};
use pulse_core::intent::{Feedback, Intent, OrderIntent, Origin, RejectReason};
use pulse_core::latency::LatencyProbe;
use pulse_core::num::{InstrumentId, Nanos, Px, Qty, Side};
use pulse_core::order::{ExecReport, Request, TimeInForce, VenueAccount};
use pulse_core::stage::Stage;
use pulse_risk::account::ACCOUNT_SCALE;
use pulse_risk::checks::RiskChecks;
use pulse_risk::limits::{InstrumentLimits, PortfolioLimits};
use pulse_risk::portfolio::{RiskModelConfig, StressScenario};
use pulse_risk::portfolio_link::PortfolioLink;
use pulse_risk::portfolio_stage::{PortfolioRings, PortfolioStage};
use pulse_risk::published::BookRiskLimits;
use pulse_risk::stage::{RiskRings, RiskStage};
use pulse_risk::KillSwitch;

const SEC: u64 = 1_000_000_000;
const BTC_A: InstrumentId = InstrumentId(0);
const BTC_B: InstrumentId = InstrumentId(1);
const ETH: InstrumentId = InstrumentId(2);

struct Rig {
    risk: RiskStage,
    portfolio: PortfolioStage,
    market: rtrb::Producer<MarketEvent>,
    intents: rtrb::Producer<Intent>,
    _reports: rtrb::Producer<ExecReport>,
    _orders: rtrb::Consumer<Request>,
    feedback: rtrb::Consumer<Feedback>,
    /// Mids as price mantissas (2 decimals).
    mids: [i64; 3],
    now: u64,
}

fn rig(limits: BookRiskLimits) -> Rig {
    let mut reg = InstrumentRegistry::new();
    reg.add(Venue::Binance, "BTCUSDT", 2, 8, Px(1), Qty(1_000))
        .unwrap();
    reg.add(Venue::Okx, "BTC-USDT", 2, 8, Px(1), Qty(1_000))
        .unwrap();
    reg.add(Venue::Binance, "ETHUSDT", 2, 8, Px(1), Qty(1_000))
        .unwrap();
    let inst = InstrumentLimits {
        max_order_qty: Qty(100_000_000),
        max_order_notional: 1_000_000 * 10i128.pow(10),
        max_position: Qty(1_000_000_000),
        price_collar_bps: 500,
        max_ref_age: Nanos(60 * SEC),
    };
    let mut p = PortfolioLimits::with_capital(50_000 * 10i128.pow(ACCOUNT_SCALE));
    p.max_position_share_bps = 10_000;
    p.max_gross_exposure = 10 * p.capital;
    p.duplicate_window = Nanos(1);
    let (market, market_rx) = rtrb::RingBuffer::new(256);
    let (intents, intents_rx) = rtrb::RingBuffer::new(16);
    let (reports, reports_rx) = rtrb::RingBuffer::new(16);
    let (orders_tx, orders) = rtrb::RingBuffer::new(16);
    let (feedback_tx, feedback) = rtrb::RingBuffer::new(16);
    let mut risk = RiskStage::new(
        RiskChecks::new(reg.clone(), vec![inst.clone(), inst.clone(), inst], p),
        KillSwitch::new(false),
        &reg,
        RiskRings {
            market: market_rx,
            intents: intents_rx,
            reports: reports_rx,
            orders_out: orders_tx,
            feedback: feedback_tx,
        },
        LatencyProbe::detached(quanta::Clock::new()),
        1,
    );
    // Long 0.1 BTC on the first venue at 60,000.00 (cost basis at the notional scale).
    let venue = VenueAccount {
        positions: vec![Qty(10_000_000), Qty(0), Qty(0)],
        open: Vec::new(),
    };
    risk.adopt(&venue, None);
    let (snap_tx, snap_rx) = rtrb::RingBuffer::new(8);
    let (fig_tx, fig_rx) = rtrb::RingBuffer::new(8);
    let config = RiskModelConfig {
        interval: Nanos(SEC),
        window: 100,
        min_rows: 30,
        ..RiskModelConfig::default()
    };
    let scenarios = vec![StressScenario::Shock {
        name: "btc-minus-10".into(),
        shocks: vec![(0, -0.10), (1, -0.10)],
    }];
    let rings = PortfolioRings {
        snapshots: snap_rx,
        out: fig_tx,
    };
    let portfolio = PortfolioStage::new(3, config, 99, scenarios, rings).unwrap();
    let risk = risk.with_portfolio(PortfolioLink::new(snap_tx, fig_rx, Nanos(SEC)), limits);
    Rig {
        risk,
        portfolio,
        market,
        intents,
        _reports: reports,
        _orders: orders,
        feedback,
        mids: [6_000_000, 6_000_000, 300_000],
        now: 0,
    }
}

impl Rig {
    fn book(&mut self, i: InstrumentId) {
        let mid = self.mids[i.0 as usize];
        let meta = EventMeta {
            instrument: i,
            recv_ts: Nanos(self.now),
            ..EventMeta::default()
        };
        let level = |px| Level {
            px: Px(px),
            qty: Qty(100_000_000),
        };
        let top = BookTop::with_touch(meta, BookState::Live, level(mid - 1), level(mid + 1));
        self.market.push(MarketEvent::Book(top)).unwrap();
    }

    fn poll(&mut self) {
        for _ in 0..4 {
            self.risk.do_work(Nanos(self.now));
            self.portfolio.do_work(Nanos(self.now));
        }
    }

    /// `intervals` seconds of marks: the two BTC books move together, ETH on its own.
    fn run(&mut self, rng: &mut Rng, intervals: u64) {
        for _ in 0..intervals {
            self.now += SEC;
            let f = rng.normal() * 0.002;
            for (k, noise) in [(0usize, 0.0002), (1, 0.0002), (2, 0.0)] {
                let r = if k == 2 {
                    rng.normal() * 0.003
                } else {
                    f + rng.normal() * noise
                };
                let m = self.mids[k] as f64 * (1.0 + r);
                self.mids[k] = m.round() as i64;
                self.book(InstrumentId(k as u16));
            }
            self.poll();
        }
    }

    /// One buy of `qty` (1e-8 units) at the mid, decided now; its verdict.
    fn buy(&mut self, i: InstrumentId, qty: i64) -> Result<(), RejectReason> {
        self.now += 1;
        let intent = OrderIntent {
            meta: EventMeta {
                instrument: i,
                recv_ts: Nanos(self.now),
                ..EventMeta::default()
            },
            instrument: i,
            side: Side::Buy,
            px: Px(self.mids[i.0 as usize]),
            qty: Qty(qty),
            tif: TimeInForce::Ioc,
            tag: 7,
            confidence_bps: 10_000,
            vol_bps: 0,
            origin: Origin::Rule,
        };
        self.intents.push(Intent::New(intent)).unwrap();
        self.poll();
        loop {
            match self.feedback.pop() {
                Ok(Feedback::Accepted { .. }) => return Ok(()),
                Ok(Feedback::Rejected { reason, .. }) => return Err(reason),
                Ok(Feedback::Report(_)) => continue,
                Err(_) => panic!("no verdict"),
            }
        }
    }
}

fn ready(limits: BookRiskLimits) -> Rig {
    let mut rig = rig(limits);
    for i in [BTC_A, BTC_B, ETH] {
        rig.book(i);
    }
    rig.poll();
    rig.run(&mut Rng::new(20_261_207), 40);
    let f = rig.portfolio.last_published();
    assert!(f.ready && f.rows >= 30, "{} rows", f.rows);
    rig
}

const NONE: BookRiskLimits = BookRiskLimits {
    max_var: None,
    max_correlated_exposure: None,
    max_stress_loss: None,
};

#[test]
fn the_figures_follow_the_account() {
    let rig = ready(NONE);
    let f = rig.portfolio.last_published();
    let figures = rig.portfolio.figures();
    // Long 0.1 BTC only: the exposure is 0.1 x the mid, in USDT.
    let e = f.instruments[0].exposure;
    assert!((e - 0.1 * rig.mids[0] as f64 / 100.0).abs() < 30.0, "{e}");
    assert_eq!(f.instruments[1].exposure, 0.0);
    // The two BTC books are correlated far above the 0.7 threshold, ETH is not.
    let corr = |a: usize, b: usize| figures.corr[a * 3 + b];
    assert!(corr(0, 1) > 0.9, "{}", corr(0, 1));
    assert!(corr(0, 2).abs() < 0.7, "{}", corr(0, 2));
    // Buying BTC on the second venue adds to a correlated holding; buying ETH does not.
    assert!(f.instruments[1].linked_buy && !f.instruments[2].linked_buy);
    // BTC -10% on a 0.1 BTC long loses 10% of its exposure.
    assert!(
        (f.worst_stress - 0.1 * e).abs() < 1e-6,
        "{}",
        f.worst_stress
    );
    // The risk stage took the figures the portfolio stage published last.
    assert_eq!(rig.risk.portfolio().unwrap().latest(), f);
}

#[test]
fn each_portfolio_limit_refuses_with_its_reason() {
    // VaR: room for a little more of it, not for doubling the position.
    let var = ready(NONE).portfolio.last_published().var();
    let mut r = ready(BookRiskLimits {
        max_var: Some(var * 1.5),
        ..NONE
    });
    assert_eq!(r.buy(BTC_A, 10_000_000), Err(RejectReason::VarLimit));
    assert_eq!(r.buy(BTC_A, 1_000_000), Ok(()));
    // ETH is uncorrelated: 0.3 ETH (about 900 USDT) adds far less VaR than 0.1 BTC.
    assert_eq!(r.buy(ETH, 30_000_000), Ok(()));

    // Correlated exposure: 10% of 50,000 equity is 5,000; 0.1 BTC on the second venue
    // overlaps the first venue's 0.1 BTC by about 6,000.
    let ce = Some(0.10);
    let mut r = ready(BookRiskLimits {
        max_correlated_exposure: ce,
        ..NONE
    });
    assert_eq!(
        r.buy(BTC_B, 10_000_000),
        Err(RejectReason::CorrelatedExposure)
    );
    assert_eq!(r.buy(BTC_B, 5_000_000), Ok(()));
    assert_eq!(r.buy(ETH, 100_000_000), Ok(()), "ETH is not linked to BTC");

    // Stress: BTC -10% costs about 600 now; a limit of 700 leaves room for 0.01 BTC more
    // (60), not for 0.1 (600).
    let mut r = ready(BookRiskLimits {
        max_stress_loss: Some(700.0),
        ..NONE
    });
    assert_eq!(r.buy(BTC_A, 10_000_000), Err(RejectReason::StressLoss));
    assert_eq!(r.buy(BTC_B, 10_000_000), Err(RejectReason::StressLoss));
    assert_eq!(r.buy(BTC_A, 1_000_000), Ok(()));
    assert_eq!(r.buy(ETH, 100_000_000), Ok(()), "ETH is not shocked");

    // Without limits the refused orders pass.
    let mut r = ready(NONE);
    assert_eq!(r.buy(BTC_A, 10_000_000), Ok(()));
    assert_eq!(r.buy(BTC_B, 10_000_000), Ok(()));
}
