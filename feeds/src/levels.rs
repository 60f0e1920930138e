//! Decoded price levels and how any venue's sync stages them for the book stage.

use crate::event::LevelBatch;
use crate::event::LEVELS_PER_EVENT;
use crate::num::InstrumentId;
use crate::outbox::Outbox;

pub use crate::event::LevelUpdate;

/// Stages `levels` of `instrument` as level batches in `out`, in order; `false` if `out` ran
/// out of room (check [`LevelBatch::events_for`] first).
pub fn stage_levels(instrument: InstrumentId, levels: &[LevelUpdate], out: &mut Outbox) -> bool {
    levels.chunks(LEVELS_PER_EVENT).all(|chunk| {
        let mut batch = LevelBatch::new(instrument);
        for l in chunk {
            let _ = batch.push(l.side, l.px, l.qty);
        }
        out.push(batch.event())
    })
}
