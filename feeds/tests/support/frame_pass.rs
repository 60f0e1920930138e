//! One pass of capture lines through a venue adapter, as the allocation tests measure it: each
//! received frame decoded and synced into an outbox, drained into a ring and read off it.
#![allow(dead_code)]

use pulse_feeds::capture::{self, SourceKind};
use pulse_feeds::event::{EventMeta, MdEvent};
use pulse_feeds::outbox::Outbox;
use pulse_feeds::venue::MarketAdapter;

/// What a pass saw: frames taken, frames refused, stale marks staged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PassCounts {
    pub frames: u64,
    pub errors: u64,
    pub stale: u64,
}

/// The lines and the outbox and ring they go through, made once and reused by every pass.
pub struct FramePass {
    lines: Vec<Vec<u8>>,
    out: Outbox,
    tx: rtrb::Producer<MdEvent>,
    rx: rtrb::Consumer<MdEvent>,
}

impl FramePass {
    /// `lines` (capture lines), through an outbox and a ring of `capacity` events.
    pub fn new(lines: Vec<Vec<u8>>, capacity: usize) -> FramePass {
        let (tx, rx) = rtrb::RingBuffer::new(capacity);
        FramePass {
            lines,
            out: Outbox::with_capacity(capacity),
            tx,
            rx,
        }
    }

    /// Every line but the client's sends through `adapter`.
    pub fn run(&mut self, adapter: &mut dyn MarketAdapter) -> PassCounts {
        let mut counts = PassCounts {
            frames: 0,
            errors: 0,
            stale: 0,
        };
        for line in &self.lines {
            let record = capture::parse_line(line).expect("well-formed capture lines");
            if record.kind == SourceKind::Send {
                continue;
            }
            let meta = EventMeta {
                recv_ts: record.recv_ts,
                ..EventMeta::default()
            };
            match adapter.on_frame(record.kind, record.payload, meta, &mut self.out) {
                Ok(_) => counts.frames += 1,
                Err(_) => counts.errors += 1,
            }
            self.out.drain_into(&mut self.tx);
            while let Ok(event) = self.rx.pop() {
                counts.stale += u64::from(matches!(event, MdEvent::BookStale { .. }));
            }
        }
        counts
    }
}
