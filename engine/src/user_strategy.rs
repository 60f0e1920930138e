//! How the engine hosts a strategy written outside Pulse: a [`UserSpec`] made from its type
//! carries its declared parameters (for the config checker) and a builder for a
//! [`StrategyStage`] generic over it (for the pipeline). The stage is boxed once; every event
//! inside it is a static call.

use pulse_core::event::MarketEvent;
use pulse_core::intent::{Feedback, Intent};
use pulse_core::latency::LatencyProbe;
use pulse_core::stage::Stage;
use pulse_strategy::params::{ParamDecl, Params};
use pulse_strategy::{StrategyContext, StrategyStage, UserStrategy};

/// The rings and probe a strategy stage is built with.
pub struct StrategyRings {
    pub market: rtrb::Consumer<MarketEvent>,
    pub feedback: rtrb::Consumer<Feedback>,
    pub intents: rtrb::Producer<Intent>,
    pub probe: LatencyProbe,
}

pub type BuildStage = fn(&UserSettings, StrategyRings) -> anyhow::Result<Box<dyn Stage + Send>>;

/// A user strategy type, as the command line and the config checker see it.
#[derive(Clone, Copy, Debug)]
pub struct UserSpec {
    pub kind: &'static str,
    pub params: &'static [ParamDecl],
    pub build: BuildStage,
}

impl UserSpec {
    pub fn of<S: UserStrategy>() -> UserSpec {
        UserSpec {
            kind: S::KIND,
            params: S::PARAMS,
            build: build_stage::<S>,
        }
    }
}

/// `kind = "user"`, checked.
#[derive(Clone, Debug)]
pub struct UserSettings {
    pub spec: UserSpec,
    pub context: StrategyContext,
    pub params: Params,
}

fn build_stage<S: UserStrategy>(
    settings: &UserSettings,
    rings: StrategyRings,
) -> anyhow::Result<Box<dyn Stage + Send>> {
    let strategy = S::build(&settings.context, &settings.params)?;
    Ok(Box::new(StrategyStage::new(
        strategy,
        rings.market,
        rings.feedback,
        rings.intents,
        rings.probe,
    )))
}
