//! The risk stage and the simulated venue's stage from a real config, driven by hand: every
//! mark goes to both, and both run until nothing moves.

use pulse_core::event::{BookState, BookTop, EventMeta, Level, MarketEvent};
use pulse_core::intent::{Feedback, Intent, OrderIntent, Origin, RejectReason};
use pulse_core::latency::LatencyProbe;
use pulse_core::num::{InstrumentId, Nanos, Px, Qty, Side};
use pulse_core::order::{ClientOrderId, ExecKind, ExecReport, TimeInForce};
use pulse_core::stage::Stage;
use pulse_engine::config::{self, Config};
use pulse_engine::margin_build;
use pulse_engine::risk::checks::RiskChecks;
use pulse_engine::risk::margin::Guard;
use pulse_engine::risk::stage::{RiskRings, RiskStage};
use pulse_engine::risk::KillSwitch;
use pulse_gateways::sim::{Fees, SimVenue};
use pulse_gateways::sim_stage::SimGatewayStage;

/// The touch before any book: bid 59,999.90, ask 60,000.00.
const BID_ASK: (i64, i64) = (5_999_990, 6_000_000);

/// `configs/leverage-usdm.toml` with 300 USDT of margin, no fees, room for 2 BTC.
pub fn config_text() -> String {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs/leverage-usdm.toml");
    let mut text = std::fs::read_to_string(path).expect("configs/leverage-usdm.toml");
    for (from, to) in [
        ("margin = \"50\"", "margin = \"300\""),
        ("max_order_qty = \"0.002\"", "max_order_qty = \"2\""),
        (
            "max_order_notional = \"150\"",
            "max_order_notional = \"200000\"",
        ),
        ("max_position = \"0.01\" ", "max_position = \"2\" "),
        ("capital = \"10000\"", "capital = \"1000000\""),
        ("taker_fee_bps = \"10\"", "taker_fee_bps = \"0\""),
        ("maker_fee_bps = \"2\"", "maker_fee_bps = \"0\""),
    ] {
        assert_eq!(text.matches(from).count(), 1, "{from}");
        text = text.replacen(from, to, 1);
    }
    text
}

pub struct Bench {
    pub cfg: Config,
    pub risk: RiskStage,
    pub gateway: SimGatewayStage,
    risk_market: rtrb::Producer<MarketEvent>,
    venue_market: rtrb::Producer<MarketEvent>,
    intents: rtrb::Producer<Intent>,
    feedback: rtrb::Consumer<Feedback>,
    /// Every report risk passed on, and every verdict by tag.
    pub reports: Vec<ExecReport>,
    verdicts: Vec<(u32, Result<ClientOrderId, RejectReason>)>,
    ts: u64,
    touch: (i64, i64),
    tag: u32,
}

impl Bench {
    pub fn new(reduce: &str) -> Bench {
        Bench::with(&[], reduce)
    }

    /// The config with `changes` and the `reduce_pct` line replaced by `reduce`.
    pub fn with(changes: &[(&str, &str)], reduce: &str) -> Bench {
        let mut text = config_text().replacen("reduce_pct = \"90\"", reduce, 1);
        for (from, to) in changes {
            assert_eq!(text.matches(from).count(), 1, "{from}");
            text = text.replacen(from, to, 1);
        }
        let base = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs");
        let cfg = config::parse(&text, &base).unwrap_or_else(|e| panic!("{e}"));
        let inst = &cfg.instruments;
        let (risk_market, market_rx) = rtrb::RingBuffer::new(64);
        let (venue_market, venue_rx) = rtrb::RingBuffer::new(64);
        let (intents, intents_rx) = rtrb::RingBuffer::new(64);
        let (reports_tx, reports_rx) = rtrb::RingBuffer::new(256);
        let (orders_tx, orders_rx) = rtrb::RingBuffer::new(64);
        let (feedback_tx, feedback) = rtrb::RingBuffer::new(1024);
        let probe = || LatencyProbe::detached(quanta::Clock::new());
        let risk = RiskStage::new(
            RiskChecks::new(inst.clone(), cfg.limits.clone(), cfg.risk.portfolio),
            KillSwitch::new(false),
            inst,
            RiskRings {
                market: market_rx,
                intents: intents_rx,
                reports: reports_rx,
                orders_out: orders_tx,
                feedback: feedback_tx,
            },
            probe(),
            1,
        );
        let risk = margin_build::attach_risk(&cfg, inst, risk);
        let fees = Fees {
            maker_ppm: 0,
            taker_ppm: 0,
        };
        let venue = margin_build::attach_sim(&cfg, inst, SimVenue::new(inst.len(), fees)).unwrap();
        let gateway = SimGatewayStage::new(venue, venue_rx, orders_rx, reports_tx, probe());
        Bench {
            cfg,
            risk,
            gateway,
            risk_market,
            venue_market,
            intents,
            feedback,
            reports: Vec::new(),
            verdicts: Vec::new(),
            ts: 1_700_000_000_000_000_000,
            touch: BID_ASK,
            tag: 0,
        }
    }

    pub fn id(&self) -> InstrumentId {
        InstrumentId(0)
    }

