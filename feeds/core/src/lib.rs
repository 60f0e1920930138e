//! The core vocabulary every Pulse crate speaks: exact decimals and instrument ids, the
//! normalized market-data events that cross rings, the [`stage::Stage`] trait every hot-path
//! component implements, the clock, counters and the distinct-error log. It depends on no other
//! Pulse crate.
#![forbid(unsafe_code)]

pub mod clock;
pub mod counters;
pub mod event;
pub mod instrument;
pub mod intent;
pub mod latency;
pub mod log;
pub mod margin;
pub mod metrics;
pub mod num;
pub mod order;
pub mod stage;
pub mod trade_id;
