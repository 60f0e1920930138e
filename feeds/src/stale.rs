//! The stale rules every venue's book sync shares, whatever its sequence: a book in sync is
//! marked stale on demand (a full ring, a lost connection), and the book stage's request to
//! resync a crossed book is acted on only while it is current, not once the book has been
//! rebuilt from a snapshot newer than the crossed commit or is stale already. A sync says
//! how it is in sync and how it marks itself stale; these two answers come from here.

use crate::event::{EventMeta, ResyncRequest, StaleReason};
use crate::outbox::Outbox;
use crate::sync_counters::SyncCounters;

pub trait StaleRules {
    /// While the book is in sync: the update id of the snapshot it was last rebuilt from.
    /// `None` while it awaits one.
    fn synced_since(&self) -> Option<u64>;

    /// Marks the book stale, its `BookStale` pushed to `out` (the sync's own bookkeeping
    /// besides: what it awaits now).
    fn mark_stale(&mut self, meta: EventMeta, reason: StaleReason, out: &mut Outbox);

    fn counters_mut(&mut self) -> &mut SyncCounters;

    /// Marks the book stale whatever its messages say. `false` when the book was not in sync
    /// or `out` has no room for the stale mark.
    fn force_resync(&mut self, meta: EventMeta, reason: StaleReason, out: &mut Outbox) -> bool {
        if self.synced_since().is_none() || out.remaining() == 0 {
            return false;
        }
        self.mark_stale(meta, reason, out);
        true
    }

    /// Acts on the book stage's request unless it is out of date; counted either way.
    fn on_resync_request(
        &mut self,
        meta: EventMeta,
        request: ResyncRequest,
        out: &mut Outbox,
    ) -> bool {
        let current = self
            .synced_since()
            .is_some_and(|snapshot| request.update_id >= snapshot);
        let acted = current && self.force_resync(meta, StaleReason::Crossed, out);
        self.counters_mut().count_request(acted)
    }
}
