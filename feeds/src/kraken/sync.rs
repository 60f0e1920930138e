//! Keeping one Kraken book in sync, per Kraken's book guides (v1: docs.kraken.com/api/docs/
//! guides/spot-ws-book-v1; v2: `.../spot-ws-book-v2`):
//!
//! 1. A snapshot replaces the book.
//! 2. An update's entries are applied in the order given: a price may repeat within one
//!    message and the last entry wins; a quantity of 0 deletes the level.
//! 3. Then each side is truncated to the subscribed depth: Kraken sends no delete for a level
//!    an insert pushed out of scope, so the adapter stages that delete for the book stage too.
//! 4. Then the CRC32 of the top ten levels each side ([`checksum`](super::checksum)) must equal
//!    the one the message carries, on every snapshot and update that carries one.
//!
//! A mismatch marks this book only stale ([`StaleReason::Checksum`]) with nothing of the
//! message staged, and the book waits for its next snapshot (on replay, the capture's next
//! one; live, the adapter resubscribes the pair). Updates meanwhile are counted as dropped.
//!
//! Kraken books carry no update ids: each commit is numbered by the sync (1 for the first
//! snapshot), which is what the book stage and the report see as the update id.
use crate::stale::StaleRules;

use crate::book::Level;
use crate::event::{EventMeta, LevelBatch, MdEvent, StaleReason, LEVELS_PER_EVENT};
use crate::instrument::Instrument;
use crate::kraken::book::BookSide;
use crate::kraken::checksum::{hash_texts, Precision, CHECKSUM_LEVELS};
use crate::kraken::frame::{LevelUpdate, MAX_DEPTH, MAX_LEVELS_PER_MESSAGE};
use crate::num::{InstrumentId, Qty, Side};
use crate::outbox::Outbox;
use crate::sync_counters::SyncCounters;

/// What a book message did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Applied,
    /// Not in sync: the update waits for a snapshot.
    Ignored,
    /// The book went stale and needs a new snapshot (a checksum mismatch, a full outbox).
    Stale,
}

pub struct BookSync {
    instrument: InstrumentId,
    precision: Precision,
    depth: usize,
    asks: BookSide,
    bids: BookSide,
    synced: bool,
    /// The number of the last commit staged.
    commit: u64,
    /// The number of the commit of the snapshot the book was last rebuilt from.
    snapshot_commit: u64,
    /// The levels the last message's truncation removed (reused; never grows).
    cut: Vec<(Side, Level)>,
    pub counters: SyncCounters,
}

impl BookSync {
    /// A book of `inst`, truncated to `depth` levels a side until a message says otherwise.
    pub fn new(inst: &Instrument, depth: usize) -> BookSync {
        let precision = Precision {
            price_scale: inst.price_scale,
            qty_scale: inst.qty_scale,
            price_decimals: inst.price_scale,
            qty_decimals: inst.qty_scale,
        };
        BookSync {
            instrument: inst.id,
            precision,
            depth: depth.clamp(1, MAX_DEPTH),
            asks: BookSide::new(Side::Sell, precision),
            bids: BookSide::new(Side::Buy, precision),
            synced: false,
            commit: 0,
            snapshot_commit: 0,
            cut: Vec::with_capacity(MAX_LEVELS_PER_MESSAGE),
            counters: SyncCounters::default(),
        }
    }

    pub fn instrument(&self) -> InstrumentId {
        self.instrument
    }

    pub fn is_synced(&self) -> bool {
        self.synced
    }

    pub fn depth(&self) -> usize {
        self.depth
    }

    pub fn set_depth(&mut self, depth: usize) {
        self.depth = depth.clamp(1, MAX_DEPTH);
    }

    /// The venue's decimals for this pair, which the checksum writes numbers with.
    pub fn precision(&self) -> Precision {
        self.precision
    }

    pub fn set_decimals(&mut self, price: u32, qty: u32) {
        self.precision.price_decimals = price;
        self.precision.qty_decimals = qty;
        self.asks.set_precision(self.precision);
        self.bids.set_precision(self.precision);
    }

    /// The asks, best (lowest) first.
    pub fn asks(&self) -> impl DoubleEndedIterator<Item = &Level> + ExactSizeIterator + Clone {
        self.asks.levels()
    }

    /// The bids, best (highest) first.
    pub fn bids(&self) -> impl DoubleEndedIterator<Item = &Level> + ExactSizeIterator + Clone {
        self.bids.levels()
    }

    /// The largest number of events one book message can stage: its levels, the deletes of
    /// truncation (at most as many again plus a full book), a reset, a commit, a stale mark.
    /// Kraken's checksum of the book held: the CRC32 of the top ten levels' kept texts, asks
    /// then bids.
    #[inline]
    pub fn checksum(&self) -> u32 {
        let texts = self.asks.texts(CHECKSUM_LEVELS);
        hash_texts(texts.chain(self.bids.texts(CHECKSUM_LEVELS)))
    }

