//! The venue-neutral half of an order gateway: the orders it tracks in fixed slots, the
//! requests awaiting an answer, doubt, timeouts and the cumulative-fill guard. It knows no
//! venue: an order protocol (a folder such as [`crate::binance`]) writes and reads the wire,
//! maps the venue's answers onto these operations, and names its request kinds with its own
//! type (the `K` of [`InflightRequests`]), so it is statically dispatched and allocates
//! nothing after start.

mod inflight;
mod orders;
mod reports;
mod slots;
#[cfg(test)]
mod tests;

pub use inflight::{Inflight, InflightRequests};
pub use orders::{NewFill, OrderTracker};
pub use reports::Reports;
pub use slots::OrderState;
