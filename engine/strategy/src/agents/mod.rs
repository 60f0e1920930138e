//! Trading agents (DESIGN.md, "Strategy and agents"): a few simple, different opinions about
//! the same market, each a [`Signal`] with a confidence, weighed by a meta-agent that knows the
//! market's regime and how each agent has fared lately, and combined by an aggregator that drops
//! anything below the minimum confidence.
//!
//! Agents read a [`MarketView`]: the indicators of one instrument, scale-free (basis points,
//! ratios), so the same thresholds work for any instrument. Everything here is `f64`
//! arithmetic without transcendental functions beyond `tanh`, evaluated in a fixed order: a
//! given binary reproduces every decision from the same input, which replay relies on. No value
//! computed here crosses a ring; intents carry integer prices and quantities.

pub mod aggregate;
pub mod meta;
pub mod regime;
pub mod rules;
mod signal;
pub mod view;

pub use pulse_core::intent::{AgentKind, AGENTS};
pub use signal::Signal;
pub use view::MarketView;
