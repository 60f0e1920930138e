//! OKX codec, sync rules and checksum copy together. The input is capture lines (`recv_ts <TAB>
//! source <TAB> payload`): each well-formed one goes through `OkxAdapter::on_frame` into an
//! `Outbox`, the outbox drains into a ring, and the events are applied to one `L2Book` per
//! instrument, as the book stage does. Besides never panicking, the event stream keeps its
//! contract: once a book is marked stale, nothing but a reset touches it again; and at every
//! commit the adapter's own wire-string copy (what the checksum hashes) holds the same top 25
//! prices a side as the book built from the events (while the copy has truncated nothing).
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
use pulse_feeds::okx::checksum::CHECKSUM_DEPTH;
use pulse_feeds::okx::OkxAdapter;
use pulse_feeds::outbox::Outbox;
use pulse_feeds::venue::MarketAdapter;

/// Deeper than the adapter's copy, so that the book never truncates what the copy holds.
const LEVELS_PER_SIDE: usize = 1024;

struct Book {
    book: L2Book,
    /// After `BookStale`, until the next `BookReset`.
    stale: bool,
}

fn registry() -> InstrumentRegistry {
    let mut registry = InstrumentRegistry::new();
    let _ = registry.add(Venue::Okx, "BTC-USDT", 1, 8, Px(1), Qty(1));
    let _ = registry.add(Venue::Okx, "UNI-USD-SWAP", 3, 0, Px(1), Qty(1));
    registry
}

struct Pipe {
    outbox: Outbox,
    tx: rtrb::Producer<MdEvent>,
    rx: rtrb::Consumer<MdEvent>,
}

thread_local! {
    static PIPE: RefCell<Pipe> = RefCell::new({
        let capacity = OkxAdapter::outbox_capacity();
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
    let mut adapter = OkxAdapter::new(registry);
    for line in data.split(|&b| b == b'\n') {
        let Ok(record) = capture::parse_line(line) else {
            continue;
        };
        let meta = EventMeta {
            recv_ts: record.recv_ts,
            ..EventMeta::default()
        };
        let _ = adapter.on_frame(record.kind, record.payload, meta, outbox);
        outbox.drain_into(tx);
        assert!(outbox.is_drained(), "the ring holds a whole outbox");
        while let Ok(event) = rx.pop() {
            apply(&adapter, &mut books, &event);
        }
    }
}

fn apply(adapter: &OkxAdapter, books: &mut [Book], event: &MdEvent) {
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
        MdEvent::BookCommit { meta, .. } => {
            let b = &books[meta.instrument.0 as usize];
            assert!(!b.stale, "a commit for a stale book");
            same_top(adapter, meta.instrument, &b.book);
        }
        MdEvent::BookStale { meta, .. } => books[meta.instrument.0 as usize].stale = true,
        MdEvent::Trade(_) | MdEvent::Ticker(_) => {}
    }
}

fn same_top(adapter: &OkxAdapter, instrument: InstrumentId, book: &L2Book) {
    let sync = adapter.sync(instrument).expect("an OKX instrument");
    if sync.top().truncated > 0 {
        return;
    }
    for side in [Side::Buy, Side::Sell] {
        let copy: Vec<Px> = sync.top().prices(side).take(CHECKSUM_DEPTH).collect();
        let built: Vec<Px> = book.levels(side).map(|l| l.px).take(CHECKSUM_DEPTH).collect();
        assert_eq!(copy, built, "{side:?}");
    }
}