    pub fn max_staged(levels: usize) -> usize {
        LevelBatch::events_for(levels) + LevelBatch::events_for(levels + 2 * MAX_DEPTH) + 4
    }

    /// Applies a snapshot or an update (see the module docs) and stages its events.
    pub fn on_book(
        &mut self,
        meta: EventMeta,
        snapshot: bool,
        expected: Option<u32>,
        levels: &[LevelUpdate],
        out: &mut Outbox,
    ) -> Outcome {
        let meta = EventMeta {
            instrument: self.instrument,
            ..meta
        };
        if snapshot {
            self.asks.clear();
            self.bids.clear();
        } else {
            self.counters.diffs += 1;
            if !self.synced {
                self.counters.dropped += 1;
                return Outcome::Ignored;
            }
        }
        let mut stored = true;
        for l in levels {
            stored &= self.side_mut(l.side).apply(l.px, l.qty);
        }
        // Kept aside, staged after the checksum: a stale book stages nothing of the message.
        self.cut.clear();
        let cut = &mut self.cut;
        let mut keep = |side, level| {
            if cut.len() < cut.capacity() {
                cut.push((side, level));
            } else {
                stored = false;
            }
        };
        self.asks.truncate(self.depth, &mut keep);
        self.bids.truncate(self.depth, &mut keep);
        if !stored {
            self.counters.overflows += 1;
            return self.go_stale(meta, StaleReason::BufferOverflow, out);
        }
        if let Some(expected) = expected {
            if self.checksum() != expected {
                self.counters.checksum_mismatch += 1;
                return self.go_stale(meta, StaleReason::Checksum, out);
            }
            self.counters.checksum_ok += 1;
        }
        let book_levels = self.asks.len() + self.bids.len();
        let staged = if snapshot {
            book_levels
        } else {
            levels.len() + self.cut.len()
        };
        if out.remaining() < LevelBatch::events_for(staged) + 3 {
            return self.go_stale(meta, StaleReason::RingFull, out);
        }
        self.commit += 1;
        if snapshot {
            let _ = out.push(MdEvent::BookReset { meta });
            let book = self.asks.levels().map(|l| (Side::Sell, *l));
            let book = book.chain(self.bids.levels().map(|l| (Side::Buy, *l)));
            stage(self.instrument, book, out);
            if self.counters.snapshots > 0 && !self.synced {
                self.counters.resyncs += 1;
            }
            self.counters.snapshots += 1;
            self.synced = true;
            self.snapshot_commit = self.commit;
        } else {
            // The entries as given, then a delete of each level truncation removed.
            let entries = levels.iter().map(|l| {
                (
                    l.side,
                    Level {
                        px: l.px,
                        qty: l.qty,
                    },
                )
            });
            let cut = self.cut.iter().map(|&(side, l)| {
                (
                    side,
                    Level {
                        px: l.px,
                        qty: Qty(0),
                    },
                )
            });
            stage(self.instrument, entries.chain(cut), out);
            self.counters.applied += 1;
        }
        let _ = out.push(MdEvent::BookCommit {
            meta,
            update_id: self.commit,
        });
        self.counters.last_update_id = self.commit;
        Outcome::Applied
    }

    fn side_mut(&mut self, side: Side) -> &mut BookSide {
        match side {
            Side::Sell => &mut self.asks,
            Side::Buy => &mut self.bids,
        }
    }

    fn go_stale(&mut self, meta: EventMeta, reason: StaleReason, out: &mut Outbox) -> Outcome {
        if self.synced {
            self.synced = false;
            let meta = EventMeta {
                instrument: self.instrument,
                ..meta
            };
            let _ = out.push(MdEvent::BookStale { meta, reason });
        }
        Outcome::Stale
    }
}

/// Stages `levels` in [`LevelBatch`]es (room was checked by the caller).
fn stage(instrument: InstrumentId, levels: impl Iterator<Item = (Side, Level)>, out: &mut Outbox) {
    let mut batch = LevelBatch::new(instrument);
    let mut n = 0;
    for (side, l) in levels {
        if n == LEVELS_PER_EVENT {
            let _ = out.push(batch.event());
            batch = LevelBatch::new(instrument);
            n = 0;
        }
        let _ = batch.push(side, l.px, l.qty);
        n += 1;
    }
    if n > 0 {
        let _ = out.push(batch.event());
    }
}

impl StaleRules for BookSync {
    fn synced_since(&self) -> Option<u64> {
        self.synced.then_some(self.snapshot_commit)
    }

    fn mark_stale(&mut self, meta: EventMeta, reason: StaleReason, out: &mut Outbox) {
        let _ = self.go_stale(meta, reason, out);
    }

    fn counters_mut(&mut self) -> &mut SyncCounters {
        &mut self.counters
    }
}
