//! The Kraken codecs and book sync together. The input is capture lines (`recv_ts <TAB>
//! source <TAB> payload`): `kraken:ws` lines go to a v2 adapter, `kraken-v1:ws` lines to a v1
//! one, each into an `Outbox`, and the events are applied to a plain `BTreeMap` book per
//! instrument, as the book stage would. Besides never panicking, the event stream must keep its
//! contract: once a book is marked stale, nothing but a reset touches it again; between resets
//! commit numbers strictly increase; and at every commit the book the events built equals the
//! adapter's own copy (the one the checksum was verified on), level for level, and holds no
//! more than the subscribed depth: the deletes of truncation were staged.
//!
//! The adapters are new for every input, so a crash reproduces from its input alone.
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use pulse_feeds::capture;
use pulse_feeds::event::{EventMeta, LevelBatch, MdEvent};
use pulse_feeds::instrument::{InstrumentRegistry, Venue};
use pulse_feeds::kraken::{KrakenAdapter, KrakenProtocol};
use pulse_feeds::num::{InstrumentId, Px, Qty, Side};
use pulse_feeds::outbox::Outbox;
use pulse_feeds::venue::MarketAdapter;

#[derive(Default)]
struct Book {
    bids: BTreeMap<i64, i64>,
    asks: BTreeMap<i64, i64>,
    stale: bool,
    committed: Option<u64>,
}

fn registry() -> InstrumentRegistry {
    let mut registry = InstrumentRegistry::new();
    let _ = registry.add(Venue::Kraken, "BTC/USD", 1, 8, Px(1), Qty(1));
    let _ = registry.add(Venue::Kraken, "ETH/USD", 2, 8, Px(1), Qty(1));
    let _ = registry.add(Venue::KrakenV1, "OCEAN/XBT", 9, 8, Px(1), Qty(1));
    registry
}

fn check(book: &Book, adapter: &KrakenAdapter, id: InstrumentId) {
    let sync = adapter.sync(id).expect("events name the adapter's instruments");
    let asks: Vec<(i64, i64)> = sync.asks().map(|l| (l.px.0, l.qty.0)).collect();
    let bids: Vec<(i64, i64)> = sync.bids().map(|l| (l.px.0, l.qty.0)).collect();
    assert_eq!(asks, book.asks.iter().map(|(p, q)| (*p, *q)).collect::<Vec<_>>());
    assert_eq!(bids, book.bids.iter().rev().map(|(p, q)| (*p, *q)).collect::<Vec<_>>());
    assert!(asks.len() <= sync.depth() && bids.len() <= sync.depth());
}

fn apply(books: &mut [Book], adapter: &KrakenAdapter, event: MdEvent) {
    match event {
        MdEvent::BookReset { meta } => {
            let b = &mut books[meta.instrument.0 as usize];
            *b = Book::default();
        }
        MdEvent::Levels { .. } => {
            let (id, _, levels) = LevelBatch::read(&event).expect("a batch");
            let b = &mut books[id.0 as usize];
            assert!(!b.stale, "levels for a stale book");
            for (side, px, qty) in levels {
                let map = if side == Side::Buy { &mut b.bids } else { &mut b.asks };
                if qty.0 == 0 {
                    map.remove(&px.0);
                } else {
                    map.insert(px.0, qty.0);
                }
            }
        }
        MdEvent::BookCommit { meta, update_id } => {
            let b = &mut books[meta.instrument.0 as usize];
            assert!(!b.stale, "a commit for a stale book");
            if let Some(previous) = b.committed {
                assert!(update_id > previous, "commit {update_id} after {previous}");
            }
            b.committed = Some(update_id);
            check(b, adapter, meta.instrument);
        }
        MdEvent::BookStale { meta, .. } => books[meta.instrument.0 as usize].stale = true,
        MdEvent::Trade(_) | MdEvent::Ticker(_) => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let registry = registry();
    let mut books: Vec<Book> = (0..registry.len()).map(|_| Book::default()).collect();
    let mut v2 = KrakenAdapter::new(KrakenProtocol::V2, registry.clone());
    let mut v1 = KrakenAdapter::new(KrakenProtocol::V1, registry);
    let mut outbox = Outbox::with_capacity(v2.outbox_capacity());
    for line in data.split(|&b| b == b'\n') {
        let Ok(record) = capture::parse_line(line) else {
            continue;
        };
        let adapter = match record.venue {
            b"kraken" => &mut v2,
            b"kraken-v1" => &mut v1,
            _ => continue,
        };
        let meta = EventMeta {
            recv_ts: record.recv_ts,
            ..EventMeta::default()
        };
        let _ = adapter.on_frame(record.kind, record.payload, meta, &mut outbox);
        let adapter: &KrakenAdapter = adapter;
        let mut events = Vec::new();
        outbox.discard_pending(|_| false, |e| events.push(*e));
        for event in events {
            apply(&mut books, adapter, event);
        }
    }
});
