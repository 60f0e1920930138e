//! The closed set of hot-path stages a runner thread polls.

use pulse_feeds::book_stage::BookStage;
use pulse_feeds::metrics::MetricSink;
use pulse_feeds::num::Nanos;
use pulse_feeds::replay::CaptureFeed;
use pulse_feeds::stage::Stage;
use pulse_feeds::venues::VenueLiveFeed;
use pulse_gateways::binance::gateway::BinanceGatewayStage;
use pulse_gateways::sim_stage::SimGatewayStage;

use crate::config::StageKind;
use crate::risk::portfolio_stage::PortfolioStage;
use crate::risk::stage::RiskStage;
use crate::strategy::stage::StrategyStage;

/// The closed set of hot-path stages. Each is built once and lives in its runner's list for
/// the whole run, so the variants' differing sizes cost nothing but a little memory; boxing
/// the big ones would add a pointer chase on every poll.
#[allow(clippy::large_enum_variant)]
pub enum HotStage {
    Feed(CaptureFeed),
    /// Boxed: the session and its buffers make it several times larger than the other stages.
    LiveFeed(Box<VenueLiveFeed>),
    Book(BookStage),
    Strategy(StrategyStage),
    /// A strategy from outside Pulse: boxed once, static calls per event inside.
    UserStrategy(Box<dyn Stage + Send>),
    Risk(RiskStage),
    /// Boxed: its model's buffers and last figures are a few kilobytes.
    Portfolio(Box<PortfolioStage>),
    Gateway(SimGatewayStage),
    /// Boxed for the same reason as the live feed.
    LiveGateway(Box<BinanceGatewayStage>),
}

impl HotStage {
    pub fn kind(&self) -> StageKind {
        match self {
            HotStage::Feed(_) | HotStage::LiveFeed(_) => StageKind::Feed,
            HotStage::Book(_) => StageKind::Book,
            HotStage::Strategy(_) | HotStage::UserStrategy(_) => StageKind::Strategy,
            HotStage::Risk(_) => StageKind::Risk,
            HotStage::Portfolio(_) => StageKind::Portfolio,
            HotStage::Gateway(_) | HotStage::LiveGateway(_) => StageKind::Gateway,
        }
    }

    fn inner(&mut self) -> &mut dyn Stage {
        match self {
            HotStage::Feed(s) => s,
            HotStage::LiveFeed(s) => s.as_mut(),
            HotStage::Book(s) => s,
            HotStage::Strategy(s) => s,
            HotStage::UserStrategy(s) => s.as_mut(),
            HotStage::Risk(s) => s,
            HotStage::Portfolio(s) => s.as_mut(),
            HotStage::Gateway(s) => s,
            HotStage::LiveGateway(s) => s.as_mut(),
        }
    }

    fn inner_ref(&self) -> &dyn Stage {
        match self {
            HotStage::Feed(s) => s,
            HotStage::LiveFeed(s) => s.as_ref(),
            HotStage::Book(s) => s,
            HotStage::Strategy(s) => s,
            HotStage::UserStrategy(s) => s.as_ref(),
            HotStage::Risk(s) => s,
            HotStage::Portfolio(s) => s.as_ref(),
            HotStage::Gateway(s) => s,
            HotStage::LiveGateway(s) => s.as_ref(),
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

    fn report(&self, out: MetricSink<'_>) {
        self.inner_ref().report(out)
    }
}
