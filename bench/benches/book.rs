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

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};

#[path = "../src/book_updates.rs"]
mod book_updates;

use book_updates::{BenchBook, BookUpdates, Read, TreeBook};

/// A fresh book holding the snapshot: each iteration's untimed setup.
fn seeded<B: BenchBook>(u: &BookUpdates, new: &impl Fn() -> B) -> B {
    let mut book = new();
    book.seed(&u.snapshot);
    book
}

fn bench<B: BenchBook>(
    c: &mut Criterion,
    u: &BookUpdates,
    name: &str,
    read: bool,
    new: impl Fn() -> B,
) {
    let group_name = if read {
        "book/apply_read"
    } else {
        "book/apply"
    };
    let mut group = c.benchmark_group(group_name);
    group.throughput(Throughput::Elements(u.updates.len() as u64));
    group.bench_function(name, |b| {
        b.iter_batched_ref(
            || seeded(u, &new),
            |book| {
                let mut out = Read::default();
                for l in &u.updates {
                    book.apply(black_box(l));
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

/// Every diff applied whole, then read once: the book stage's work per commit.
fn bench_diffs<B: BenchBook>(c: &mut Criterion, u: &BookUpdates, name: &str, new: impl Fn() -> B) {
    let mut group = c.benchmark_group("book/diff_read");
    group.throughput(Throughput::Elements(u.diffs.len() as u64));
    group.bench_function(name, |b| {
        b.iter_batched_ref(
            || seeded(u, &new),
            |book| {
                let mut out = Read::default();
                let mut rest = &u.updates[..];
                for &n in &u.diffs {
                    let (diff, tail) = rest.split_at(n.min(rest.len()));
                    rest = tail;
                    for l in diff {
                        book.apply(black_box(l));
                    }
                    book.read(&mut out);
                    black_box(&out);
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
    for read in [false, true] {
        bench(c, &u, "pulse", read, || book_updates::ladder(&u));
        bench(c, &u, "btreemap", read, TreeBook::default);
    }
    bench_diffs(c, &u, "pulse", || book_updates::ladder(&u));
    bench_diffs(c, &u, "btreemap", TreeBook::default);
}

criterion_group!(benches, book);
criterion_main!(benches);
