//! Bybit codec and sync rules together, both markets. The input is capture lines (`recv_ts
//! <TAB> source <TAB> payload`): each well-formed one goes through the `BybitAdapter` of its
//! source (`bybit-spot` or `bybit-linear`) into an `Outbox`, the outbox drains into a ring, and
//! the events are applied to one `L2Book` per instrument, as the book stage does. Besides never
//! panicking, the event stream keeps its contract: once a book is marked stale, nothing but a
//! reset touches it again; a commit's update id is the sync's last `u`; and at every commit the
//! sync's own price sets (what tells an absent delete) hold the same top 25 prices a side as
//! the book built from the events.
//!
//! The adapters and the books are new for every input, so a crash reproduces from its input
//! alone; the outbox and the ring, empty after every input, are reused.
#![no_main]

use std::cell::RefCell;

use libfuzzer_sys::fuzz_target;
use pulse_feeds::book::L2Book;
use pulse_feeds::bybit::{BybitAdapter, BybitMarket};
use pulse_feeds::capture;
use pulse_feeds::event::EventMeta;
use pulse_feeds::instrument::{InstrumentRegistry, Venue};
use pulse_feeds::num::{InstrumentId, Px, Qty, Side};
use pulse_feeds::venue::MarketAdapter;

#[path = "common/event_books.rs"]
mod event_books;

use event_books::{EventBooks, Pipe};

/// Deeper than any Bybit book, so that the book never truncates what the sync holds.
const LEVELS_PER_SIDE: usize = 1024;
/// Levels a side compared at each commit.
const DEPTH: usize = 25;

fn registry() -> InstrumentRegistry {
    let mut registry = InstrumentRegistry::new();
    let _ = registry.add(Venue::BybitSpot, "BTCUSDT", 2, 6, Px(1), Qty(1));
    let _ = registry.add(Venue::BybitLinear, "BTCUSDT", 1, 3, Px(1), Qty(1));
    let _ = registry.add(Venue::BybitLinear, "SOLUSDT", 3, 1, Px(1), Qty(1));
    registry
}

thread_local! {
    static PIPE: RefCell<Pipe> = RefCell::new(Pipe::new(BybitAdapter::outbox_capacity()));
}

fuzz_target!(|data: &[u8]| {
    PIPE.with_borrow_mut(|pipe| run(pipe, data));
});

fn run(pipe: &mut Pipe, data: &[u8]) {
    let registry = registry();
    let mut books = EventBooks::new(&registry, LEVELS_PER_SIDE);
    let mut adapters = BybitMarket::ALL.map(|m| BybitAdapter::new(m, registry.clone()));
    for line in data.split(|&b| b == b'\n') {
        let Ok(record) = capture::parse_line(line) else {
            continue;
        };
        let Some(adapter) = adapters
            .iter_mut()
            .find(|a| a.source().as_bytes() == record.venue)
        else {
            continue;
        };
        let meta = EventMeta {
            recv_ts: record.recv_ts,
            ..EventMeta::default()
        };
        let _ = adapter.on_frame(record.kind, record.payload, meta, &mut pipe.outbox);
        pipe.drain(|event| {
            books.apply(event, |instrument, update_id, book| {
                check_commit(adapter, instrument, update_id, book)
            })
        });
    }
}

fn check_commit(adapter: &BybitAdapter, instrument: InstrumentId, update_id: u64, book: &L2Book) {
    let sync = adapter.sync(instrument).expect("this market's instrument");
    assert_eq!(update_id, sync.counters.last_update_id);
    for side in [Side::Buy, Side::Sell] {
        let held: Vec<Px> = sync.prices(side).take(DEPTH).collect();
        let built: Vec<Px> = book.levels(side).map(|l| l.px).take(DEPTH).collect();
        assert_eq!(held, built, "{side:?}");
    }
}
