//! Bybit codec and sync rules together, both markets. The input is capture lines (`recv_ts
//! <TAB> source <TAB> payload`): each well-formed one goes through the `BybitAdapter` of its
//! source (`bybit-spot` or `bybit-linear`) into an `Outbox`, the outbox drains into a ring, and
//! the events are applied to one `L2Book` per instrument, as the book stage does. Besides never
//! panicking, the event stream keeps its contract: once a book is marked stale, nothing but a
//! reset touches it again; a commit's update id is the sync's last `u`; and at every commit the
//! sync's own price sets (what tells an absent delete) hold the same top 25 prices a side as
//! the book built from the events.
//!
//! The adapter and the books are new for every input, so a crash reproduces from its input
//! alone; the outbox and the ring, empty after every input, are reused.
#![no_main]

use std::cell::RefCell;

use libfuzzer_sys::fuzz_target;
use pulse_feeds::book::{BookSpec, L2Book};
use pulse_feeds::capture;
use pulse_feeds::event::{EventMeta, LevelBatch, MdEvent};
use pulse_feeds::instrument::{InstrumentRegistry, Venue};
use pulse_feeds::num::{InstrumentId, Px, Qty, Side};
use pulse_feeds::bybit::{BybitAdapter, BybitMarket};
use pulse_feeds::outbox::Outbox;
use pulse_feeds::venue::MarketAdapter;

/// Deeper than any Bybit book, so that the book never truncates what the sync holds.
const LEVELS_PER_SIDE: usize = 1024;
/// Levels a side compared at each commit.
const DEPTH: usize = 25;

struct Book {
    book: L2Book,
    /// After `BookStale`, until the next `BookReset`.
    stale: bool,
}

fn registry() -> InstrumentRegistry {
    let mut registry = InstrumentRegistry::new();
    let _ = registry.add(Venue::BybitSpot, "BTCUSDT", 2, 6, Px(1), Qty(1));
    let _ = registry.add(Venue::BybitLinear, "BTCUSDT", 1, 3, Px(1), Qty(1));
    let _ = registry.add(Venue::BybitLinear, "SOLUSDT", 3, 1, Px(1), Qty(1));
    registry
}

struct Pipe {
    outbox: Outbox,
    tx: rtrb::Producer<MdEvent>,
    rx: rtrb::Consumer<MdEvent>,
}

thread_local! {
    static PIPE: RefCell<Pipe> = RefCell::new({
        let capacity = BybitAdapter::outbox_capacity();
        let (tx, rx) = rtrb::RingBuffer::new(capacity);
        Pipe {
            outbox: Outbox::with_capacity(capacity),
            tx,
            rx,
        }
    });
}

fuzz_target!(|data: &[u8]| {
    PIPE.with_borrow_mut(|pipe| run(pipe, data));
});

fn run(pipe: &mut Pipe, data: &[u8]) {
    let Pipe { outbox, tx, rx } = pipe;
    let registry = registry();
    let mut books: Vec<Book> = registry
        .iter()
        .map(|i| Book {
            book: L2Book::new(BookSpec::new(i.tick, LEVELS_PER_SIDE)),
            stale: false,
        })
        .collect();
    let mut adapters = BybitMarket::ALL.map(|m| BybitAdapter::new(m, registry.clone()));
    for line in data.split(|&b| b == b'\n') {
        let Ok(record) = capture::parse_line(line) else {
            continue;
        };
        let meta = EventMeta {
            recv_ts: record.recv_ts,
            ..EventMeta::default()
        };
        let Some(adapter) = adapters
            .iter_mut()
            .find(|a| a.source().as_bytes() == record.venue)
        else {
            continue;
        };
        let _ = adapter.on_frame(record.kind, record.payload, meta, outbox);
        outbox.drain_into(tx);
        assert!(outbox.is_drained(), "the ring holds a whole outbox");
        while let Ok(event) = rx.pop() {
            apply(adapter, &mut books, &event);
        }
    }
}

fn apply(adapter: &BybitAdapter, books: &mut [Book], event: &MdEvent) {
    match *event {
        MdEvent::BookReset { meta } => {
            let b = &mut books[meta.instrument.0 as usize];
            b.book.clear();
            b.stale = false;
        }
        MdEvent::Levels { .. } => {
            let (instrument, _, levels) = LevelBatch::read(event).expect("a batch");
            let b = &mut books[instrument.0 as usize];
            assert!(!b.stale, "levels for a stale book");
            for (side, px, qty) in levels {
                b.book.apply(side, px, qty);
            }
        }
        MdEvent::BookCommit { meta, update_id } => {
            let b = &books[meta.instrument.0 as usize];
            assert!(!b.stale, "a commit for a stale book");
            let sync = adapter.sync(meta.instrument).expect("this market's instrument");
            assert_eq!(update_id, sync.counters.last_update_id);
            same_top(adapter, meta.instrument, &b.book);
        }
        MdEvent::BookStale { meta, .. } => books[meta.instrument.0 as usize].stale = true,
        MdEvent::Trade(_) | MdEvent::Ticker(_) => {}
    }
}

fn same_top(adapter: &BybitAdapter, instrument: InstrumentId, book: &L2Book) {
    let sync = adapter.sync(instrument).expect("this market's instrument");
    for side in [Side::Buy, Side::Sell] {
        let held: Vec<Px> = sync.prices(side).take(DEPTH).collect();
        let built: Vec<Px> = book.levels(side).map(|l| l.px).take(DEPTH).collect();
        assert_eq!(held, built, "{side:?}");
    }
}
