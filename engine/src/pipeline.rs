//! Builds the hot path from config: the rings, then one stage of each kind joined by them.
//!
//! ```text
//! feed ─md─► book ─┬─► strategy ─intents─► risk ─orders─► gateway
//!                  ├──────────────────────► risk ◄─reports─┘
//!                  └────────────────────────────────────► gateway
//!                     strategy ◄─feedback─ risk
//! feed ◄─control─ book   (resync requests for crossed books)
//! ```

use anyhow::Context;
use pulse_feeds::binance::live::BinanceLiveFeed;
use pulse_feeds::book_stage::BookStage;
use pulse_feeds::capture::CaptureReader;
use pulse_feeds::clock::ReplayTime;
use pulse_feeds::instrument::InstrumentRegistry;
use pulse_feeds::latency::LatencyProbe;
use pulse_feeds::log::{DistinctLog, LogRecord};
use pulse_feeds::num::Nanos;
use pulse_feeds::replay::CaptureFeed;
use pulse_feeds::stage::Stage;
use pulse_gateways::sim::SimVenue;
use pulse_gateways::sim_stage::SimGatewayStage;
use rtrb::RingBuffer;

use crate::config::{Config, GatewayConfig, SourceConfig, StageKind, StrategyConfig};
use crate::live_source::{build_feed, LiveRings};
use crate::risk::checks::RiskChecks;
use crate::risk::stage::{RiskRings, RiskStage};
use crate::risk::KillSwitch;
use crate::strategy::imbalance::ImbalanceTaker;
use crate::strategy::stage::StrategyStage;

/// Levels kept per side of each book: Binance snapshots hold up to 5,000.
pub const BOOK_LEVELS_PER_SIDE: usize = 8192;
const LOG_RING: usize = 256;
/// Book → feed resync requests. One per crossing per instrument until its resync, so a few
/// dozen slots are plenty; a full ring is retried at the next commit, never lost silently.
pub const CONTROL_RING: usize = 64;

/// The closed set of hot-path stages.
pub enum HotStage {
    Feed(CaptureFeed),
    /// Boxed: the session and its buffers make it several times larger than the other stages.
    LiveFeed(Box<BinanceLiveFeed>),
    Book(BookStage),
    Strategy(StrategyStage),
    Risk(RiskStage),
    Gateway(SimGatewayStage),
}

impl HotStage {
    pub fn kind(&self) -> StageKind {
        match self {
            HotStage::Feed(_) | HotStage::LiveFeed(_) => StageKind::Feed,
            HotStage::Book(_) => StageKind::Book,
            HotStage::Strategy(_) => StageKind::Strategy,
            HotStage::Risk(_) => StageKind::Risk,
            HotStage::Gateway(_) => StageKind::Gateway,
        }
    }

    pub fn probe(&self) -> &LatencyProbe {
        match self {
            HotStage::Feed(s) => s.probe(),
            HotStage::LiveFeed(s) => s.probe(),
            HotStage::Book(s) => s.probe(),
            HotStage::Strategy(s) => s.probe(),
            HotStage::Risk(s) => s.probe(),
            HotStage::Gateway(s) => s.probe(),
        }
    }

    fn inner(&mut self) -> &mut dyn Stage {
        match self {
            HotStage::Feed(s) => s,
            HotStage::LiveFeed(s) => s.as_mut(),
            HotStage::Book(s) => s,
            HotStage::Strategy(s) => s,
            HotStage::Risk(s) => s,
            HotStage::Gateway(s) => s,
        }
    }

    fn inner_ref(&self) -> &dyn Stage {
        match self {
            HotStage::Feed(s) => s,
            HotStage::LiveFeed(s) => s.as_ref(),
            HotStage::Book(s) => s,
            HotStage::Strategy(s) => s,
            HotStage::Risk(s) => s,
            HotStage::Gateway(s) => s,
        }
    }
}

impl Stage for HotStage {
    fn name(&self) -> &'static str {
        self.inner_ref().name()
    }

    fn on_start(&mut self) {
        self.inner().on_start()
    }

    fn do_work(&mut self, now: Nanos) -> usize {
        self.inner().do_work(now)
    }

    fn stop_intake(&mut self) {
        self.inner().stop_intake()
    }

    fn intake_done(&self) -> bool {
        self.inner_ref().intake_done()
    }

    fn on_close(&mut self) {
        self.inner().on_close()
    }
}

