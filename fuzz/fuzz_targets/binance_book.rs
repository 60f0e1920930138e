//! Codec, sync and book together. The input is capture lines (`recv_ts <TAB> source <TAB>
//! payload`): each well-formed one goes through `BinanceAdapter::on_message` into an `Outbox`,
//! the outbox drains into a ring, and the events are applied to one bounded `L2Book` per
//! instrument, as the book stage does, and to the `BTreeMap` reference book of the property
//! tests. Besides never panicking, the event stream must keep its contract: once a book is marked
//! stale, nothing but a reset touches it again; between resets the committed update ids strictly
//! increase; and a book never outgrows its capacity. The book must equal the reference: the same
//! outcome for every level, and at every commit the same levels on both sides, in order, and the
//! same crossed state.
//!
//! The adapter (its sync state) and the books are new for every input, so a crash reproduces
//! from its input alone; the outbox and the ring, empty after every input, are reused.
#![no_main]

use std::cell::RefCell;

use libfuzzer_sys::fuzz_target;
use pulse_feeds::binance::BinanceAdapter;
use pulse_feeds::book::{BookSpec, L2Book};
use pulse_feeds::capture;
use pulse_feeds::event::{EventMeta, LevelBatch, MdEvent};
use pulse_feeds::instrument::{InstrumentRegistry, Venue};
use pulse_feeds::num::{Px, Qty, Side};
use pulse_feeds::outbox::Outbox;

#[path = "../../feeds/tests/support/book_reference.rs"]
mod book_reference;

use book_reference::Reference;

/// Small enough that the real 1,000-level snapshot evicts and truncates.
const LEVELS_PER_SIDE: usize = 256;
/// 10.24 USDT at the registry's 0.01 tick, so that real prices move the window often.
const WINDOW_TICKS: usize = 1024;

struct Book {
    book: L2Book,
    reference: Reference,
    /// After `BookStale`, until the next `BookReset`.
    stale: bool,
    /// The last committed update id since the last reset.
    committed: Option<u64>,
}

fn registry() -> InstrumentRegistry {
    let mut registry = InstrumentRegistry::new();
    let _ = registry.add(Venue::Binance, "BTCUSDT", 2, 8, Px(1), Qty(1));
    let _ = registry.add(Venue::Binance, "ETHUSDT", 2, 4, Px(1), Qty(1));
    registry
}

fn book_of(books: &mut [Book], instrument: usize) -> &mut Book {
    books
        .get_mut(instrument)
        .expect("events name configured instruments only")
}

fn apply(books: &mut [Book], event: MdEvent) {
    match event {
        MdEvent::BookReset { meta } => {
            let b = book_of(books, meta.instrument.0 as usize);
            b.book.clear();
            b.reference.clear();
            b.stale = false;
            b.committed = None;
        }
        MdEvent::Levels { .. } => {
            let Some((instrument, _, levels)) = LevelBatch::read(&event) else {
                unreachable!("a levels event reads as a batch");
            };
            let b = book_of(books, instrument.0 as usize);
            assert!(!b.stale, "a level for a stale book");
            for (side, px, qty) in levels {
                let got = b.book.apply(side, px, qty);
                assert_eq!(
                    got,
                    b.reference.apply(side, px.0, qty.0),
                    "{side:?} {px:?} {qty:?}"
                );
                assert!(b.book.depth(side) <= LEVELS_PER_SIDE);
            }
        }
        MdEvent::BookCommit { meta, update_id } => {
            let b = book_of(books, meta.instrument.0 as usize);
            assert!(!b.stale, "a commit for a stale book");
            if let Some(previous) = b.committed {
                assert!(update_id > previous, "commit {update_id} after {previous}");
            }
            b.committed = Some(update_id);
            for side in [Side::Buy, Side::Sell] {
                assert!(b.book.depth(side) <= LEVELS_PER_SIDE);
                let levels = b.reference.levels(side);
                assert!(b.book.levels(side).eq(levels.iter().copied()), "{side:?}");
                if let Some(best) = levels.first() {
                    assert_eq!(
                        b.book.qty_at(side, best.px),
                        b.reference.qty_at(side, best.px.0)
                    );
                }
            }
            assert_eq!(b.book.is_crossed(), b.reference.crossed());
        }
        MdEvent::BookStale { meta, .. } => {
            book_of(books, meta.instrument.0 as usize).stale = true;
        }
        MdEvent::Trade(trade) => {
            book_of(books, trade.meta.instrument.0 as usize);
        }
        MdEvent::Ticker(ticker) => {
            book_of(books, ticker.meta.instrument.0 as usize);
        }
    }
}

struct Pipe {
    outbox: Outbox,
    tx: rtrb::Producer<MdEvent>,
    rx: rtrb::Consumer<MdEvent>,
}

thread_local! {
    static PIPE: RefCell<Pipe> = RefCell::new({
        let capacity = BinanceAdapter::outbox_capacity();
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
        .map(|instrument| Book {
            book: L2Book::new(BookSpec {
                tick: instrument.tick,
                window_ticks: WINDOW_TICKS,
                levels_per_side: LEVELS_PER_SIDE,
            }),
            reference: Reference::new(LEVELS_PER_SIDE),
            stale: false,
            committed: None,
        })
        .collect();
    let mut adapter = BinanceAdapter::new(registry);
    for line in data.split(|&b| b == b'\n') {
        let Ok(record) = capture::parse_line(line) else {
            continue;
        };
        let meta = EventMeta {
            recv_ts: record.recv_ts,
            ..EventMeta::default()
        };
        let _ = adapter.on_message(record.kind, record.payload, meta, outbox);
        outbox.drain_into(tx);
        assert!(outbox.is_drained(), "the ring holds a whole outbox");
        while let Ok(event) = rx.pop() {
            apply(&mut books, event);
        }
    }
}
