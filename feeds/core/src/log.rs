//! Logging from the hot path without logging on it: the first occurrence of each distinct error
//! kind is copied into a fixed-size [`LogRecord`] and pushed through an SPSC ring to a cold
//! thread that prints it (Agrona's `DistinctErrorLog`). Later occurrences only bump counters.

/// How many bytes of the offending input a record keeps.
pub const EXCERPT_BYTES: usize = 120;

#[derive(Clone, Copy, Debug)]
pub struct LogRecord {
    pub stage: &'static str,
    pub what: &'static str,
    /// A static detail such as the offending field's name; empty when there is none.
    pub detail: &'static str,
    /// Where it happened: the capture line number, or 0 when not applicable.
    pub line: u64,
    pub excerpt: [u8; EXCERPT_BYTES],
    pub excerpt_len: u8,
}

impl LogRecord {
    pub fn excerpt(&self) -> &[u8] {
        &self.excerpt[..self.excerpt_len as usize]
    }
}

/// Remembers which kinds (up to 64) have been logged; owned by one stage.
pub struct DistinctLog {
    stage: &'static str,
    seen: u64,
    ring: Option<rtrb::Producer<LogRecord>>,
    /// Records that found the ring full or absent.
    pub lost: u64,
}

impl DistinctLog {
    pub fn new(stage: &'static str, ring: Option<rtrb::Producer<LogRecord>>) -> DistinctLog {
        DistinctLog {
            stage,
            seen: 0,
            ring,
            lost: 0,
        }
    }

    /// Logs `what` once per `kind` (0..64); returns `true` if this call logged it.
    pub fn once(
        &mut self,
        kind: u32,
        what: &'static str,
        detail: &'static str,
        line: u64,
        input: &[u8],
    ) -> bool {
        let bit = 1u64 << (kind % 64);
        if self.seen & bit != 0 {
            return false;
        }
        self.seen |= bit;
        let mut excerpt = [0u8; EXCERPT_BYTES];
        let n = input.len().min(EXCERPT_BYTES);
        excerpt[..n].copy_from_slice(&input[..n]);
        let record = LogRecord {
            stage: self.stage,
            what,
            detail,
            line,
            excerpt,
            excerpt_len: n as u8,
        };
        let pushed = match self.ring.as_mut() {
            Some(ring) => ring.push(record).is_ok(),
            None => false,
        };
        if !pushed {
            self.lost += 1;
        }
        pushed
    }
}
