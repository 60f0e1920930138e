//! Tardis.dev CSV through the Tardis reader and adapter. The input is one file's text: its
//! header line picks the dataset (any other first line must be refused with an error, never a
//! panic), its rows are grouped into messages, and each message goes through the
//! `TardisAdapter` into an `Outbox`, drains into a ring, and is applied to one `L2Book` per
//! instrument, as the book stage does. Besides never panicking, the event stream keeps its
//! contract (once a book is marked stale, only a reset touches it) and a commit's update id is
//! the adapter's count of that book's commits.
//!
//! The adapter and the books are new for every input, so a crash reproduces from its input
//! alone; the outbox and the ring, empty after every input, are reused.
#![no_main]

use std::cell::RefCell;

use libfuzzer_sys::fuzz_target;
use pulse_feeds::event::EventMeta;
use pulse_feeds::instrument::{InstrumentRegistry, Venue};
use pulse_feeds::num::{Px, Qty};
use pulse_feeds::tardis::{TardisAdapter, TardisInput};
use pulse_feeds::venue::MarketAdapter;

#[path = "common/event_books.rs"]
mod event_books;

use event_books::{EventBooks, Pipe};

const LEVELS_PER_SIDE: usize = 1024;

fn registry() -> InstrumentRegistry {
    let mut registry = InstrumentRegistry::new();
    let _ = registry.add(Venue::Binance, "BTCUSDT", 2, 5, Px(1), Qty(1));
    let _ = registry.add(Venue::Okx, "BTC-USDT-SWAP", 1, 2, Px(1), Qty(1));
    let _ = registry.add(Venue::KrakenV1, "XBT/USD", 1, 8, Px(1), Qty(1));
    registry
}

thread_local! {
    static PIPE: RefCell<Pipe> = RefCell::new(Pipe::new(
        TardisAdapter::new(InstrumentRegistry::new()).outbox_capacity(),
    ));
}

fuzz_target!(|data: &[u8]| {
    PIPE.with_borrow_mut(|pipe| run(pipe, data));
});

fn run(pipe: &mut Pipe, data: &[u8]) {
    let reader: Box<dyn std::io::BufRead + Send> = Box::new(std::io::Cursor::new(data.to_vec()));
    let Ok(mut input) = TardisInput::from_readers(vec![reader]) else {
        return;
    };
    let registry = registry();
    let mut books = EventBooks::new(&registry, LEVELS_PER_SIDE);
    let mut adapter = TardisAdapter::new(registry);
    while let Some(next) = input.next_record() {
        let Ok(record) = next else {
            continue;
        };
        let meta = EventMeta {
            recv_ts: record.recv_ts,
            ..EventMeta::default()
        };
        let _ = adapter.on_frame(record.kind, record.payload, meta, &mut pipe.outbox);
        pipe.drain(|event| {
            books.apply(event, |instrument, update_id, _book| {
                let sync = adapter.sync_counters(instrument).expect("a book it fed");
                assert_eq!(update_id, sync.last_update_id);
            })
        });
    }
}
