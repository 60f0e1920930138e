//! Market data in: the primitive vocabulary (exact decimals, instruments, timestamps), the stage
//! trait every hot-path component implements, capture files, venue codecs and L2 book building.
#![deny(unsafe_code)]

pub mod binance;
pub mod book;
pub mod book_stage;
pub mod capture;
pub mod clock;
pub mod event;
pub mod input_journal;
pub mod instrument;
pub mod latency;
pub mod log;
pub mod metrics;
pub mod num;
pub mod outbox;
pub mod replay;
pub mod rest;
pub mod stage;
pub mod ws;
