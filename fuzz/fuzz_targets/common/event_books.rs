//! What the venue fuzz targets share: the outbox and ring an adapter's events go through (made
//! once per thread, empty after every input), and one `L2Book` per instrument built from the
//! events as the book stage builds it, holding the stream to its contract: once a book is
//! marked stale, nothing but a reset touches it again.

use pulse_feeds::book::{BookSpec, L2Book};
use pulse_feeds::event::{LevelBatch, MdEvent};
use pulse_feeds::instrument::InstrumentRegistry;
use pulse_feeds::num::InstrumentId;
use pulse_feeds::outbox::Outbox;

pub struct Pipe {
    pub outbox: Outbox,
    pub tx: rtrb::Producer<MdEvent>,
    pub rx: rtrb::Consumer<MdEvent>,
}

impl Pipe {
    pub fn new(capacity: usize) -> Pipe {
        let (tx, rx) = rtrb::RingBuffer::new(capacity);
        Pipe {
            outbox: Outbox::with_capacity(capacity),
            tx,
            rx,
        }
    }

    /// Drains the outbox through the ring, handing each event to `apply`.
    pub fn drain(&mut self, mut apply: impl FnMut(&MdEvent)) {
        self.outbox.drain_into(&mut self.tx);
        assert!(self.outbox.is_drained(), "the ring holds a whole outbox");
        while let Ok(event) = self.rx.pop() {
            apply(&event);
        }
    }
}

struct Book {
    book: L2Book,
    /// After `BookStale`, until the next `BookReset`.
    stale: bool,
}

/// The books built from the events, one per instrument of the registry.
pub struct EventBooks(Vec<Book>);

impl EventBooks {
    pub fn new(registry: &InstrumentRegistry, levels_per_side: usize) -> EventBooks {
        EventBooks(
            registry
                .iter()
                .map(|i| Book {
                    book: L2Book::new(BookSpec::new(i.tick, levels_per_side)),
                    stale: false,
                })
                .collect(),
        )
    }

    /// Applies `event`; at a commit, hands `commit` the instrument, the update id and the book.
    pub fn apply(&mut self, event: &MdEvent, commit: impl FnOnce(InstrumentId, u64, &L2Book)) {
        match *event {
            MdEvent::BookReset { meta } => {
                let b = &mut self.0[meta.instrument.0 as usize];
                b.book.clear();
                b.stale = false;
            }
            MdEvent::Levels { .. } => {
                let (instrument, _, levels) = LevelBatch::read(event).expect("a batch");
                let b = &mut self.0[instrument.0 as usize];
                assert!(!b.stale, "levels for a stale book");
                for (side, px, qty) in levels {
                    b.book.apply(side, px, qty);
                }
            }
            MdEvent::BookCommit { meta, update_id } => {
                let b = &self.0[meta.instrument.0 as usize];
                assert!(!b.stale, "a commit for a stale book");
                commit(meta.instrument, update_id, &b.book);
            }
            MdEvent::BookStale { meta, .. } => self.0[meta.instrument.0 as usize].stale = true,
            MdEvent::Trade(_) | MdEvent::Ticker(_) => {}
        }
    }
}