/// Everything `build` makes: the stages in pipeline order, and the handles the main thread keeps.
pub struct Pipeline {
    pub stages: Vec<HotStage>,
    pub replay_time: ReplayTime,
    pub kill: KillSwitch,
    pub log: rtrb::Consumer<LogRecord>,
    pub instruments: InstrumentRegistry,
}

pub fn build(cfg: &Config, clock: &quanta::Clock) -> anyhow::Result<Pipeline> {
    let rings = &cfg.rings;
    let probe = || LatencyProbe::new(clock.clone());
    let instruments = cfg.instruments.clone();
    let (md_tx, md_rx) = RingBuffer::new(rings.market_data);
    let (book_strategy_tx, book_strategy_rx) = RingBuffer::new(rings.book_events);
    let (book_risk_tx, book_risk_rx) = RingBuffer::new(rings.book_events);
    let (book_gateway_tx, book_gateway_rx) = RingBuffer::new(rings.book_events);
    let (intent_tx, intent_rx) = RingBuffer::new(rings.intents);
    let (order_tx, order_rx) = RingBuffer::new(rings.orders);
    let (report_tx, report_rx) = RingBuffer::new(rings.reports);
    let (feedback_tx, feedback_rx) = RingBuffer::new(rings.reports);
    let (log_tx, log_rx) = RingBuffer::new(LOG_RING);
    let (control_tx, control_rx) = RingBuffer::new(CONTROL_RING);

    let replay_time = ReplayTime::default();
    let log = DistinctLog::new("feed", Some(log_tx));
    let feed = match &cfg.source {
        SourceConfig::Capture { path, speed_milli } => {
            let reader = CaptureReader::open(path)
                .with_context(|| format!("cannot open capture {}", path.display()))?;
            HotStage::Feed(
                CaptureFeed::new(
                    reader,
                    instruments.clone(),
                    md_tx,
                    replay_time.clone(),
                    probe(),
                    log,
                )
                .paced(*speed_milli)
                .with_control(control_rx),
            )
        }
        SourceConfig::Live(live) => {
            let rings = LiveRings {
                md: md_tx,
                resync: Some(control_rx),
                tap: None,
            };
            HotStage::LiveFeed(Box::new(build_feed(
                live,
                &instruments,
                rings,
                probe(),
                log,
            )?))
        }
    };
    let book = BookStage::new(
        instruments.len(),
        BOOK_LEVELS_PER_SIDE,
        md_rx,
        vec![book_strategy_tx, book_risk_tx, book_gateway_tx],
        probe(),
    )
    .with_control(control_tx);
    let StrategyConfig::BookImbalance(imbalance) = &cfg.strategy;
    let tick = instruments
        .get(imbalance.instrument)
        .context("strategy instrument is not configured")?
        .tick;
    let strategy = StrategyStage::new(
        ImbalanceTaker::new(imbalance.clone(), tick),
        book_strategy_rx,
        feedback_rx,
        intent_tx,
        probe(),
    );
    let kill = KillSwitch::new(cfg.risk.start_killed);
    let risk = RiskStage::new(
        RiskChecks::new(instruments.clone(), cfg.limits.clone(), kill.clone()),
        &instruments,
        RiskRings {
            market: book_risk_rx,
            intents: intent_rx,
            reports: report_rx,
            orders_out: order_tx,
            feedback: feedback_tx,
        },
        probe(),
    );
    let GatewayConfig::Sim(sim) = &cfg.gateway;
    let gateway = SimGatewayStage::new(
        SimVenue::new(instruments.len(), sim.taker_fee_ppm),
        book_gateway_rx,
        order_rx,
        report_tx,
        probe(),
    );
    Ok(Pipeline {
        stages: vec![
            feed,
            HotStage::Book(book),
            HotStage::Strategy(strategy),
            HotStage::Risk(risk),
            HotStage::Gateway(gateway),
        ],
        replay_time,
        kill,
        log: log_rx,
        instruments,
    })
}
