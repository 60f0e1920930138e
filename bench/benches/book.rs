//! Applying real depth updates to a book, per update: the bundled BTCUSDT capture's snapshot,
//! then every level of every diff after it (about 70,000), to
//!
//! - `pulse`: the tick-indexed `L2Book`, laid out as the book stage lays it out;
//! - `btreemap`: an ordered map per side, what most trading code keeps.
//!
//! `book/apply` times the updates alone; `book/apply_read` adds what a strategy reads after each
//! update: the best bid and ask and ten levels a side; `book/diff_read` reads once per diff, as
//! the book stage does at each commit. Both books start every iteration from the
//! snapshot (seeded untimed) and are checked against each other after every update first.
//! The updates, the map book and the check are shared with `pulse-bench book`.
//!
//! ```sh
//! cargo bench -p pulse-bench --bench book
//! ```
#![forbid(unsafe_code)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};

#[path = "../src/book_updates.rs"]
mod book_updates;

use book_updates::{BenchBook, BookUpdates, Read, TreeBook};

/// `group` over the whole capture: each unit (a level, or with `per_diff` a diff) applied, and
/// with `read` the reads after it.
fn bench<B: BenchBook>(
    c: &mut Criterion,
    u: &BookUpdates,
    (group, per_diff, read): (&str, bool, bool),
    name: &str,
    new: impl Fn() -> B,
) {
    let mut group = c.benchmark_group(group);
    group.throughput(Throughput::Elements(u.units(per_diff).count() as u64));
    group.bench_function(name, |b| {
        b.iter_batched_ref(
            || {
                let mut book = new();
                book.seed(&u.snapshot);
                book
            },
            |book| {
                let mut out = Read::default();
                for unit in u.units(per_diff) {
                    for l in unit {
                        book.apply(black_box(l));
                    }
                    if read {
                        book.read(&mut out);
                        black_box(&out);
                    }
                }
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

fn book(c: &mut Criterion) {
    let u = book_updates::load().expect("the bundled capture has depth updates");
    book_updates::check_agreement(&u).expect("the books agree");
    for mode in [
        ("book/apply", false, false),
        ("book/apply_read", false, true),
        ("book/diff_read", true, true),
    ] {
        bench(c, &u, mode, "pulse", || book_updates::ladder(&u));
        bench(c, &u, mode, "btreemap", TreeBook::default);
    }
}

criterion_group!(benches, book);
criterion_main!(benches);
