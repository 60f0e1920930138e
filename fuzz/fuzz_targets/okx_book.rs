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
use pulse_feeds::book::L2Book;
use pulse_feeds::capture;
use pulse_feeds::event::EventMeta;
use pulse_feeds::instrument::{InstrumentRegistry, Venue};
use pulse_feeds::num::{InstrumentId, Px, Qty, Side};
use pulse_feeds::okx::checksum::CHECKSUM_DEPTH;
use pulse_feeds::okx::OkxAdapter;
use pulse_feeds::venue::MarketAdapter;

#[path = "common/event_books.rs"]
mod event_books;

use event_books::{EventBooks, Pipe};

/// Deeper than the adapter's copy, so that the book never truncates what the copy holds.
const LEVELS_PER_SIDE: usize = 1024;

fn registry() -> InstrumentRegistry {
    let mut registry = InstrumentRegistry::new();
    let _ = registry.add(Venue::Okx, "BTC-USDT", 1, 8, Px(1), Qty(1));
    let _ = registry.add(Venue::Okx, "UNI-USD-SWAP", 3, 0, Px(1), Qty(1));
    registry
}

thread_local! {
    static PIPE: RefCell<Pipe> = RefCell::new(Pipe::new(OkxAdapter::outbox_capacity()));
}

fuzz_target!(|data: &[u8]| {
    PIPE.with_borrow_mut(|pipe| run(pipe, data));
});

fn run(pipe: &mut Pipe, data: &[u8]) {
    let registry = registry();
    let mut books = EventBooks::new(&registry, LEVELS_PER_SIDE);
    let mut adapter = OkxAdapter::new(registry);
    for line in data.split(|&b| b == b'\n') {
        let Ok(record) = capture::parse_line(line) else {
            continue;
        };
        let meta = EventMeta {
            recv_ts: record.recv_ts,
            ..EventMeta::default()
        };
        let _ = adapter.on_frame(record.kind, record.payload, meta, &mut pipe.outbox);
        pipe.drain(|event| {
            books.apply(event, |instrument, _, book| {
                same_top(&adapter, instrument, book)
            })
        });
    }
}

fn same_top(adapter: &OkxAdapter, instrument: InstrumentId, book: &L2Book) {
    let sync = adapter.sync(instrument).expect("an OKX instrument");
    if sync.top().truncated > 0 {
        return;
    }
    for side in [Side::Buy, Side::Sell] {
        let copy: Vec<Px> = sync.top().prices(side).take(CHECKSUM_DEPTH).collect();
        let built: Vec<Px> = book
            .levels(side)
            .map(|l| l.px)
            .take(CHECKSUM_DEPTH)
            .collect();
        assert_eq!(copy, built, "{side:?}");
    }
}
