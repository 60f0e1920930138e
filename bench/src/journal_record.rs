//! The record both journal baselines write with `std::fs::File::write`: the journal's own
//! layout (length, type, sequence, timestamp, CRC32C, 64-byte payload), so each side writes and
//! checksums the same 96 bytes. Shared by `pulse-bench journal` and `benches/journal.rs`.

use pulse_journal::descriptor::record_crc;

pub const PAYLOAD: usize = 64;
pub const RECORD: usize = 32 + PAYLOAD;

/// Encodes record `seq` (its sequence doubles as its timestamp) into `buf`.
pub fn record(buf: &mut [u8; RECORD], seq: u64, payload: &[u8; PAYLOAD]) {
    buf[0..4].copy_from_slice(&(RECORD as u32).to_le_bytes());
    buf[4..6].copy_from_slice(&1u16.to_le_bytes());
    buf[8..16].copy_from_slice(&seq.to_le_bytes());
    buf[16..24].copy_from_slice(&seq.to_le_bytes());
    buf[32..].copy_from_slice(payload);
    let header: &[u8; 32] = buf[..32].try_into().expect("32 bytes");
    let crc = record_crc(header, payload);
    buf[24..28].copy_from_slice(&crc.to_le_bytes());
}
