//! Coinbase Advanced Trade codec, connection sequence and sync rules together. The input is
//! capture lines (`recv_ts <TAB> source <TAB> payload`): each well-formed `coinbase` one goes
//! through one `CoinbaseAtAdapter` into an `Outbox`, the outbox drains into a ring, and the
//! events are applied to one `L2Book` per product (as deep as the venue's whole book), as the
//! book stage does. Besides never panicking, the event stream keeps its contract: once a book
//! is marked stale, nothing but a reset touches it again; a commit's update id is its message's
//! `sequence_num`, the sync's last; and at every commit the sync's own price sets (what tells an
//! absent delete) hold the same top 25 prices a side as the book built from the events.
//!
//! The adapter and the books are new for every input, so a crash reproduces from its input
//! alone; the outbox and the ring, empty after every input, are reused.
#![no_main]

use std::cell::RefCell;

use libfuzzer_sys::fuzz_target;
use pulse_feeds::book::L2Book;
use pulse_feeds::capture;
use pulse_feeds::coinbase_at::CoinbaseAtAdapter;
use pulse_feeds::event::EventMeta;
use pulse_feeds::instrument::{InstrumentRegistry, Venue};
use pulse_feeds::num::{InstrumentId, Px, Qty, Side};
use pulse_feeds::venue::MarketAdapter;

#[path = "common/event_books.rs"]
mod event_books;

use event_books::{EventBooks, Pipe};

/// Levels a side compared at each commit.
const DEPTH: usize = 25;

fn registry() -> InstrumentRegistry {
    let mut registry = InstrumentRegistry::new();
    let _ = registry.add(Venue::Coinbase, "BTC-USD", 2, 8, Px(1), Qty(1));
    let _ = registry.add(Venue::Coinbase, "ETH-USD", 2, 8, Px(1), Qty(1));
    let _ = registry.add(Venue::Coinbase, "SOL-USD", 2, 3, Px(1), Qty(1));
    registry
}

thread_local! {
    static PIPE: RefCell<Pipe> = RefCell::new(Pipe::new(
        CoinbaseAtAdapter::new(registry()).outbox_capacity(),
    ));
}

fuzz_target!(|data: &[u8]| {
    PIPE.with_borrow_mut(|pipe| run(pipe, data));
});

fn run(pipe: &mut Pipe, data: &[u8]) {
    let registry = registry();
    let mut books = EventBooks::new(&registry, Venue::Coinbase.whole_book_levels());
    let mut adapter = CoinbaseAtAdapter::new(registry);
    for line in data.split(|&b| b == b'\n') {
        let Ok(record) = capture::parse_line(line) else {
            continue;
        };
        if record.venue != adapter.source().as_bytes() {
            continue;
        }
        let meta = EventMeta {
            recv_ts: record.recv_ts,
            ..EventMeta::default()
        };
        let _ = adapter.on_frame(record.kind, record.payload, meta, &mut pipe.outbox);
        pipe.drain(|event| {
            books.apply(event, |instrument, update_id, book| {
                check_commit(&adapter, instrument, update_id, book)
            })
        });
    }
}

fn check_commit(
    adapter: &CoinbaseAtAdapter,
    instrument: InstrumentId,
    update_id: u64,
    book: &L2Book,
) {
    let sync = adapter
        .sync(instrument)
        .expect("a product of the connection");
    assert_eq!(update_id, sync.counters.last_update_id);
    assert_eq!(adapter.last_sequence(), Some(update_id));
    for side in [Side::Buy, Side::Sell] {
        let held: Vec<Px> = sync.prices(side).take(DEPTH).collect();
        let built: Vec<Px> = book.levels(side).map(|l| l.px).take(DEPTH).collect();
        assert_eq!(held, built, "{side:?}");
    }
}
