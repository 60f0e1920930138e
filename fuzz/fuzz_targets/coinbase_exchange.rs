//! The Coinbase Exchange adapter (codec and book sync) over arbitrary bytes. The input is split
//! at newlines into frames, each handed to one adapter that lives across inputs, as one serves a
//! whole session. Whatever the frames, the staged events must form whole book batches (a reset
//! only first, levels, then one commit with an update id above the last one) and, after each
//! input, a known snapshot must still rebuild the book.
#![no_main]

use std::cell::RefCell;

use libfuzzer_sys::fuzz_target;
use pulse_feeds::capture::SourceKind;
use pulse_feeds::coinbase::CoinbaseAdapter;
use pulse_feeds::event::{EventMeta, MdEvent};
use pulse_feeds::instrument::{InstrumentRegistry, Venue};
use pulse_feeds::num::{Px, Qty};
use pulse_feeds::outbox::Outbox;
use pulse_feeds::venue::MarketAdapter;

const KNOWN: &[u8] = br#"{"type":"snapshot","product_id":"BAND-GBP","bids":[["14.60","1"],["14.50","2"]],"asks":[["14.80","3"]]}"#;

struct Rig {
    adapter: CoinbaseAdapter,
    out: Outbox,
    tx: rtrb::Producer<MdEvent>,
    rx: rtrb::Consumer<MdEvent>,
    /// The last commit's update id, per instrument.
    last: [u64; 2],
}

fn rig() -> Rig {
    let mut registry = InstrumentRegistry::new();
    let _ = registry.add(Venue::CoinbaseExchange, "BAND-GBP", 8, 8, Px(1), Qty(1));
    let _ = registry.add(Venue::CoinbaseExchange, "SKL-USD", 4, 2, Px(1), Qty(1));
    let adapter = CoinbaseAdapter::new(registry);
    let capacity = adapter.outbox_capacity();
    let (tx, rx) = rtrb::RingBuffer::new(capacity);
    Rig {
        out: Outbox::with_capacity(capacity),
        adapter,
        tx,
        rx,
        last: [0; 2],
    }
}

thread_local! {
    static RIG: RefCell<Rig> = RefCell::new(rig());
}

fuzz_target!(|data: &[u8]| {
    RIG.with_borrow_mut(|rig| run(rig, data));
});

/// Hands `frame` to the adapter and checks the batch it staged; whether it committed.
fn frame(rig: &mut Rig, frame: &[u8]) -> bool {
    let _ = rig
        .adapter
        .on_frame(SourceKind::Ws, frame, EventMeta::default(), &mut rig.out);
    rig.out.drain_into(&mut rig.tx);
    let (mut n, mut committed) = (0, false);
    while let Ok(event) = rig.rx.pop() {
        assert!(!committed, "nothing follows a commit in one frame");
        match event {
            MdEvent::BookReset { .. } => assert_eq!(n, 0, "a reset comes first"),
            MdEvent::BookCommit { meta, update_id } => {
                let last = &mut rig.last[meta.instrument.0 as usize];
                assert!(update_id > *last, "update ids only grow");
                *last = update_id;
                committed = true;
            }
            _ => {}
        }
        n += 1;
    }
    committed
}

fn run(rig: &mut Rig, data: &[u8]) {
    for f in data.split(|&b| b == b'\n') {
        frame(rig, f);
    }
    assert!(frame(rig, KNOWN), "the known snapshot rebuilds the book");
    assert!(rig
        .adapter
        .is_synced(pulse_feeds::num::InstrumentId(0)));
}
