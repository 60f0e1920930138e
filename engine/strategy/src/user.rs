//! What a strategy written outside Pulse adds to [`Strategy`]: the name `kind` selects it by,
//! its declared parameters, and how to build it from the config.

use pulse_core::num::{InstrumentId, Nanos, Px, Qty};

use crate::params::{ParamDecl, Params};
use crate::strategy::Strategy;

/// What `[strategy]` says beyond the strategy's own parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StrategyContext {
    pub instrument: InstrumentId,
    pub tick: Px,
    pub order_qty: Qty,
    pub max_position: Qty,
    pub cooldown: Nanos,
}

/// A strategy the `pulse` command line can host: `kind = "user"` in `[strategy]`, its knobs in
/// `[strategy.params]`, checked against [`UserStrategy::PARAMS`].
pub trait UserStrategy: Strategy + Send + Sized + 'static {
    /// What the summary calls it.
    const KIND: &'static str;
    const PARAMS: &'static [ParamDecl];

    fn build(ctx: &StrategyContext, params: &Params) -> anyhow::Result<Self>;
}