    fn meta(&self) -> EventMeta {
        EventMeta {
            instrument: self.id(),
            recv_ts: Nanos(self.ts),
            ..EventMeta::default()
        }
    }

    /// A book of 1 BTC a side at `bid` / `ask` (cents), one second after the last.
    pub fn book(&mut self, bid: i64, ask: i64) {
        self.ts += 1_000_000_000;
        self.touch = (bid, ask);
        let level = |px| Level {
            px: Px(px),
            qty: Qty(1_000),
        };
        let top = BookTop::with_touch(self.meta(), BookState::Live, level(bid), level(ask));
        assert!(self.risk_market.push(MarketEvent::Book(top)).is_ok());
        assert!(self.venue_market.push(MarketEvent::Book(top)).is_ok());
        self.pump();
    }

    /// A book whose mid is `mid`: one tick (0.10) each side.
    pub fn mark(&mut self, mid: i64) {
        self.book(mid - 10, mid + 10);
    }

    /// Both stages until neither has work.
    pub fn pump(&mut self) {
        for _ in 0..1_000 {
            let work = self.risk.do_work(Nanos(0)) + self.gateway.do_work(Nanos(0));
            while let Ok(f) = self.feedback.pop() {
                match f {
                    Feedback::Report(r) => self.reports.push(r),
                    Feedback::Accepted { tag, client_id, .. } => {
                        self.verdicts.push((tag, Ok(client_id)))
                    }
                    Feedback::Rejected { tag, reason, .. } => {
                        self.verdicts.push((tag, Err(reason)))
                    }
                }
            }
            if work == 0 {
                return;
            }
        }
        panic!("the stages never settle");
    }

    /// A strategy's IOC of `qty` lots at the touch on `side`: risk's verdict.
    pub fn order(&mut self, side: Side, qty: i64) -> Result<ClientOrderId, RejectReason> {
        self.tag += 1;
        let px = if side == Side::Buy {
            self.touch.1
        } else {
            self.touch.0
        };
        let intent = OrderIntent {
            meta: self.meta(),
            instrument: self.id(),
            side,
            px: Px(px),
            qty: Qty(qty),
            tif: TimeInForce::Ioc,
            tag: self.tag,
            confidence_bps: 10_000,
            vol_bps: 0,
            origin: Origin::Rule,
        };
        assert!(self.intents.push(Intent::New(intent)).is_ok());
        self.pump();
        let tag = self.tag;
        self.verdicts
            .iter()
            .find(|(t, _)| *t == tag)
            .map(|(_, v)| *v)
            .expect("a verdict")
    }

    pub fn buy(&mut self, qty: i64) -> Result<ClientOrderId, RejectReason> {
        self.order(Side::Buy, qty)
    }

    pub fn sell(&mut self, qty: i64) -> Result<ClientOrderId, RejectReason> {
        self.order(Side::Sell, qty)
    }

    /// Buys 0.1 BTC at 60,000.00 (the ask of a 59,999.90 / 60,000.00 book).
    pub fn open_long_tenth(&mut self) {
        self.book(5_999_990, 6_000_000);
        assert!(self.buy(100).is_ok());
        assert_eq!(self.position(), 100);
    }

    fn position_of(&self) -> pulse_engine::risk::position::Position {
        self.risk.account().instrument(0).expect("BTCUSDT").position
    }

    pub fn position(&self) -> i64 {
        self.position_of().qty.0
    }

    pub fn realized(&self) -> i128 {
        self.position_of().realized
    }

    pub fn fees(&self) -> i128 {
        self.position_of().fees
    }

    pub fn ratio_bps(&self) -> Option<u32> {
        self.risk.margin_watch()[0].ratio_bps
    }

    /// The guard's reduce price and the liquidation price it computes for the position.
    pub fn guard_prices(&self) -> (Option<Px>, Option<Px>) {
        let m = self.cfg.margins[0].as_ref().expect("margined");
        let guard = Guard::new(m.settings.clone(), Qty(1));
        let p = self.position_of();
        let margin = m.settings.initial_margin(p.cost);
        (
            guard.reduce_price(&p, margin),
            guard.liquidation_price(&p, margin),
        )
    }

    pub fn venue_liquidation_price(&self) -> Option<Px> {
        self.gateway.venue().margin(self.id())?.liquidation_price
    }

    /// The engine's (and any) sell fills, `(px, qty)`, in order.
    pub fn engine_sells(&self) -> Vec<(Px, Qty)> {
        self.reports
            .iter()
            .filter_map(|r| match r.kind {
                ExecKind::Fill { px, qty, .. } if r.side == Side::Sell => Some((px, qty)),
                _ => None,
            })
            .collect()
    }

    /// The venue's liquidation count, and the liquidation reports risk passed on.
    pub fn liquidations(&self) -> (u64, Vec<(Side, ExecKind)>) {
        let reports = self
            .reports
            .iter()
            .filter(|r| matches!(r.kind, ExecKind::Liquidation { .. }))
            .map(|r| (r.side, r.kind))
            .collect();
        (self.gateway.venue().counters.liquidations, reports)
    }
}
