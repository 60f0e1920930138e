//! Market data in: the primitive vocabulary (exact decimals, instruments, timestamps), the stage
//! trait every hot-path component implements, capture files, venue codecs and L2 book building.
#![forbid(unsafe_code)]

// The core vocabulary lives in `pulse-core`; re-exported so `pulse_feeds::num` and the like keep
// reading as before.
pub use pulse_core::{clock, event, instrument, latency, log, metrics, num, stage};

pub mod binance;
pub mod book;
pub mod book_slots;
pub mod book_stage;
pub mod bybit;
pub mod capture;
pub mod coinbase;
pub mod coinbase_at;
pub mod counters;
pub mod decode_error;
pub mod errors;
pub mod feed_scope;
pub mod input_journal;
pub mod json_tape;
pub mod kraken;
pub mod levels;
pub mod live;
pub mod okx;
pub mod outbox;
pub mod replay;
pub mod rest;
mod scan_cursor;
pub mod scenario;
pub mod stale;
pub mod sync_counters;
pub mod tap;
pub mod tardis;
pub mod venue;
pub mod venues;
pub mod ws;
