//! What a Coinbase Advanced Trade whole book costs in memory: the bytes allocated for one
//! product's book as the book stage lays it out (65,536 levels a side, the tick window and
//! the sorted overflow) holding the generated capture's 46,000-level BTC-USD snapshot, and
//! for the adapter that decoded it (its codec's level buffers, the scratch buffer and each
//! product's price sets; the scanner reads the message in place). Counted by a global allocator that sums the bytes of every
//! live allocation of this thread; printed with `--nocapture`.
//!
//!     cargo test -p pulse-feeds --test coinbase_at_memory -- --nocapture
//!
//! Its own test binary with one test, so nothing else allocates on the measured thread.

#[path = "support/coinbase_at.rs"]
mod coinbase_at;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use pulse_feeds::book::{BookSpec, L2Book};
use pulse_feeds::capture::{self, SourceKind};
use pulse_feeds::coinbase_at::CoinbaseAtAdapter;
use pulse_feeds::event::{EventMeta, LevelBatch, MdEvent};
use pulse_feeds::instrument::Venue;
use pulse_feeds::num::{Px, Side};
use pulse_feeds::outbox::Outbox;
use pulse_feeds::venue::MarketAdapter;

struct Bytes;

thread_local! {
    /// Bytes this thread holds, allocated minus freed. Const-initialized: never allocates.
    static LIVE: Cell<i64> = const { Cell::new(0) };
}

fn add(n: usize, sign: i64) {
    LIVE.with(|b| b.set(b.get() + sign * n as i64));
}

// SAFETY: every method forwards to the system allocator with the caller's own arguments, so
// the `GlobalAlloc` contract is the system allocator's; the tally has no effect on memory.
unsafe impl GlobalAlloc for Bytes {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        add(layout.size(), 1);
        // SAFETY: the caller's layout, valid as `GlobalAlloc::alloc` requires.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        add(layout.size(), 1);
        // SAFETY: as in `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        add(layout.size(), -1);
        add(new_size, 1);
        // SAFETY: `ptr` came from `System` with `layout`; the caller keeps realloc's contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        add(layout.size(), -1);
        // SAFETY: `ptr` came from `System` with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Bytes = Bytes;

fn live() -> i64 {
    LIVE.with(Cell::get)
}

const MB: f64 = 1_048_576.0;

#[test]
fn a_46000_level_book_and_its_adapter_in_bytes() {
    let text = coinbase_at::capture_text();
    let line = text
        .lines()
        .find(|l| l.contains(r#""type":"snapshot","product_id":"BTC-USD""#))
        .expect("BTC-USD's snapshot");
    let payload = capture::parse_line(line.as_bytes()).unwrap().payload;
    let payload = std::str::from_utf8(payload).unwrap().to_owned();
    drop(text);

    let before = live();
    let mut adapter = CoinbaseAtAdapter::new(coinbase_at::registry());
    let adapter_empty = live() - before;
    let mut out = Outbox::with_capacity(adapter.outbox_capacity());
    let outbox = live() - before - adapter_empty;
    let meta = EventMeta::default();
    let verdict = adapter.on_frame(SourceKind::Ws, payload.as_bytes(), meta, &mut out);
    assert!(verdict.is_ok());
    let adapter_full = live() - before - outbox;
    let (mut tx, mut rx) = rtrb::RingBuffer::new(out.remaining() + 64);
    out.drain_into(&mut tx);
    let mut events = Vec::with_capacity(rx.slots());
    while let Ok(e) = rx.pop() {
        events.push(e);
    }

    let before = live();
    let levels = Venue::Coinbase.whole_book_levels();
    let mut book = L2Book::new(BookSpec::new(Px(1), levels));
    let book_empty = live() - before;
    for (_, _, batch) in events.iter().filter_map(LevelBatch::read) {
        for (side, px, qty) in batch {
            book.apply(side, px, qty);
        }
    }
    let book_full = live() - before;
    assert_eq!(
        (book.depth(Side::Buy), book.depth(Side::Sell)),
        (23_000, 23_000)
    );
    assert_eq!(
        book_full, book_empty,
        "the book allocates only when it is made"
    );
    assert!(events
        .iter()
        .any(|e| matches!(e, MdEvent::BookCommit { .. })));

    println!(
        "payload {:.2} MB; book (65,536 levels a side) {:.2} MB holding 46,000 levels; \
         adapter of 3 products {:.2} MB made, {:.2} MB after decoding the snapshot; outbox \
         {:.2} MB",
        payload.len() as f64 / MB,
        book_full as f64 / MB,
        adapter_empty as f64 / MB,
        adapter_full as f64 / MB,
        outbox as f64 / MB,
    );
    // The book: two 65,536-tick windows of 8-byte quantities with their bits, two overflows of
    // 65,536 16-byte levels: some 3 MB, whatever it holds.
    assert!(book_full < 4 << 20, "{book_full}");
    // The scanner reads a book message in place: nothing grew (the tape path would have grown
    // its tape and buffers to the frame, some 37 MB for this one).
    assert_eq!(adapter_full, adapter_empty);
}
