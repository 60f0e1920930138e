//! Market data in: the primitive vocabulary (exact decimals, instruments, timestamps), the stage
//! trait every hot-path component implements, capture files, venue codecs and L2 book building.
#![deny(unsafe_code)]

pub mod book;
pub mod instrument;
pub mod num;
